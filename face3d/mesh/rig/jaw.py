"""Jaw weights: how much each vertex of a normalised head (+Y up, +Z forward) turns with
the jaw.

A first guess comes from geometry alone (:func:`geometric_jaw_weights`): below the line
from the lip line to the jaw pivot the weight is 1, above it 0, with a smooth band that
widens over the cheeks; it falls off below the chin (the neck stays) and behind the pivot.

Near the mouth the guess is then relaxed over the mesh itself (:func:`relax_on_mesh`): the
vertices around the mouth take the average of their neighbours, the rest keep the guess.
Where the lips are separate surfaces (a slit, as on a scanned head) or have been cut
apart, the upper lip is only connected to the nose and cheeks and the lower lip only to
the chin, so the weights part exactly along the lips' own seam, wherever it runs, while
the mouth corners (where the lips join) blend smoothly and stretch instead of tearing.
"""

from __future__ import annotations

import numpy as np

from face3d.mesh.geometry import edge_list


def smoothstep(e0, e1, x):
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


def geometric_jaw_weights(p: np.ndarray, marks: dict, band: float = 0.06) -> np.ndarray:
    """(V,) jaw weights from the landmarks alone (no mesh connectivity)."""
    mw = marks["mouth_width"]
    piv = np.asarray(marks["jaw_pivot"])
    chin = np.asarray(marks["chin"])
    s = below_lip_line(p, marks)
    ax = np.abs(p[:, 0])
    eps = band * mw + 0.5 * np.maximum(ax - 0.5 * mw, 0)
    w1 = smoothstep(-eps, eps, s)
    drop = chin[1] - p[:, 1]
    w2 = 1.0 - smoothstep(0.0, 1.2 * mw, drop)
    w3 = smoothstep(piv[2] - 0.2 * mw, piv[2] + 0.6 * mw, p[:, 2])
    return w1 * w2 * w3


def mouth_zone(p: np.ndarray, marks: dict) -> np.ndarray:
    """(V,) bool: the vertices around the mouth whose jaw weight follows the mesh."""
    mw = marks["mouth_width"]
    m = np.asarray(marks["mouth"])
    # Low over the upper lip (the nose above it stays), deeper over the lower lip and chin.
    ry = np.where(p[:, 1] > m[1], 0.2 * mw, 0.4 * mw)
    r = (p[:, 0] / (0.75 * mw)) ** 2 + ((p[:, 1] - m[1]) / ry) ** 2
    return (r < 1.0) & (p[:, 2] > m[2] - 0.7 * mw)


def inside_mouth(p: np.ndarray, faces: np.ndarray, marks: dict) -> np.ndarray:
    """(V,) bool: the inside of the mouth (inner lips, mouth bag, teeth, tongue): vertices
    hidden behind the face's front surface around the mouth, joined to the mouth through
    other hidden vertices (so the inside of the nostrils, seen at rest, is not part of it).
    Seen only when the mouth opens."""
    return mouth_cavity(p, faces, marks)[0]


def mouth_cavity(p: np.ndarray, faces: np.ndarray, marks: dict) -> tuple[np.ndarray, np.ndarray]:
    """(inside, depth): :func:`inside_mouth`, and (V,) how far each vertex lies behind the
    front surface around the mouth (0 outside the mouth's box)."""
    from face3d.mesh.geometry import components
    from face3d.mesh.orient.normalize import surface_samples

    mw = marks["mouth_width"]
    m = np.asarray(marks["mouth"])
    x0, x1, y0, y1 = -0.8 * mw, 0.8 * mw, m[1] - 0.6 * mw, m[1] + 0.9 * mw
    box = ((p[:, 0] > x0) & (p[:, 0] < x1) & (p[:, 1] > y0) & (p[:, 1] < y1) & (p[:, 2] > m[2] - 2.0 * mw))
    f = np.asarray(faces, np.int64)
    c = p[f].mean(1)
    near = (c[:, 0] > x0 - 0.1 * mw) & (c[:, 0] < x1 + 0.1 * mw) & (c[:, 1] > y0 - 0.1 * mw) & (c[:, 1] < y1 + 0.1 * mw)
    if not box.any() or not near.any():
        return np.zeros(len(p), bool), np.zeros(len(p))
    # A dense depth map of the front surface (only the triangles around the mouth are
    # sampled, so every cell is covered).
    pts = surface_samples(p, f[near], 80000, seed=2)
    cell = 0.025 * mw
    lo = np.array([x0, y0])
    dims = np.array([int((x1 - x0) / cell) + 1, int((y1 - y0) / cell) + 1])
    front = np.full(dims, -np.inf)
    ij = np.floor((pts[:, :2] - lo) / cell).astype(int)
    ok = (ij >= 0).all(1) & (ij < dims).all(1)
    np.maximum.at(front, (ij[ok, 0], ij[ok, 1]), pts[ok, 2])
    pad = np.pad(front, 1, constant_values=-np.inf)  # 3x3 max filter: no empty cells
    front = np.max(np.stack([pad[i: i + dims[0], j: j + dims[1]] for i in range(3) for j in range(3)]), axis=0)
    vij = np.clip(np.floor((p[:, :2] - lo) / cell).astype(int), 0, dims - 1)
    depth = np.where(box, np.maximum(front[vij[:, 0], vij[:, 1]] - p[:, 2], 0.0), 0.0)
    hidden = box & (depth > 0.12 * mw)
    # Keep the hidden parts that reach the mouth itself.
    idx = np.flatnonzero(hidden)
    if not len(idx):
        return hidden, depth
    local = np.full(len(p), -1)
    local[idx] = np.arange(len(idx))
    e = edge_list(local[f])
    e = e[(e >= 0).all(1)]
    labels = components(len(idx), e)
    q = p[idx]
    seed = (np.abs(q[:, 0]) < 0.4 * mw) & (np.abs(q[:, 1] - m[1]) < 0.2 * mw)
    keep = np.isin(labels, np.unique(labels[seed]))
    out = np.zeros(len(p), bool)
    out[idx[keep]] = True
    return out, depth


def relax_on_mesh(w0: np.ndarray, faces: np.ndarray, free: np.ndarray, weld=None,
                  iterations: int = 2000) -> np.ndarray:
    """Harmonic relaxation of ``w0`` over the mesh graph on the ``free`` vertices (the rest
    stay fixed). Vertices that share a position (``weld``) move as one."""
    w0 = np.asarray(w0, np.float64)
    n = len(w0)
    ids = np.arange(n) if weld is None else np.asarray(weld, np.int64)
    uniq, inv = np.unique(ids, return_inverse=True)
    k = len(uniq)
    # A group of welded vertices is held when any of its members is (at the held ones' mean).
    held = ~np.asarray(free, bool)
    fr = np.ones(k, bool)
    np.logical_and.at(fr, inv, ~held)
    src = np.where(fr[inv], True, held)
    w = np.zeros(k)
    cnt = np.zeros(k)
    np.add.at(w, inv[src], w0[src])
    np.add.at(cnt, inv[src], 1.0)
    w /= np.maximum(cnt, 1)
    # Only the edges at free vertices matter: work on that part of the mesh alone.
    f = inv[np.asarray(faces, np.int64)]
    f = f[fr[f].any(1)]
    e = edge_list(f)
    e = e[(e[:, 0] != e[:, 1]) & (fr[e[:, 0]] | fr[e[:, 1]])]
    e = np.unique(np.sort(e, axis=1), axis=0)
    if not len(e):
        return w0
    nodes, local = np.unique(e, return_inverse=True)
    e = local.reshape(-1, 2)
    k_all, k = k, len(nodes)
    fixed_val = w[nodes]
    fr_all = fr
    fr = fr[nodes]
    deg = np.zeros(k)
    np.add.at(deg, e[:, 0], 1.0)
    np.add.at(deg, e[:, 1], 1.0)
    a, b = e[:, 0], e[:, 1]

    def lap(x):  # graph Laplacian (D - A) x
        return deg * x - np.bincount(a, x[b], k) - np.bincount(b, x[a], k)

    # Conjugate gradients on the free vertices: L_ff x = -L_fc w_c.
    fixed_part = np.where(fr, 0.0, fixed_val)
    rhs = -lap(fixed_part)[fr]
    x = fixed_val[fr].copy()

    def op(v):
        full = np.zeros(k)
        full[fr] = v
        return lap(full)[fr]

    r = rhs - op(x)
    d = r.copy()
    rr = float(r @ r)
    tol = 1e-10 * max(float(rhs @ rhs), 1e-30)
    for _ in range(iterations):
        if rr <= tol:
            break
        q = op(d)
        alpha = rr / max(float(d @ q), 1e-300)
        x += alpha * d
        r -= alpha * q
        rr_new = float(r @ r)
        d = r + (rr_new / rr) * d
        rr = rr_new
    sub = fixed_part.copy()
    sub[fr] = x
    w_all = w.copy()
    w_all[nodes] = sub
    assert len(w_all) == k_all and fr_all.shape == (k_all,)
    return w_all[inv]


def jaw_weights(p: np.ndarray, faces: np.ndarray, marks: dict, weld=None, inside=None,
                seeds: dict | None = None) -> np.ndarray:
    """(V,) jaw weights: the geometric guess, relaxed over the mesh around the mouth. The
    inside of the mouth (``inside``, default :func:`inside_mouth`) keeps the guess, so the
    mouth bag does not tie the upper lip to the lower one. ``seeds``: {vertex: weight}
    held fixed (the two edges of a cut)."""
    w0 = geometric_jaw_weights(p, marks)
    if faces is None or not len(faces):
        return w0
    if inside is None:
        inside = inside_mouth(p, faces, marks)
    # Inside the mouth the roof stays with the upper lip and the floor goes with the jaw:
    # split level with the lip line (the line to the pivot rises behind the lips).
    mw, my = marks["mouth_width"], marks["mouth"][1]
    w0 = np.where(inside, w0 * 0 + smoothstep(-0.05 * mw, 0.05 * mw, my - p[:, 1]), w0)
    # The inner faces of the lips follow their lips; only the back of the mouth is held.
    deep = inside & (p[:, 2] < marks["mouth"][2] - 0.5 * mw)
    free = mouth_zone(p, marks) & ~deep
    if seeds:
        idx = np.fromiter(seeds.keys(), np.int64, len(seeds))
        w0 = w0.copy()
        w0[idx] = np.fromiter(seeds.values(), np.float64, len(seeds))
        free[idx] = False
    return np.clip(relax_on_mesh(w0, faces, free, weld), 0.0, 1.0)


def bone_jaw_delta(positions: np.ndarray, weights: np.ndarray, pivot, degrees: float) -> np.ndarray:
    """jawOpen for a skeleton's jaw joint, on a normalised head (+Y up, +Z forward): the
    joint turned by ``degrees`` about the left-right axis through ``pivot``, chin down,
    blended by each vertex's skin weight for it. Linear-blend skinning of one joint turned
    by a fixed angle is exactly ``w (R - I)(p - pivot)`` per vertex, so at weight 1 the
    blendshape is the skinned pose itself; between 0 and 1 it moves along the chord rather
    than the arc (at 18 degrees the two differ by at most 1.2 % of the distance to the pivot)."""
    p = np.asarray(positions, np.float64) - np.asarray(pivot, np.float64)
    a = np.radians(degrees)
    out = np.zeros_like(p)
    out[:, 1] = p[:, 1] * (np.cos(a) - 1) - p[:, 2] * np.sin(a)
    out[:, 2] = p[:, 1] * np.sin(a) + p[:, 2] * (np.cos(a) - 1)
    return out * np.asarray(weights, np.float64)[:, None]
