"""Frames of a talking head for a video: one image per row of a weight array.

:class:`FrameRenderer` draws a rig offscreen (EGL) with per-frame weights and yields the
frames as (H, W, 3) RGB or, on a transparent background, (H, W, 4) RGBA uint8 arrays,
top row first. To be fast on a CPU rasteriser it

* overlaps drawing and handing out: frame ``i`` is flushed to the rasteriser's threads,
  then frame ``i - 1`` (already read into one of a ring of pixel buffers) is handed to the
  caller (the encoder's queue), and only then is frame ``i`` read back;
* redraws only what changes: with a still camera, a pixel can change between two frames
  only where a triangle that a shape moves covers it, before or after. After one full
  frame, each frame clears and draws only the screen box of those triangles at the old
  and the new weights (a scissor) and reads only that box back; the rest of the picture
  stays as it was, and a frame whose weights did not change draws nothing. The result is
  the same image as a full redraw.

The weights are given as an array (the caller samples its curves at ``i / fps``), so this
module knows nothing of audio or analysis.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

#: Seconds for one turn of ``turntable``.
TURNTABLE_PERIOD = 12.0


@dataclass
class FrameOptions:
    size: tuple[int, int] = (1280, 720)
    fps: float = 30.0
    yaw: float = 0.0
    pitch: float = 0.0
    turntable: bool = False
    background: tuple | None = None  # RGB in [0, 1]; None: the renderer's; "transparent": alpha 0
    samples: int = 0                 # MSAA samples (0: none; 4 costs about twice the drawing)
    dirty_box: bool = True           # redraw only the box that can change (still camera)

    @property
    def transparent(self) -> bool:
        return isinstance(self.background, str) and self.background == "transparent"


def _moved_by(rig, active=None) -> np.ndarray:
    """(V,) bool: vertices that one of the ``active`` shapes ((K,) bool; None: all) moves."""
    if rig.n_shapes == 0:
        return np.zeros(rig.n_vertices, bool)
    k = np.ones(rig.n_shapes, bool) if active is None else np.asarray(active, bool)[:rig.n_shapes]
    d, nd = np.asarray(rig.deltas)[k], np.asarray(rig.normal_deltas)[k]
    if not k.any():
        return np.zeros(rig.n_vertices, bool)
    return (np.abs(d).max(axis=(0, 2)) > 1e-7) | (np.abs(nd).max(axis=(0, 2)) > 1e-7)


def _moving_vertices(rig, active=None):
    """(neutral positions (M, 3), deltas (K, M, 3)) of every vertex of a triangle that touches a
    vertex an active shape moves: only those triangles' pixels can change; None when nothing
    moves. Shapes that stay at 0 all video long (``active`` False) move nothing."""
    moved = _moved_by(rig, active)
    if not moved.any():
        return None
    faces = np.asarray(rig.faces)
    verts = np.zeros(rig.n_vertices, bool)
    verts[faces[moved[faces].any(axis=1)].ravel()] = True
    verts |= moved
    d = np.asarray(rig.deltas, np.float64)[:, verts]
    if active is not None:
        d = d * np.asarray(active, bool)[:rig.n_shapes, None, None]
    return np.asarray(rig.positions, np.float64)[verts], d


def _near_faces(rig, view, proj, size, moving, moved) -> np.ndarray | None:
    """(F,) bool: the triangles that can show inside any frame's box: those a shape moves,
    and the still ones whose picture overlaps the box of every place the moving ones can
    reach (weights anywhere in [0, 1]). None if that box is not wholly in front."""
    p0, d = moving
    lo = (p0 + np.minimum(d, 0.0).sum(axis=0)).min(axis=0)
    hi = (p0 + np.maximum(d, 0.0).sum(axis=0)).max(axis=0)
    corners = np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])])
    reach = screen_box(corners, view, proj, size)
    if reach is None:
        return None
    faces = np.asarray(rig.faces)
    pts = np.concatenate([np.asarray(rig.positions, np.float64), np.ones((rig.n_vertices, 1))], axis=1)
    clip = pts @ (np.asarray(view, np.float64) @ np.asarray(proj, np.float64))
    w = clip[:, 3]
    behind = w <= 1e-9
    ndc = clip[:, :2] / np.where(behind, 1.0, w)[:, None]
    px = (ndc[:, 0] + 1) / 2 * size[0]
    py = (ndc[:, 1] + 1) / 2 * size[1]
    fx, fy = px[faces], py[faces]
    x0, y0, bw, bh = reach
    overlap = ((fx.max(axis=1) >= x0 - 2) & (fx.min(axis=1) <= x0 + bw + 2)
               & (fy.max(axis=1) >= y0 - 2) & (fy.min(axis=1) <= y0 + bh + 2))
    return overlap | behind[faces].any(axis=1) | moved[faces].any(axis=1)


def screen_box(points, view, proj, size, margin: int = 3):
    """GL viewport (x, y, w, h) covering ``points`` (N, 3) on screen, or None if one is not in front."""
    pts = np.concatenate([points, np.ones((points.shape[0], 1))], axis=1)
    # pyrr matrices are row-vector style: clip = p @ view @ proj
    clip = pts @ (np.asarray(view, np.float64) @ np.asarray(proj, np.float64))
    w = clip[:, 3]
    if np.any(w <= 1e-9):
        return None
    ndc = clip[:, :2] / w[:, None]
    W, H = size
    x0 = max(math.floor((ndc[:, 0].min() + 1) / 2 * W) - margin, 0)
    x1 = min(math.ceil((ndc[:, 0].max() + 1) / 2 * W) + margin, W)
    y0 = max(math.floor((ndc[:, 1].min() + 1) / 2 * H) - margin, 0)
    y1 = min(math.ceil((ndc[:, 1].max() + 1) / 2 * H) + margin, H)
    if x1 <= x0 or y1 <= y0:
        return (0, 0, 0, 0)
    return (x0, y0, x1 - x0, y1 - y0)


def union(a, b):
    """The smallest viewport holding viewports ``a`` and ``b`` (empty ones count for nothing)."""
    if not (a[2] and a[3]):
        return b
    if not (b[2] and b[3]):
        return a
    x0, y0 = min(a[0], b[0]), min(a[1], b[1])
    x1, y1 = max(a[0] + a[2], b[0] + b[2]), max(a[1] + a[3], b[1] + b[3])
    return (x0, y0, x1 - x0, y1 - y0)


def unpremultiply(rgba: np.ndarray) -> None:
    """In place: colours blended with a (0, 0, 0, 0) clear at the edges -> straight alpha."""
    a = rgba[..., 3]
    edge = (a > 0) & (a < 255)
    if edge.any():
        px = rgba[edge].astype(np.float32)
        px[:, :3] = np.clip(px[:, :3] * 255.0 / px[:, 3:4] + 0.5, 0, 255)
        rgba[edge] = px.astype(np.uint8)


class FrameRenderer:
    """Draw ``rig`` for a video; ``frames(weights)`` yields one image per row of ``weights``."""

    def __init__(self, ctx, rig, options: FrameOptions, *, ring: int = 2):
        from face3d.render.camera import OrbitCamera
        from face3d.render.offscreen import Offscreen
        from face3d.render.renderer import BACKGROUND, HeadRenderer

        self.ctx, self.rig, self.opt = ctx, rig, options
        self.renderer = HeadRenderer(ctx, rig)
        self.camera = OrbitCamera.for_rig(rig, yaw=options.yaw, pitch=options.pitch)
        self.target = Offscreen(ctx, tuple(options.size), options.samples)
        self.components = 4 if options.transparent else 3
        if options.transparent:
            self.clear = (0.0, 0.0, 0.0, 0.0)
        else:
            bg = BACKGROUND if options.background is None else options.background
            self.clear = (*(float(c) for c in bg[:3]), 1.0)
        w, h = options.size
        self._pbos = [ctx.buffer(reserve=w * h * self.components) for _ in range(max(1, ring))]
        self._moving = _moving_vertices(rig) if options.dirty_box and not options.turntable else None
        self._view_proj = None
        self._near = None  # (vao, ibo) of the triangles that can show in a box
        self.drawn = 0  # pixels drawn, all frames together (the box redraw's saving shows here)

    # ------------------------------------------------------------ one frame
    def _yaw(self, i: int) -> float:
        if not self.opt.turntable:
            return self.opt.yaw
        return (self.opt.yaw + 360.0 * (i / self.opt.fps) / TURNTABLE_PERIOD) % 360.0

    def _draw(self, i: int, weights, viewport, vao=None) -> None:
        t = self.target
        self.camera.yaw = self._yaw(i)
        self.renderer.set_weights(weights)
        for fb in {t.fbo, t.resolve}:
            fb.scissor = viewport
        t.fbo.use()
        t.fbo.clear(*self.clear, depth=1.0)
        self.renderer.draw_camera(self.camera, t.aspect, vao)
        if t.resolve is not t.fbo:
            t.resolve.use()  # the scissor limits the resolve to the box too
            self.ctx.copy_framebuffer(t.resolve, t.fbo)

    def frames(self, weights, boxes: bool = False, poses=None):
        """Yield (H, W, C) uint8 frames, frame ``i`` drawn with ``weights[i]`` (an iterable of
        (K,) arrays). Each yielded array is the caller's to keep. With ``boxes``, yield
        ``(frame, rect)``: where it differs from the frame before, (x0, y0, x1, y1) with the
        top row 0, None for nowhere, "full" for anywhere. ``poses``: per frame, head and eye
        angles in degrees ((N, 5) in :data:`~face3d.render.pose.POSE_NAMES` order) or None; a
        head that turns moves everywhere, so frames are then drawn whole."""
        from face3d.render.pose import POSE_NAMES

        self._active = None
        if isinstance(weights, np.ndarray) and weights.ndim == 2 and self._moving is not None:
            self._active = np.any(weights != 0.0, axis=0)  # shapes that ever move in this video
            self._moving = _moving_vertices(self.rig, self._active)
        if poses is not None:
            poses = np.asarray(poses, np.float64)
            if np.any(poses != 0.0):
                self._moving = None  # the box redraw assumes the head at rest
        w, h = self.opt.size
        full = (0, 0, w, h)
        canvas = np.zeros((h, w, self.components), np.uint8)
        pending: deque = deque()  # frames read into a pixel buffer, not yet handed out
        ring = len(self._pbos)

        def collect():
            _i, pbo, (x, y, bw, bh) = pending.popleft()
            rect = None
            if bw and bh:
                data = np.frombuffer(pbo.read(size=bw * bh * self.components), np.uint8)
                block = data.reshape(bh, bw, self.components)[::-1]
                canvas[h - y - bh:h - y, x:x + bw] = block
                if self.components == 4:
                    unpremultiply(canvas[h - y - bh:h - y, x:x + bw])
                rect = "full" if (bw, bh) == (w, h) else (x, h - y - bh, x + bw, h - y)
            return (canvas.copy(), rect) if boxes else canvas.copy()

        full_frame = True
        previous = last = None  # the previous frame's weights and box
        flush = _gl_flush()
        for i, wv in enumerate(weights):
            wv = np.clip(np.asarray(wv, np.float32).reshape(-1), 0.0, 1.0)
            viewport = full
            if self._moving is not None and not full_frame:
                if previous is not None and np.array_equal(wv, previous):
                    viewport = (0, 0, 0, 0)  # nothing changes: the picture stays as it is
                else:
                    box = self._box(wv)
                    viewport = full if box is None or last is None else union(box, last)
                    last = box
            elif self._moving is not None:
                full_frame = False
                last = self._box(wv)
                near = _near_faces(self.rig, *self._view_proj, self.opt.size, self._moving,
                                   _moved_by(self.rig, self._active))
                if near is not None and near.mean() < 0.9:
                    self._near = self.renderer.faces_array(np.asarray(self.rig.faces)[near])
            previous = wv
            drawing = bool(viewport[2] and viewport[3])
            if poses is not None:
                self.renderer.set_pose(dict(zip(POSE_NAMES, poses[i].tolist())))
            if drawing:
                self._draw(i, wv, viewport, None if viewport == full or self._near is None else self._near[0])
                flush()  # the rasteriser starts on frame i ...
            while pending:
                yield collect()  # ... while the caller takes frame i - 1
            if drawing:
                self.target.resolve.read_into(self._pbos[i % ring], viewport=viewport,
                                              components=self.components, alignment=1)
                self.drawn += viewport[2] * viewport[3]
            pending.append((i, self._pbos[i % ring], viewport))
        while pending:
            yield collect()

    def _box(self, weights):
        """The screen box of the triangles a shape can move, at these weights (None: off screen)."""
        p0, d = self._moving
        k = min(len(weights), d.shape[0])
        pts = p0 + np.tensordot(weights[:k].astype(np.float64), d[:k], axes=1)
        if self._view_proj is None:  # the camera is still whenever boxes are used
            aspect = self.target.aspect
            self._view_proj = (self.camera.view(aspect), self.camera.projection(aspect))
        return screen_box(pts, *self._view_proj, self.opt.size)

    def release(self) -> None:
        for obj in self._near or ():
            obj.release()
        for fb in {self.target.fbo, self.target.resolve}:
            fb.scissor = None
        self.target.release()
        for pbo in self._pbos:
            pbo.release()
        self.renderer.release()


def _gl_flush():
    """glFlush of the current context (moderngl has none): hands queued drawing to the
    rasteriser's threads now instead of at the next read. A no-op where it cannot be found."""
    import ctypes
    import ctypes.util

    for name in ("OpenGL", "GL"):
        lib = ctypes.util.find_library(name)
        if lib:
            try:
                fn = ctypes.CDLL(lib).glFlush
            except (OSError, AttributeError):
                continue
            fn.restype, fn.argtypes = None, []
            return fn
    return lambda: None


def frame_count(duration: float, fps: float) -> int:
    """Frames of a video that lasts ``duration`` seconds (within half a frame), at least one."""
    return max(1, int(round(float(duration) * float(fps))))


def frame_times(n: int, fps: float) -> np.ndarray:
    """Frame ``i`` shows the head at ``i / fps``."""
    return np.arange(int(n), dtype=np.float64) / float(fps)
