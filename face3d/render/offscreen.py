"""Offscreen rendering through a standalone EGL context: snapshots and tests.

This is the one place in face3d that creates a GL context of its own.
"""

from __future__ import annotations

import numpy as np

from face3d.errors import DeviceError
from face3d.render.renderer import BACKGROUND


def create_context():
    """A standalone OpenGL 3.3+ context through EGL: no display needed."""
    import moderngl

    errors = []
    for kwargs in ({"backend": "egl"}, {}):
        try:
            return moderngl.create_standalone_context(require=330, **kwargs)
        except Exception as exc:  # noqa: BLE001 - report every backend's failure in one line
            errors.append(f"{kwargs.get('backend', 'default')}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
    raise DeviceError(
        "cannot create an OpenGL 3.3 context (" + "; ".join(errors) + "); "
        "install Mesa's EGL driver (Debian/Ubuntu: apt-get install libegl1 libgl1-mesa-dri)"
    )


class Offscreen:
    """A multisampled colour+depth framebuffer with a resolve target to read pixels from."""

    def __init__(self, ctx, size: tuple[int, int], samples: int = 4):
        self.ctx = ctx
        self.size = size
        samples = min(samples, ctx.max_samples) if samples > 1 else 0
        self.samples = samples
        self.fbo = ctx.framebuffer(
            color_attachments=[ctx.renderbuffer(size, 4, samples=samples)],
            depth_attachment=ctx.depth_renderbuffer(size, samples=samples),
        )
        self.resolve = (
            ctx.framebuffer(color_attachments=[ctx.renderbuffer(size, 4)]) if samples else self.fbo
        )

    @property
    def aspect(self) -> float:
        return self.size[0] / self.size[1]

    def render(self, draw, background=BACKGROUND) -> np.ndarray:
        """Clear, call ``draw()``, and return the image as (H, W, 3) uint8, top row first."""
        self.fbo.use()
        self.fbo.clear(*background, 1.0, depth=1.0)
        draw()
        if self.resolve is not self.fbo:
            self.ctx.copy_framebuffer(self.resolve, self.fbo)
        data = self.resolve.read(components=3, alignment=1)
        img = np.frombuffer(data, np.uint8).reshape(self.size[1], self.size[0], 3)
        return img[::-1].copy()

    def release(self) -> None:
        # Never delete a bound framebuffer: hand drawing back to the default one first.
        (self.ctx.screen or self.ctx.detect_framebuffer(0)).use()
        for fb in {self.fbo, self.resolve}:
            for att in (*fb.color_attachments, fb.depth_attachment):
                if att is not None:
                    att.release()
            fb.release()


def render_snapshot(rig, weights=None, *, yaw=0.0, pitch=0.0, size=(800, 800), samples=4, ctx=None, pose=None):
    """Render ``rig`` with ``weights`` to an (H, W, 3) uint8 image, framed from the neutral mesh.
    ``pose``: head and eye angles in degrees ({name: degrees}, see :mod:`face3d.render.pose`)."""
    from face3d.render.camera import OrbitCamera
    from face3d.render.renderer import HeadRenderer

    own = ctx is None
    ctx = ctx or create_context()
    try:
        renderer = HeadRenderer(ctx, rig)
        if weights is not None:
            renderer.set_weights(weights)
        if pose:
            renderer.set_pose(pose)
        camera = OrbitCamera.for_rig(rig, yaw=yaw, pitch=pitch)
        target = Offscreen(ctx, size, samples)
        img = target.render(lambda: renderer.draw_camera(camera, target.aspect))
        target.release()
        renderer.release()
        return img
    finally:
        if own:
            ctx.release()


def save_png(img: np.ndarray, path) -> None:
    """Write an (H, W, 3) uint8 image as PNG, atomically."""
    from PIL import Image

    from face3d.fileio import atomic_path

    with atomic_path(path, suffix=".png") as tmp:
        Image.fromarray(img).save(tmp, format="PNG")
