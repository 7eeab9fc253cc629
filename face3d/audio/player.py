"""Playing a sound file through the default output device, with a clock of what is heard.

:class:`AudioPlayer` preloads the whole sound as a float32 array; the PortAudio callback
only copies the next block out of it (or silence while paused), so nothing is decoded or
allocated on the audio thread. The clock (:meth:`AudioPlayer.position`) says which
sample is leaving the speaker *now*: the frames handed to the stream, minus the output
latency the stream reports, extrapolated between callbacks and smoothed so it never runs
backwards. The smoothing advances only in :meth:`AudioPlayer.tick`, called once per drawn
frame; :meth:`~AudioPlayer.position` and :attr:`~AudioPlayer.ended` are pure reads (the
lips' timing does not depend on how often the overlay, the meter or anything else reads
the clock). Because a pause, a seek or a loop takes effect in the callback, every block
keeps a note of which media position it started at, and the clock looks the heard frame
up in those notes: after a seek the lips keep following the old position until the new
sound actually reaches the speaker.

:func:`open_player` falls back to :class:`~face3d.audio.clock.OwnClock` (silent, on the
viewer's own clock) when no output device can be opened, with one notice saying so.

The clock interface is the one of :mod:`face3d.audio.clock`.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections import deque

import numpy as np

_BLOCK_NOTES = 512           # blocks remembered for the heard-position lookup


class AudioPlayer:
    """Play ``samples`` (float32 mono) at ``rate`` on ``device`` (None: the default output)."""

    silent = False

    def __init__(self, samples, rate: int, *, loop: bool = False, device=None, blocksize: int = 0,
                 latency="low", now=time.monotonic):
        self.samples = np.ascontiguousarray(samples, dtype=np.float32).reshape(-1)
        self.rate = int(rate)
        self.duration = self.samples.shape[0] / self.rate
        self.loop = bool(loop)
        self.device = device
        self.blocksize = int(blocksize)
        self._latency_req = latency
        self._now = now
        self.paused = False
        self.started = False
        self.notices: list[str] = []        # problems to show on screen (appended, never cleared)
        self.underflows = 0
        self.callback_errors = 0
        self._pos = 0                        # next media sample to write (callback thread)
        self._seek_to = None                 # pending seek (media sample), applied by the callback
        self._written = 0                    # frames handed to the stream so far (incl. silence)
        self._notes = deque(maxlen=_BLOCK_NOTES)   # (written_at_block_start, media_pos, playing)
        self._cb = (None, 0, 0)              # (monotonic time of last callback, written before it, frames)
        self._heard = None                   # smoothed heard frame index (main thread)
        self._heard_t = None
        self._lock = threading.Lock()
        self._finished_at = None             # written index at which a non-looping sound ended
        self.stream = None
        self.latency = 0.0
        self._fallback = None                # OwnClock after the stream died mid-way

    # ------------------------------------------------------------------ stream
    def open(self) -> "AudioPlayer":
        import sounddevice as sd

        from face3d.audio import quiet

        quiet.hold()          # PortAudio's own failure lines stay off the terminal until close()
        try:
            self.stream = sd.OutputStream(
                samplerate=self.rate, channels=1, dtype="float32", device=self.device,
                blocksize=self.blocksize, latency=self._latency_req, callback=self._callback,
            )
        except BaseException:
            quiet.release()
            raise
        lat = self.stream.latency
        self.latency = float(lat[1] if isinstance(lat, (tuple, list)) else lat)
        return self

    def start(self) -> "AudioPlayer":
        if self.stream is None:
            self.open()
        self.started = True
        self.stream.start()
        return self

    def close(self) -> None:
        s, self.stream = self.stream, None
        if s is not None:
            try:
                s.abort()
            except Exception:  # noqa: BLE001 - closing a broken stream must not raise
                pass
            try:
                s.close()
            except Exception:  # noqa: BLE001
                pass
            from face3d.audio import quiet

            quiet.release()

    def _note(self, problem: str) -> None:
        if problem not in self.notices:
            self.notices.append(problem)

    def _callback(self, outdata, frames, time_info, status):  # PortAudio thread
        try:
            if status and status.output_underflow:
                self.underflows += 1
            out = outdata[:, 0]
            with self._lock:
                w = self._written
                seek, self._seek_to = self._seek_to, None
                if seek is not None:
                    self._pos = seek
                    self._finished_at = None
            pos = self._pos
            n = self.samples.shape[0]
            notes = []
            if self.paused or (pos >= n and not self.loop):
                out[:] = 0.0
                notes.append((w, min(pos, n), False))
                if pos >= n and self._finished_at is None:
                    self._finished_at = w
            else:
                done = 0
                while done < frames:
                    if pos >= n:
                        if not self.loop:
                            out[done:] = 0.0
                            notes.append((w + done, n, False))
                            if self._finished_at is None:
                                self._finished_at = w + done
                            break
                        pos = 0
                    k = min(frames - done, n - pos)
                    out[done:done + k] = self.samples[pos:pos + k]
                    notes.append((w + done, pos, True))
                    pos += k
                    done += k
            with self._lock:
                self._pos = pos
                self._notes.extend(notes)
                self._written = w + frames
                self._cb = (self._now(), w, frames)
        except Exception as exc:  # noqa: BLE001 - never let the audio thread die silently
            outdata.fill(0)
            self.callback_errors += 1
            self._note(f"audio callback failed: {type(exc).__name__}: {exc}")

    # ------------------------------------------------------------------ clock
    def _estimate(self):
        """(raw heard-frame estimate at ``now`` or None before the first callback, frames written, now).
        Call with the lock held."""
        t_cb, w_cb, _frames = self._cb
        now = self._now()
        if t_cb is None:
            return None, self._written, now
        est = w_cb + (now - t_cb - self.latency) * self.rate
        return min(est, self._written), self._written, now

    def _predict(self, est, written, now):
        """The smoothed estimate carried forward to ``now`` (lock held); None before the first tick."""
        if self._heard is None:
            return None
        pred = min(self._heard + (now - self._heard_t) * self.rate, written)
        return max(pred, self._heard)

    def tick(self) -> None:
        """Main thread, once per drawn frame: notice a stream that died, then move the
        smoothed heard-frame estimate 0.2 of the way to the raw one (or jump to it when
        they are more than 0.1 s apart). The only call that changes the clock's state."""
        self.check()
        if self._fallback is not None:
            self._fallback.tick()
            return
        with self._lock:
            est, written, now = self._estimate()
            if est is None:
                return
            pred = self._predict(est, written, now)
            if pred is None or abs(est - pred) > 0.1 * self.rate:
                heard = est
            else:
                heard = max(pred + 0.2 * (est - pred), self._heard)
            self._heard, self._heard_t = heard, now

    def heard_frame(self) -> float:
        """Index (in frames handed to the stream) of the frame being heard now. A pure read:
        the estimate of the last :meth:`tick` carried forward at the playback rate (the raw
        estimate before the first tick, or when they differ by more than 0.1 s)."""
        with self._lock:
            est, written, now = self._estimate()
            if est is None:
                return -self.latency * self.rate
            pred = self._predict(est, written, now)
        if pred is None or abs(est - pred) > 0.1 * self.rate:
            return est
        return pred

    def check(self) -> None:
        """Notice a stream that died (device unplugged, server gone) and carry on silently
        on an own clock from the position last heard (called by :meth:`tick`)."""
        if self._fallback is not None or self.stream is None or not self.started:
            return
        try:
            active = self.stream.active
        except Exception:  # noqa: BLE001
            active = False
        if not active:
            from face3d.audio.clock import OwnClock

            pos = self.position()
            clock = OwnClock(self.duration, loop=self.loop, now=self._now)
            clock.seek(pos)
            clock.paused = self.paused
            clock.start()
            self._fallback = clock
            self._note("sound output stopped (device error); continuing silently on face3d's own clock")

    def position(self) -> float:
        """Media time (seconds) of the sound leaving the output device now."""
        if self._fallback is not None:
            return self._fallback.position()
        if not self.started:
            with self._lock:
                return (self._pos if self._seek_to is None else self._seek_to) / self.rate
        h = self.heard_frame()
        with self._lock:
            notes = list(self._notes)
        if not notes:
            return self._pos / self.rate
        if h < notes[0][0]:
            return notes[0][1] / self.rate
        i = bisect.bisect_right([nt[0] for nt in notes], h) - 1
        w0, p0, playing = notes[i]
        p = p0 + (h - w0) if playing else p0
        return min(max(p, 0.0), self.samples.shape[0]) / self.rate

    @property
    def ended(self) -> bool:
        if self._fallback is not None:
            return self._fallback.ended
        if self.loop or self._finished_at is None:
            return False
        return self.heard_frame() >= self._finished_at

    # ------------------------------------------------------------------ control (main thread)
    def pause(self) -> None:
        self.paused = True
        if self._fallback is not None:
            self._fallback.pause()

    def resume(self) -> None:
        if self._fallback is not None:
            self.paused = False
            return self._fallback.resume()
        ended = self.ended
        with self._lock:
            if ended or (self._pos >= self.samples.shape[0] and not self.loop and self._seek_to is None):
                self._seek_to = 0
        self.paused = False

    def toggle(self) -> None:
        if self._fallback is not None:
            self._fallback.toggle()
            self.paused = self._fallback.paused
            return
        if self.paused or self.ended:
            self.resume()
        else:
            self.pause()

    def seek(self, t: float) -> None:
        if self._fallback is not None:
            return self._fallback.seek(t)
        n = self.samples.shape[0]
        s = int(round(float(t) * self.rate))
        s = s % n if self.loop and n else min(max(s, 0), n)
        with self._lock:
            self._seek_to = s

    def seek_by(self, dt: float) -> None:
        self.seek(self.position() + float(dt))


def missing_output(sd) -> str | None:
    """Why the default output cannot play, in words ("no output device found"), or None when
    there is one. PortAudio says "Error querying device -1" for a missing default device."""
    try:
        sd.query_devices(kind="output")
    except Exception:  # noqa: BLE001 - PortAudioError or ValueError: no default output
        return "no output device found"
    return None


def output_error(exc) -> str:
    """A PortAudio failure to open an output stream, in words (never "device -1")."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return "no output device found" if "device -1" in text.lower() else text


def open_player(samples, rate: int, *, loop: bool = False, device=None, log=None):
    """An :class:`AudioPlayer` on ``device`` (None: the default output), opened but not started.

    Without a usable output device: an :class:`~face3d.audio.clock.OwnClock` (silent) with
    one notice saying so; ``log`` (a callable) gets that line once.
    """
    from face3d.audio.clock import OwnClock

    samples = np.ascontiguousarray(samples, dtype=np.float32).reshape(-1)
    reason = None
    try:
        import sounddevice as sd
    except OSError as exc:  # PortAudio library missing
        sd = None
        reason = f"PortAudio is not available ({exc})"
    if sd is not None and device is None:
        reason = missing_output(sd)
    if sd is not None and reason is None:
        try:
            return AudioPlayer(samples, rate, loop=loop, device=device, blocksize=int(rate) // 100).open()
        except Exception as exc:  # noqa: BLE001 - any PortAudio failure: try the device's own rate
            first = output_error(exc)
            try:
                info = sd.query_devices(device, kind="output")
                dev_rate = int(round(info["default_samplerate"]))
                if dev_rate and dev_rate != int(rate):
                    from face3d.audio.files import resample

                    return AudioPlayer(resample(samples, rate, dev_rate), dev_rate, loop=loop, device=device,
                                       blocksize=dev_rate // 100).open()
            except Exception as exc2:  # noqa: BLE001
                first = first if "device" in first.lower() else (str(exc2).splitlines()[0] or first)
            reason = first
    clock = OwnClock(samples.shape[0] / float(rate), loop=loop)
    msg = f"no sound output ({reason}); playing silently on face3d's own clock"
    clock.notices.append(msg)
    if log is not None:
        log(msg)
    return clock
