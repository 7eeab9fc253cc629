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
    _, inverse = np.unique(np.ascontiguousarray(positions, np.float64), axis=0, return_inverse=True)
    return inverse.reshape(-1).astype(np.int64)


def vertex_normals(positions: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Area-weighted smooth vertex normals.  positions: (V, 3), faces: (F, 3) -> (V, 3)."""
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
    if len(np.unique(fwd_sorted)) != len(fwd_sorted):
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
