"""Shape synthesis: jawOpen, mouthWide, mouthPucker and mouthClose from a head's landmarks.

jawOpen turns the lower face about the jaw pivot by ``JAW_ANGLE_DEG`` times each vertex's
jaw weight (:mod:`face3d.mesh.rig.jaw`: smooth over the cheeks, the lower lip and chin fully,
the upper lip, nose and everything above not at all). mouthWide stretches the lips sideways, mouthPucker pushes them
forward and in, mouthClose presses them together. All work on a normalised head (+Y up,
+Z forward) with the landmarks of :mod:`face3d.mesh.autorig.landmarks`.
"""

from __future__ import annotations

import numpy as np

from face3d.mesh.rig.jaw import below_lip_line, jaw_weights, smoothstep  # noqa: F401 (re-exported)

#: jawOpen at weight 1 turns the jaw by this much.
JAW_ANGLE_DEG = 18.0

_smoothstep = smoothstep


def _mouth_gauss(p, marks, sx, sy, back):
    m = np.asarray(marks["mouth"])
    mw = marks["mouth_width"]
    g = np.exp(-((p[:, 0] / (sx * mw)) ** 2 + ((p[:, 1] - m[1]) / (sy * mw)) ** 2))
    return g * _smoothstep(m[2] - back * mw, m[2] - 0.1 * mw, p[:, 2])


def synthesise(p: np.ndarray, marks: dict, faces: np.ndarray | None = None, weld=None,
               jaw: np.ndarray | None = None) -> dict:
    """{shape: (V, 3) delta} for face3d's four shapes; ``jaw``: (V,) jaw weights (default:
    :func:`face3d.mesh.rig.jaw.jaw_weights` over ``faces``)."""
    mw = marks["mouth_width"]
    m = np.asarray(marks["mouth"])
    piv = np.asarray(marks["jaw_pivot"])
    out = {}
    w = jaw_weights(p, faces, marks, weld) if jaw is None else jaw
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
    pk[:, 0] = -0.45 * p[:, 0] * g
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
