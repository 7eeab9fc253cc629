"""Mouth opening: tell separate lips from fused ones, and cut fused lips open.

Where the lips are one fused surface (triangles cross the lip line at the front of the
mouth), the mouth is cut open along the lip line and the opening is closed with a dark
mouth bag, so jawOpen shows a real opening instead of stretching skin.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from face3d.mesh.geometry import components, edge_list, edges_paired
from face3d.mesh.synth import below_lip_line, jaw_weights

MOUTH_BAG_COLOR = (0.10, 0.025, 0.03)


def lip_sides(p: np.ndarray, faces: np.ndarray, marks: dict):
    """Split the lip region by topology: (region mask, lower-lip mask) when the lips are
    separate surfaces (a slit), or None when upper and lower lip are one surface (fused)."""
    mw = marks["mouth_width"]
    m = np.asarray(marks["mouth"])
    # Stay inside the mouth corners (where the lips always join) and in front of the mouth bag.
    region = (np.abs(p[:, 0]) < 0.2 * mw) & (np.abs(p[:, 1] - m[1]) < 0.6 * mw) & (p[:, 2] > m[2] - 0.3 * mw)
    idx = np.flatnonzero(region)
    if len(idx) < 6:
        return None
    local = np.full(len(p), -1)
    local[idx] = np.arange(len(idx))
    f = local[faces]
    e = edge_list(f)
    e = e[(e >= 0).all(1)]
    labels = components(len(idx), e)
    q = p[idx]
    mid = np.abs(q[:, 0]) < 0.12 * mw
    up = mid & (q[:, 1] > m[1] + 0.1 * mw) & (q[:, 1] < m[1] + 0.3 * mw)
    dn = mid & (q[:, 1] < m[1] - 0.1 * mw) & (q[:, 1] > m[1] - 0.3 * mw)
    if not up.any() or not dn.any():
        return None
    lu = labels[np.flatnonzero(up)[np.argmax(q[up, 2])]]
    ld = labels[np.flatnonzero(dn)[np.argmax(q[dn, 2])]]
    if lu == ld:
        return None
    lower = np.zeros(len(p), bool)
    lower[idx[labels == ld]] = True
    upper = np.zeros(len(p), bool)
    upper[idx[labels == lu]] = True
    return region, lower, upper


def fused_strip(p: np.ndarray, faces: np.ndarray, marks: dict) -> np.ndarray:
    """(F,) bool: front-facing triangles that join upper and lower lip across the lip line."""
    mw = marks["mouth_width"]
    m = np.asarray(marks["mouth"])
    below = below_lip_line(p, marks) > 0
    f = faces
    mixed = below[f].any(1) & ~below[f].all(1)
    c = p[f].mean(1)
    near = (np.abs(c[:, 0]) < 0.55 * mw) & (np.abs(c[:, 1] - m[1]) < 0.2 * mw) & (c[:, 2] > m[2] - 0.35 * mw)
    fn = np.cross(p[f[:, 1]] - p[f[:, 0]], p[f[:, 2]] - p[f[:, 0]])
    fn /= np.maximum(np.linalg.norm(fn, axis=1, keepdims=True), 1e-12)
    front = np.abs(fn[:, 2]) > 0.3
    return mixed & near & front


def open_mouth(p: np.ndarray, faces: np.ndarray, strip: np.ndarray, marks: dict):
    """Remove the ``strip`` triangles and close the hole with a dark bag.

    Returns (positions, faces, parent (V_new,) index of the vertex each new vertex follows or -1,
    is_bag (V_new,) bool)."""
    mw = marks["mouth_width"]
    m = np.asarray(marks["mouth"])
    keep = faces[~strip]
    cut = faces[strip]
    # Hole boundary: edges of removed triangles that a kept triangle also uses.
    kept_e = edge_list(keep)
    kept_set = {(int(a), int(b)) for a, b in kept_e}
    bound = [(int(a), int(b)) for a, b in edge_list(cut) if (int(b), int(a)) in kept_set or (int(a), int(b)) in kept_set]
    bound = list(dict.fromkeys(bound))
    verts = sorted({v for e in bound for v in e})
    if not verts:
        return p, faces, np.full(len(p), -1), np.zeros(len(p), bool)
    nb = len(verts)
    rim_index = {v: len(p) + i for i, v in enumerate(verts)}         # dark copies on the lip edge
    inner_index = {v: len(p) + nb + i for i, v in enumerate(verts)}  # pulled back into the head
    bp = p[verts]
    inner = bp.copy()
    inner[:, 0] *= 0.75
    inner[:, 1] = m[1] + 0.5 * (bp[:, 1] - m[1])
    inner[:, 2] = bp[:, 2] - 0.45 * mw
    centre = np.array([[0.0, m[1], m[2] - 0.8 * mw]])
    c_idx = len(p) + 2 * nb
    new_faces = []
    for a, b in bound:
        ra, rb = rim_index[a], rim_index[b]
        ia, ib = inner_index[a], inner_index[b]
        # the removed triangle held the directed edge a->b; the bag takes its place
        new_faces += [(ra, rb, ib), (ra, ib, ia), (ia, ib, c_idx)]
    pos = np.concatenate([p, bp, inner, centre])
    parent = np.concatenate([np.full(len(p), -1), np.asarray(verts), np.asarray(verts), [-2]])
    is_bag = np.concatenate([np.zeros(len(p), bool), np.ones(2 * nb + 1, bool)])
    return pos, np.concatenate([keep, np.asarray(new_faces, np.int64)]), parent, is_bag


@dataclass
class RigMesh:
    """A normalised mesh on its way to a Rig: what cutting the mouth open extends.

    positions (V, 3) float64, faces (F, 3) int64, weld (V,) int64 (see ``RawMesh``),
    shapes {name: (V, 3) delta}; colors, uvs, gloss per vertex or None.
    """

    positions: np.ndarray
    faces: np.ndarray
    weld: np.ndarray
    shapes: dict = field(default_factory=dict)
    colors: np.ndarray | None = None
    uvs: np.ndarray | None = None
    gloss: np.ndarray | None = None
    double_sided: bool = True


def open_fused_lips(mesh: RigMesh, strip: np.ndarray, marks: dict):
    """Cut the ``strip`` triangles out of ``mesh`` and stitch in a dark mouth bag.

    Returns (the extended mesh, (V_new,) jaw weights for every vertex: the lips' own, and
    the bag's taken from the lip vertex each bag vertex follows), or None when the strip
    leaves no hole to close."""
    p, faces, weld = mesh.positions, mesh.faces, mesh.weld
    v = len(p)
    p2, faces2, parent, _ = open_mouth(p, faces, strip, marks)
    n_new = len(p2) - v
    if not n_new:
        return None
    ext = np.where(parent[v:] >= 0, parent[v:], 0)
    bag = np.tile(MOUTH_BAG_COLOR, (n_new, 1))
    colors = np.concatenate([np.full((v, 3), 0.8) if mesh.colors is None else mesh.colors, bag])
    uvs = None if mesh.uvs is None else np.concatenate([mesh.uvs, mesh.uvs[ext]])
    gloss = np.concatenate([np.full(v, 0.3) if mesh.gloss is None else mesh.gloss, np.zeros(n_new)])
    # bag copies on the lip edge share the lip's normal; the rest are new points
    extra = weld.max() + 1 + np.arange(n_new)
    extra[: (n_new - 1) // 2] = weld[ext[: (n_new - 1) // 2]]
    weld = np.concatenate([weld, extra])
    shapes = {name: np.concatenate([d, np.zeros((n_new, 3), np.float32)]) for name, d in mesh.shapes.items()}
    base_w = jaw_weights(p, marks, hard_mouth=True)
    w_new = np.where(parent[v:] >= 0, base_w[ext], 0.5)
    # a closed head stays closed (and culled) when the bag is stitched in: every directed
    # edge must meet its reverse
    double_sided = mesh.double_sided or not edges_paired(weld[faces2])
    opened = RigMesh(positions=p2, faces=faces2, weld=weld, shapes=shapes, colors=colors, uvs=uvs,
                     gloss=gloss, double_sided=double_sided)
    return opened, np.concatenate([base_w, w_new])
