"""Band energies: the short-time spectrum of speech summed into a few bands, in dB.

The analysis runs at :data:`ANALYSIS_RATE` (16 kHz) with a hop of 10 ms (160 samples,
100 frames per second) and a 25 ms periodic Hann window (400 samples). Frame ``i`` is
centred on sample ``i * hop`` (time ``i / 100`` s); the signal is padded with half a
window of zeros at both ends, so ``N`` samples give ``ceil(N / hop)`` frames.

Each band's energy is the mean square of the band-limited signal, scaled so that a
full-scale sine inside the band reads 0 dB (dBFS); a floor of 1e-10 keeps digital
silence at -100 dB. Bins are assigned to the band that holds their centre frequency.

There are 17 bands, roughly even on a mel scale (each at least three 40 Hz bins wide)
from 80 Hz to 4 kHz, then two wide bands for frication: fine enough below 4 kHz to place
the first formant (250-1000 Hz: close vs open vowels) and the second and third
(1-3.4 kHz: front spread "ee" high, back rounded "oo" low) for voices of any size.

=======  ================  ================================================================
bands    edges (Hz)        what they carry in speech
=======  ================  ================================================================
0        80 - 200          voice fundamental; nasal and voiced-closure murmur (m, b)
1 - 6    200 - 1040        first formant (F1): low for "ee", "oo", nasals; high for "ah"
7 - 12   1040 - 2860       second formant (F2): high for front spread vowels, low for rounded
13 - 14  2860 - 4000       F3/F4, upper voicing energy
15       4000 - 5500       fricative noise ("sh", "f")
16       5500 - 8000       sibilant noise ("s")
=======  ================  ================================================================

:func:`band_energies` does a whole signal in one vectorised pass (framed real FFT,
power, per-band sums); :class:`BandAnalyzer` takes blocks of any size and runs the same
per-frame code on the frames each block completes, so both give the same numbers.
"""

from __future__ import annotations

import numpy as np

#: Internal analysis sample rate (Hz). Files and microphone input are resampled to it.
ANALYSIS_RATE = 16000
#: Hop between frames in seconds (100 frames per second).
HOP_S = 0.010
#: Analysis window length in seconds (periodic Hann).
WIN_S = 0.025
#: Band edges in Hz: band ``b`` covers ``[BAND_EDGES[b], BAND_EDGES[b + 1])``.
BAND_EDGES = (80.0, 200.0, 320.0, 440.0, 560.0, 700.0, 860.0, 1040.0, 1240.0, 1480.0, 1760.0, 2080.0,
              2440.0, 2860.0, 3400.0, 4000.0, 5500.0, 8000.0)
#: Bands below this index are voice bands (under 4 kHz).
VOICE_BANDS = 15
#: (low, high) Hz per band.
BANDS = tuple(zip(BAND_EDGES[:-1], BAND_EDGES[1:]))
#: Energy floor (power); 10*log10(1e-10) = -100 dB.
POWER_FLOOR = 1e-10
FLOOR_DB = -100.0


class _Plan:
    """Window, bin ranges and scale for one sample rate (shared by offline and streaming)."""

    def __init__(self, rate: int, hop: int | None = None, win: int | None = None):
        rate = int(rate)
        if rate < 2 * 4000:
            raise ValueError(f"analysis rate {rate} Hz is too low; use at least 8000 Hz")
        self.rate = rate
        self.hop = int(hop or round(rate * HOP_S))
        self.win = int(win or round(rate * WIN_S))
        if self.hop < 1 or self.win < self.hop:
            raise ValueError("window must be at least one hop long")
        n = np.arange(self.win)
        self.window = 0.5 - 0.5 * np.cos(2 * np.pi * n / self.win)  # periodic Hann, float64
        self.scale = 4.0 / (self.win * float(np.sum(self.window**2)))
        freqs = np.fft.rfftfreq(self.win, 1.0 / rate)
        nyq = rate / 2.0
        starts, ends = [], []
        for lo, hi in BANDS:
            hi_eff = hi if hi < nyq else np.inf
            idx = np.nonzero((freqs >= lo) & (freqs < hi_eff))[0]
            if idx.size == 0:  # band above Nyquist: keep an empty (floor) band
                starts.append(len(freqs) - 1)
                ends.append(len(freqs) - 1)
            else:
                starts.append(int(idx[0]))
                ends.append(int(idx[-1]) + 1)
        self.starts = np.array(starts)
        self.ends = np.array(ends)
        self.empty = self.starts == self.ends
        self.lo_bin = int(self.starts.min())
        self.hi_bin = int(self.ends.max())
        # reduceat indices relative to the sliced spectrum [lo_bin, hi_bin)
        self._idx = self.starts - self.lo_bin

    def frames_to_db(self, frames: np.ndarray) -> np.ndarray:
        """(n, win) float64 samples -> (n, B) float32 band energies in dB."""
        if frames.shape[0] == 0:
            return np.zeros((0, len(BANDS)), np.float32)
        spec = np.fft.rfft(frames * self.window, axis=1)[:, self.lo_bin : self.hi_bin]
        # |X|^2 summed per band: square the interleaved (re, im) pairs in place and sum
        # them band by band in one reduceat (no separate power array).
        ri = spec.view(np.float64)
        np.square(ri, out=ri)
        sums = np.add.reduceat(ri, 2 * self._idx, axis=1)
        if self.empty.any():
            sums[:, self.empty] = 0.0
        sums *= self.scale
        sums += POWER_FLOOR
        return (10.0 * np.log10(sums)).astype(np.float32)


_PLANS: dict[tuple, _Plan] = {}


def _plan(rate, hop=None, win=None) -> _Plan:
    key = (int(rate), hop, win)
    p = _PLANS.get(key)
    if p is None:
        p = _PLANS[key] = _Plan(rate, hop, win)
    return p


def _frames(buf: np.ndarray, n: int, win: int, hop: int) -> np.ndarray:
    """Read-only (n, win) view of frames starting every ``hop`` samples (no copy)."""
    assert buf.shape[0] >= (n - 1) * hop + win if n else True
    st = buf.strides[0]
    return np.lib.stride_tricks.as_strided(buf, shape=(n, win), strides=(hop * st, st), writeable=False)


def frame_count(n_samples: int, rate: int = ANALYSIS_RATE) -> int:
    """Frames for ``n_samples`` samples: ``ceil(n_samples / hop)``."""
    hop = _plan(rate).hop
    return -(-int(n_samples) // hop)


def band_energies(samples, *, rate: int = ANALYSIS_RATE, hop: int | None = None, win: int | None = None,
                  chunk_frames: int = 512) -> np.ndarray:
    """Band energies of a whole mono signal: (T, B) float32 dB, T = ceil(N / hop).

    ``hop`` and ``win`` are in samples (default 10 ms and 25 ms at ``rate``). Work is
    done in chunks of ``chunk_frames`` frames to bound memory; the numbers do not
    depend on the chunking.
    """
    plan = _plan(rate, hop, win)
    x = np.asarray(samples).reshape(-1)
    n = x.shape[0]
    T = -(-n // plan.hop)
    half = plan.win // 2
    padded = np.empty(n + plan.win, np.float64)
    padded[:half] = 0.0
    padded[half + n :] = 0.0
    padded[half : half + n] = x  # float64, converted on the way in
    out = np.empty((T, len(BANDS)), np.float32)
    view = _frames(padded, T, plan.win, plan.hop)
    for s in range(0, T, chunk_frames):
        e = min(T, s + chunk_frames)
        out[s:e] = plan.frames_to_db(view[s:e])
    return out


class BandAnalyzer:
    """Streaming band energies: ``feed(block)`` returns the frames that block completes.

    Frames come out as soon as their window is full (half a window, 12.5 ms, after
    their centre). ``flush()`` pads the end with zeros and returns the last frames, so
    that the concatenation of every ``feed`` and the final ``flush`` equals
    :func:`band_energies` of the whole signal.
    """

    def __init__(self, rate: int = ANALYSIS_RATE, *, hop: int | None = None, win: int | None = None):
        self._plan = _plan(rate, hop, win)
        self.rate = self._plan.rate
        self.hop = self._plan.hop
        self.win = self._plan.win
        self.reset()

    @property
    def n_bands(self) -> int:
        return len(BANDS)

    def reset(self) -> None:
        self._buf = np.zeros(self.win // 2, np.float64)
        self._fed = 0  # samples fed
        self._emitted = 0  # frames emitted

    def _take(self, limit: int | None = None) -> np.ndarray:
        buf = self._buf
        n = (buf.shape[0] - self.win) // self.hop + 1 if buf.shape[0] >= self.win else 0
        if limit is not None:
            n = max(0, min(n, limit))
        if n == 0:
            return np.zeros((0, len(BANDS)), np.float32)
        out = self._plan.frames_to_db(_frames(buf, n, self.win, self.hop))
        self._buf = buf[n * self.hop :].copy()
        self._emitted += n
        return out

    def feed(self, block) -> np.ndarray:
        """Add mono samples (any length, float); return the (n, B) frames now complete."""
        x = np.asarray(block, dtype=np.float64).reshape(-1)
        if x.size:
            self._buf = np.concatenate([self._buf, x])
            self._fed += x.size
        # hold back frames past the end of the signal so far (they need the flush padding)
        total = -(-self._fed // self.hop)
        return self._take(total - self._emitted)

    def flush(self) -> np.ndarray:
        """Pad the end with zeros and return the remaining frames; then start afresh."""
        total = -(-self._fed // self.hop)
        self._buf = np.concatenate([self._buf, np.zeros(self.win // 2 + self.hop, np.float64)])
        out = self._take(total - self._emitted)
        self.reset()
        return out
