"""Audio analysis: band energies -> viseme weights (pure numpy, no GL, no sound devices).

Pipeline: mono samples at :data:`~face3d.analysis.bands.ANALYSIS_RATE` (16 kHz) ->
:func:`~face3d.analysis.bands.band_energies` (8 bands, dB, every 10 ms) ->
:func:`~face3d.analysis.visemes.map_energies` (jawOpen, mouthWide, mouthPucker,
mouthClose in [0, 1]) -> a :class:`~face3d.track.WeightTrack` at 100 frames per second,
resampled to ``fps`` if asked. :class:`StreamAnalyzer` does the same incrementally for
live input and gives the same numbers.
"""

from __future__ import annotations

import os

import numpy as np

from face3d.analysis.bands import ANALYSIS_RATE, BANDS, HOP_S, BandAnalyzer, band_energies
from face3d.analysis.visemes import NAMES, VisemeMapper, map_energies
from face3d.errors import UsageError
from face3d.track import WeightTrack

__all__ = [
    "ANALYSIS_RATE", "BANDS", "HOP_S", "NAMES", "BandAnalyzer", "StreamAnalyzer", "VisemeMapper",
    "analyze", "analyze_samples", "band_energies", "map_energies",
]


def analyze_samples(samples, rate: int = ANALYSIS_RATE) -> WeightTrack:
    """Mono (or frames x channels) samples at ``rate`` -> 100 Hz weight track."""
    from face3d.audio.files import check_samples, resample

    x = check_samples(samples, "samples")
    x = resample(x, int(rate), ANALYSIS_RATE)
    e = band_energies(x, rate=ANALYSIS_RATE)
    w = map_energies(e)
    times = np.arange(w.shape[0], dtype=np.float64) * HOP_S
    return WeightTrack(times, NAMES, w)


def analyze(source, rate: int | None = None, fps: float | None = 60.0) -> WeightTrack:
    """Analyse a file path or a sample array into a viseme weight track.

    ``source``: a path (WAV, FLAC, OGG; any rate, any channel count) or an array of
    samples (1-D mono, or frames x channels), in which case ``rate`` is required.
    ``fps``: frames per second of the result (frame ``i`` at ``i / fps``, linear
    interpolation of the 100 Hz analysis); None keeps the 100 Hz track.
    Returns a :class:`~face3d.track.WeightTrack` with names
    ``("jawOpen", "mouthWide", "mouthPucker", "mouthClose")``.
    Never touches GL or sound devices.
    """
    if isinstance(source, (str, os.PathLike)):
        from face3d.audio.files import load_audio

        x, r = load_audio(source, rate=ANALYSIS_RATE)
        duration = x.shape[0] / r
        track = analyze_samples(x, r)
    else:
        if rate is None:
            raise UsageError("analyze(samples) needs rate=, the sample rate of the samples in Hz")
        if not (isinstance(rate, (int, np.integer)) or float(rate).is_integer()) or int(rate) < 1000:
            raise UsageError(f"rate={rate!r} is not a usable sample rate; give an integer such as 16000")
        arr = np.asarray(source)
        duration = arr.shape[0] / float(rate)
        track = analyze_samples(arr, int(rate))
    if fps is None:
        return track
    return track.resample(fps, duration=max(0.0, duration - 1e-9))


class StreamAnalyzer:
    """Live analysis: ``feed(block)`` of mono samples at ``rate`` -> (n, 4) new weight frames.

    Blocks may be any size; all feeds plus :meth:`flush` equal :func:`analyze_samples`
    on the whole signal (at the analysis rate). Other input rates are resampled with a
    streaming soxr resampler (then the numbers match only to resampler accuracy).
    """

    names = NAMES

    def __init__(self, rate: int = ANALYSIS_RATE):
        self.rate = int(rate)
        self._bands = BandAnalyzer(ANALYSIS_RATE)
        self._map = VisemeMapper()
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
        self.frames += w.shape[0]
        return w

    def flush(self) -> np.ndarray:
        x = np.zeros(0, np.float32)
        if self._rs is not None:
            x = self._rs.resample_chunk(x, last=True)
        e = self._bands.feed(x)
        e = np.concatenate([e, self._bands.flush()]) if e.size else self._bands.flush()
        w = self._map.process(e)
        self.frames += w.shape[0]
        return w
