"""Landmarks of a normalised head (+Y up, +Z forward): found on the mesh, or given.

Found (see :func:`detect_landmarks`):

* nose tip: the mid-line bump used for orientation;
* chin: walking down the mid-line profile from the nose, the last point before the profile
  falls far back (under the chin) or the mesh ends;
* lip line: the deepest notch of the mid-line profile between the nose and the chin (the
  gap between the lips); without a notch, 40 % of the way from the nose to the chin;
* mouth width: a third of the head's width at the nose; jaw pivot: behind the nose by
  about two thirds of the head width, level with the nose (in front of the ears).

Given, in the file's own coordinates and units, by a sidecar JSON (``head.landmarks.json``
next to ``head.obj``, or ``--landmarks FILE``) and by the ``--mouth``, ``--mouth-width`` and
``--jaw-pivot`` options::

    {"mouth": [0, -3.1, 9.2], "mouth_width": 5.0, "jaw_pivot": [0, 0.5, 1.0],
     "chin": [0, -7.5, 8.0], "nose_tip": [0, 1.2, 11.0]}
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from face3d.errors import FormatError, UsageError
from face3d.fileio import read_json
from face3d.mesh.orient.normalize import face_evidence, surface_samples


def detect_landmarks(positions: np.ndarray, faces: np.ndarray) -> dict:
    """Find nose tip, lip line, mouth width, chin and jaw pivot on a normalised head."""
    p = np.asarray(positions, np.float64)
    # The head is normalised to the unit sphere; a full-body avatar's body lies outside it:
    # sample the triangles near the head only (all of them for a head alone), so the face
    # gets as many samples as a head alone would
    f = np.asarray(faces, np.int64)
    at_head = (np.linalg.norm(p, axis=1) < 1.05)[f].any(1)
    pts = surface_samples(p, f[at_head] if at_head.sum() > 50 else f, 40000, seed=1)
    near = np.linalg.norm(pts, axis=1) < 1.05
    if near.sum() > 1000:
        pts = pts[near]
    p = p[np.linalg.norm(p, axis=1) < 1.05] if (np.linalg.norm(p, axis=1) < 1.05).sum() > 100 else p
    _, row, mid, u0, cell, width, _ = face_evidence(pts, 0.0)
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
    # The lips meet about 40 % of the way from the nose tip to the chin; a notch past 65 % is
    # the fold above the chin (on a smooth bust whose lips are one bump, the first notch).
    lowest = tip_i + 0.65 * (chin_i - tip_i)
    for a_, b_ in zip(peaks, peaks[1:]):
        # depth below the chord between the two bumps (faces recede downwards)
        chord = np.interp(np.arange(a_, b_ + 1), [a_, b_], [seg[a_], seg[b_]])
        depth = chord - seg[a_: b_ + 1]
        j = int(np.argmax(depth))
        if start + a_ + j > lowest:
            break
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


#: how far outside the head's bounding box a given landmark may lie, in head sizes
OUTSIDE_MARGIN = 0.25


def check_inside_head(given: dict, where: dict, positions, frame=None) -> None:
    """Refuse given landmarks (file coordinates) far outside the head's bounding box, and a
    mouth wider than the head: they would tear the mesh (a spike out of the skull)."""
    p = np.asarray(positions, np.float64)
    if frame is not None:  # back to the file's coordinates: old = new / scale @ rotation + centre
        p = p / frame.scale @ np.asarray(frame.rotation, np.float64) + frame.centre
    lo, hi = p.min(0), p.max(0)
    size = float((hi - lo).max())
    bounds = ", ".join(f"{a} {lo[i]:.4g}..{hi[i]:.4g}" for i, a in enumerate("xyz"))
    for key, value in given.items():
        what, error = where.get(key, (key, FormatError))
        if key == "mouth_width":
            if value > size:
                raise error(f"{what} {value:.4g} is wider than the head ({size:.4g} across at most; "
                            f"bounds {bounds} in the file's units); give the mouth's width in the file's units")
            continue
        v = np.asarray(value, np.float64)
        if np.any(v < lo - OUTSIDE_MARGIN * size) or np.any(v > hi + OUTSIDE_MARGIN * size):
            text = ",".join(f"{x:.4g}" for x in v)
            raise error(f"{what} {text} lies far outside the head (its bounds: {bounds} in the file's "
                        "coordinates); give a point on or inside the head, in the file's coordinates and units")


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
    where: dict = {}  # landmark -> how it was given, for messages
    if landmarks is not None:
        from_file = (read_landmark_file(landmarks) if not isinstance(landmarks, dict)
                     else check_landmarks(landmarks, "landmarks"))
        given.update(from_file)
        name = "landmarks" if isinstance(landmarks, dict) else f"landmark file {landmarks}"
        where.update({k: (f"'{k}' in {name}", FormatError) for k in from_file})
    if overrides:
        from_cli = check_landmarks(overrides, "command-line landmarks")
        given.update(from_cli)
        where.update({k: ("--" + k.replace("_", "-"), UsageError) for k in from_cli})
    if given:
        check_inside_head(given, where, positions, frame)
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
