"""Auto-rig: synthesise jawOpen, mouthWide, mouthPucker and mouthClose for a head that
lacks them, from a few landmarks found on the normalised mesh (+Y up, +Z forward).

Landmarks (see :func:`detect_landmarks`):

* nose tip: the mid-line bump used for orientation;
* chin: walking down the mid-line profile from the nose, the last point before the profile
  falls far back (under the chin) or the mesh ends;
* lip line: the deepest notch of the mid-line profile between the nose and the chin (the
  gap between the lips); without a notch, 40 % of the way from the nose to the chin;
* mouth width: a third of the head's width at the nose; jaw pivot: behind the nose by
  about two thirds of the head width, level with the nose (in front of the ears).

Shapes: jawOpen turns the lower face about the pivot, by an angle that falls off smoothly
above the line from the lip line to the pivot, below the chin (neck) and behind the
pivot; the upper face stays. mouthWide stretches the lips sideways, mouthPucker pushes them
forward and in, mouthClose presses them together. Where the lips are one fused surface
(triangles cross the lip line at the front of the mouth), the mouth is cut open along the
lip line and the opening is closed with a dark mouth bag, so jawOpen shows a real opening.

Landmarks can be given instead, in the file's own coordinates and units, by a sidecar
JSON (``head.landmarks.json`` next to ``head.obj``, or ``--landmarks FILE``) and by the
``--mouth``, ``--mouth-width`` and ``--jaw-pivot`` options::

    {"mouth": [0, -3.1, 9.2], "mouth_width": 5.0, "jaw_pivot": [0, 0.5, 1.0],
     "chin": [0, -7.5, 8.0], "nose_tip": [0, 1.2, 11.0]}
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from face3d.errors import FormatError
from face3d.fileio import read_json
from face3d.mesh.rig import SHAPES, Rig

#: jawOpen at weight 1 turns the jaw by this much.
JAW_ANGLE_DEG = 13.0
MOUTH_BAG_COLOR = (0.10, 0.025, 0.03)


def _smoothstep(e0, e1, x):
    t = np.clip((x - e0) / np.where(np.abs(e1 - e0) < 1e-12, 1e-12, e1 - e0), 0.0, 1.0)
    return t * t * (3 - 2 * t)


# ------------------------------------------------------------------ landmarks
def detect_landmarks(positions: np.ndarray, faces: np.ndarray) -> dict:
    """Find nose tip, lip line, mouth width, chin and jaw pivot on a normalised head."""
    from face3d.mesh.normalize import _face_evidence, surface_samples

    p = np.asarray(positions, np.float64)
    pts = surface_samples(p, faces, 40000, seed=1)
    # The head is normalised to the unit sphere; a full-body avatar's body lies outside it.
    near = np.linalg.norm(pts, axis=1) < 1.05
    if near.sum() > 1000:
        pts = pts[near]
    p = p[np.linalg.norm(p, axis=1) < 1.05] if (np.linalg.norm(p, axis=1) < 1.05).sum() > 100 else p
    _, row, mid, u0, cell, width, _ = _face_evidence(pts, 0.0)
    head_w = float(width[row])
    nose_y = float(u0 + (row + 0.5) * cell)
    # Fine mid-line profile (max z per thin y bin) from above the nose down.
    band = np.concatenate([pts, p])
    band = band[np.abs(band[:, 0]) < 0.04 * head_w]
    h = head_w / 200.0
    top = nose_y + 0.15 * head_w
    n_bins = int(np.ceil(1.15 * head_w / h))
    ys = top - (np.arange(n_bins) + 0.5) * h
    prof = np.full(n_bins, -np.inf)
    idx = ((top - band[:, 1]) / h).astype(int)
    ok = (band[:, 1] <= top) & (idx < n_bins)
    np.maximum.at(prof, idx[ok], band[ok, 2])
    valid = np.isfinite(prof)
    if valid.sum() >= 2:
        prof = np.interp(np.arange(n_bins), np.flatnonzero(valid), prof[valid], left=-np.inf, right=-np.inf)
    # A 3-bin median removes single-bin dips where a thin bin caught only inner surfaces.
    if n_bins >= 3:
        stack = np.stack([np.roll(prof, 1), prof, np.roll(prof, -1)])
        stack[0, 0], stack[2, -1] = prof[0], prof[-1]
        med = np.sort(stack, axis=0)[1]
        prof = np.where(np.isfinite(med), med, prof)
    # Nose tip: the most forward mid-line point near the coarse nose row.
    near_nose = int(0.3 * head_w / h)
    tip_i = int(np.argmax(np.where(np.isfinite(prof[:near_nose]), prof[:near_nose], -np.inf)))
    nose_y, nose_z = float(ys[tip_i]), float(prof[tip_i])
    # Chin: last bin before the profile falls far behind the nose (or the mesh ends).
    deep = nose_z - 0.3 * head_w
    chin_i = tip_i + 4
    r = 3  # a few bins of max filter bridge thin gaps in the sampling
    filt = np.array([np.max(prof[max(i - r, 0): i + r + 1]) for i in range(n_bins)])
    for i in range(tip_i, n_bins):
        if not np.isfinite(filt[i]) or filt[i] < deep:
            if i > tip_i + 0.12 * head_w / h:
                break
            continue
        chin_i = i
    span = nose_y - ys[chin_i]
    # Lips: the first two bumps of the profile below the nose; the lip line is the
    # deepest point between them. Without two bumps: 40 % of the way to the chin.
    k = max(int(0.015 * head_w / h), 1)
    start = tip_i + int(0.06 * head_w / h)
    seg = prof[start: chin_i + 1]
    peaks = []
    for i in range(k, len(seg) - 1):
        lo_, hi_ = max(i - k, 0), min(i + k + 1, len(seg))
        if np.isfinite(seg[i]) and seg[i] >= np.max(seg[lo_:hi_]) and (not peaks or i - peaks[-1] > k):
            peaks.append(i)
    lip_i = None
    thr = 0.004 * head_w
    best_notch = 0.0
    for a_, b_ in zip(peaks, peaks[1:]):
        # depth below the chord between the two bumps (faces recede downwards)
        chord = np.interp(np.arange(a_, b_ + 1), [a_, b_], [seg[a_], seg[b_]])
        depth = chord - seg[a_: b_ + 1]
        j = int(np.argmax(depth))
        if depth[j] > thr:
            lip_i, best_notch = start + a_ + j, float(depth[j])
            break
    if lip_i is None:
        lip_i = tip_i + int(round(0.4 * (chin_i - tip_i)))
    lip_y = float(ys[lip_i])
    w2 = max(int(0.04 * head_w / h), 1)
    near = prof[max(lip_i - w2, 0): lip_i + w2 + 1]
    lip_z = float(np.max(near[np.isfinite(near)])) if np.isfinite(near).any() else nose_z - 0.1 * head_w
    chin_z = float(prof[chin_i]) if np.isfinite(prof[chin_i]) else lip_z
    return {
        "nose_tip": [0.0, nose_y, nose_z],
        "mouth": [0.0, lip_y, lip_z],
        "mouth_width": 0.33 * head_w,
        "chin": [0.0, float(ys[chin_i]), chin_z],
        "jaw_pivot": [0.0, nose_y + 0.05 * span, nose_z - 0.62 * head_w],
        "head_width": head_w,
        "lip_notch": float(best_notch),
    }


def read_landmark_file(path) -> dict:
    p = Path(path)
    data = read_json(p, "landmark file", "--landmarks")
    if not isinstance(data, dict):
        raise FormatError(f"landmark file {p} must hold a JSON object such as {{\"mouth\": [0, -3, 9]}}")
    return check_landmarks(data, str(p))


def check_landmarks(data: dict, where: str) -> dict:
    out = {}
    for key, value in data.items():
        if key in ("mouth", "jaw_pivot", "chin", "nose_tip", "mouth_left", "mouth_right"):
            if not (isinstance(value, (list, tuple)) and len(value) == 3
                    and all(isinstance(v, (int, float)) and np.isfinite(v) for v in value)):
                raise FormatError(f"{where}: '{key}' must be [x, y, z] in the head file's coordinates")
            out[key] = [float(v) for v in value]
        elif key == "mouth_width":
            if not (isinstance(value, (int, float)) and value > 0):
                raise FormatError(f"{where}: 'mouth_width' must be a positive number in the head file's units")
            out[key] = float(value)
        elif key in ("units", "comment", "note", "_comment"):
            continue
        else:
            raise FormatError(
                f"{where}: unknown landmark '{key}'; use mouth, mouth_width, mouth_left, mouth_right, jaw_pivot, chin, nose_tip"
            )
    return out


def resolve_landmarks(positions, faces, frame=None, source: Path | None = None, landmarks=None,
                      overrides=None) -> dict:
    """Detected landmarks, replaced by a sidecar / --landmarks JSON and CLI overrides
    (given in file coordinates; converted with ``frame``)."""
    marks = detect_landmarks(positions, faces)
    given: dict = {}
    if landmarks is None and source is not None:
        side = Path(source).with_suffix(".landmarks.json")
        if side.is_file():
            landmarks = side
    if landmarks is not None:
        given.update(read_landmark_file(landmarks) if not isinstance(landmarks, dict)
                     else check_landmarks(landmarks, "landmarks"))
    if overrides:
        given.update(check_landmarks(overrides, "command-line landmarks"))
    if given:
        def to_rig(p):
            return frame.apply(np.asarray([p], float))[0].tolist() if frame is not None else list(p)

        scale = frame.scale if frame is not None else 1.0
        if "mouth_left" in given and "mouth_right" in given:
            a, b = np.asarray(to_rig(given["mouth_left"])), np.asarray(to_rig(given["mouth_right"]))
            marks["mouth"] = ((a + b) / 2).tolist()
            marks["mouth_width"] = float(np.linalg.norm(a - b))
        for key in ("mouth", "jaw_pivot", "chin", "nose_tip"):
            if key in given:
                marks[key] = to_rig(given[key])
        if "mouth_width" in given:
            marks["mouth_width"] = given["mouth_width"] * scale
        if "mouth" in given and "jaw_pivot" not in given:
            m = marks["mouth"]
            marks["jaw_pivot"] = [0.0, m[1] + 0.7 * marks["mouth_width"], m[2] - 2.0 * marks["mouth_width"]]
        marks["given"] = sorted(given)
    return marks


# ------------------------------------------------------------------ weights
def _jaw_side(p: np.ndarray, marks: dict) -> np.ndarray:
    """Signed distance below the line from the lip line to the jaw pivot (side view)."""
    m = np.asarray(marks["mouth"])
    piv = np.asarray(marks["jaw_pivot"])
    d = np.array([piv[1] - m[1], piv[2] - m[2]])
    d /= max(np.linalg.norm(d), 1e-9)
    n = np.array([d[1], -d[0]])
    if n[0] > 0:
        n = -n
    return (p[:, 1] - m[1]) * n[0] + (p[:, 2] - m[2]) * n[1]


def jaw_weights(p: np.ndarray, marks: dict, hard_mouth: bool = False, sides=None) -> np.ndarray:
    mw = marks["mouth_width"]
    m = np.asarray(marks["mouth"])
    piv = np.asarray(marks["jaw_pivot"])
    chin = np.asarray(marks["chin"])
    s = _jaw_side(p, marks)
    ax = np.abs(p[:, 0])
    eps = 0.06 * mw + 0.5 * np.maximum(ax - 0.5 * mw, 0)
    w1 = _smoothstep(-eps, eps, s)
    if hard_mouth:
        inside = (ax < 0.6 * mw) & (p[:, 2] > m[2] - 0.8 * mw)
        w1 = np.where(inside, (s > 0).astype(float), w1)
    if sides is not None:
        # Separate lips: everything on the lower lip's surface goes with the jaw, the upper stays.
        _, lower, upper = sides
        w1 = np.where(lower, 1.0, np.where(upper, 0.0, w1))
    drop = chin[1] - p[:, 1]
    w2 = 1.0 - _smoothstep(0.0, 1.2 * mw, drop)
    w3 = _smoothstep(piv[2] - 0.2 * mw, piv[2] + 0.6 * mw, p[:, 2])
    return w1 * w2 * w3


def _mouth_gauss(p, marks, sx, sy, back):
    m = np.asarray(marks["mouth"])
    mw = marks["mouth_width"]
    g = np.exp(-((p[:, 0] / (sx * mw)) ** 2 + ((p[:, 1] - m[1]) / (sy * mw)) ** 2))
    return g * _smoothstep(m[2] - back * mw, m[2] - 0.1 * mw, p[:, 2])


def synthesise(p: np.ndarray, marks: dict, parent_weight: np.ndarray | None = None,
               hard_mouth: bool = False, sides=None) -> dict:
    """{shape: (V, 3) delta} for face3d's four shapes."""
    mw = marks["mouth_width"]
    m = np.asarray(marks["mouth"])
    piv = np.asarray(marks["jaw_pivot"])
    out = {}
    w = jaw_weights(p, marks, hard_mouth, sides) if parent_weight is None else parent_weight
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
    pk[:, 0] = -0.3 * p[:, 0] * g
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


# ------------------------------------------------------------------ mouth opening
def _components(n: int, edges: np.ndarray) -> np.ndarray:
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
    e = np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]])
    e = e[(e >= 0).all(1)]
    labels = _components(len(idx), e)
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
    below = _jaw_side(p, marks) > 0
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
    def edges(f):
        return np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]])

    kept_e = edges(keep)
    kept_set = {(int(a), int(b)) for a, b in kept_e}
    bound = [(int(a), int(b)) for a, b in edges(cut) if (int(b), int(a)) in kept_set or (int(a), int(b)) in kept_set]
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


# ------------------------------------------------------------------ the rig
def complete_rig(positions, faces, normals, raw, shapes: dict, info: dict, *, landmarks=None,
                 landmark_overrides=None, frame=None, colors=None, uvs=None, texture=None,
                 double_sided=True, gloss=None) -> Rig:
    """Fill in face3d's missing shapes (and open fused lips when jawOpen is synthesised)."""
    from face3d.mesh.load import welded_normals

    p = np.asarray(positions, np.float64)
    faces = np.asarray(faces, np.int64)
    weld = np.asarray(raw.weld, np.int64)
    v = len(p)
    skip = set(info.get("map_synthesise", []))
    missing = [s for s in SHAPES if s not in shapes or s in skip]
    synth = {}
    if missing:
        marks = resolve_landmarks(p, faces, frame=frame, source=raw.path, landmarks=landmarks,
                                  overrides=landmark_overrides)
        hard = False
        sides = lip_sides(p, faces, marks) if "jawOpen" in missing else None
        info["lips"] = "separate" if sides is not None else "fused"
        if "jawOpen" in missing and sides is None:
            strip = fused_strip(p, faces, marks)
            if strip.sum() >= 2:
                hard = True
                p2, faces2, parent, is_bag = open_mouth(p, faces, strip, marks)
                n_new = len(p2) - v
                if n_new:
                    info["mouth_opened"] = {"removed_triangles": int(strip.sum()), "bag_vertices": int(n_new)}
                    for name in list(shapes):
                        shapes[name] = np.concatenate([shapes[name], np.zeros((n_new, 3), np.float32)])
                    ext = np.where(parent[v:] >= 0, parent[v:], 0)
                    colors = None if colors is None else np.concatenate([colors, np.tile(MOUTH_BAG_COLOR, (n_new, 1))])
                    if colors is None:
                        colors = np.concatenate([np.full((v, 3), 0.8), np.tile(MOUTH_BAG_COLOR, (n_new, 1))])
                    else:
                        colors[v:] = MOUTH_BAG_COLOR
                    if uvs is not None:
                        uvs = np.concatenate([uvs, uvs[ext]])
                    gloss = np.concatenate([np.full(v, 0.3) if gloss is None else gloss, np.zeros(n_new)])
                    # bag copies on the lip edge share the lip's normal; the rest are new points
                    extra = weld.max() + 1 + np.arange(n_new)
                    extra[: (n_new - 1) // 2] = weld[ext[: (n_new - 1) // 2]]
                    weld = np.concatenate([weld, extra])
                    base_w = jaw_weights(p, marks, hard_mouth=True)
                    w_new = np.where(parent[v:] >= 0, base_w[ext], 0.5)
                    p, faces = p2, faces2
                    if not double_sided:
                        # a closed head stays closed (and culled) when the bag is stitched in:
                        # every directed edge must meet its reverse
                        fw = weld[faces]
                        e = np.concatenate([fw[:, [0, 1]], fw[:, [1, 2]], fw[:, [2, 0]]])
                        n_ = int(fw.max()) + 1
                        double_sided = not np.isin(e[:, 1] * n_ + e[:, 0], e[:, 0] * n_ + e[:, 1]).all()
                    weights = np.concatenate([base_w, w_new])
                    synth = synthesise(p, marks, parent_weight=weights)
        if not synth:
            synth = synthesise(p, marks, hard_mouth=hard, sides=sides)
        for s in missing:
            shapes[s] = synth[s]
        info["landmarks"] = {k: (val if k == "given" else
                                 np.round(np.asarray(val, float), 5).tolist())
                             for k, val in marks.items()}
    info["synthesised"] = missing
    info.setdefault("found", {})
    positions = p.astype(np.float32)
    normals = welded_normals(positions, faces, weld)
    names = tuple(s for s in SHAPES if s in shapes)
    d = np.array([shapes[n] for n in names], np.float32).reshape(len(names), len(p), 3)
    nd = np.zeros_like(d)
    for i in range(len(names)):
        if np.abs(d[i]).max() > 0:
            nd[i] = welded_normals(positions + d[i], faces, weld) - normals
    rig = Rig(positions=positions, normals=normals, faces=faces, names=names, deltas=d, normal_deltas=nd,
              colors=colors, gloss=gloss, uvs=uvs, texture=texture, double_sided=double_sided, info=info)
    return rig
