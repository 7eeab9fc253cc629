"""Prosody per 10 ms hop: the voice's pitch (fundamental frequency) and loudness.

Pure numpy. Frames line up with :mod:`face3d.analysis.bands`: frame ``i`` belongs to
time ``i * HOP_S`` and is complete when the band frame ``i`` is (its 32 ms window ends at
sample ``i * hop + win / 2`` of the band analysis, so the pitch lags the band frame's
centre by 16 ms, which nothing that follows prosody can see).

Pitch: every other frame (20 ms), each 32 ms window is reduced to 4 kHz (mean of four samples: enough for a voice
fundamental of 70-400 Hz), its mean removed, and its normalised cross-correlation with
itself (every lag from 2.5 to 14 ms, one real FFT per frame; frames quieter than
:data:`MIN_VOICED_DB` are skipped) searched for the strongest
period; the shortest lag within 10 % of the best one wins (no octave drops), refined by a
parabola. A frame is voiced when that correlation is at least :data:`VOICED_NCCF` and the
frame is louder than :data:`MIN_VOICED_DB`. Unvoiced frames report 0 Hz.

:func:`prosody` does a whole signal in one vectorised pass; :class:`ProsodyTracker` takes
blocks of any size and runs the same per-frame code on the frames each block completes,
so both give the same numbers.
"""

from __future__ import annotations

import numpy as np

from face3d.analysis.bands import ANALYSIS_RATE, HOP_S, WIN_S

#: Pitch window (seconds).
PITCH_WIN_S = 0.032
#: Decimation factor before the autocorrelation (16 kHz -> 4 kHz).
DECIMATE = 4
F0_MIN, F0_MAX = 70.0, 400.0
VOICED_NCCF = 0.6
MIN_VOICED_DB = -55.0


class _PitchPlan:
    def __init__(self, rate: int = ANALYSIS_RATE):
        if int(rate) != ANALYSIS_RATE:
            raise ValueError(f"prosody runs at {ANALYSIS_RATE} Hz; resample first")
        self.rate = ANALYSIS_RATE
        self.hop = int(round(self.rate * HOP_S))
        self.win = int(round(self.rate * PITCH_WIN_S))
        # zeros before the signal so that frame i ends where band frame i ends
        self.lead = self.win - int(round(self.rate * WIN_S)) // 2
        self.sub = self.win // DECIMATE
        r = self.rate / DECIMATE
        self.lag_lo = int(np.floor(r / F0_MAX))
        self.lag_hi = int(np.ceil(r / F0_MIN))
        self.nfft = 1 << int(np.ceil(np.log2(self.sub + self.lag_hi + 1)))

    def analyse(self, frames: np.ndarray, first: int = 0, held=None) -> np.ndarray:
        """(n, win) samples of frames ``first``.. -> (n, 3): f0 Hz (0 unvoiced), loudness dB,
        voicing strength. The pitch is measured on even frames (every 20 ms) that are loud
        enough; an odd frame repeats the frame before it (``held``: that row, for the first)."""
        n = frames.shape[0]
        out = self.measure(frames, pitch=np.arange(first, first + n) % 2 == 0)
        if n == 0:
            return out
        odd = np.flatnonzero((np.arange(first, first + n) % 2 == 1))
        src = odd - 1
        ok = src >= 0
        out[odd[ok], 0] = out[src[ok], 0]
        out[odd[ok], 2] = out[src[ok], 2]
        if odd.size and not ok[0] and held is not None:
            out[0, 0], out[0, 2] = held[0], held[2]
        return out

    def measure(self, frames: np.ndarray, pitch: np.ndarray | None = None) -> np.ndarray:
        """(n, win) samples of unrelated frames (e.g. one of each of many streams) -> (n, 3) as
        :meth:`analyse` gives them, the pitch measured on the rows ``pitch`` (bool; default
        all) that are loud enough: the caller copies it to odd frames from the frame before,
        as :meth:`analyse` does."""
        n = frames.shape[0]
        out = np.zeros((n, 3), np.float64)
        if n == 0:
            return out
        f = frames.astype(np.float32, copy=False)
        loud = 10.0 * np.log10(np.einsum("ij,ij->i", f, f, dtype=np.float64) / f.shape[1] + 1e-10)
        out[:, 1] = loud
        pick = np.flatnonzero((loud > MIN_VOICED_DB) & (True if pitch is None else pitch))
        if pick.size:
            out[pick, 0], out[pick, 2] = self._pitch(f[pick], loud[pick])
        return out

    def _pitch(self, f: np.ndarray, loud: np.ndarray):
        n = f.shape[0]
        d = f[:, 0::DECIMATE].copy()
        for k in range(1, DECIMATE):
            d += f[:, k::DECIMATE]
        d -= d.mean(axis=1, keepdims=True)
        spec = np.fft.rfft(d, self.nfft, axis=1)
        ac = np.fft.irfft(spec.real ** 2 + spec.imag ** 2, self.nfft, axis=1)
        lo, hi, w = self.lag_lo, self.lag_hi, self.sub
        lags = np.arange(lo, hi + 2)
        c = np.zeros((n, w + 1), np.float32)
        np.cumsum(d * d, axis=1, out=c[:, 1:])
        head = c[:, w - lags]                     # energy of d[0 : w - lag]
        tail = c[:, w:w + 1] - c[:, lags]         # energy of d[lag : w]
        nccf = ac[:, lo:hi + 2] / np.sqrt(head * tail + 1e-12)
        core = nccf[:, 1:-1]                      # lags lo+1 .. hi (room for the parabola)
        best = core.max(axis=1)
        good = core >= 0.9 * best[:, None]
        j = np.argmax(good, axis=1)               # shortest lag within 10 % of the best
        rows = np.arange(n)
        a, b, cc = nccf[rows, j], nccf[rows, j + 1], nccf[rows, j + 2]
        den = a - 2.0 * b + cc
        shift = np.where(np.abs(den) > 1e-9, 0.5 * (a - cc) / np.where(den == 0, 1.0, den), 0.0)
        lag = lo + 1 + j + np.clip(shift, -0.5, 0.5)
        voiced = b >= VOICED_NCCF
        return np.where(voiced, (self.rate / DECIMATE) / lag, 0.0), np.clip(b, 0.0, 1.0)


def _frames(buf: np.ndarray, n: int, win: int, hop: int) -> np.ndarray:
    return np.lib.stride_tricks.as_strided(buf, (n, win), (buf.strides[0] * hop, buf.strides[0]), writeable=False)


def prosody(samples, rate: int = ANALYSIS_RATE, n_frames: int | None = None) -> np.ndarray:
    """Mono samples at 16 kHz -> (T, 3) float64: f0 in Hz (0 when unvoiced), loudness in
    dBFS, voicing strength in [0, 1]. ``T`` is ``n_frames`` or that of the band analysis."""
    plan = _PitchPlan(rate)
    x = np.asarray(samples, np.float32).reshape(-1)
    if n_frames is None:
        n_frames = -(-x.shape[0] // plan.hop)
    buf = np.zeros(plan.lead + max(x.shape[0], n_frames * plan.hop) + plan.win, np.float32)
    buf[plan.lead:plan.lead + x.shape[0]] = x
    return plan.analyse(_frames(buf, n_frames, plan.win, plan.hop))


class ProsodyTracker:
    """Streaming :func:`prosody`: ``feed(block)`` returns the frames the block completes;
    ``flush(n_total)`` pads with zeros up to ``n_total`` frames in all."""

    def __init__(self, rate: int = ANALYSIS_RATE):
        self.plan = _PitchPlan(rate)
        self._buf = np.zeros(self.plan.lead, np.float32)
        self._held = None
        self.frames = 0

    def feed(self, block) -> np.ndarray:
        x = np.asarray(block, np.float32).reshape(-1)
        if x.size:
            self._buf = np.concatenate([self._buf, x])
        p = self.plan
        n = max(0, (self._buf.shape[0] - p.win) // p.hop + 1)
        if n == 0:
            return np.zeros((0, 3))
        out = p.analyse(_frames(self._buf, n, p.win, p.hop), self.frames, self._held)
        self._held = out[-1].copy()
        self._buf = self._buf[n * p.hop:].copy()
        self.frames += n
        return out

    def flush(self, n_total: int) -> np.ndarray:
        """Zero-pad and return the frames still missing to reach ``n_total`` in all."""
        need = int(n_total) - self.frames
        if need <= 0:
            return np.zeros((0, 3))
        p = self.plan
        pad = max(0, (need - 1) * p.hop + p.win - self._buf.shape[0])
        out = self.feed(np.zeros(pad))
        return out[:need]
