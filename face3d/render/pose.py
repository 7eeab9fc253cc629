"""Head and eye pose: plain angles in degrees -> rotation matrices (numpy; no audio, no analysis).

Conventions (the head frame: +Y up, +Z forward, +X the head's left):

* ``headPitch`` positive lifts the chin, ``headYaw`` positive turns the face toward the
  head's left (+X), ``headRoll`` positive tilts the head toward its right shoulder; the
  whole head turns about its neck pivot, ``R = Ry(yaw) Rx(-pitch) Rz(roll)``;
* ``eyeYaw`` positive looks toward the head's left, ``eyePitch`` positive looks up; each
  eyeball turns about its own centre, inside the head's rotation.

:func:`neck_pivot` and :func:`eye_groups` read a rig's ``info`` (``neck_pivot``; ``eyes``:
centre and vertex range of each eyeball), estimating the pivot when the head has none.
"""

from __future__ import annotations

import math

import numpy as np

#: The pose columns a weight track may carry (degrees).
POSE_NAMES = ("eyeYaw", "eyePitch", "headPitch", "headYaw", "headRoll")
#: How far the eyes turn (degrees), e.g. to follow the viewer.
EYE_YAW_RANGE = 30.0
EYE_PITCH_RANGE = 20.0


def rx(deg: float) -> np.ndarray:
    a = math.radians(deg)
    c, s = math.cos(a), math.sin(a)
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]], np.float64)


def ry(deg: float) -> np.ndarray:
    a = math.radians(deg)
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]], np.float64)


def rz(deg: float) -> np.ndarray:
    a = math.radians(deg)
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]], np.float64)


def head_rotation(pitch: float = 0.0, yaw: float = 0.0, roll: float = 0.0) -> np.ndarray:
    """3x3 rotation (column vectors) of the head for the pose angles in degrees."""
    return ry(yaw) @ rx(-pitch) @ rz(roll)


def eye_rotation(yaw: float = 0.0, pitch: float = 0.0) -> np.ndarray:
    """3x3 rotation (column vectors) of an eyeball looking ``yaw``/``pitch`` degrees off forward."""
    return ry(yaw) @ rx(-pitch)


def model_matrix(rotation: np.ndarray, pivot) -> np.ndarray:
    """4x4 model matrix in pyrr's row-vector layout (``p @ M``) turning about ``pivot``."""
    m = np.eye(4)
    c = np.asarray(pivot, np.float64)
    m[:3, :3] = rotation
    m[:3, 3] = c - rotation @ c
    return m.T.astype(np.float32)


def neck_pivot(rig) -> np.ndarray:
    """The point the head turns about: ``rig.info['neck_pivot']``, or an estimate below the
    middle of the head (a quarter of its height up from the bottom, a little behind centre)."""
    p = (rig.info or {}).get("neck_pivot")
    if p is not None:
        return np.asarray(p, np.float64)
    centre, radius = (rig.info or {}).get("frame_center"), (rig.info or {}).get("frame_radius")
    if centre is not None and radius:
        return np.asarray(centre, np.float64) + np.array([0.0, -0.6, -0.15]) * float(radius)
    pos = np.asarray(rig.positions, np.float64)
    lo, hi = pos.min(axis=0), pos.max(axis=0)
    size = hi - lo
    return np.array([(lo[0] + hi[0]) / 2, lo[1] + 0.25 * size[1], (lo[2] + hi[2]) / 2 - 0.1 * size[2]])


def eye_groups(rig) -> list:
    """[(centre (3,), vertex indices)] of the eyeballs the rig knows (at most two)."""
    out = []
    for e in ((rig.info or {}).get("eyes") or [])[:2]:
        a, b = e["range"]
        out.append((np.asarray(e["center"], np.float64), np.arange(int(a), int(b))))
    return out


def apply_pose(rig, positions, pose: dict) -> np.ndarray:
    """Numpy reference of the shader's pose: eyeballs turned about their centres, then the
    whole head about the neck pivot. ``positions``: (V, 3) (e.g. from ``Rig.apply``)."""
    p = np.asarray(positions, np.float64).copy()
    er = eye_rotation(pose.get("eyeYaw", 0.0), pose.get("eyePitch", 0.0))
    for c, idx in eye_groups(rig):
        p[idx] = (p[idx] - c) @ er.T + c
    r = head_rotation(pose.get("headPitch", 0.0), pose.get("headYaw", 0.0), pose.get("headRoll", 0.0))
    c = neck_pivot(rig)
    return (p - c) @ r.T + c


def viewer_gaze(camera_yaw: float, camera_pitch: float, eye_yaw: float = 0.0,
                eye_pitch: float = 0.0) -> tuple[float, float]:
    """Eye angles that look at an orbiting camera (``OrbitCamera.yaw``/``pitch``, degrees)
    on top of the track's own gaze (which already makes up for the head's turns); clamped
    to the eyes' range."""
    cy = (float(camera_yaw) + 180.0) % 360.0 - 180.0
    yaw = cy + eye_yaw
    pitch = float(camera_pitch) + eye_pitch
    return (max(-EYE_YAW_RANGE, min(EYE_YAW_RANGE, yaw)), max(-EYE_PITCH_RANGE, min(EYE_PITCH_RANGE, pitch)))
