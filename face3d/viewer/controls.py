"""Mouse and keyboard to camera: left-drag orbits, wheel zooms, right/middle-drag pans, R resets.

Pure (no window): the app forwards its events here, the tests call it directly.
"""

from __future__ import annotations

import math

ORBIT_DEG_PER_PIXEL = 0.4
ZOOM_STEP = 1.15
ZOOM_RANGE = (0.25, 10.0)


class CameraControl:
    def __init__(self, camera):
        self.camera = camera

    def orbit_drag(self, dx: float, dy: float) -> None:
        """Grab and turn: dragging right turns the face to the right, dragging down tips it toward you."""
        self.camera.orbit(-dx * ORBIT_DEG_PER_PIXEL, dy * ORBIT_DEG_PER_PIXEL)

    def pan_drag(self, dx: float, dy: float, height_px: int, aspect: float) -> None:
        """The head follows the mouse: one pixel of drag moves it one pixel on screen (at the target)."""
        cam = self.camera
        visible = 2.0 * cam.distance(aspect) * math.tan(math.radians(cam.fov) / 2.0)
        per_px = visible / max(1, height_px) / max(cam.radius, 1e-9)
        cam.pan = cam.pan + [-dx * per_px, dy * per_px]

    def scroll(self, steps: float) -> None:
        z = self.camera.zoom * (ZOOM_STEP ** float(steps))
        self.camera.zoom = min(max(z, ZOOM_RANGE[0]), ZOOM_RANGE[1])

    def reset(self) -> None:
        self.camera.reset()
