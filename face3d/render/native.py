"""A few GL calls made through ctypes, which lets other Python threads run meanwhile.

moderngl holds Python's GIL through every call, and on a CPU rasteriser (Mesa llvmpipe)
a draw call (vertex shading and binning) or a read that waits for the rasteriser's
threads takes milliseconds: the video encoder's thread could not run its Python glue
in that time. ``ctypes`` releases the GIL around a foreign call, so :class:`NativeGL`
makes the slow ones (``glDrawElements``, ``glFinish``) without it. The functions are those
of the current context (through libglvnd's dispatch, as moderngl's own calls are); where
none can be found, each falls back (no flush, no finish, moderngl's draw).
"""

from __future__ import annotations

import ctypes
import ctypes.util

GL_UNSIGNED_INT = 0x1405


def _library(keep_gil: bool = False):
    for name in ("OpenGL", "GL"):
        path = ctypes.util.find_library(name)
        if path:
            try:
                return ctypes.PyDLL(path) if keep_gil else ctypes.CDLL(path)
            except OSError:
                continue
    return None


class NativeGL:
    """glFlush, and glFinish and glDrawElements called without the GIL, of the current context."""

    def __init__(self):
        lib = _library()
        self.flush = self.finish = lambda: None
        self._draw = None
        if lib is None:
            return
        # glFlush returns at once: it keeps the GIL (handing it over and back costs more)
        for attr, name, source in (("flush", "glFlush", _library(keep_gil=True)), ("finish", "glFinish", lib)):
            fn = getattr(source, name, None)
            if fn is not None:
                fn.restype, fn.argtypes = None, []
                setattr(self, attr, fn)
        fn = getattr(lib, "glDrawElements", None)
        if fn is not None:
            fn.restype = None
            fn.argtypes = [ctypes.c_uint, ctypes.c_int, ctypes.c_uint, ctypes.c_void_p]
            self._draw = fn

    def draw(self, vao, mode: int) -> None:
        """Draw all of ``vao`` (a moderngl VertexArray with a 32-bit index buffer): moderngl
        binds its program and vertex array (drawing nothing), then the draw runs here."""
        if self._draw is None:
            vao.render(mode)
            return
        vao.render(mode, vertices=0)
        self._draw(mode, int(vao.vertices), GL_UNSIGNED_INT, None)
