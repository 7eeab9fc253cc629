"""Mouth opening: tell separate lips from fused ones, and cut fused lips open.

Where the lips are one fused surface (triangles cross the lip line at the front of the
mouth), the mouth is cut open along the lip line and the opening is closed with a dark
mouth bag, so jawOpen shows a real opening instead of stretching skin.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from face3d.mesh.geometry import components, edge_list, edges_paired
from face3d.mesh.rig.jaw import jaw_weights

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


def darken_inside(mesh: RigMesh, inside: np.ndarray) -> RigMesh:
    """Colour the inside of the mouth (behind the lips) dark and matte, so an open mouth
    reads as a mouth rather than a grey cavity; hidden at rest, so the closed face is
    unchanged."""
    if not inside.any():
        return mesh
    v = len(mesh.positions)
    colors = np.full((v, 3), 0.8) if mesh.colors is None else np.array(mesh.colors, np.float64)
    colors[inside] = MOUTH_BAG_COLOR
    gloss = np.full(v, 0.3) if mesh.gloss is None else np.array(mesh.gloss, np.float64)
    gloss[inside] = 0.0
    mesh.colors, mesh.gloss = colors, gloss
    return mesh


#: A real mouth is in shadow: its inside keeps this much of its own light just behind the
#: lips (teeth, the tip of the tongue) and CAVITY_DEEP of it at the back (gums, throat).
CAVITY_FRONT = 0.5
CAVITY_DEEP = 0.08


def shade_cavity(mesh: RigMesh, inside: np.ndarray, depth: np.ndarray, mouth_width: float) -> RigMesh:
    """Shade the inside of a mouth the head brought itself (teeth, gums, tongue, a mouth
    bag): darker the deeper it lies behind the lips, and matte, as the mouth's own shadow
    makes it. Hidden at rest, so the closed face is unchanged."""
    if not inside.any():
        return mesh
    v = len(mesh.positions)
    colors = np.full((v, 3), 0.8) if mesh.colors is None else np.array(mesh.colors, np.float64)
    t = np.clip((depth[inside] - 0.12 * mouth_width) / (0.6 * mouth_width), 0.0, 1.0)
    light = CAVITY_FRONT + (CAVITY_DEEP - CAVITY_FRONT) * np.sqrt(t)
    colors[inside] *= light[:, None]
    gloss = np.full(v, 0.3) if mesh.gloss is None else np.array(mesh.gloss, np.float64)
    gloss[inside] = np.minimum(gloss[inside], 0.05)
    mesh.colors, mesh.gloss = colors, gloss
    return mesh


def open_fused_lips(mesh: RigMesh, marks: dict):
    """Cut fused lips apart along the lip line (:func:`face3d.mesh.autorig.lipcut.cut_lips`) and
    close the cut with a dark mouth bag.

    Returns (the extended mesh, (V_new,) jaw weights, the cut's description), or None when
    no cut could be made."""
    from face3d.mesh.autorig.lipcut import cut_lips

    p, weld = mesh.positions, mesh.weld
    v = len(p)
    cut = cut_lips(p, mesh.faces, marks)
    if cut is None:
        return None
    p2, faces2, parent, bag = cut["positions"], cut["faces"], cut["parent"], cut["bag"]
    n_new = len(p2) - v
    ext = parent[v:]
    base = np.full((v, 3), 0.8) if mesh.colors is None else np.asarray(mesh.colors, np.float64)
    colors = np.concatenate([base, base[ext]])
    colors[bag] = MOUTH_BAG_COLOR
    uvs = None if mesh.uvs is None else np.concatenate([mesh.uvs, mesh.uvs[ext]])
    g0 = np.full(v, 0.3) if mesh.gloss is None else np.asarray(mesh.gloss, np.float64)
    gloss = np.concatenate([g0, g0[ext]])
    gloss[bag] = 0.0
    # Normals: every copy at a lip vertex's point shades as that vertex (no crease at rest,
    # and the same as a reload that welds by position); only the bag's inner line is new.
    weld2 = np.concatenate([weld, weld[ext]])
    weld2[cut["deep"]] = weld.max() + 1 + np.arange(len(cut["deep"]))
    low_edge = np.flatnonzero(cut["lower"] & ~bag)
    # Jaw weights: each edge (and the bag lining it) apart from the other.
    follow = np.concatenate([weld, weld.max() + 1 + np.arange(n_new)])
    lower_dup = {int(parent[i]): i for i in low_edge}
    deep = set(cut["deep"].tolist())
    for i in np.flatnonzero(bag):
        if i in deep:
            continue
        src = lower_dup.get(int(parent[i])) if cut["lower"][i] else int(parent[i])
        if src is not None:
            follow[i] = follow[src]
    shapes = {name: np.concatenate([d, np.asarray(d)[ext]]) for name, d in mesh.shapes.items()}
    double_sided = mesh.double_sided or not edges_paired(weld2[faces2])
    opened = RigMesh(positions=p2, faces=faces2, weld=weld2, shapes=shapes, colors=colors, uvs=uvs,
                     gloss=gloss, double_sided=double_sided)
    # The cut's own edges decide: the upper one stays, the lower one goes with the jaw,
    # both easing to half way at the corners so the opening is rounded (a lens, not a slot).
    path = cut["path"]
    span = max(abs(p2[path[0], 0]), abs(p2[path[-1], 0]), 1e-9)

    def open_part(i):
        return float(np.clip(1.0 - (p2[i, 0] / span) ** 2, 0.0, 1.0) ** 0.35)

    seeds = {int(i): 0.5 - 0.5 * open_part(i) for i in path}
    seeds.update({int(i): 0.5 + 0.5 * open_part(i) for i in low_edge})
    return opened, jaw_weights(p2, faces2, marks, follow, seeds=seeds), cut
