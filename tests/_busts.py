"""Synthetic busts and bodies built from the real heads in ../shared/heads: a head (in
face3d's frame, +Y up, +Z forward) with a pedestal, an oblique base, a square plinth, a
hair volume larger than the face, a beard, or a long body and legs merged in. Used to test
that up and forward come from the face, whatever else the file holds."""

from __future__ import annotations

import itertools

import numpy as np

from conftest import uv_grid_faces


def rotations():
    """The 24 proper rotations that map axes onto axes (rows: where +X, +Y, +Z go)."""
    out = []
    for perm in itertools.permutations(range(3)):
        for signs in itertools.product((1, -1), repeat=3):
            r = np.zeros((3, 3))
            for i, (j, s) in enumerate(zip(perm, signs)):
                r[i, j] = s
            if np.linalg.det(r) > 0:
                out.append(r)
    assert len(out) == 24
    return out


def ellipsoid(centre, radii, rows=30, cols=40):
    th, ph = np.meshgrid(np.linspace(0.05, np.pi - 0.05, rows), np.linspace(0, 2 * np.pi, cols, endpoint=False),
                         indexing="ij")
    e = np.stack([np.sin(th) * np.sin(ph), np.cos(th), np.sin(th) * np.cos(ph)], -1).reshape(-1, 3)
    return e * radii + centre, uv_grid_faces(rows, cols)


def box(lo, hi):
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    c = np.array(list(itertools.product((0, 1), repeat=3)), float)
    f = [(0, 1, 3), (0, 3, 2), (4, 6, 7), (4, 7, 5), (0, 4, 5), (0, 5, 1),
         (2, 3, 7), (2, 7, 6), (0, 2, 6), (0, 6, 4), (1, 5, 7), (1, 7, 3)]
    return lo + c * (hi - lo), np.asarray(f)


def cylinder(centre, r, h, n=32, tilt=0.0):
    """An upright closed cylinder; ``tilt``: both ends sloping (y += tilt * z), an oblique base."""
    a = np.linspace(0, 2 * np.pi, n, endpoint=False)
    ring = np.stack([r * np.cos(a), np.zeros(n), r * np.sin(a)], 1)
    ring[:, 1] += tilt * ring[:, 2]
    v = np.vstack([ring + [0, h / 2, 0], ring - [0, h / 2, 0], [[0, h / 2, 0], [0, -h / 2, 0]]]) + centre
    f = []
    for i in range(n):
        j = (i + 1) % n
        f += [(i, j, n + j), (i, n + j, n + i), (2 * n, j, i), (2 * n + 1, n + i, n + j)]
    return v, np.asarray(f)


def merge(*parts):
    pos, fs, off = [], [], 0
    for v, f in parts:
        pos.append(np.asarray(v, float))
        fs.append(np.asarray(f) + off)
        off += len(v)
    return np.vstack(pos), np.vstack(fs)


#: What is merged in under / around a head (normalised to unit radius, +Y up, +Z forward).
CASES = ("pedestal", "oblique_base", "square_plinth", "big_hair", "beard", "full_body", "crown")


def bust(head, case: str):
    """(positions, faces): ``head`` ((V, 3) in face3d's frame, (F, 3)) with ``case`` merged in."""
    q, f = head
    lo = q.min(0)
    if case == "pedestal":
        return merge((q, f), cylinder([0, lo[1] - 0.35, 0], 0.7, 0.7))
    if case == "oblique_base":
        return merge((q, f), cylinder([0, lo[1] - 0.35, 0], 0.7, 0.7, tilt=0.6))
    if case == "square_plinth":
        return merge((q, f), box([-0.9, lo[1] - 0.6, -0.7], [0.9, lo[1], 0.7]))
    if case == "big_hair":  # larger than the face, behind and above it
        return merge((q, f), ellipsoid([0, 0.25, -0.3], [0.8, 0.75, 0.7]))
    if case == "beard":
        return merge((q, f), ellipsoid([0, -0.02 + 0.3 * lo[1], 0.25], [0.35, 0.25, 0.2]))
    if case == "full_body":
        return merge((q, f), cylinder([0, lo[1] - 3.0, 0], 0.55, 6.0),
                     cylinder([0.6, lo[1] - 2.0, 0], 0.12, 3.0), cylinder([-0.6, lo[1] - 2.0, 0], 0.12, 3.0))
    if case == "crown":  # a museum bust of a king: a spiked crown with an orb on top, a short base
        hi = q.max(0)
        top = hi[1] - 0.05
        spikes = [cylinder([0.6 * np.sin(a), top + 0.35, -0.05 + 0.6 * np.cos(a)], 0.06, 0.3)
                  for a in np.linspace(0, 2 * np.pi, 8, endpoint=False)]
        return merge((q, f), cylinder([0, top, -0.05], 0.66, 0.4), *spikes,
                     ellipsoid([0, top + 0.3, -0.05], [0.15, 0.15, 0.15]),
                     cylinder([0, top + 0.55, -0.05], 0.04, 0.3),
                     cylinder([0, lo[1] - 0.2, 0], 0.55, 0.4))
    raise ValueError(case)


def smooth_mouth(head, iterations: int, radius: float = 0.8):
    """``head`` ((V, 3) in face3d's frame, (F, 3)) with the region around the mouth
    smoothed (``iterations`` of half-step Laplacian smoothing within ``radius`` mouth
    widths of the lip line): a bust whose lips are not sculpted. Welded, (positions, faces)."""
    from face3d.mesh.geometry import edge_list, weld_by_position
    from face3d.mesh.autorig.landmarks import detect_landmarks

    q, f = head
    w = weld_by_position(q)
    n = int(w.max()) + 1
    p = np.zeros((n, 3))
    p[w] = q
    faces = w[np.asarray(f)]
    marks = detect_landmarks(p, faces)
    m, mw = np.asarray(marks["mouth"]), marks["mouth_width"]
    zone = np.linalg.norm((p - m) / [1.0, 1.0, 2.0], axis=1) < radius * mw
    e = np.unique(np.sort(edge_list(faces), axis=1), axis=0)
    deg = np.maximum(np.bincount(e.ravel(), minlength=n), 1).astype(float)
    for _ in range(iterations):
        acc = np.zeros_like(p)
        np.add.at(acc, e[:, 0], p[e[:, 1]])
        np.add.at(acc, e[:, 1], p[e[:, 0]])
        p[zone] = 0.5 * p[zone] + 0.5 * (acc / deg[:, None])[zone]
    return p, faces
