"""Helpers for the viewer tests: a private Xvfb, X11 window pixels via libX11, xdotool, a test head."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent


def headless_viewer(rig, session, opts):
    """(app, window): the real ViewerApp in a headless EGL window with ``session`` started;
    skips the test where no headless EGL window can be made."""
    from face3d.viewer.app import ViewerApp, create_window

    try:
        window = create_window(opts)
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"no headless EGL window: {exc}")
    app = ViewerApp(ctx=window.ctx, wnd=window, rig=rig, session=session, opts=opts)
    session.start()
    return app, window


def viewer_head(tmp_dir: Path) -> str | None:
    """The bundled default head if present, else (None) an asymmetric stand-in saved in tmp_dir."""
    from face3d.assets import default_head_path

    if default_head_path().is_file():
        return None
    path = tmp_dir / "stand_in_head.npz"
    if not path.exists():
        sys.path.insert(0, str(Path(__file__).parent))
        from conftest import sphere_rig
        from face3d.mesh.rig import Rig, vertex_normals

        r = sphere_rig(4, rows=48, cols=64)
        pos = r.positions.copy()
        # a nose and an ear, so that turning it shows in the image
        for centre, size, k in (((0.0, 0.0, 1.0), 0.35, 0.45), ((1.0, 0.1, 0.0), 0.3, 0.25)):
            d = np.linalg.norm(pos - np.array(centre), axis=1)
            pos += (k * np.exp(-(d / size) ** 2))[:, None] * pos
        names = ("jawOpen", "mouthWide", "mouthPucker", "mouthClose")
        rig = Rig(pos, vertex_normals(pos, r.faces), r.faces, names, r.deltas, r.normal_deltas)
        rig.save(path)
    return str(path)


def head_args(tmp_dir: Path) -> list[str]:
    h = viewer_head(tmp_dir)
    return [] if h is None else ["--head", h]


# ----------------------------------------------------------------------------- X11
class _XImage(ctypes.Structure):
    _fields_ = [
        ("width", ctypes.c_int), ("height", ctypes.c_int), ("xoffset", ctypes.c_int),
        ("format", ctypes.c_int), ("data", ctypes.c_void_p), ("byte_order", ctypes.c_int),
        ("bitmap_unit", ctypes.c_int), ("bitmap_bit_order", ctypes.c_int), ("bitmap_pad", ctypes.c_int),
        ("depth", ctypes.c_int), ("bytes_per_line", ctypes.c_int), ("bits_per_pixel", ctypes.c_int),
        ("red_mask", ctypes.c_ulong), ("green_mask", ctypes.c_ulong), ("blue_mask", ctypes.c_ulong),
    ]


_X_ERRORS: list[int] = []
# Xlib's default error handler calls exit(1), which would end the whole pytest run without a
# word: record the error code instead, and let grab() fail the one test.
_XErrorHandler = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)


@_XErrorHandler
def _on_x_error(_display, event):
    # XErrorEvent: int type; Display *display; XID resourceid; unsigned long serial; uchar error_code
    code = ctypes.cast(event, ctypes.POINTER(ctypes.c_ubyte))[ctypes.sizeof(ctypes.c_void_p) * 3 + 8]
    _X_ERRORS.append(int(code))
    return 0


_XLIB = None


def _xlib():
    global _XLIB
    if _XLIB is not None:
        return _XLIB
    name = ctypes.util.find_library("X11")
    if not name:
        pytest.skip("libX11 not found")
    x = ctypes.CDLL(name)
    x.XSetErrorHandler.restype = ctypes.c_void_p
    x.XSetErrorHandler.argtypes = [_XErrorHandler]
    x.XSetErrorHandler(_on_x_error)
    x.XSync.argtypes = [ctypes.c_void_p, ctypes.c_int]
    _XLIB = x
    x.XOpenDisplay.restype = ctypes.c_void_p
    x.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x.XGetImage.restype = ctypes.POINTER(_XImage)
    x.XGetImage.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_int, ctypes.c_uint,
                            ctypes.c_uint, ctypes.c_ulong, ctypes.c_int]
    x.XCloseDisplay.argtypes = [ctypes.c_void_p]
    x.XDefaultRootWindow.restype = ctypes.c_ulong
    x.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
    x.XFree.argtypes = [ctypes.c_void_p]
    return x


def grab(display: str, window: int, size: tuple[int, int]) -> np.ndarray:
    """The pixels X holds for ``window`` (as shown on screen), (H, W, 3) uint8 RGB."""
    x = _xlib()
    dpy = x.XOpenDisplay(display.encode())
    assert dpy, f"cannot open X display {display}"
    try:
        _X_ERRORS.clear()
        img = x.XGetImage(dpy, window, 0, 0, size[0], size[1], 0xFFFFFFFF, 2)  # ZPixmap
        x.XSync(dpy, 0)
        assert img and not _X_ERRORS, f"XGetImage of window {window:#x} failed (X error {_X_ERRORS})"
        im = img.contents
        assert im.bits_per_pixel == 32, im.bits_per_pixel
        buf = ctypes.string_at(im.data, im.bytes_per_line * im.height)
        arr = np.frombuffer(buf, np.uint8).reshape(im.height, im.bytes_per_line // 4, 4)[:, : im.width]
        rgb = arr[:, :, [2, 1, 0]].copy()  # BGRX little-endian
        x.XFree(im.data)
        x.XFree(img)
        return rgb
    finally:
        x.XCloseDisplay(dpy)


def x_ready(display: str) -> bool:
    x = _xlib()
    dpy = x.XOpenDisplay(display.encode())
    if dpy:
        x.XCloseDisplay(dpy)
        return True
    return False


def xvfb_display(size="1280x800x24"):
    """For a fixture: ``yield from xvfb_display(size)`` yields the display and stops Xvfb after."""
    disp, proc = start_xvfb(size)
    try:
        yield disp
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def start_xvfb(size="1280x800x24"):
    """Start Xvfb on a display it picks itself (-displayfd: no race with other X servers);
    returns (display, process). ``-noreset``: by default an X server resets when its last
    client disconnects (each xdotool call is one), and a client that connects during the
    reset is dropped before it is answered: a viewer started then saw "cannot connect"."""
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed (apt-get install xvfb)")
    r, w = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(w), "-screen", "0", size, "-nolisten", "tcp", "-noreset"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, pass_fds=(w,))
    os.close(w)
    text = b""
    t0 = time.monotonic()
    try:
        while not text.endswith(b"\n") and time.monotonic() - t0 < 20:
            chunk = os.read(r, 64)
            if not chunk:
                break
            text += chunk
    finally:
        os.close(r)
    if not text.strip().isdigit():
        proc.kill()
        proc.wait()
        pytest.fail("Xvfb did not start")
    disp = f":{int(text)}"
    for _ in range(100):
        if x_ready(disp):
            return disp, proc
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    pytest.fail(f"Xvfb on {disp} does not accept connections")


def xdo(display: str, *args, timeout=20, check=True) -> str:
    r = subprocess.run(["xdotool", *map(str, args)], env=dict(os.environ, DISPLAY=display),
                       capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError(f"xdotool {' '.join(map(str, args))} failed: {r.stderr.strip()}")
    return r.stdout.strip()


def find_window(display: str, name: str, proc=None, timeout=40.0, output=None) -> int:
    """The id of the visible window whose title contains ``name``; fails at once if ``proc``
    exits first (with its stderr, or what ``output()`` returns)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        out = xdo(display, "search", "--onlyvisible", "--name", name, check=False)
        if out:
            return int(out.split()[-1])
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"viewer exited early ({proc.returncode}): {output() if output else proc.stderr.read()}")
        time.sleep(0.1)
    raise AssertionError(f"no window named {name!r} after {timeout} s")


def geometry(display: str, wid: int) -> tuple[int, int, int, int]:
    out = xdo(display, "getwindowgeometry", "--shell", wid)
    vals = dict(line.split("=") for line in out.splitlines() if "=" in line)
    return int(vals["X"]), int(vals["Y"]), int(vals["WIDTH"]), int(vals["HEIGHT"])


def viewer_env(display: str | None, extra: dict | None = None) -> dict:
    env = dict(os.environ)
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    if display:
        env["DISPLAY"] = display
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    if extra:
        env.update(extra)
    return env


def popen_view(args, env) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "face3d", "view", *map(str, args)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


class RunningViewer:
    """A ``face3d view`` process with its window on ``display`` (see :func:`running_viewer`).

    Its stderr is read as it comes (a thread), so a test can wait for a line, e.g. the
    ``--stats`` line "first frame drawn" that says the session has started.
    """

    def __init__(self, display: str, proc: subprocess.Popen, wid: int | None = None):
        import threading

        self.display, self.proc, self.wid = display, proc, wid
        self._lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stderr:
            self._lines.append(line)

    @property
    def stderr(self) -> str:
        return "".join(self._lines)

    def wait_for(self, text: str, timeout: float = 60.0) -> None:
        """Wait until the viewer has printed ``text`` on stderr."""
        t0 = time.monotonic()
        while text not in self.stderr:
            if self.proc.poll() is not None:
                self._reader.join(timeout=5)
                if text in self.stderr:
                    return
                raise AssertionError(f"viewer exited ({self.proc.returncode}) before {text!r}: {self.stderr}")
            if time.monotonic() - t0 > timeout:
                raise AssertionError(f"no {text!r} from the viewer after {timeout} s: {self.stderr}")
            time.sleep(0.05)

    def key(self, *keys) -> None:
        """Focus the window and press ``keys`` in turn (xdotool key names: q, Escape, space ...)."""
        xdo(self.display, "windowfocus", "--sync", self.wid)
        for k in keys:
            xdo(self.display, "key", k)

    def grab(self, size=None) -> np.ndarray:
        if size is None:
            size = geometry(self.display, self.wid)[2:]
        return grab(self.display, self.wid, size)

    def close_button(self) -> None:
        close_window(self.display, self.wid)

    def finish(self, expect: int | None = 0, timeout=30) -> str:
        """Wait for the viewer to exit; check its status (unless ``expect`` is None) and that
        it printed no traceback; return its stderr."""
        rc = self.proc.wait(timeout=timeout)
        self._reader.join(timeout=10)
        err = self.stderr
        if expect is not None:
            assert rc == expect, (rc, err)
        assert "Traceback" not in err, err
        return err


@contextlib.contextmanager
def running_viewer(display: str, args, title: str = "face3d view", env: dict | None = None,
                   command: str = "view", **popen):
    """Start ``face3d view ARGS`` (or another ``command`` that opens the viewer) on ``display``,
    wait until its window (found by ``title``) is shown, and yield a :class:`RunningViewer`;
    a viewer still running at the end is killed."""
    proc = subprocess.Popen([sys.executable, "-m", "face3d", command, *map(str, args)], cwd=ROOT,
                            env=viewer_env(display, env), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, **popen)
    v = RunningViewer(display, proc)
    try:
        v.wid = find_window(display, title, proc, output=lambda: (v._reader.join(timeout=5), v.stderr)[1])
        yield v
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        v._reader.join(timeout=10)
        proc.stderr.close()


def mask(img: np.ndarray, background) -> np.ndarray:
    bg = np.array([round(c * 255) for c in background], np.int16)
    return np.abs(img.astype(np.int16) - bg).sum(axis=2) > 24


class _ClientMessage(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int), ("serial", ctypes.c_ulong), ("send_event", ctypes.c_int),
        ("display", ctypes.c_void_p), ("window", ctypes.c_ulong), ("message_type", ctypes.c_ulong),
        ("format", ctypes.c_int), ("l", ctypes.c_long * 5),
    ]


class _XEvent(ctypes.Union):
    _fields_ = [("xclient", _ClientMessage), ("pad", ctypes.c_long * 24)]


def close_window(display: str, window: int) -> None:
    """Ask ``window`` to close the way a window manager's close button does (WM_DELETE_WINDOW)."""
    x = _xlib()
    x.XInternAtom.restype = ctypes.c_ulong
    x.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    x.XSendEvent.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_long, ctypes.POINTER(_XEvent)]
    x.XFlush.argtypes = [ctypes.c_void_p]
    dpy = x.XOpenDisplay(display.encode())
    assert dpy
    try:
        ev = _XEvent()
        ev.xclient.type = 33  # ClientMessage
        ev.xclient.window = window
        ev.xclient.message_type = x.XInternAtom(dpy, b"WM_PROTOCOLS", 0)
        ev.xclient.format = 32
        ev.xclient.l[0] = x.XInternAtom(dpy, b"WM_DELETE_WINDOW", 0)
        ev.xclient.l[1] = 0  # CurrentTime
        assert x.XSendEvent(dpy, window, 0, 0, ctypes.byref(ev))
        x.XFlush(dpy)
    finally:
        x.XCloseDisplay(dpy)


def best_lag(a, b, max_lag=6) -> tuple[int, float]:
    """The shift of ``b`` against ``a`` (frames) with the highest correlation, and that correlation."""
    n = min(len(a), len(b)) - 2 * max_lag
    best = (0, -2.0)
    for lag in range(-max_lag, max_lag + 1):
        x = np.asarray(a[max_lag: max_lag + n], float)
        y = np.asarray(b[max_lag + lag: max_lag + lag + n], float)
        c = float(np.corrcoef(x, y)[0, 1])
        if c > best[1]:
            best = (lag, c)
    return best
