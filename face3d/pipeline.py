"""From sound to a weight track: the glue between reading audio and analysing it.

:mod:`face3d.audio` reads and resamples (it knows nothing of the analysis) and
:mod:`face3d.analysis` turns samples at its own rate into weights (it never sees a path);
this module joins the two. ``face3d.analyze`` is :func:`analyze`.
"""

from __future__ import annotations

import os

import numpy as np

from face3d.analysis import ANALYSIS_RATE, HOP_S, analysis_names, track_from_samples, weight_blocks
from face3d.audio.files import audio_blocks, check_samples, load_audio, resample
from face3d.errors import UsageError
from face3d.track import WeightTrack

__all__ = ["analyze", "analyze_samples", "WeightStream"]


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


class WeightStream:
    """The analysis of an audio file as it is read: memory does not grow with its length.

    Iterating gives blocks of (n, K) float32 weight rows at 100 Hz (frame ``k`` at
    ``k * HOP_S``), the same numbers :func:`analyze` gives with ``fps=None``; once they are
    all given, :attr:`duration` is the sound's length in seconds. :meth:`at_fps` gives
    the frames at a frame rate instead (video frames, export rows), :meth:`track` all
    rows at once. One pass: a stream is read once.
    """

    def __init__(self, path, *, alive: bool = False, seed: int = 0, live: bool = False, visemes: bool = False,
                 block: int = 65536):
        self.path = path
        self.names = analysis_names(alive=alive, visemes=visemes)
        self._opts = {"alive": alive, "seed": seed, "live": live, "visemes": visemes}
        self._block = block
        self.samples = 0          # samples at the analysis rate read so far
        self.duration = None      # seconds, once the whole file is read
        self._samples = audio_blocks(path, rate=ANALYSIS_RATE, block=block)
        self._started = False

    def open(self) -> "WeightStream":
        """Read the file's start now: a bad file is an AudioError here, not mid-stream."""
        if not self._started:
            next(self._samples)  # the rate (the analysis rate)
            self._started = True
        return self

    def _counted(self):
        for x in self._samples:
            self.samples += x.shape[0]
            yield x
        self.duration = self.samples / ANALYSIS_RATE

    def __iter__(self):
        self.open()
        return weight_blocks(self._counted(), **self._opts)

    def track(self):
        """Every row as one :class:`~face3d.track.WeightTrack` at 100 Hz."""
        from face3d.track import WeightTrack

        rows = list(self)
        w = np.concatenate(rows) if rows else np.zeros((0, len(self.names)), np.float32)
        return WeightTrack(np.arange(w.shape[0], dtype=np.float64) * HOP_S, self.names, w)

    def at_fps(self, fps: float, rows: int = 8192):
        """The frames at ``fps`` as they are known: ``(first, track)`` pairs, ``track`` a
        :class:`~face3d.track.WeightTrack` of up to about ``rows`` frames from frame
        ``first`` (frame ``i`` at ``i / fps``), to the last frame inside the sound: the
        numbers and frames of ``analyze(path, fps=fps)`` (linear interpolation)."""
        from face3d.track import WeightTrack

        fps = float(fps)
        k = len(self.names)
        known_t = np.zeros(0)             # the last 100 Hz row given so far, to interpolate from
        known_v = np.zeros((0, k), np.float32)
        seen = 0                          # 100 Hz rows so far
        nxt = 0                           # next frame at fps
        out_t, out_v, first = [], [], 0

        def emit(q, xp, fp):
            v = np.empty((q.shape[0], k), np.float32)
            for j in range(k):
                v[:, j] = np.interp(q, xp, fp[:, j])
            return v

        for w in self:
            t = (seen + np.arange(w.shape[0], dtype=np.float64)) * HOP_S
            xp, fp = np.concatenate([known_t, t]), np.concatenate([known_v, w])
            seen += w.shape[0]
            # the frames up to the newest row can be made now (the ones after it wait)
            last = int(np.floor(xp[-1] * fps))
            while last >= 0 and last / fps > xp[-1]:
                last -= 1
            while (last + 1) / fps <= xp[-1]:
                last += 1
            if last >= nxt:
                q = np.arange(nxt, last + 1, dtype=np.float64) / fps
                out_t.append(q)
                out_v.append(emit(q, xp, fp))
                nxt = last + 1
            known_t, known_v = xp[-1:], fp[-1:]
            if sum(len(q) for q in out_t) >= rows:
                yield first, WeightTrack(np.concatenate(out_t), self.names, np.concatenate(out_v))
                first, out_t, out_v = nxt, [], []
        end = max(0.0, self.duration - 1e-9)
        total = int(np.floor(end * fps + 1e-9)) + 1 if seen else 0
        if total > nxt:
            q = np.arange(nxt, total, dtype=np.float64) / fps
            out_t.append(q)
            out_v.append(emit(q, known_t, known_v) if seen else np.zeros((len(q), k), np.float32))
            nxt = total
        if out_t and sum(len(q) for q in out_t):
            yield first, WeightTrack(np.concatenate(out_t), self.names, np.concatenate(out_v))
