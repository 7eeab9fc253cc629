"""Framing a character on its face from its skeleton: the head joint says where the head is,
the skeleton (or the VRM spec) which way is up and which way it faces.

The head region is everything from a little below the head joint (the chin and neck) to the
top of the head (hair included) near the head joint; it is what the camera frames and what
the normalised frame is scaled to, as for the full-body figures found by shape alone
(:func:`face3d.mesh.orient.normalize.detect_frame`).
"""

from __future__ import annotations

import numpy as np

from face3d.mesh.orient.normalize import Frame, axis_name, detect_frame, parse_axis


def _snap(v: np.ndarray) -> np.ndarray:
    out = np.zeros(3)
    i = int(np.argmax(np.abs(v)))
    out[i] = 1.0 if v[i] > 0 else -1.0
    return out


def head_region(positions: np.ndarray, up: np.ndarray, head: np.ndarray) -> np.ndarray:
    """(V,) bool: the vertices of the head (from just below the chin to the top of the hair)."""
    p = np.asarray(positions, np.float64)
    h = p @ up
    h0 = float(np.dot(head, up))
    lateral = p - np.outer(h, up)
    dist = np.linalg.norm(lateral - (head - h0 * up), axis=1)
    stature = max(h0 - h.min(), 1e-9)
    above = (h >= h0) & (dist < 0.35 * stature)
    if not above.any():
        return dist < 0.35 * stature
    top = float(h[above].max())
    size = max(top - h0, 0.05 * stature)
    return (h >= h0 - 0.3 * size) & (dist < 0.8 * size)


def with_axes(hints: dict, up=None, forward=None) -> dict:
    """The skeleton's hints with ``--up`` / ``--forward`` (axis names or vectors) put in
    their place; a skeleton forward that is no longer perpendicular to up is dropped (the
    face decides it)."""
    out = dict(hints)
    if up is not None:
        out["up"] = parse_axis(up, "--up") if isinstance(up, str) else np.asarray(up, float)
    if forward is not None:
        out["forward"] = parse_axis(forward, "--forward") if isinstance(forward, str) else np.asarray(forward, float)
    fw = out.get("forward")
    if fw is not None and abs(np.dot(_snap(np.asarray(fw, float)), _snap(np.asarray(out["up"], float)))) > 0.5:
        if forward is not None:
            out["up"] = hints["up"] if up is None else out["up"]
            if abs(np.dot(_snap(np.asarray(out["forward"], float)), _snap(np.asarray(out["up"], float)))) > 0.5:
                out.pop("up")  # --up and --forward along one axis: detect_frame says so
        else:
            out.pop("forward")
    return out


def head_frame(positions: np.ndarray, faces: np.ndarray, hints: dict) -> Frame | None:
    """The frame that puts a skeleton's head at the origin, unit size, facing +Z; None when
    the hints do not name a head (or its region is empty)."""
    if "head" not in hints or "up" not in hints:
        return None
    up = _snap(np.asarray(hints["up"], np.float64))
    head = np.asarray(hints["head"], np.float64)
    region = head_region(positions, up, head)
    if region.sum() < 10:
        if hints.get("forward") is None:
            return None
        region = np.ones(len(positions), bool)  # a skeleton beside its mesh: frame it all
    info: dict = {}
    fw = hints.get("forward")
    if fw is None:
        # no skeleton witness for the facing: look for the face on the head alone
        keep = region[np.asarray(faces)].all(1)
        if keep.sum() < 10:
            return None
        sub = detect_frame(positions, np.asarray(faces)[keep], up=axis_name(up))
        fw = sub.rotation[2]
        info["facing"] = "the face"
    else:
        info["facing"] = hints.get("facing", "skeleton")
    fw = np.asarray(fw, np.float64)
    fw = _snap(fw - np.dot(fw, up) * up)
    lat = np.cross(up, fw)
    rot = np.stack([lat, up, fw])
    q = np.asarray(positions, np.float64)[region] @ rot.T
    lo, hi = q.min(0), q.max(0)
    centre_new = (lo + hi) / 2
    radius = float(np.linalg.norm(q - centre_new, axis=1).max())
    allq = np.asarray(positions, np.float64) @ rot.T
    full_body = bool(np.ptp(allq[:, 1]) > 2.0 * (hi[1] - lo[1]))
    info.update(up=axis_name(up), forward=axis_name(fw), scale=1.0 / max(radius, 1e-12),
                full_body=full_body, head_joint=[round(float(x), 5) for x in head])
    info["frame_center"] = [0.0, 0.0, 0.0]
    info["frame_radius"] = 1.0
    return Frame(rotation=rot, centre=centre_new @ rot, scale=1.0 / max(radius, 1e-12), info=info)
