"""Is there a display to open a window on? The one check ``view``, ``demo`` and the viewer use.

Light on purpose (no GL, no window library): ``face3d demo`` asks it before choosing
between the window and the PNG files.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import sys

from face3d.errors import NoDisplayError


def no_display_error(detail: str = "") -> NoDisplayError:
    """The one-line error for a missing or unreachable display; ``detail`` says which."""
    extra = f" ({detail})" if detail else ""
    return NoDisplayError(
        f"no display to open the viewer window on{extra}; render images without one with "
        "'face3d snapshot -o head.png' or 'face3d demo' (headless, EGL), or run under Xvfb "
        "(xvfb-run face3d view)"
    )


def unreachable(display: str | None = None) -> NoDisplayError:
    """The error for an X display that is named but does not answer."""
    name = os.environ.get("DISPLAY", "") if display is None else display
    return no_display_error(f'cannot connect to X display "{name}"')


def _libx11():
    lib = ctypes.util.find_library("X11")
    if not lib:
        return None
    try:
        return ctypes.CDLL(lib)
    except OSError:
        return None


def _x_answers(name: str) -> bool | None:
    """Whether the X server ``name`` accepts a connection (None: libX11 is not there to ask)."""
    x = _libx11()
    if x is None:
        return None
    x.XOpenDisplay.restype = ctypes.c_void_p
    x.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x.XCloseDisplay.argtypes = [ctypes.c_void_p]
    dpy = x.XOpenDisplay(name.encode())
    if not dpy:
        return False
    x.XCloseDisplay(dpy)
    return True


def require_display() -> None:
    """Raise :class:`NoDisplayError` naming the problem when no window can be opened here.

    On Linux: DISPLAY (or WAYLAND_DISPLAY) must be set, and an X display named by DISPLAY
    must accept a connection. Other systems always have a display.
    """
    if not display_configured():
        raise no_display_error("DISPLAY is not set")
    display = os.environ.get("DISPLAY")
    if sys.platform.startswith("linux") and display and _x_answers(display) is False:
        raise unreachable(display)


def display_configured() -> bool:
    """Whether this environment names a display at all (it may still not answer)."""
    if not sys.platform.startswith("linux"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


_IOErrorHandler = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p)


@contextlib.contextmanager
def on_display_lost(callback):
    """While inside, a broken connection to the X server (the server killed, e.g. by the
    Ctrl-C that ``xvfb-run`` passes on to it) calls ``callback()`` and then ends the process
    with the status it returns, instead of Xlib's own ``XIO: fatal IO error`` and exit(1).

    Xlib ends the process whenever its IO error handler returns, so ``callback`` is the last
    code that runs: it must save what must not be lost, without touching GL or the window.
    ``callback=None`` (or no libX11) installs nothing.
    """
    x = _libx11() if callback is not None else None
    if x is None:
        yield
        return

    def handler(_display):
        status = 1
        try:
            status = int(callback())
        except BaseException as exc:  # noqa: BLE001 - nothing may stop the exit below
            print(f"face3d: error while closing after the display was lost: {exc}", file=sys.stderr)
        finally:
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(Exception):
                    stream.flush()
            os._exit(status)
        return 0  # not reached

    c_handler = _IOErrorHandler(handler)
    x.XSetIOErrorHandler.restype = ctypes.c_void_p
    x.XSetIOErrorHandler.argtypes = [ctypes.c_void_p]
    previous = x.XSetIOErrorHandler(ctypes.cast(c_handler, ctypes.c_void_p))
    try:
        yield
    finally:
        x.XSetIOErrorHandler(previous)
        del c_handler
