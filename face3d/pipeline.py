"""From sound to a weight track: the glue between reading audio and analysing it.

:mod:`face3d.audio` reads and resamples (it knows nothing of the analysis) and
:mod:`face3d.analysis` turns samples at its own rate into weights (it never sees a path);
this module joins the two. ``face3d.analyze`` is :func:`analyze`.
"""

from __future__ import annotations

import os

import numpy as np

from face3d.analysis import ANALYSIS_RATE, track_from_samples
from face3d.audio.files import check_samples, load_audio, resample
from face3d.errors import UsageError
from face3d.track import WeightTrack

__all__ = ["analyze", "analyze_samples"]


def analyze_samples(samples, rate: int = ANALYSIS_RATE, alive: bool = False, seed: int = 0,
                    live: bool = False, visemes: bool = False) -> WeightTrack:
    """Mono (or frames x channels) samples at ``rate`` -> 100 Hz weight track."""
    x = check_samples(samples, "samples")
    return track_from_samples(resample(x, int(rate), ANALYSIS_RATE), alive=alive, seed=seed, live=live,
                              visemes=visemes)


def analyze(source, rate: int | None = None, fps: float | None = 60.0, *, alive: bool = False,
            seed: int = 0, live: bool = False, visemes: bool = False) -> WeightTrack:
    """Analyse a file path or a sample array into a viseme weight track.

    ``source``: a path (WAV, FLAC, OGG; any rate, any channel count) or an array of
    samples (1-D mono, or frames x channels), in which case ``rate`` is required.
    ``fps``: frames per second of the result (frame ``i`` at ``i / fps``, linear
    interpolation of the 100 Hz analysis); None keeps the 100 Hz track.
    Returns a :class:`~face3d.track.WeightTrack` with names
    ``("jawOpen", "mouthWide", "mouthPucker", "mouthClose")``; with ``alive=True`` also
    the :data:`~face3d.track.ALIVE_NAMES` columns (blinks, brows, gaze and head angles),
    whose random choices ``seed`` picks (the same seed, the same curves). ``live``: use the
    live viseme model (10 ms of look-ahead, as ``face3d record`` and the microphone do)
    instead of the file model (100 ms). ``visemes``: the fifteen
    :data:`~face3d.analysis.visemes15.VISEME_NAMES` columns last (``viseme_sil`` ...
    ``viseme_U``, summing to 1 in every frame).
    Never touches GL or sound devices.
    """
    if isinstance(source, (str, os.PathLike)):
        x, r = load_audio(source, rate=ANALYSIS_RATE)
        duration = x.shape[0] / r
        track = track_from_samples(x, alive=alive, seed=seed, live=live, visemes=visemes)
    else:
        if rate is None:
            raise UsageError("analyze(samples) needs rate=, the sample rate of the samples in Hz")
        if not (isinstance(rate, (int, np.integer)) or float(rate).is_integer()) or int(rate) < 1000:
            raise UsageError(f"rate={rate!r} is not a usable sample rate; give an integer such as 16000")
        arr = np.asarray(source)
        duration = arr.shape[0] / float(rate)
        track = analyze_samples(arr, int(rate), alive=alive, seed=seed, live=live, visemes=visemes)
    if fps is None:
        return track
    return track.resample(fps, duration=max(0.0, duration - 1e-9))
