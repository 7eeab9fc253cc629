"""Shape synthesis: jawOpen, mouthWide, mouthPucker and mouthClose from a head's landmarks.

jawOpen turns the lower face about the jaw pivot, by an angle that falls off smoothly
above the line from the lip line to the pivot, below the chin (neck) and behind the pivot;
the upper face stays. mouthWide stretches the lips sideways, mouthPucker pushes them
forward and in, mouthClose presses them together. All work on a normalised head (+Y up,
+Z forward) with the landmarks of :mod:`face3d.mesh.landmarks`.
"""

from __future__ import annotations

import numpy as np

#: jawOpen at weight 1 turns the jaw by this much.
JAW_ANGLE_DEG = 13.0


def _smoothstep(e0, e1, x):
    t = np.clip((x - e0) / np.where(np.abs(e1 - e0) < 1e-12, 1e-12, e1 - e0), 0.0, 1.0)
    return t * t * (3 - 2 * t)


def below_lip_line(p: np.ndarray, marks: dict) -> np.ndarray:
    """Signed distance below the line from the lip line to the jaw pivot (side view)."""
    m = np.asarray(marks["mouth"])
    piv = np.asarray(marks["jaw_pivot"])
    d = np.array([piv[1] - m[1], piv[2] - m[2]])
    d /= max(np.linalg.norm(d), 1e-9)
    n = np.array([d[1], -d[0]])
    if n[0] > 0:
        n = -n
    return (p[:, 1] - m[1]) * n[0] + (p[:, 2] - m[2]) * n[1]


def jaw_weights(p: np.ndarray, marks: dict, hard_mouth: bool = False, sides=None) -> np.ndarray:
    mw = marks["mouth_width"]
    m = np.asarray(marks["mouth"])
    piv = np.asarray(marks["jaw_pivot"])
    chin = np.asarray(marks["chin"])
    s = below_lip_line(p, marks)
    ax = np.abs(p[:, 0])
    eps = 0.06 * mw + 0.5 * np.maximum(ax - 0.5 * mw, 0)
    w1 = _smoothstep(-eps, eps, s)
    if hard_mouth:
        inside = (ax < 0.6 * mw) & (p[:, 2] > m[2] - 0.8 * mw)
        w1 = np.where(inside, (s > 0).astype(float), w1)
    if sides is not None:
        # Separate lips: everything on the lower lip's surface goes with the jaw, the upper stays.
        _, lower, upper = sides
        w1 = np.where(lower, 1.0, np.where(upper, 0.0, w1))
    drop = chin[1] - p[:, 1]
    w2 = 1.0 - _smoothstep(0.0, 1.2 * mw, drop)
    w3 = _smoothstep(piv[2] - 0.2 * mw, piv[2] + 0.6 * mw, p[:, 2])
    return w1 * w2 * w3


def _mouth_gauss(p, marks, sx, sy, back):
    m = np.asarray(marks["mouth"])
    mw = marks["mouth_width"]
    g = np.exp(-((p[:, 0] / (sx * mw)) ** 2 + ((p[:, 1] - m[1]) / (sy * mw)) ** 2))
    return g * _smoothstep(m[2] - back * mw, m[2] - 0.1 * mw, p[:, 2])


def synthesise(p: np.ndarray, marks: dict, parent_weight: np.ndarray | None = None,
               hard_mouth: bool = False, sides=None) -> dict:
    """{shape: (V, 3) delta} for face3d's four shapes."""
    mw = marks["mouth_width"]
    m = np.asarray(marks["mouth"])
    piv = np.asarray(marks["jaw_pivot"])
    out = {}
    w = jaw_weights(p, marks, hard_mouth, sides) if parent_weight is None else parent_weight
    a = np.radians(JAW_ANGLE_DEG) * w
    ry, rz = p[:, 1] - piv[1], p[:, 2] - piv[2]
    ny = ry * np.cos(a) - rz * np.sin(a)
    nz = ry * np.sin(a) + rz * np.cos(a)
    jaw = np.zeros_like(p)
    jaw[:, 1] = ny - ry
    jaw[:, 2] = nz - rz
    out["jawOpen"] = jaw
    # mouthWide: corners out and a little back, lips thinned.
    g = _mouth_gauss(p, marks, 0.75, 0.45, 0.8)
    xr = np.clip(p[:, 0] / (0.5 * mw), -1.5, 1.5)
    wide = np.zeros_like(p)
    wide[:, 0] = 0.22 * mw * xr * g
    wide[:, 2] = -0.08 * mw * xr ** 2 * g
    wide[:, 1] = -0.03 * mw * np.tanh((p[:, 1] - m[1]) / (0.1 * mw)) * g
    out["mouthWide"] = wide
    # mouthPucker: lips forward and in.
    g = _mouth_gauss(p, marks, 0.6, 0.35, 0.6)
    pk = np.zeros_like(p)
    pk[:, 0] = -0.3 * p[:, 0] * g
    pk[:, 2] = 0.18 * mw * g
    pk[:, 1] = -0.08 * (p[:, 1] - m[1]) * g
    out["mouthPucker"] = pk
    # mouthClose: lips pressed together (upper down, lower up).
    g = _mouth_gauss(p, marks, 0.6, 0.25, 0.5)
    cl = np.zeros_like(p)
    cl[:, 1] = -0.05 * mw * np.tanh((p[:, 1] - m[1]) / (0.05 * mw)) * g
    cl[:, 2] = -0.02 * mw * g
    out["mouthClose"] = cl
    return out
