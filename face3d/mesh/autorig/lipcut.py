"""Cutting fused lips apart along the lip line, with the edges together at rest.

Where the upper and lower lip are one surface, jawOpen needs an opening. The cut follows
the lip line: the crease between the lips, found per column across the mouth as the
deepest point of the front surface's profile (relative to the straight line over it),
smoothed into a curve ``y = a + b x^2`` through the mid-line lip line. The row of vertices
nearest the curve is moved onto it, and the mesh is split along that chain of edges, so
the opening has smooth, rounded edges rather than the saw teeth of a triangle row.
Nothing is removed: at weight 0 both edges lie on the same curve (no gap, no slot). The
cut is closed behind by a dark mouth bag (a pocket from each edge to a line inside the
head), which only shows when the jaw drops.
"""

from __future__ import annotations

import numpy as np

from face3d.mesh.geometry import components, edge_list
from face3d.mesh.orient.normalize import surface_samples


def lip_curve(p: np.ndarray, faces: np.ndarray, marks: dict):
    """(a, b, half_width): the lip line y = a + b x^2 for |x| <= half_width."""
    mw = marks["mouth_width"]
    m = np.asarray(marks["mouth"])
    half = 0.5 * mw
    win = 0.2 * mw
    c = p[faces].mean(1)  # sample the mouth's own triangles densely
    around = (np.abs(c[:, 0]) < half + 0.1 * mw) & (np.abs(c[:, 1] - m[1]) < win + 0.1 * mw)
    pts = surface_samples(p, faces[around] if around.sum() >= 4 else faces, 40000, seed=3)
    near = (np.abs(pts[:, 0]) < half) & (np.abs(pts[:, 1] - m[1]) < win) & (pts[:, 2] > m[2] - 0.4 * mw)
    pts = pts[near]
    xs, ys, ws = [0.0], [float(m[1])], [3.0]
    h = 0.02 * mw
    for x in np.linspace(-0.8 * half, 0.8 * half, 13):
        col = pts[np.abs(pts[:, 0] - x) < 0.04 * mw]
        if len(col) < 20:
            continue
        nb = int(2 * win / h)
        idx = np.clip(((col[:, 1] - (m[1] - win)) / h).astype(int), 0, nb - 1)
        prof = np.full(nb, -np.inf)
        np.maximum.at(prof, idx, col[:, 2])
        ok = np.isfinite(prof)
        if ok.sum() < nb // 2:
            continue
        yc = m[1] - win + (np.arange(nb) + 0.5) * h
        prof = np.interp(yc, yc[ok], prof[ok])
        trend = np.polyval(np.polyfit(yc, prof, 2), yc)  # the face's own curve removed
        depth = trend - prof
        j = int(np.argmax(depth))
        if 0 < j < nb - 1 and depth[j] > 0.01 * mw:
            xs.append(float(x))
            ys.append(float(yc[j]))
            ws.append(float(depth[j] / (0.03 * mw)))  # a clear crease counts more than a faint one
    xs, ys, ws = np.asarray(xs), np.asarray(ys), np.asarray(ws)
    if len(xs) >= 4:
        A = np.stack([np.ones_like(xs), xs ** 2], 1) * ws[:, None]
        a, b = np.linalg.lstsq(A, ys * ws, rcond=None)[0]
        # keep it a gentle curve through the mid-line lip line
        b = float(np.clip(b, -0.4 / mw, 0.4 / mw))
        a = float(np.clip(a, m[1] - 0.05 * mw, m[1] + 0.05 * mw))
    else:
        a, b = float(m[1]), 0.0
    return a, b, half


def _path(chain: np.ndarray, edges: np.ndarray, p: np.ndarray):
    """Shortest edge path through the chain vertices from the leftmost to the rightmost."""
    inch = np.zeros(len(p), bool)
    inch[chain] = True
    e = edges[inch[edges].all(1)]
    adj: dict = {}
    for u, v in e:
        adj.setdefault(int(u), []).append(int(v))
        adj.setdefault(int(v), []).append(int(u))
    # the widest connected run of the chain (a stray crossing elsewhere cannot end the seam)
    loc = np.full(len(p), -1)
    loc[chain] = np.arange(len(chain))
    lab = components(len(chain), loc[e]) if len(e) else np.arange(len(chain))
    best = max(np.unique(lab), key=lambda l: np.ptp(p[chain[lab == l], 0]))
    run = chain[lab == best]
    start = int(run[np.argmin(p[run, 0])])
    goal = int(run[np.argmax(p[run, 0])])
    prev = {start: -1}
    queue = [start]
    for u in queue:
        if u == goal:
            break
        for v in sorted(adj.get(u, []), key=lambda k: p[k, 0]):
            if v not in prev:
                prev[v] = u
                queue.append(v)
    if goal not in prev:
        return None
    out = [goal]
    while prev[out[-1]] != -1:
        out.append(prev[out[-1]])
    return out[::-1]


def cut_lips(p: np.ndarray, faces: np.ndarray, marks: dict):
    """Split fused lips along the lip line.

    Returns None when no cut could be made, else a dict: positions (V2, 3) with the chain
    moved onto the curve and the new vertices appended, faces (F2, 3), parent (V2,) the
    original vertex each vertex copies (itself for originals), lower (V2,) bool for the
    lower edge's copies, bag (V2,) bool for the mouth bag, and ``path`` (the seam)."""
    p = np.asarray(p, np.float64).copy()
    faces = np.asarray(faces, np.int64)
    mw = marks["mouth_width"]
    m = np.asarray(marks["mouth"])
    a, b, half = lip_curve(p, faces, marks)

    def curve(x):
        return a + b * x ** 2

    off = p[:, 1] - curve(p[:, 0])
    # the corners of the mouth lie well behind the lips' front
    box = (np.abs(p[:, 0]) < half) & (np.abs(off) < 0.25 * mw) & (p[:, 2] > m[2] - 0.6 * mw)
    e = edge_list(faces[box[faces].all(1)])  # only the mouth's edges can be cut
    if not len(e):
        return None
    e = np.unique(np.sort(e, axis=1), axis=0)
    cross = box[e].all(1) & (np.sign(off[e[:, 0]]) != np.sign(off[e[:, 1]]))
    cross &= np.abs(p[e, 0].mean(1)) < half
    if cross.sum() < 2:
        return None
    ce = e[cross]
    pick = np.where(np.abs(off[ce[:, 0]]) <= np.abs(off[ce[:, 1]]), ce[:, 0], ce[:, 1])
    chain = np.unique(pick)
    path = _path(chain, e, p)
    if path is None or len(path) < 3:
        return None
    path = np.asarray(path)
    p[path, 1] = curve(p[path, 0])  # the seam lies on the smooth curve
    inner = path[1:-1]
    n0 = len(p)
    # The lower edge: copies of the inner seam vertices, used by the faces below the curve.
    dup = {int(v): n0 + i for i, v in enumerate(inner)}
    cen = p[faces].mean(1)
    below = cen[:, 1] < curve(cen[:, 0])
    faces = faces.copy()
    for k in range(3):
        sel = below & np.isin(faces[:, k], inner)
        faces[sel, k] = [dup[int(v)] for v in faces[sel, k]]
    low_pos = p[inner]
    # The bag: dark copies of both edges and a line of points inside the head.
    n1 = n0 + len(inner)
    up_rim = n1 + np.arange(len(path))               # copies of the upper edge (ends shared)
    lo_rim = n1 + len(path) + np.arange(len(inner))  # copies of the lower edge
    deep = n1 + len(path) + len(inner) + np.arange(len(inner))
    x = p[inner, 0]
    t = np.sqrt(np.clip(1 - (x / max(half, 1e-9)) ** 2, 0.05, 1))
    deep_pos = p[inner].copy()
    deep_pos[:, 0] *= 0.85
    deep_pos[:, 2] -= 0.35 * mw * t
    lo_of = np.concatenate([[up_rim[0]], lo_rim, [up_rim[-1]]])
    de_of = np.concatenate([[up_rim[0]], deep, [up_rim[-1]]])
    new_faces = []
    for i in range(len(path) - 1):
        for rim, want in ((up_rim, np.array([0.0, -1.0, 0.3])), (lo_of, np.array([0.0, 1.0, 0.3]))):
            quad = [rim[i], rim[i + 1], de_of[i + 1], de_of[i]]
            new_faces += [(quad[0], quad[1], quad[2], want), (quad[0], quad[2], quad[3], want)]
    pos = np.concatenate([p, low_pos, p[path], low_pos, deep_pos])
    tri = []
    for f0, f1, f2, want in new_faces:
        if len({f0, f1, f2}) < 3:
            continue
        nrm = np.cross(pos[f1] - pos[f0], pos[f2] - pos[f0])
        tri.append((f0, f1, f2) if nrm @ want >= 0 else (f0, f2, f1))
    parent = np.concatenate([np.arange(n0), inner, path, inner, inner])
    lower = np.zeros(len(pos), bool)
    lower[n0:n1] = True
    lower[lo_rim] = True
    bag = np.zeros(len(pos), bool)
    bag[n1:] = True
    return {"positions": pos, "faces": np.concatenate([faces, np.asarray(tri, np.int64).reshape(-1, 3)]),
            "parent": parent, "lower": lower, "bag": bag, "path": path, "deep": deep,
            "curve": (a, b, half)}
