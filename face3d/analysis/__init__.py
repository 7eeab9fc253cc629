"""Audio analysis: band energies -> viseme weights (pure numpy: arrays and rates in, no
files, no GL, no sound devices; it imports nothing from :mod:`face3d.audio`).

Stages: mono samples at :data:`~face3d.analysis.bands.ANALYSIS_RATE` (16 kHz) ->
:func:`~face3d.analysis.bands.band_energies` (8 bands, dB, every 10 ms) ->
:func:`~face3d.analysis.visemes.map_energies` (jawOpen, mouthWide, mouthPucker,
mouthClose in [0, 1]) -> a :class:`~face3d.track.WeightTrack` at 100 frames per second
(:func:`track_from_samples`). With ``alive=True`` the same hops also go through
:mod:`~face3d.analysis.prosody` (pitch, loudness) and :mod:`~face3d.analysis.alive`
(blinks, gaze, brows, head motion), whose :data:`ALIVE_NAMES` columns follow the mouth's.
:class:`StreamAnalyzer` does the same incrementally for
live input and gives the same numbers. Reading a file or an array at any rate into a
track is :func:`face3d.pipeline.analyze`.
"""

from __future__ import annotations

import numpy as np

from face3d.analysis.alive import ALIVE_NAMES, ANGLE_NAMES, AliveGenerator
from face3d.analysis.bands import ANALYSIS_RATE, BANDS, HOP_S, BandAnalyzer, band_energies
from face3d.analysis.prosody import ProsodyTracker, prosody
from face3d.analysis.visemes import NAMES, VisemeMapper, map_energies
from face3d.analysis.visemes15 import VISEME_NAMES
from face3d.track import WeightTrack

__all__ = [
    "VISEME_NAMES", "ALIVE_NAMES", "ANGLE_NAMES", "ANALYSIS_RATE", "AliveGenerator", "ProsodyTracker", "prosody", "BANDS", "HOP_S", "NAMES", "BandAnalyzer", "StreamAnalyzer", "VisemeMapper",
    "band_energies", "map_energies", "track_from_samples", "weight_blocks", "BLOCK", "analysis_names",
]


#: Samples (at :data:`ANALYSIS_RATE`, about 65 s) up to which a signal is analysed whole;
#: a longer one is analysed by :class:`StreamAnalyzer` in pieces of exactly :data:`FEED`
#: samples from its start, whether it is in memory or read from a file as it goes (so that memory does not
#: grow with its length, and both ways give the same numbers).
BLOCK = 1 << 20
#: The pieces (samples, about 1 s) in which a signal longer than :data:`BLOCK` is analysed.
FEED = 1 << 14


def track_from_samples(x, alive: bool = False, seed: int = 0, live: bool = False,
                       visemes: bool = False) -> WeightTrack:
    """Mono float samples at :data:`ANALYSIS_RATE` -> the 100 Hz weight track.

    The samples must already be checked (finite, non-empty) and resampled; reading and
    resampling are :mod:`face3d.pipeline`'s job. ``alive``: add the :data:`ALIVE_NAMES`
    columns (blinks, brows, gaze and head angles; ``seed`` picks their random choices).
    ``live``: the live viseme model (10 ms of look-ahead) instead of the file model.
    ``visemes``: add the fifteen :data:`VISEME_NAMES` columns last (summing to 1 per frame).
    A signal longer than :data:`BLOCK` goes through :func:`weight_blocks` (the numbers
    of a file read block by block).
    """
    x = np.ascontiguousarray(x, dtype=np.float32).reshape(-1)
    if x.shape[0] > BLOCK:
        rows = list(weight_blocks((x[i : i + BLOCK] for i in range(0, x.shape[0], BLOCK)), alive, seed, live,
                                  visemes))
        names = analysis_names(alive=alive, visemes=visemes)
        w = np.concatenate(rows) if rows else np.zeros((0, len(names)), np.float32)
        return WeightTrack(np.arange(w.shape[0], dtype=np.float64) * HOP_S, names, w)
    return _whole(x, alive, seed, live, visemes)


def weight_blocks(blocks, alive: bool = False, seed: int = 0, live: bool = False, visemes: bool = False):
    """Blocks of mono float32 samples at :data:`ANALYSIS_RATE` (any sizes, e.g. as a file
    decodes) -> blocks of (n, K) float32 weight rows at 100 Hz, as they are known: a
    generator whose rows, concatenated, are :func:`track_from_samples`' values. Memory
    holds about :data:`BLOCK` samples, whatever the length (for video, export, plots)."""
    pending: list = []
    have = 0
    analyzer = None
    for b in blocks:
        b = np.asarray(b, np.float32).reshape(-1)
        pending.append(b)
        have += b.shape[0]
        if have > BLOCK or (analyzer is not None and have >= FEED):
            # longer than a block: analysed a piece at a time from the start
            if analyzer is None:
                analyzer = StreamAnalyzer(ANALYSIS_RATE, alive=alive, seed=seed, live=live, visemes=visemes)
            x = np.concatenate(pending)
            n = x.shape[0] - x.shape[0] % FEED
            out = [analyzer.feed(x[i : i + FEED]) for i in range(0, n, FEED)]
            pending, have = [x[n:]], x.shape[0] - n
            out = [w for w in out if len(w)]
            if out:
                yield np.concatenate(out)
    x = np.concatenate(pending) if pending else np.zeros(0, np.float32)
    if analyzer is None:
        if x.shape[0]:
            yield _whole(x, alive, seed, live, visemes).values
        return
    w = analyzer.feed(x) if x.shape[0] else np.zeros((0, len(analyzer.names)), np.float32)
    rest = analyzer.flush()
    w = np.concatenate([w, rest]) if len(rest) else w
    if len(w):
        yield w


def _whole(x: np.ndarray, alive: bool, seed: int, live: bool, visemes: bool = False) -> WeightTrack:
    w = map_energies(band_energies(x, rate=ANALYSIS_RATE), live=live, visemes=visemes)
    names = NAMES
    vis = None
    if visemes:
        w, vis = w[:, : len(NAMES)], w[:, len(NAMES) :]
    if alive:
        a = AliveGenerator(seed).process(prosody(x, ANALYSIS_RATE, n_frames=w.shape[0]))
        w = np.concatenate([w, a], axis=1)
        names = NAMES + ALIVE_NAMES
    if vis is not None:
        w = np.concatenate([w, vis], axis=1)
        names = names + VISEME_NAMES
    times = np.arange(w.shape[0], dtype=np.float64) * HOP_S
    return WeightTrack(times, names, w)


def analysis_names(alive: bool = False, visemes: bool = False) -> tuple:
    """The columns of an analysis: the four mouth curves, then the :data:`ALIVE_NAMES` with
    ``alive``, then the fifteen :data:`VISEME_NAMES` with ``visemes``."""
    return NAMES + (ALIVE_NAMES if alive else ()) + (VISEME_NAMES if visemes else ())


class StreamAnalyzer:
    """Live analysis: ``feed(block)`` of mono samples at ``rate`` -> (n, 4) new weight frames
    (``visemes``: the fifteen :data:`VISEME_NAMES` columns last, as :attr:`names` says).

    Blocks may be any size; all feeds plus :meth:`flush` equal :func:`track_from_samples`
    on the whole signal (at the analysis rate). Other input rates are resampled with a
    streaming soxr resampler (then the numbers match only to resampler accuracy).
    ``alive``: rows carry the :data:`ALIVE_NAMES` columns too, (n, 14). ``live``: use the
    live viseme model (10 ms of look-ahead instead of 100 ms: a frame's weights come one
    frame later instead of ten; the whole-signal equal is then ``map_energies(e, live=True)``).
    """

    def __init__(self, rate: int = ANALYSIS_RATE, alive: bool = False, seed: int = 0, live: bool = False,
                 visemes: bool = False):
        self.rate = int(rate)
        self.names = analysis_names(alive=alive, visemes=visemes)
        self._bands = BandAnalyzer(ANALYSIS_RATE)
        self._map = VisemeMapper(live=live, visemes=visemes)
        self._nm = len(self._map.names)
        self._pros = ProsodyTracker(ANALYSIS_RATE) if alive else None
        self._alive = AliveGenerator(seed) if alive else None
        self._mouth = np.zeros((0, self._nm), np.float32)    # mouth rows waiting for their prosody
        self._prosody = np.zeros((0, 3))
        self._rs = None
        if self.rate != ANALYSIS_RATE:
            import soxr

            self._rs = soxr.ResampleStream(self.rate, ANALYSIS_RATE, 1, dtype="float32", quality="HQ")
        self.frames = 0

    def feed(self, block) -> np.ndarray:
        x = np.asarray(block, dtype=np.float32).reshape(-1)
        if self._rs is not None:
            x = self._rs.resample_chunk(x)
        w = self._map.process(self._bands.feed(x))
        if self._pros is not None:
            w = self._join(w, self._pros.feed(x))
        self.frames += w.shape[0]
        return w

    def _join(self, mouth: np.ndarray, pros: np.ndarray) -> np.ndarray:
        """Mouth rows with the alive rows of the same frames (whichever came first waits)."""
        m = np.concatenate([self._mouth, mouth]) if len(self._mouth) else mouth
        p = np.concatenate([self._prosody, pros]) if len(self._prosody) else pros
        n = min(len(m), len(p))
        self._mouth, self._prosody = m[n:], p[n:]
        k = len(NAMES)
        return np.concatenate([m[:n, :k], self._alive.process(p[:n]), m[:n, k:]], axis=1).astype(np.float32)

    def flush(self) -> np.ndarray:
        x = np.zeros(0, np.float32)
        if self._rs is not None:
            x = self._rs.resample_chunk(x, last=True)
        e = self._bands.feed(x)
        e = np.concatenate([e, self._bands.flush()]) if e.size else self._bands.flush()
        w = self._map.process(e)
        rest = self._map.flush()
        if len(rest):
            w = np.concatenate([w, rest])
        if self._pros is not None:
            total = self.frames + len(self._mouth) + w.shape[0]
            w = self._join(w, self._pros.flush(total))
        self.frames += w.shape[0]
        return w
