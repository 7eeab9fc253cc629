"""Media clocks: where in the sound (or curve) playback is, in seconds.

Every clock has the same small interface, shared with
:class:`face3d.audio.player.AudioPlayer` (whose clock follows the sound actually heard):

``start()``, ``tick()``, ``position() -> float``, ``paused``, ``pause()``, ``resume()``,
``toggle()``, ``seek(t)``, ``seek_by(dt)``, ``ended``, ``loop``, ``duration``, ``close()``,
``notices``.

``tick()`` is called once per drawn frame (by :class:`face3d.viewer.session.Session`) and is
the only call that advances a clock's internal state; ``position()`` and ``ended`` are pure
reads, so how often they are read changes nothing.

:class:`OwnClock` is the viewer's own clock on :func:`time.monotonic` (or an injected time
function, for tests): used for a curve CSV without audio and when no sound output device is
available ("silent" playback).
"""

from __future__ import annotations

import time


class OwnClock:
    """A media clock on a monotonic time source.

    ``duration``: length of the media in seconds. ``loop``: wrap around at the end,
    otherwise stop at ``duration`` (``ended`` becomes true). ``now``: the time function.
    """

    silent = True

    def __init__(self, duration: float, loop: bool = False, now=time.monotonic):
        self.duration = max(0.0, float(duration))
        self.loop = bool(loop)
        self._now = now
        self._base = 0.0            # media position at _t0
        self._t0 = None             # time at which _base was valid while playing
        self.paused = False
        self.started = False
        self.notices: list[str] = []

    def start(self) -> "OwnClock":
        self.started = True
        self._t0 = self._now()
        return self

    def _raw(self) -> float:
        if not self.started or self.paused or self._t0 is None:
            return self._base
        return self._base + (self._now() - self._t0)

    def _wrap(self, t: float) -> float:
        if self.duration <= 0:
            return 0.0
        if self.loop:
            return t % self.duration
        return min(max(t, 0.0), self.duration)

    def tick(self) -> None:
        """Once per drawn frame; this clock is a pure function of time, so nothing to do."""

    def position(self) -> float:
        return self._wrap(self._raw())

    @property
    def ended(self) -> bool:
        return (not self.loop) and self.duration > 0 and self._raw() >= self.duration

    def pause(self) -> None:
        if not self.paused:
            self._base = self.position()
            self.paused = True

    def resume(self) -> None:
        if self.paused or self.ended:
            if self.ended:
                self._base = 0.0
            self._base = self._wrap(self._base) if self._base < self.duration else 0.0
            self.paused = False
            self._t0 = self._now()

    def toggle(self) -> None:
        if self.paused or self.ended:
            self.resume()
        else:
            self.pause()

    def seek(self, t: float) -> None:
        t = float(t)
        if self.loop and self.duration > 0:
            t = t % self.duration
        else:
            t = min(max(t, 0.0), self.duration)
        self._base = t
        self._t0 = self._now()

    def seek_by(self, dt: float) -> None:
        self.seek(self.position() + float(dt))

    def close(self) -> None:
        pass
