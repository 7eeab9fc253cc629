"""Screen boxes for redrawing only what changes between two video frames (numpy only).

Two kinds of box:

* with the head and camera still, a pixel can change only where a triangle that a shape
  moves covers it (:func:`moving_vertices`, :func:`near_faces`);
* when the head turns (pose angles) or the camera orbits, everything of the head may move,
  but nothing outside it does: :func:`head_hull` is a box (8 corners, in the rig's frame)
  that holds the head at any weights in [0, 1] and any gaze, and its picture through the
  frame's model, view and projection bounds every pixel the head can cover.

Boxes are GL viewports ``(x, y, w, h)`` (bottom row 0); :func:`union` joins them.
"""

from __future__ import annotations

import math

import numpy as np


def moved_by(rig, active=None) -> np.ndarray:
    """(V,) bool: vertices that one of the ``active`` shapes ((K,) bool; None: all) moves."""
    if rig.n_shapes == 0:
        return np.zeros(rig.n_vertices, bool)
    k = np.ones(rig.n_shapes, bool) if active is None else np.asarray(active, bool)[:rig.n_shapes]
    d, nd = np.asarray(rig.deltas)[k], np.asarray(rig.normal_deltas)[k]
    if not k.any():
        return np.zeros(rig.n_vertices, bool)
    return (np.abs(d).max(axis=(0, 2)) > 1e-7) | (np.abs(nd).max(axis=(0, 2)) > 1e-7)


def moving_vertices(rig, active=None):
    """(neutral positions (M, 3), deltas (K, M, 3)) of every vertex of a triangle that touches a
    vertex an active shape moves: only those triangles' pixels can change; None when nothing
    moves. Shapes that stay at 0 all video long (``active`` False) move nothing."""
    moved = moved_by(rig, active)
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


def near_faces(rig, view, proj, size, moving, moved) -> np.ndarray | None:
    """(F,) bool: the triangles that can show inside any frame's box: those a shape moves,
    and the still ones whose picture overlaps the box of every place the moving ones can
    reach (weights anywhere in [0, 1]). None if that box is not wholly in front."""
    p0, d = moving
    lo = (p0 + np.minimum(d, 0.0).sum(axis=0)).min(axis=0)
    hi = (p0 + np.maximum(d, 0.0).sum(axis=0)).max(axis=0)
    reach = screen_box(box_corners(lo, hi), view, proj, size)
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


def box_corners(lo, hi) -> np.ndarray:
    """(8, 3) corners of the axis-aligned box from ``lo`` to ``hi``."""
    return np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])], np.float64)


def head_hull(rig, eyes=()) -> np.ndarray:
    """(8, 3) corners of a box in the rig's frame that holds every vertex at any weights in
    [0, 1] (each vertex plus its shapes' deltas, the negative ones and the positive ones
    summed) and, for the eyeballs ``eyes`` ([(centre, vertex indices)], as the renderer turns
    them), at any gaze: a ball about the centre through its farthest vertex."""
    p = np.asarray(rig.positions, np.float64)
    lo_v, hi_v, reach = p.copy(), p.copy(), np.zeros(len(p))
    for d in np.asarray(rig.deltas)[:rig.n_shapes]:  # one shape at a time: little memory
        lo_v += np.minimum(d, 0.0)
        hi_v += np.maximum(d, 0.0)
        reach += np.linalg.norm(d, axis=1)
    lo, hi = lo_v.min(axis=0), hi_v.max(axis=0)
    for centre, idx in eyes:
        idx = np.asarray(idx, np.int64)
        if idx.size:
            c = np.asarray(centre, np.float64)
            r = float((np.linalg.norm(p[idx] - c, axis=1) + reach[idx]).max())
            lo, hi = np.minimum(lo, c - r), np.maximum(hi, c + r)
    return box_corners(lo, hi)


def screen_box(points, view, proj, size, margin: int = 3, model=None):
    """GL viewport (x, y, w, h) covering ``points`` (N, 3) on screen, or None if one is not in
    front; ``model``: a 4x4 model matrix (pyrr row-vector layout) applied first."""
    pts = np.concatenate([points, np.ones((points.shape[0], 1))], axis=1)
    # pyrr matrices are row-vector style: clip = p @ model @ view @ proj
    m = np.asarray(view, np.float64) @ np.asarray(proj, np.float64)
    if model is not None:
        m = np.asarray(model, np.float64) @ m
    clip = pts @ m
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
