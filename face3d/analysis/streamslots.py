"""The per-stream parts of :class:`~face3d.analysis.multistream.MultiStream`: a stream's
slot and carried state, and its streaming resampler to any frame rate."""

from __future__ import annotations

from collections import deque

import numpy as np

from face3d.analysis.alive import AliveGenerator
from face3d.analysis.bands import ANALYSIS_RATE, HOP_S
from face3d.analysis.visemes15 import VISEME_NAMES
from face3d.track import ALIVE_NAMES, MOUTH_NAMES


class BacklogError(ValueError):
    """A stream was fed more audio than ``max_backlog_s`` ahead of its analysis."""


class StreamSlot:
    def __init__(self, slot: int, rate: int, channels: int, alive: bool, seed: int, fps, visemes: bool = False):
        self.slot, self.rate, self.channels = slot, int(rate), int(channels)
        self.names = MOUTH_NAMES + (ALIVE_NAMES if alive else ()) + (VISEME_NAMES if visemes else ())
        self.cols = len(MOUTH_NAMES) + (len(VISEME_NAMES) if visemes else 0)   # the mapper's columns it takes
        self.rs = None
        if self.rate != ANALYSIS_RATE:
            import soxr

            self.rs = soxr.ResampleStream(self.rate, ANALYSIS_RATE, 1, dtype="float32", quality="HQ")
        self.fed = 0                    # samples at 16 kHz given to the band analysis
        self.inputs = 0                 # sample frames at the stream's own rate
        self.queue: deque = deque()     # 16 kHz blocks waiting for room in the ring
        self.queued = 0
        self.alive = AliveGenerator(seed) if alive else None
        self.mouth = np.zeros((0, self.cols), np.float32)   # mouth rows waiting for their prosody
        self.prosody = np.zeros((0, 3))
        self.rows = 0                   # 100 Hz rows given
        self.fps = FpsResampler(float(fps)) if fps is not None and float(fps) != 100.0 else None
        self.plain = self.fps is None and self.alive is None     # 100 Hz mouth rows as they come

    def join(self, mouth: np.ndarray, pros: np.ndarray) -> np.ndarray:
        """Mouth rows with the alive rows of the same frames (whichever came first waits)."""
        m = np.concatenate([self.mouth, mouth]) if len(self.mouth) else mouth
        p = np.concatenate([self.prosody, pros]) if len(self.prosody) else pros
        n = min(len(m), len(p))
        self.mouth, self.prosody = m[n:], p[n:]
        k = len(MOUTH_NAMES)            # the curves, the alive columns, then any visemes
        return np.concatenate([m[:n, :k], self.alive.process(p[:n]), m[:n, k:]], axis=1).astype(np.float32)

    def out(self, w: np.ndarray, final: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """100 Hz rows -> (times, rows) at the stream's frame rate."""
        n0 = self.rows
        self.rows += w.shape[0]
        if self.fps is not None:
            return self.fps.push(w, self.inputs / self.rate if final else None)
        return (n0 + np.arange(w.shape[0], dtype=np.float64)) * HOP_S, w


class FpsResampler:
    """Streaming :meth:`~face3d.track.WeightTrack.resample`: frame ``i`` at ``i / fps``,
    linear between the 100 Hz rows, given as soon as the rows around it are known."""

    def __init__(self, fps: float):
        self.fps, self.n_in, self.n_out, self.last = fps, 0, 0, None

    def push(self, rows: np.ndarray, duration: float | None) -> tuple[np.ndarray, np.ndarray]:
        k = rows.shape[1]
        if self.last is not None:
            rows = np.concatenate([self.last[None], rows])
        if not len(rows):
            return np.zeros(0), np.zeros((0, k), np.float32)
        start = self.n_in - (1 if self.last is not None else 0)
        xp = np.arange(start, start + rows.shape[0], dtype=np.float64) * HOP_S
        self.n_in = start + rows.shape[0]
        self.last = rows[-1].copy()
        if duration is None:            # every frame up to the newest row
            stop = int(np.floor(xp[-1] * self.fps)) + 2
        else:                           # the end: up to the duration, clamped to the last row
            stop = int(np.floor(max(0.0, duration - 1e-9) * self.fps + 1e-9)) + 1
        t = np.arange(self.n_out, max(self.n_out, stop), dtype=np.float64) / self.fps
        if duration is None:
            t = t[t <= xp[-1]]
        self.n_out += t.shape[0]
        out = np.empty((t.shape[0], k), np.float32)
        for c in range(k):
            out[:, c] = np.interp(t, xp, rows[:, c])
        return t, out
