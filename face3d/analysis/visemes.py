"""Viseme mapping: band energies (dB) to the weights jawOpen, mouthWide, mouthPucker, mouthClose.

Every weight is in [0, 1]. All levels below are in dB; ``b0 .. b7`` are the band
energies of :mod:`face3d.analysis.bands` (80-250, 250-500, 500-1000, 1000-2000,
2000-3000, 3000-4000, 4000-5500, 5500-8000 Hz).

Trackers (all causal, so a live stream and a whole file give the same numbers):

* ``L`` voice level: the power sum of bands 0-5 (80 Hz - 4 kHz). Reason: that is where
  voiced sound lives; hiss above 4 kHz (s, f) says little about the jaw, and 8 kHz files
  have nothing there, so leaving it out keeps curves consistent across sample rates.
* ``F`` noise floor: the minimum of ``L`` over the last 3 s. Reason: speech keeps
  dipping to the floor between syllables, steady noise never leaves it, so the minimum
  follows room noise within seconds without being pulled up by the voice.
* ``V`` voice reference: the maximum of ``L`` over the last 2 s, but at least ``F + 25``.
  Reason: openness is judged against the talker's own recent peaks, so speech at
  -40 dBFS and at -6 dBFS open the mouth equally; the lower bound stops a signal barely
  above the noise from counting as full voice.
* ``gate = clip((L - F - 6) / 10)``: 0 within 6 dB of the floor, 1 from 16 dB above.
  Reason: silence and steady noise (which sits at the floor) keep the mouth shut.
* ``loud = clip(1 - (V - L) / 20) * gate``: 1 at the voice's peaks, 0 at 20 dB below.

Rules:

* **jawOpen** ``= loud * clip(0.55 + (b2 - b1) / 25, 0.2, 1)``. Reason: open vowels
  ("ah") have a high first formant (F1 700-1000 Hz), putting their energy in 500-1000 Hz
  above 250-500 Hz; close vowels ("ee", "oo") and nasals have F1 near 300 Hz and the
  opposite balance, so they open the jaw only a little (at least 0.2 of the loudness).
* **mouthWide** ``= loud * clip((b4 - max(b2, b3) - 3) / 20)``. Reason: spread front
  vowels ("ee", "eh") have F2 above 2 kHz with a deep trough between F1 and F2, so the
  2-3 kHz band stands high against 500-2000 Hz; for "ah", "oh", "oo" it is far below.
* **mouthPucker** ``= loud * clip((max(b2, b3) - b4 - 2) / 15) * clip(1 - (b2 - b1) / 15)``.
  Reason: rounding lowers F2 (and F3), so energy gathers below 2 kHz and the 2-3 kHz band
  falls ("oo", "oh", "w"); the second factor removes open vowels ("ah"), which are also
  low-heavy but not rounded (their F1 is high, so ``b2 - b1`` is large).
* **mouthClose** ``= max(recent * quiet * (1 - fric), murmur)``. Reason: for p, b, m
  the lips close between voiced sounds. ``quiet = clip((V - L - 18) / 10)`` is a drop of
  18-28 dB below the voice (the closure of a stop); ``recent`` is the largest ``loud``
  over the last 150 ms, so the lips press only just after speech and a long pause
  returns to rest; ``fric = clip((max(b5, b6, b7) - max(b0, b1, b2) + 5) / 10) *
  clip((max(b5, b6, b7) - V + 50) / 10)`` marks hiss (s, f, sh), which is quiet in the
  voice bands but made with open lips. ``murmur = gate * clip((max(b0, b1) -
  max(b2, b3, b4) - 6) / 8) * clip((V - L - 6) / 6)`` is the nasal / voiced-closure hum
  of m and b: energy only below 500 Hz, somewhat below the voice level.

Smoothing: each weight goes through an instant-attack, exponential-release follower,
``y[t] = max(x[t], a * y[t-1])`` with a release time constant of 40 ms (30 ms for
mouthClose). Reason: the 25 ms analysis window already smooths the attack, so onsets
are not delayed at all, while the release hides frame-to-frame flicker as sounds decay.
"""

from __future__ import annotations

import numpy as np

from face3d.analysis.bands import BANDS, HOP_S

#: Output weight names, in column order.
NAMES = ("jawOpen", "mouthWide", "mouthPucker", "mouthClose")

FLOOR_WINDOW_S = 3.0
VOICE_WINDOW_S = 2.0
RECENT_WINDOW_S = 0.15
GATE_DB = 6.0
GATE_WIDTH_DB = 10.0
VOICE_MIN_SNR_DB = 25.0
LOUD_RANGE_DB = 20.0
RELEASE_S = (0.040, 0.040, 0.040, 0.030)
_CHUNK = 64


def _clip(x):
    return np.minimum(np.maximum(x, 0.0), 1.0)


def _sliding(z: np.ndarray, w: int, ufunc) -> np.ndarray:
    """ufunc-reduce (np.minimum / np.maximum) over every run of ``w`` values in ``z``.

    Returns ``len(z) - w + 1`` values; van Herk / Gil-Werman block prefix and suffix
    scans, so the cost does not grow with ``w``. Exact (min/max do not round).
    """
    n = z.shape[0]
    m = n - w + 1
    if m <= 0:
        return z[:0].copy()
    if m == 1:  # one new frame (live input, hop by hop)
        return ufunc.reduce(z, keepdims=True)
    if m * w <= 4096:  # a few frames
        st = z.strides[0]
        view = np.lib.stride_tricks.as_strided(z, shape=(m, w), strides=(st, st), writeable=False)
        return ufunc.reduce(view, axis=1)
    ident = np.inf if ufunc is np.minimum else -np.inf
    nb = -(-n // w)
    zp = np.full(nb * w, ident)
    zp[:n] = z
    blocks = zp.reshape(nb, w)
    prefix = ufunc.accumulate(blocks, axis=1).ravel()
    suffix = ufunc.accumulate(blocks[:, ::-1], axis=1)[:, ::-1].ravel()
    j = np.arange(m)
    return ufunc(suffix[j], prefix[j + w - 1])


def _release(x: np.ndarray, a: float, y0: float) -> tuple[np.ndarray, float]:
    """y[t] = max(x[t], a * y[t-1]) with y[-1] = y0, for x >= 0; vectorised in chunks."""
    n = x.shape[0]
    if n == 0:
        return x.copy(), y0
    if n <= 8:  # a few frames (live input): the recursion itself
        out = np.empty(n)
        y = y0
        for i, v in enumerate(x.tolist()):
            y = a * y
            if v > y:
                y = v
            out[i] = y
        return out, y
    k = _CHUNK
    nc = -(-n // k)
    xp = np.zeros(nc * k)
    xp[:n] = x
    xc = xp.reshape(nc, k)
    j = np.arange(k)
    up = a ** (-j.astype(np.float64))
    down = a ** j.astype(np.float64)
    # within each chunk, starting from 0: z[j] = a^j * max_{i<=j} x[i] a^-i
    z = np.maximum.accumulate(xc * up, axis=1) * down
    carry = a ** (j + 1.0)
    y = np.empty_like(z)
    prev = y0
    for c in range(nc):
        yc = np.maximum(z[c], carry * prev)
        y[c] = yc
        prev = yc[-1]
    out = y.ravel()[:n]
    return out, float(out[-1])


class VisemeMapper:
    """Streaming mapper: ``process(energies)`` for any number of new frames -> (n, 4).

    :func:`map_energies` is ``VisemeMapper().process(all_frames)``, so feeding frames in
    blocks of any size gives the same weights as a whole file (to float rounding).
    """

    names = NAMES

    def __init__(self, hop_s: float = HOP_S):
        self.hop_s = float(hop_s)
        self._wf = max(1, int(round(FLOOR_WINDOW_S / self.hop_s)))
        self._wv = max(1, int(round(VOICE_WINDOW_S / self.hop_s)))
        self._wr = max(1, int(round(RECENT_WINDOW_S / self.hop_s)))
        self._a = tuple(float(np.exp(-self.hop_s / r)) for r in RELEASE_S)
        self.reset()

    def reset(self) -> None:
        self._hf = np.full(self._wf - 1, np.inf)  # last L values (floor)
        self._hv = np.full(self._wv - 1, -np.inf)  # last L values (voice)
        self._hr = np.zeros(self._wr - 1)  # last loud values (recent)
        self._y = [0.0, 0.0, 0.0, 0.0]

    def process(self, energies) -> np.ndarray:
        e = np.asarray(energies, dtype=np.float64)
        if e.ndim != 2 or e.shape[1] != len(BANDS):
            raise ValueError(f"energies must be (frames, {len(BANDS)}), got {e.shape}")
        n = e.shape[0]
        if n == 0:
            return np.zeros((0, 4), np.float32)
        b = [e[:, i] for i in range(e.shape[1])]
        L = 10.0 * np.log10(np.sum(10.0 ** (e[:, :6] / 10.0), axis=1))

        zf = np.concatenate([self._hf, L])
        F = _sliding(zf, self._wf, np.minimum)
        self._hf = zf[zf.shape[0] - (self._wf - 1):] if self._wf > 1 else self._hf
        zv = np.concatenate([self._hv, L])
        V = _sliding(zv, self._wv, np.maximum)
        self._hv = zv[zv.shape[0] - (self._wv - 1):] if self._wv > 1 else self._hv
        V = np.maximum(V, F + VOICE_MIN_SNR_DB)

        gate = _clip((L - F - GATE_DB) / GATE_WIDTH_DB)
        below = V - L
        loud = _clip(1.0 - below / LOUD_RANGE_DB) * gate

        d_open = b[2] - b[1]
        jaw = loud * np.clip(0.55 + d_open / 25.0, 0.2, 1.0)
        mid = np.maximum(b[2], b[3])
        wide = loud * _clip((b[4] - mid - 3.0) / 20.0)
        pucker = loud * _clip((mid - b[4] - 2.0) / 15.0) * _clip(1.0 - d_open / 15.0)

        zr = np.concatenate([self._hr, loud])
        recent = _sliding(zr, self._wr, np.maximum)
        self._hr = zr[zr.shape[0] - (self._wr - 1):] if self._wr > 1 else self._hr
        quiet = _clip((below - 18.0) / 10.0)
        hi = np.maximum(np.maximum(b[5], b[6]), b[7])
        lo3 = np.maximum(np.maximum(b[0], b[1]), b[2])
        fric = _clip((hi - lo3 + 5.0) / 10.0) * _clip((hi - V + 50.0) / 10.0)
        murmur = gate * _clip((np.maximum(b[0], b[1]) - np.maximum(mid, b[4]) - 6.0) / 8.0) * _clip((below - 6.0) / 6.0)
        close = np.maximum(recent * quiet * (1.0 - fric), murmur)

        out = np.empty((n, 4), np.float32)
        for i, x in enumerate((jaw, wide, pucker, close)):
            y, self._y[i] = _release(x, self._a[i], self._y[i])
            out[:, i] = y
        np.clip(out, 0.0, 1.0, out=out)
        return out


def map_energies(energies) -> np.ndarray:
    """Whole-signal mapping: (T, B) band energies in dB -> (T, 4) float32 weights."""
    return VisemeMapper().process(energies)
