"""The viewer's frame-loop logic, free of GL and windows (unit-testable).

A :class:`Session` answers, once per drawn frame, "which shape weights now?":

* media mode (a sound file, a curve CSV, or both): the weights of the analysed (or
  loaded) :class:`~face3d.track.WeightTrack` at the media clock's position, the clock
  being the sound actually heard (:class:`~face3d.audio.player.AudioPlayer`) or the
  viewer's own (:class:`~face3d.audio.clock.OwnClock`); pause, seek and loop go to
  the clock;
* live mode (the microphone): the newest weights of a live source
  (:class:`~face3d.live.LiveSource`).

A :class:`Recorder` keeps the session's weight track for ``--record``. In media mode it
logs which stretches of media time were played (a seek or a loop starts a new stretch;
a pause adds nothing) and, on saving, samples the track along them at the export frame
rate, so the CSV has every frame even if the window drew fewer, and a run without seeks
lines up with ``face3d export`` of the same file. In live mode it keeps every analysis
frame (100 per second) as it comes.
"""

from __future__ import annotations

import math
import time

import numpy as np

from face3d.track import WeightTrack, export_columns

#: A media clock step longer than this (seconds) between two frames, beyond the wall time
#: that went by between them, counts as a jump (a seek).
MAX_STEP_S = 0.5
RECORD_FPS = 60.0


class Recorder:
    """The session's weight track, for ``--record``. ``leave_out``: columns the session
    draws with but the CSV does not carry (the viseme weights analysed for a head that
    shows them, when ``--visemes`` was not asked for: the record keeps ``face3d export``'s
    columns for the same options)."""

    def __init__(self, names, fps: float = RECORD_FPS, leave_out=()):
        self.names = tuple(names)
        self.fps = float(fps)
        self.leave_out = frozenset(leave_out)
        self.segments: list[list[float]] = [[0.0, 0.0]]   # media mode: [media_start, length]
        self._last = 0.0
        self._wall = None                                   # wall time of the last observation
        self._frames: list[np.ndarray] = []                 # live mode: (n, K) blocks
        self.hop_s = None

    # media mode ----------------------------------------------------------
    def start(self, now: float) -> None:
        """The media clock starts at wall time ``now`` (see :meth:`observe`)."""
        self._wall = float(now)

    def observe(self, media_t: float, duration: float = math.inf, loop: bool = False,
                now: float | None = None) -> None:
        """One drawn frame at media time ``media_t``. ``now``: its wall time, so that media
        time that went by while no frame was drawn (a slow first frame, a machine too busy
        to draw for a moment) counts as played, not as a seek: a step forward is a jump
        only when it outruns the wall time since the last frame by more than MAX_STEP_S."""
        m, last = float(media_t), self._last
        step = m - last
        allowed = MAX_STEP_S
        if now is not None:
            if self._wall is not None:
                allowed += max(0.0, float(now) - self._wall)
            self._wall = float(now)
        if 0.0 <= step <= allowed:
            self.segments[-1][1] += step
        elif loop and step < 0 and (duration - last) + m <= allowed:
            self.segments[-1][1] += max(0.0, duration - last)
            self.segments.append([0.0, m])
        elif step != 0.0:
            self.segments.append([m, 0.0])
        self._last = m

    @property
    def played(self) -> float:
        """Seconds of media played so far (the recorded duration in media mode)."""
        return float(sum(s[1] for s in self.segments))

    def media_times(self, times: np.ndarray) -> np.ndarray:
        """Session times (seconds of playing) -> media times, along the played stretches."""
        starts = np.array([s[0] for s in self.segments])
        lengths = np.array([s[1] for s in self.segments])
        ends = np.cumsum(lengths)
        i = np.searchsorted(ends, times, side="right")
        i = np.minimum(i, len(self.segments) - 1)
        offset = times - (ends[i] - lengths[i])
        return starts[i] + np.clip(offset, 0.0, lengths[i])

    # live mode -----------------------------------------------------------
    def add_frames(self, values, hop_s: float) -> None:
        v = np.asarray(values, np.float32)
        if v.size:
            self._frames.append(v.reshape(-1, len(self.names)).copy())
        self.hop_s = float(hop_s)

    # result --------------------------------------------------------------
    def track(self, media: WeightTrack | None = None) -> WeightTrack:
        """The recorded weights at :attr:`fps` (frame ``i`` at ``i / fps``)."""
        if media is not None:
            n = int(math.floor(self.played * self.fps + 1e-9)) + 1
            t = np.arange(n) / self.fps
            return WeightTrack(t, media.names, media.sample(self.media_times(t)))
        if not self._frames:
            return WeightTrack(np.zeros(1), self.names, np.zeros((1, len(self.names)), np.float32))
        v = np.concatenate(self._frames)
        raw = WeightTrack(np.arange(v.shape[0]) * (self.hop_s or 0.01), self.names, v)
        return raw.resample(self.fps)

    def save(self, path, media: WeightTrack | None = None) -> WeightTrack:
        """Write the recorded weights as CSV with the export header (:func:`export_columns`)."""
        from face3d.track import save_csv

        tr = export_columns(self.track(media))
        if self.leave_out & set(tr.names):
            keep = [j for j, n in enumerate(tr.names) if n not in self.leave_out]
            tr = WeightTrack(tr.times, tuple(tr.names[j] for j in keep), tr.values[:, keep])
        save_csv(tr, path)
        return tr


class Session:
    """Weights per frame for a media clock + track, or for a live source.

    ``names``: shape names of the weights returned by :meth:`update` (the track's or the
    live source's columns). ``samples``/``rate``: the sound, for the level meter.
    """

    def __init__(self, *, track: WeightTrack | None = None, clock=None, live=None,
                 recorder: Recorder | None = None, samples=None, rate: int | None = None, label: str = "",
                 now=time.monotonic):
        if (track is None) == (live is None):
            raise ValueError("give either track (with clock) or live")
        self.track = track
        self.clock = clock
        self.live = live
        self.names = tuple(track.names if track is not None else live.names)
        self.recorder = recorder
        self.samples = None if samples is None else np.asarray(samples, np.float32).reshape(-1)
        self.rate = rate
        self.label = label
        self.media_t = 0.0
        self.weights = np.zeros(len(self.names), np.float32)
        self.frames = 0
        self._now = now                 # wall clock for the recorder (a fake one in tests)

    @property
    def is_live(self) -> bool:
        return self.live is not None

    def start(self) -> None:
        (self.live or self.clock).start()
        if self.recorder is not None and self.live is None:
            self.recorder.start(self._now())

    def update(self) -> np.ndarray:
        """Weights for the frame about to be drawn, (K,) float32 in :attr:`names` order."""
        self.frames += 1
        if self.live is not None:
            new = self.live.drain()
            if self.recorder is not None and len(new):
                self.recorder.add_frames(new, self.live.hop_s)
            self.weights = np.asarray(self.live.weights(), np.float32)
            return self.weights
        self.clock.tick()               # the one call per frame that advances the clock
        m = float(self.clock.position())
        self.media_t = m
        if self.recorder is not None:
            self.recorder.observe(m, self.clock.duration, self.clock.loop, now=self._now())
        self.weights = self.track.at(m)
        return self.weights

    # controls (media mode; ignored live) -----------------------------------
    def toggle_pause(self) -> None:
        if self.clock is not None:
            self.clock.toggle()

    def seek_by(self, dt: float) -> None:
        if self.clock is not None:
            self.clock.seek_by(dt)

    @property
    def paused(self) -> bool:
        return bool(self.clock is not None and self.clock.paused)

    @property
    def duration(self) -> float:
        return float(self.clock.duration) if self.clock is not None else 0.0

    def level_db(self, window_s: float = 0.03) -> float:
        """Input level in dBFS: the microphone's, or the sound's around the media time."""
        if self.live is not None:
            return float(self.live.level_db)
        if self.samples is None or self.rate is None or self.paused or self.clock.ended:
            return -100.0
        c = int(self.media_t * self.rate)
        h = max(1, int(window_s * self.rate / 2))
        x = self.samples[max(0, c - h): c + h]
        if x.size == 0:
            return -100.0
        return float(10.0 * np.log10(float(np.mean(x.astype(np.float64) ** 2)) + 1e-10))

    def notices(self) -> list[str]:
        src = self.live if self.live is not None else self.clock
        return list(getattr(src, "notices", []))

    def save_record(self, path) -> WeightTrack | None:
        if self.recorder is None:
            return None
        return self.recorder.save(path, None if self.live is not None else self.track)

    def close(self) -> None:
        src = self.live if self.live is not None else self.clock
        try:
            if src is not None:
                src.close()
        finally:  # the live source's last frames go into the record even if closing failed
            if self.live is not None and self.recorder is not None:
                self.recorder.add_frames(self.live.drain(), self.live.hop_s)
