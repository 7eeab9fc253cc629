"""Orbit camera and projection with pyrr, shared by snapshots and the viewer.

The head frame is +Y up, +Z forward (the face looks at +Z). ``yaw`` turns the camera
around the head's vertical axis (positive: the camera moves toward the head's left, +X),
``pitch`` raises it (positive: looking down at the head).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from pyrr import Matrix44


def bounding_sphere(positions: np.ndarray) -> tuple[np.ndarray, float]:
    """Centre of the bounding box and the radius that encloses every vertex."""
    lo, hi = positions.min(axis=0), positions.max(axis=0)
    centre = (lo + hi) / 2.0
    radius = float(np.linalg.norm(positions - centre, axis=1).max())
    return centre.astype(np.float64), max(radius, 1e-6)


@dataclass
class OrbitCamera:
    target: np.ndarray = field(default_factory=lambda: np.zeros(3))
    radius: float = 1.0          # radius of the sphere to frame
    yaw: float = 0.0             # degrees
    pitch: float = 0.0           # degrees, clamped to +-89
    zoom: float = 1.0            # >1 moves closer
    fov: float = 30.0            # vertical field of view, degrees
    margin: float = 1.08         # extra room around the framed sphere
    pan: np.ndarray = field(default_factory=lambda: np.zeros(2))  # in units of radius, view x/y

    @classmethod
    def framing(cls, positions: np.ndarray, **kwargs) -> "OrbitCamera":
        """A camera that frames ``positions`` (use the neutral mesh, so framing never shifts)."""
        centre, radius = bounding_sphere(np.asarray(positions, np.float64))
        return cls(target=centre, radius=radius, **kwargs)

    @classmethod
    def for_rig(cls, rig, **kwargs) -> "OrbitCamera":
        """Frame a rig's head from its neutral mesh; a full-body avatar's loader records the
        head's sphere in ``rig.info['frame_center']`` / ``['frame_radius']``, used here."""
        centre, radius = rig.info.get("frame_center"), rig.info.get("frame_radius")
        if rig.info.get("camera_frame") == "body":
            return cls.framing(rig.positions, **kwargs)
        if centre is not None and radius:
            return cls(target=np.asarray(centre, np.float64), radius=float(radius), **kwargs)
        return cls.framing(rig.positions, **kwargs)

    def distance(self, aspect: float) -> float:
        half_v = math.radians(self.fov) / 2.0
        half_h = math.atan(math.tan(half_v) * aspect)
        half = min(half_v, half_h)
        return self.radius * self.margin / math.sin(half) / max(self.zoom, 1e-3)

    def eye(self, aspect: float) -> np.ndarray:
        yaw, pitch = math.radians(self.yaw), math.radians(max(-89.0, min(89.0, self.pitch)))
        d = self.distance(aspect)
        offset = np.array(
            [math.sin(yaw) * math.cos(pitch), math.sin(pitch), math.cos(yaw) * math.cos(pitch)]
        )
        return self._look_target() + d * offset

    def _basis(self) -> tuple[np.ndarray, np.ndarray]:
        yaw = math.radians(self.yaw)
        pitch = math.radians(max(-89.0, min(89.0, self.pitch)))
        right = np.array([math.cos(yaw), 0.0, -math.sin(yaw)])
        fwd = -np.array([math.sin(yaw) * math.cos(pitch), math.sin(pitch), math.cos(yaw) * math.cos(pitch)])
        up = np.cross(right, fwd)
        return right, up

    def _look_target(self) -> np.ndarray:
        right, up = self._basis()
        return np.asarray(self.target, float) + self.radius * (self.pan[0] * right + self.pan[1] * up)

    def view(self, aspect: float) -> Matrix44:
        return Matrix44.look_at(self.eye(aspect), self._look_target(), self._basis()[1])

    def projection(self, aspect: float) -> Matrix44:
        d = self.distance(aspect)
        near = max(d - self.radius * 3.0, d * 0.01)
        far = d + self.radius * 3.0
        return Matrix44.perspective_projection(self.fov, aspect, near, far)

    def orbit(self, dx_deg: float, dy_deg: float) -> None:
        self.yaw = (self.yaw + dx_deg) % 360.0
        self.pitch = max(-89.0, min(89.0, self.pitch + dy_deg))

    def reset(self) -> None:
        self.yaw = self.pitch = 0.0
        self.zoom = 1.0
        self.pan = np.zeros(2)
