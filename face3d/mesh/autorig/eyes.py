"""Irises for untextured eyeballs.

A production head's eyeballs (ICT FaceKit's ``M_ScleraLeft`` / ``M_ScleraRight``) get their
iris from a texture that is often not shipped with the mesh; drawn in their material colour
alone they are blank grey balls, and a face reads as a statue's. When a head has no texture,
each eyeball surface (a material or object named like a sclera or an eyeball, one roughly
spherical piece per eye) has the cap that looks forward painted as an iris with a pupil.
"""

from __future__ import annotations

import numpy as np

from face3d.mesh.geometry import components, edge_list
from face3d.mesh.rig.names import name_has_word

EYE_WORDS = ("sclera", "eyeball")
IRIS_COLOR = (0.30, 0.22, 0.16)
PUPIL_COLOR = (0.03, 0.03, 0.035)
#: Half-angles of the iris and the pupil seen from the eyeball's centre (degrees).
IRIS_DEG, PUPIL_DEG = 30.0, 13.0


def is_eyeball(name: str) -> bool:
    return name_has_word(name, EYE_WORDS)


def paint_irises(positions: np.ndarray, faces: np.ndarray, face_group, groups, colors):
    """(colors, number of eyes painted). ``positions`` in face3d's frame (+Z forward);
    ``face_group`` / ``groups`` as in :class:`~face3d.mesh.io.raw.RawMesh`; ``colors`` (V, 3)
    or None (plain grey)."""
    if face_group is None or not groups or len(face_group) != len(faces):
        return colors, 0
    ids = [i for i, g in enumerate(groups) if is_eyeball(g)]
    if not ids:
        return colors, 0
    p = np.asarray(positions, np.float64)
    out = np.full((len(p), 3), 0.8) if colors is None else np.array(colors, np.float64)
    eyes = 0
    f = np.asarray(faces, np.int64)[np.isin(face_group, ids)]
    used = np.unique(f)
    local = np.full(len(p), -1)
    local[used] = np.arange(len(used))
    e = local[edge_list(f)]
    labels = components(len(used), e)
    for lab in np.unique(labels):
        v = used[labels == lab]
        if len(v) < 30:
            continue
        q = p[v]
        a = np.c_[2 * q, np.ones(len(q))]
        sol = np.linalg.lstsq(a, (q ** 2).sum(1), rcond=None)[0]
        c = sol[:3]
        r = float(np.sqrt(max(sol[3] + c @ c, 0.0)))
        d = q - c
        dist = np.linalg.norm(d, axis=1)
        if not r > 0 or np.abs(dist - r).max() > 0.2 * r:
            continue  # not a ball
        cos = d[:, 2] / np.maximum(dist, 1e-12)
        out[v[cos > np.cos(np.radians(IRIS_DEG))]] = IRIS_COLOR
        out[v[cos > np.cos(np.radians(PUPIL_DEG))]] = PUPIL_COLOR
        eyes += 1
    return (out if eyes else colors), eyes


__all__ = ["paint_irises", "is_eyeball"]
