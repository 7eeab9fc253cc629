"""The viewer window: a thin moderngl-window ``WindowConfig`` and the main loop.

All decisions (weights for the clock, pause, seek, loop, recording) live in
:mod:`face3d.viewer.session`; camera handling in :mod:`face3d.viewer.controls`; the
overlay in :mod:`face3d.viewer.osd`. This module wires them to a window and runs the loop.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from dataclasses import dataclass

import moderngl_window as mglw
import numpy as np

from face3d.errors import DeviceError
from face3d.render.renderer import BACKGROUND
from face3d.viewer.display import no_display_error, on_display_lost, require_display, unreachable

__all__ = ["ViewerApp", "ViewerOptions", "create_window", "no_display_error", "read_frame", "run_viewer"]

SEEK_S = 5.0


@dataclass
class ViewerOptions:
    title: str = "face3d"
    size: tuple = (1280, 720)
    vsync: bool = True
    window: str = "pyglet"          # or "headless" (EGL, no display: tests)
    osd: bool = True
    max_frames: int | None = None   # quit after this many frames (tests, bench)
    max_seconds: float | None = None
    stats: bool = False             # print first-frame and frame-rate lines on stderr
    record: str | None = None
    screenshot: str | None = None   # PNG of the last drawn frame, saved on close
    background: tuple | None = None  # clear colour (sRGB 0..1); None: the renderer's


def create_window(opts: ViewerOptions):
    """A moderngl-window window (pyglet on a display, or headless EGL) with its context active."""
    if opts.window != "headless":
        require_display()
    try:
        cls = mglw.get_local_window_cls(opts.window)
        kwargs = dict(
            title=opts.title, size=tuple(opts.size), fullscreen=False, resizable=True, visible=True,
            gl_version=(3, 3), aspect_ratio=None, vsync=opts.vsync, samples=0, cursor=True,
        )
        if opts.window == "headless":
            kwargs["backend"] = "egl"
        window = cls(**kwargs)
    except DeviceError:
        raise
    except Exception as exc:  # noqa: BLE001 - pyglet's NoSuchDisplayException, GLX failures ...
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if opts.window == "headless":
            raise DeviceError(f"cannot create a headless EGL window ({text}); install Mesa's EGL driver") from None
        if "cannot connect" in text.lower():  # pyglet names the display "None" when it came from DISPLAY
            raise unreachable() from None
        raise no_display_error(text) from None
    mglw.activate_context(window=window)
    return window


def missing_note(missing) -> str:
    """The overlay's line for curves the head has no shape for ('' when none): "no blink or
    brow shapes on this head", or the names."""
    kinds = [k for k, prefix in (("blink", "eyeBlink"), ("brow", "brow")) if any(n.startswith(prefix) for n in missing)]
    if kinds and all(n.startswith(("eyeBlink", "brow")) for n in missing):
        return f"no {' or '.join(kinds)} shapes on this head"
    return f"no {', '.join(missing)} shapes on this head" if missing else ""


class ViewerApp(mglw.WindowConfig):
    """Event handlers only; the state lives in the session, the controls and the OSD."""

    gl_version = (3, 3)
    title = "face3d"
    resizable = True
    aspect_ratio = None
    samples = 0
    clear_color = None
    log_level = 30

    def __init__(self, *, rig, session, opts: ViewerOptions, log=print, **kwargs):
        super().__init__(**kwargs)
        from face3d.render.camera import OrbitCamera
        from face3d.render.renderer import HeadRenderer
        from face3d.viewer.controls import CameraControl

        self.rig = rig
        self.session = session
        self.opts = opts
        self.log = log
        self.renderer = HeadRenderer(self.ctx, rig)
        self.camera = OrbitCamera.for_rig(rig)
        self.controls = CameraControl(self.camera)
        # session columns -> rig shapes (columns the head lacks are ignored)
        # (the mouth curves a head's own visemes replace are left out while they are present)
        from face3d.mesh.rig.visemes import shape_columns

        self._cols = shape_columns(rig, session.names)
        self._vec = np.zeros(max(rig.n_shapes, 1), np.float32)
        # pose columns (degrees) -> the renderer's head and eye angles
        from face3d.render.pose import POSE_NAMES

        self._pose_cols = [(i, n) for i, n in enumerate(session.names) if n in POSE_NAMES]
        self._pose_names = set(POSE_NAMES)
        from face3d.viewer.osd import OSD

        self.osd = OSD(self.wnd)
        self.osd.visible = bool(opts.osd)
        self._fps = 0.0
        self._fps_frames = 0
        self._fps_t = time.perf_counter()
        self._logged: set = set()
        self.quit_requested = False

    # ---------------------------------------------------------------- drawing
    def on_render(self, time_s: float, frame_time: float) -> None:
        s = self.session
        w = s.update()
        self._vec[:] = 0.0
        for i, j in self._cols:
            self._vec[j] = w[i]
        self.renderer.set_weights(self._vec[: self.rig.n_shapes])
        self.renderer.set_pose(self._pose(w))
        width, height = self.wnd.buffer_size
        self.ctx.viewport = (0, 0, width, height)
        self.ctx.clear(*(self.opts.background or BACKGROUND), 1.0, depth=1.0)
        self.renderer.draw_camera(self.camera, width / max(height, 1))
        self._count_fps()
        notices = s.notices()
        for line in notices:
            if line not in self._logged:
                self._logged.add(line)
                self.log(line)
        if self.osd is not None and self.osd.visible:
            self.osd.draw(frame_time, self.osd_info(notices))

    def _pose(self, w) -> dict:
        """Head and eye angles of this frame; the eyes also turn toward the viewer as the
        camera orbits (within their range)."""
        from face3d.render.pose import viewer_gaze

        pose = {n: float(w[i]) for i, n in self._pose_cols}
        pose["eyeYaw"], pose["eyePitch"] = viewer_gaze(
            self.camera.yaw, self.camera.pitch, pose.get("eyeYaw", 0.0), pose.get("eyePitch", 0.0))
        return pose

    def _count_fps(self) -> None:
        self._fps_frames += 1
        now = time.perf_counter()
        if now - self._fps_t >= 0.5:
            self._fps = self._fps_frames / (now - self._fps_t)
            self._fps_frames, self._fps_t = 0, now

    def osd_info(self, notices) -> dict:
        s = self.session
        if s.is_live:
            state = "live"
            delay = s.live.delay_text()
        else:
            clock = s.clock
            if clock.ended:
                state = "ended (space plays again)"
            else:
                state = "paused" if s.paused else "playing"
            state += f"  {s.media_t:5.2f} / {s.duration:.2f} s" + ("  loop" if clock.loop else "")
            if getattr(clock, "silent", False):
                state += "  (no sound)"      # playing on its own clock: muted or no output device
            delay = ""
        # the meter's words when no sound is heard: paused or ended, not "silent"
        meter = None if s.is_live else "ended" if s.clock.ended else "paused" if s.paused else None
        # bars for the shapes this head has: a blink or brow curve with no shape moves nothing
        shown = [(n, v) for n, v in zip(s.names, s.weights.tolist()) if n not in self._pose_names]
        missing = [n for n, _ in shown if n not in self.rig.names]
        note = missing_note(missing)
        rec = ""
        if s.recorder is not None:
            rec = f"recording to {self.opts.record}"
        return {
            "source": s.label,
            "state": state,
            "fps": self._fps,
            "level_db": s.level_db(),
            "meter": meter,
            # weights as bars; the head and eye angles (degrees) are not weights
            "weights": [(n, v) for n, v in shown if n in self.rig.names],
            "note": note,
            "delay": delay,
            "record": rec,
            "notices": notices[-4:],
            "keys": "H hide  R view  Q quit" if s.is_live else "H hide  space pause  <- -> seek  R view  Q quit",
        }

    # ---------------------------------------------------------------- events
    def on_resize(self, width: int, height: int) -> None:
        if self.osd is not None:
            self.osd.resize(width, height)

    def on_key_event(self, key, action, modifiers) -> None:
        keys = self.wnd.keys
        if action != keys.ACTION_PRESS:
            return
        bindings = ((keys.Q, "quit"), (keys.ESCAPE, "quit"), (keys.SPACE, "pause"), (keys.LEFT, "back"),
                    (keys.RIGHT, "forward"), (keys.R, "reset"), (keys.H, "osd"))
        for k, name in bindings:
            if k != "undefined" and key == k:
                self.action(name)
                return

    def action(self, name: str) -> None:
        """One user command: quit, pause (toggle), back, forward (seek 5 s), reset (view), osd (toggle)."""
        if name == "quit":
            self.quit_requested = True
            self.wnd.close()
        elif name == "pause":
            self.session.toggle_pause()
        elif name == "back":
            self.session.seek_by(-SEEK_S)
        elif name == "forward":
            self.session.seek_by(SEEK_S)
        elif name == "reset":
            self.controls.reset()
        elif name == "osd":
            self.osd.visible = not self.osd.visible
        else:
            raise ValueError(f"unknown viewer action {name!r}")

    def on_mouse_drag_event(self, x, y, dx, dy) -> None:
        states = self.wnd.mouse_states
        if states.left:
            self.controls.orbit_drag(dx, dy)
        elif states.right or states.middle:
            width, height = self.wnd.size
            self.controls.pan_drag(dx, dy, height, width / max(height, 1))

    def on_mouse_scroll_event(self, x_offset, y_offset) -> None:
        self.controls.scroll(y_offset)

    def release(self) -> None:
        if self.osd is not None:
            self.osd.close()
        self.renderer.release()


def read_frame(window) -> np.ndarray:
    """The window's current back buffer as (H, W, 3) uint8, top row first."""
    fbo = window.fbo if window.headless else window.ctx.screen
    w, h = fbo.size if window.headless else window.buffer_size
    data = fbo.read(viewport=(0, 0, w, h), components=3, alignment=1)
    return np.frombuffer(data, np.uint8).reshape(h, w, 3)[::-1].copy()


class _Outputs:
    """``--record`` and ``--screenshot``, saved once, by whichever way the viewer ends: the
    normal way out (``finish`` from the loop's ``finally``) or the display's loss (``finish``
    from the X IO error handler, with no GL call left to make)."""

    def __init__(self, session, opts: ViewerOptions, log):
        self.session, self.opts, self.log = session, opts, log
        self.shot = None          # the last drawn frame, when --screenshot asks for it
        self.done = False

    def finish(self) -> None:
        if self.done:
            return
        self.done = True
        session, opts = self.session, self.opts
        try:
            session.close()
            if session.is_live and session.recorder is not None:
                rest = session.live.drain()
                if len(rest):
                    session.recorder.add_frames(rest, session.live.hop_s)
        finally:
            try:
                if opts.record:
                    track = session.save_record(opts.record)
                    if track is not None:
                        self.log(f"recorded {len(track)} frames ({track.duration:.2f} s) to {opts.record}")
            finally:
                if opts.screenshot:
                    if self.shot is None:
                        self.log(f"no frame was drawn; {opts.screenshot} not written")
                    else:
                        from face3d.render.offscreen import save_png

                        save_png(self.shot, opts.screenshot)
                        self.log(f"saved the last frame to {opts.screenshot}")


def run_viewer(rig, session, opts: ViewerOptions, log=None) -> int:
    """Open the window, run until closed (Q, Escape, the close button, Ctrl-C, SIGTERM,
    ``max_frames``, or the display going away), and save ``--record`` and ``--screenshot``
    whatever the route. Returns the exit status."""
    log = log or (lambda line: print(f"face3d view: {line}", file=sys.stderr, flush=True))
    t_start = time.perf_counter()
    window = create_window(opts)
    interrupted = []
    outputs = _Outputs(session, opts, log)

    def _on_signal(signum, _frame):
        interrupted.append(signum)
        window.is_closing = True
        if len(interrupted) > 1:  # a second Ctrl-C: stop waiting for anything
            signal.signal(signal.SIGINT, signal.default_int_handler)

    def _status() -> int:
        return 130 if interrupted and interrupted[0] == signal.SIGINT else 0

    def _display_lost() -> int:
        # Xlib ends the process when this returns: keep what the session made, then go.
        log(f"lost the connection to the display {os.environ.get('DISPLAY', '')!r}; closing")
        outputs.finish()
        return _status() or 1

    old = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            old[sig] = signal.signal(sig, _on_signal)
        except ValueError:  # not the main thread (tests)
            pass
    app = None
    frames = 0
    t_first = None
    with on_display_lost(None if window.headless else _display_lost):
        try:
            app = ViewerApp(ctx=window.ctx, wnd=window, rig=rig, session=session, opts=opts, log=log)
            window.swap_buffers()
            window.set_default_viewport()
            session.start()
            t0 = time.perf_counter()
            while not window.is_closing:
                if not window.headless and not window.visible:
                    time.sleep(1 / 30)       # minimised: no need to draw at full speed
                window.use()
                now = time.perf_counter()
                window.render(now - t0, 0.0 if not frames else now - t_last)
                t_last = now
                if window.is_closing:
                    break
                if opts.screenshot:  # every frame: any frame may turn out to be the last one
                    outputs.shot = read_frame(window)
                window.swap_buffers()
                frames += 1
                if t_first is None:
                    t_first = time.perf_counter()
                    if opts.stats:
                        log(f"first frame drawn {t_first - t_start:.3f} s after the viewer started")
                if (opts.max_frames is not None and frames >= opts.max_frames) or (
                        opts.max_seconds is not None and time.perf_counter() - t0 >= opts.max_seconds):
                    break
        finally:
            for sig, handler in old.items():
                signal.signal(sig, handler)
            try:
                outputs.finish()
            finally:
                if opts.stats and t_first is not None:
                    dt = time.perf_counter() - t_first
                    log(f"{frames} frames in {dt:.2f} s: {(frames - 1) / dt if dt > 0 else 0:.1f} frames/s")
                if app is not None:
                    app.release()
                try:
                    window.destroy()
                except Exception:  # noqa: BLE001
                    pass
    return _status()
