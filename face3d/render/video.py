"""Frames of a talking head for a video: one image per row of a weight array.

:class:`FrameRenderer` draws a rig offscreen (EGL) with per-frame weights and yields the
frames as (H, W, 3) RGB or, on a transparent background, (H, W, 4) RGBA uint8 arrays,
top row first. To be fast on a CPU rasteriser it

* overlaps drawing and handing out: frame ``i`` is flushed to the rasteriser's threads,
  then frame ``i - 1`` (already read into one of a ring of buffers) is handed to the
  caller (the encoder's queue), and only then is frame ``i`` read back; the draw call and
  the wait for the rasteriser are made without the GIL (:mod:`face3d.render.native`), so
  the encoder's thread runs beside them;
* redraws only what changes (:mod:`face3d.render.boxes`): with head and camera still, a
  pixel can change between two frames only where a triangle that a shape moves covers
  it, before or after; when the head turns or the camera orbits, only where the head is
  or was. After one full frame, each frame clears and draws only that screen box (a
  scissor) and reads only it back; the rest of the picture stays as it was (the
  background), and a frame whose weights and pose did not change draws nothing. The
  result is the same image as a full redraw.

The weights are given as an array or any iterable of rows, read one frame at a time (the
caller samples its curves at ``i / fps``), so this module knows nothing of audio or analysis.
"""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass

import numpy as np

from face3d.render.boxes import head_hull, moved_by, moving_vertices, near_faces, screen_box, union

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

    def __init__(self, ctx, rig, options: FrameOptions, *, batch: int = 2):
        from face3d.render.camera import OrbitCamera
        from face3d.render.native import NativeGL
        from face3d.render.offscreen import Offscreen
        from face3d.render.renderer import BACKGROUND, HeadRenderer

        self.ctx, self.rig, self.opt = ctx, rig, options
        self.renderer = HeadRenderer(ctx, rig)
        self.camera = OrbitCamera.for_rig(rig, yaw=options.yaw, pitch=options.pitch)
        # frames are drawn ``batch`` at a time, each into its own target: the rasteriser's
        # threads draw one while the vertex stage (in this thread) works on the next
        self.targets = [Offscreen(ctx, tuple(options.size), options.samples) for _ in range(max(1, batch))]
        self.target = self.targets[0]
        self.components = 4 if options.transparent else 3
        if options.transparent:
            self.clear = (0.0, 0.0, 0.0, 0.0)
        else:
            bg = BACKGROUND if options.background is None else options.background
            self.clear = (*(float(c) for c in bg[:3]), 1.0)
        w, h = options.size
        self._ring = [np.empty(w * h * self.components, np.uint8) for _ in range(2 * len(self.targets))]
        self.gl = NativeGL()
        self._hull = head_hull(rig, self.renderer.eyes)
        self._moving = None
        aspect = self.target.aspect
        self._view_proj = (self.camera.view(aspect), self.camera.projection(aspect))  # at options.yaw
        self._near = None  # (vao, ibo) of the triangles that can show in a box
        self.drawn = 0  # pixels drawn, all frames together (the box redraw's saving shows here)

    # ------------------------------------------------------------ one frame
    def _yaw(self, i: int) -> float:
        if not self.opt.turntable:
            return self.opt.yaw
        return (self.opt.yaw + 360.0 * (i / self.opt.fps) / TURNTABLE_PERIOD) % 360.0

    def _draw(self, t, view, weights, viewport, vao=None) -> None:
        self.renderer.set_weights(weights)
        for fb in {t.fbo, t.resolve}:
            fb.scissor = viewport
        t.fbo.use()
        t.fbo.clear(*self.clear, depth=1.0)
        self.renderer.draw(view, self._view_proj[1], vao, native=self.gl)
        if t.resolve is not t.fbo:
            t.resolve.use()  # the scissor limits the resolve to the box too
            self.ctx.copy_framebuffer(t.resolve, t.fbo)

    def _view(self, yaw: float):
        if yaw == self.opt.yaw:
            return self._view_proj[0]
        self.camera.yaw = yaw
        return self.camera.view(self.target.aspect)

    def frames(self, weights, boxes: bool = False, poses=None, active=None):
        """Yield (H, W, C) uint8 frames, frame ``i`` drawn with ``weights[i]`` (an iterable of
        (K,) arrays, read one at a time: a generator streams). Each yielded array is the
        caller's to keep. With ``boxes``, yield ``(frame, rect)``: where it differs from the
        frame before, (x0, y0, x1, y1) with the top row 0, None for nowhere, "full" for
        anywhere. ``poses``: per frame, head and eye angles in degrees ((N, 5) in
        :data:`~face3d.render.pose.POSE_NAMES` order, or an iterable of (5,) rows) or None.
        ``active``: (K,) bool, the shapes that may be nonzero (None: those of ``weights`` if it
        is an array, else all); the others' triangles are not watched for change.

        After the first frame, only what can have changed is cleared, drawn and read back:
        with head and camera still, the box of the triangles the shapes move (at the old
        and the new weights); else the box of the whole head (:func:`head_hull`) where it
        was and where it is."""
        from face3d.render.pose import POSE_NAMES

        if isinstance(weights, np.ndarray) and weights.ndim == 2:
            active = np.any(weights != 0.0, axis=0)  # shapes that ever move in this video
        dirty = self.opt.dirty_box
        self._active = active
        self._moving = moving_vertices(self.rig, active) if dirty and not self.opt.turntable else None
        if isinstance(poses, np.ndarray) and not np.any(poses != 0.0):
            poses = None  # a head at rest all video long
        rows = zip(weights, itertools.repeat(None) if poses is None else poses)
        w, h = self.opt.size
        full = (0, 0, w, h)
        canvas = np.zeros((h, w, self.components), np.uint8)
        pending: deque = deque()  # frames read back, not yet handed out
        batch: list = []  # (target, viewport) of frames drawn, not yet read back
        count = itertools.count()

        def collect():
            buf, (x, y, bw, bh) = pending.popleft()
            rect = None
            if bw and bh:
                block = buf[:bw * bh * self.components].reshape(bh, bw, self.components)[::-1]
                canvas[h - y - bh:h - y, x:x + bw] = block
                if self.components == 4:
                    unpremultiply(canvas[h - y - bh:h - y, x:x + bw])
                rect = "full" if (bw, bh) == (w, h) else (x, h - y - bh, x + bw, h - y)
            return (canvas.copy(), rect) if boxes else canvas.copy()

        def read_batch():
            while pending:
                yield collect()  # the caller takes the frames before while the rasteriser draws
            if any(vp[2] and vp[3] for _, vp in batch):
                self.gl.finish()  # wait for the rasteriser without holding the GIL
            for target, vp in batch:
                buf = self._ring[next(count) % len(self._ring)]
                if vp[2] and vp[3]:
                    n = vp[2] * vp[3] * self.components
                    target.resolve.read_into(memoryview(buf)[:n], viewport=vp, components=self.components, alignment=1)
                    self.drawn += vp[2] * vp[3]
                pending.append((buf, vp))
            batch.clear()

        prev = None  # the previous frame's (weights, pose, yaw, still, head box, fine box)
        for i, (wv, pose) in enumerate(rows):
            wv = np.clip(np.asarray(wv, np.float32).reshape(-1), 0.0, 1.0)
            pose = np.zeros(len(POSE_NAMES)) if pose is None else np.asarray(pose, np.float64).reshape(-1)
            if poses is not None:
                self.renderer.set_pose(dict(zip(POSE_NAMES, pose.tolist())))
            yaw = self._yaw(i)
            view = self._view(yaw)
            still = not self.opt.turntable and not np.any(pose != 0.0)
            head = screen_box(self._hull, view, self._view_proj[1], self.opt.size, model=self.renderer.model)
            fine = self._box(wv) if still and self._moving is not None else None
            viewport, vao = full, None
            if prev is None or not dirty:
                pass
            elif (np.array_equal(wv, prev[0]) and np.array_equal(pose, prev[1]) and yaw == prev[2]):
                viewport = (0, 0, 0, 0)  # nothing changes: the picture stays as it is
            elif still and prev[3] and fine is not None and prev[5] is not None:
                viewport = union(fine, prev[5])  # only the shapes moved
                vao = self._near_vao()
            elif head is not None and prev[4] is not None:
                viewport = union(head, prev[4])  # the head moved: where it was and where it is
            prev = (wv, pose, yaw, still, head, fine)
            target = self.targets[len(batch)]
            if viewport[2] and viewport[3]:
                # The target holds an older frame, but all of the box is cleared and drawn
                # and only the box is read: outside it the picture is the frame before's.
                self._draw(target, view, wv, viewport, None if viewport == full else vao)
                self.gl.flush()  # the rasteriser's threads start on it now
            batch.append((target, viewport))
            if len(batch) == len(self.targets):
                yield from read_batch()
        yield from read_batch()
        while pending:
            yield collect()

    def _near_vao(self):
        """The vertex array of the triangles that can show in a box of moving triangles
        (None: draw them all), made the first time it is needed."""
        if self._near is None:
            near = near_faces(self.rig, *self._view_proj, self.opt.size, self._moving, moved_by(self.rig, self._active))
            self._near = () if near is None or near.mean() >= 0.9 else \
                self.renderer.faces_array(np.asarray(self.rig.faces)[near])
        return self._near[0] if self._near else None

    def _box(self, weights):
        """The screen box of the triangles a shape can move, at these weights (None: off screen)."""
        p0, d = self._moving
        k = min(len(weights), d.shape[0])
        pts = p0 + np.tensordot(weights[:k].astype(np.float64), d[:k], axes=1)
        return screen_box(pts, *self._view_proj, self.opt.size)

    def release(self) -> None:
        for obj in self._near or ():
            obj.release()
        for t in self.targets:
            for fb in {t.fbo, t.resolve}:
                fb.scissor = None
            t.release()
        self.renderer.release()


def frame_count(duration: float, fps: float) -> int:
    """Frames of a video that lasts ``duration`` seconds (within half a frame), at least one."""
    return max(1, int(round(float(duration) * float(fps))))


def frame_times(n: int, fps: float) -> np.ndarray:
    """Frame ``i`` shows the head at ``i / fps``."""
    return np.arange(int(n), dtype=np.float64) / float(fps)
