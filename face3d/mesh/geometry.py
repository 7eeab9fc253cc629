"""Shared mesh geometry: welding by position, smooth normals, edge lists, face orientation.

Plain numpy on (V, 3) positions and (F, 3) triangle indices; every other module in
``face3d.mesh`` that needs these uses this one, and this one imports nothing from face3d.
"""

from __future__ import annotations

import numpy as np


def unit(v: np.ndarray) -> np.ndarray:
    """Rows of ``v`` scaled to unit length (zero rows stay zero), as float32."""
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return (v / np.maximum(n, 1e-12)).astype(np.float32)


def weld_by_position(positions: np.ndarray) -> np.ndarray:
    """(V,) index shared by vertices at exactly the same position."""
    if len(positions) == 0:
        return np.zeros(0, np.int64)
    # the ids np.unique(axis=0, return_inverse=True) gives (rows in sorted order), by a
    # lexsort of the columns: several times faster on large meshes
    p = np.ascontiguousarray(positions, np.float64).reshape(len(positions), -1) + 0.0  # -0.0 -> 0.0
    order = np.lexsort(p.T[::-1])
    srt = p[order]
    new = np.ones(len(p), bool)
    new[1:] = np.any(srt[1:] != srt[:-1], axis=1)
    inverse = np.empty(len(p), np.int64)
    inverse[order] = np.cumsum(new) - 1
    return inverse


def face_normals(positions: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """(F, 3) float64 triangle normals with the length of twice their area."""
    p = np.asarray(positions, np.float64)
    f = np.asarray(faces, np.int64)
    a = p[f[:, 0]]
    return np.cross(p[f[:, 1]] - a, p[f[:, 2]] - a)


def accumulate(faces: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """(n, 3): each vertex's sum of ``values`` (F, 3) over the triangles that use it."""
    f = np.asarray(faces, np.int64)
    out = np.zeros((n, 3))
    for c in range(3):  # bincount: the sums np.add.at gives, many times faster
        out[:, c] = np.bincount(f.ravel(), np.repeat(values[:, c], 3), minlength=n)[:n]
    return out


def vertex_normals(positions: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Area-weighted smooth vertex normals.  positions: (V, 3), faces: (F, 3) -> (V, 3).
    (Summed corner by corner with ``np.add.at``: the bundled head's normals are rebuilt
    byte for byte; :func:`accumulate` is the faster sum in another order.)"""
    p = positions.astype(np.float64)
    f = faces.astype(np.int64)
    fn = np.cross(p[f[:, 1]] - p[f[:, 0]], p[f[:, 2]] - p[f[:, 0]])
    n = np.zeros_like(p)
    for i in range(3):
        np.add.at(n, f[:, i], fn)
    return unit(n)


def welded_normals(positions: np.ndarray, faces: np.ndarray, weld: np.ndarray | None = None) -> np.ndarray:
    """Smooth normals shared across seams: vertices with the same ``weld`` index (default:
    the same position) share one normal."""
    if weld is None:
        weld = weld_by_position(positions)
    n_weld = int(weld.max()) + 1
    wpos = np.zeros((n_weld, 3))
    wpos[weld] = positions
    return vertex_normals(wpos, weld[faces])[weld]


def edge_list(faces: np.ndarray) -> np.ndarray:
    """(3F, 2) directed edges of the triangles: all a->b, then all b->c, then all c->a."""
    return np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])


def edges_paired(faces: np.ndarray) -> bool:
    """True when every directed edge a->b has its reverse b->a in some triangle (a closed,
    consistently wound surface; faces given as welded indices)."""
    e = edge_list(faces)
    n = int(faces.max()) + 1
    return bool(np.isin(e[:, 1] * n + e[:, 0], e[:, 0] * n + e[:, 1]).all())


def orient_faces(positions: np.ndarray, faces: np.ndarray, weld: np.ndarray) -> tuple[np.ndarray, bool]:
    """(faces, closed): a closed, consistently wound surface is turned outward and may be culled."""
    f = weld[faces]
    e = edge_list(f)
    n = int(f.max()) + 1
    fwd = e[:, 0] * n + e[:, 1]
    rev = e[:, 1] * n + e[:, 0]
    fwd_sorted = np.sort(fwd)
    if len(fwd_sorted) > 1 and (fwd_sorted[1:] == fwd_sorted[:-1]).any():
        return faces, False  # an edge used twice in the same direction: inconsistent or non-manifold
    pos = np.searchsorted(fwd_sorted, rev)
    pos = np.minimum(pos, len(fwd_sorted) - 1)
    if not (fwd_sorted[pos] == rev).all():
        return faces, False  # open boundary
    p = positions.astype(np.float64)
    a, b, c = p[faces[:, 0]], p[faces[:, 1]], p[faces[:, 2]]
    volume = np.einsum("ij,ij->i", a, np.cross(b, c)).sum() / 6.0
    if volume < 0:
        return faces[:, [0, 2, 1]].copy(), True
    return faces, True


def components(n: int, edges: np.ndarray) -> np.ndarray:
    """Connected-component labels of ``n`` vertices joined by ``edges`` (E, 2)."""
    labels = np.arange(n)
    if not len(edges):
        return labels
    a, b = edges[:, 0], edges[:, 1]
    while True:
        m = np.minimum(labels[a], labels[b])
        new = labels.copy()
        np.minimum.at(new, a, m)
        np.minimum.at(new, b, m)
        new = new[new]  # pointer jumping
        if np.array_equal(new, labels):
            return labels
        labels = new
