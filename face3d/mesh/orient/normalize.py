"""Normalisation: move any head into face3d's frame (+Y up, +Z forward, centred, unit size).

Which way is up and which way the face looks are found from the shape, not from the
front-most vertex (a monkey's brow or an avatar's shoe would win that):

1. the left-right axis is the coordinate axis the surface is most mirror-symmetric about;
2. a full-body figure (one remaining axis much longer than the other) stands along its long
   axis with its head at the end where a face is found (each end searched with its own
   symmetry plane; the narrower end wins near-ties); only the head is used from then on,
   and it is what the camera frames;
3. the face is on the side that, seen head-on, has a narrow bump on the mid-line (the nose)
   standing out from the surface beside it: per row of a depth image, mid-line height minus
   the height a fifth of the row's width to either side; a bump without a saddle each way
   along the mid-line (:func:`face3d.mesh.orient.profile.saddles`: a crown seen from above a
   wide base) counts half;
4. up is the way the head is wider just beyond the nose (cheekbones, eyes, temples, ears)
   rather than narrower (mouth and jaw), unless the nose's own profile (it falls away
   steeply toward the mouth) clearly says otherwise.

Files are assumed to be axis-aligned (any of the 24 axis conventions); ``--up`` and
``--forward`` override either or both.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from face3d.errors import UsageError
from face3d.mesh.orient.profile import SADDLE, nose_drop, saddles, smooth01

_AXIS_NAMES = {"x": 0, "y": 1, "z": 2}


def parse_axis(text: str | None, option: str) -> np.ndarray | None:
    """'+y', 'y', '-Z' -> unit vector; None -> None."""
    if text is None or text == "":
        return None
    t = str(text).strip().lower().replace(" ", "")
    sign = -1.0 if t.startswith("-") else 1.0
    t = t.lstrip("+-")
    if t not in _AXIS_NAMES:
        raise UsageError(f"{option} '{text}' is not an axis; use one of +x, -x, +y, -y, +z, -z")
    v = np.zeros(3)
    v[_AXIS_NAMES[t]] = sign
    return v


def axis_name(v) -> str:
    i = int(np.argmax(np.abs(v)))
    return ("+" if v[i] > 0 else "-") + "xyz"[i]


@dataclass
class Frame:
    """new = scale * rotation @ (old - centre)."""

    rotation: np.ndarray
    centre: np.ndarray
    scale: float
    info: dict = field(default_factory=dict)

    def apply(self, positions: np.ndarray) -> np.ndarray:
        return (np.asarray(positions, np.float64) - self.centre) @ self.rotation.T * self.scale

    def apply_vectors(self, vectors: np.ndarray) -> np.ndarray:
        return np.asarray(vectors, np.float64) @ self.rotation.T * self.scale


def surface_samples(positions: np.ndarray, faces: np.ndarray, n: int = 30000, seed: int = 0) -> np.ndarray:
    """Area-weighted random points on the surface (deterministic)."""
    p = np.asarray(positions, np.float64)
    f = np.asarray(faces, np.int64)
    a, b, c = p[f[:, 0]], p[f[:, 1]], p[f[:, 2]]
    area = np.linalg.norm(np.cross(b - a, c - a), axis=1)
    total = area.sum()
    rng = np.random.default_rng(seed)
    if not total > 0:
        return p[np.unique(f)]
    idx = rng.choice(len(f), size=n, p=area / total)
    r1, r2 = rng.random(n), rng.random(n)
    s = np.sqrt(r1)
    w0, w1, w2 = 1 - s, s * (1 - r2), s * r2
    return a[idx] * w0[:, None] + b[idx] * w1[:, None] + c[idx] * w2[:, None]


def symmetry_scores(points: np.ndarray, res: int = 40) -> np.ndarray:
    """(3,) fraction of the surface that has a mirror image across the mid-plane of each axis."""
    lo, hi = points.min(0), points.max(0)
    cell = (hi - lo).max() / res
    dims = np.maximum(np.ceil((hi - lo) / cell).astype(int), 1)
    idx = np.minimum(((points - lo) / cell).astype(int), dims - 1)
    occ = np.zeros(dims, bool)
    occ[idx[:, 0], idx[:, 1], idx[:, 2]] = True
    dil = occ.copy()
    for ax in range(3):
        d = dil.copy()
        if dims[ax] > 1:
            sl = [slice(None)] * 3
            sl2 = [slice(None)] * 3
            sl[ax], sl2[ax] = slice(1, None), slice(None, -1)
            d[tuple(sl)] |= dil[tuple(sl2)]
            d[tuple(sl2)] |= dil[tuple(sl)]
        dil = d
    total = occ.sum()
    return np.array([(np.flip(occ, ax) & dil).sum() / total for ax in range(3)])


def _depth_image(q: np.ndarray, bins: int = 48):
    """q: (N, 3) in (lateral, up, forward) coordinates -> max-forward image (rows: up, cols: lateral)."""
    lo, hi = q[:, :2].min(0), q[:, :2].max(0)
    cell = max((hi - lo).max() / bins, 1e-12)
    dims = np.maximum(np.ceil((hi - lo) / cell).astype(int), 1) + 1
    ix = np.minimum(((q[:, 0] - lo[0]) / cell).astype(int), dims[0] - 1)
    iu = np.minimum(((q[:, 1] - lo[1]) / cell).astype(int), dims[1] - 1)
    img = np.full((dims[1], dims[0]), -np.inf)
    np.maximum.at(img, (iu, ix), q[:, 2])
    # 3x3 max filter closes the gaps between sparse samples.
    out = img.copy()
    for du in (-1, 0, 1):
        for dx in (-1, 0, 1):
            sh = np.full_like(img, -np.inf)
            ys = slice(max(du, 0), img.shape[0] + min(du, 0))
            yd = slice(max(-du, 0), img.shape[0] + min(-du, 0))
            xs = slice(max(dx, 0), img.shape[1] + min(dx, 0))
            xd = slice(max(-dx, 0), img.shape[1] + min(-dx, 0))
            sh[yd, xd] = img[ys, xs]
            out = np.maximum(out, sh)
    return out, lo, cell


def face_evidence(q: np.ndarray, x_mid: float):
    """For points in (lateral, up, forward) coords: (nose score, nose row u, mid-line profile, u0, cell, widths)."""
    img, lo, cell = _depth_image(q)
    rows, cols = img.shape
    valid = np.isfinite(img)
    width = np.zeros(rows)
    left = np.full(rows, np.nan)
    right = np.full(rows, np.nan)
    for r in range(rows):
        c = np.flatnonzero(valid[r])
        if len(c):
            width[r] = (c[-1] - c[0] + 1) * cell
            left[r], right[r] = c[0], c[-1]
    cmid = int(round((x_mid - lo[0]) / cell))
    cmid = min(max(cmid, 0), cols - 1)
    mid = img[:, max(cmid - 1, 0): cmid + 2].max(1)
    score = np.full(rows, -np.inf)
    wmax = width.max()
    for r in range(rows):
        if width[r] < 0.25 * wmax or not np.isfinite(mid[r]):
            continue
        off = max(int(round(0.2 * width[r] / cell)), 2)
        cl, cr = cmid - off, cmid + off
        if cl < 0 or cr >= cols:
            continue
        # Both sides must be reached over a continuous surface (no silhouette jump).
        seg = img[r, cl: cr + 1]
        if not np.isfinite(seg).all() or np.abs(np.diff(seg)).max() > 4 * cell:
            continue
        score[r] = (mid[r] - 0.5 * (seg[0] + seg[-1])) / width[r]
    # A nose is a ridge over several rows; a chin or a lip is a shorter one.
    filled = np.where(np.isfinite(score), score, 0.0)
    k = max(int(round(0.12 * np.median(width[width > 0]) / cell)), 1)
    smooth = np.convolve(filled, np.ones(2 * k + 1) / (2 * k + 1), mode="same")
    centre = int(np.argmax(smooth))
    lo_r, hi_r = max(centre - k, 0), min(centre + k + 1, rows)
    best = lo_r + int(np.argmax(filled[lo_r:hi_r]))
    return float(smooth[centre]), best, mid, lo[1], cell, width, score


def _view_score(q_all: np.ndarray, lat: int, fv: np.ndarray, full_body: bool):
    """Face evidence for the head seen along ``fv`` with ``lat`` left-right: (score, up
    axis, nose row, mid-line profile, u0, cell, row widths, row scores, the score before
    the saddle check)."""
    fa = int(np.argmax(np.abs(fv)))
    ua = [a for a in range(3) if a not in (fa, lat)][0]
    q = np.stack([q_all[:, lat], q_all[:, ua], q_all[:, fa] * fv[fa]], 1)
    score, row, mid, u0, cell, width, rows = face_evidence(q, 0.0 if not full_body else float(np.median(q[:, 0])))
    raw = score
    if np.isfinite(score) and score > 0:
        # a nose has a saddle on each side along the mid-line (the bridge below the brow,
        # the dip above the lip); a dome (a crown seen from above a base) falls away
        # without one: half the score
        dip = min(saddles(q, u0 + (row + 0.5) * cell, float(width[row])))
        score *= 0.5 + 0.5 * smooth01(dip, 0.0, SADDLE)
    return score, ua, row, mid, u0, cell, width, rows, raw


def _body_end(pts, centre0, long_ax, lat, fw_v, span, h, narrow):
    """Which end of a full-body figure holds the face: (up sign, region, lateral axis).
    Each end's top 14 % is searched for a face (its own symmetry plane, each way it may
    look); the narrower end wins near-ties."""
    best = None
    for sign in (1.0, -1.0):
        reg = np.abs(h - (h.max() if sign > 0 else h.min())) < 0.14 * span
        if reg.sum() < 50:
            continue
        others = [a for a in range(3) if a != long_ax]
        if fw_v is not None:
            lat_r = [a for a in others if abs(fw_v[a]) < 0.5][0]
            views = [fw_v]
        else:
            sym = symmetry_scores(pts[reg])
            lat_r = max(others, key=lambda a: sym[a])
            fa = [a for a in others if a != lat_r][0]
            views = [np.eye(3)[fa] * sg for sg in (1.0, -1.0)]
        q_all = pts[reg] - centre0
        sc = max(_view_score(q_all, lat_r, v, True)[0] for v in views)
        sc = sc * (1.1 if sign == narrow else 1.0)
        if best is None or sc > best[0]:
            best = (sc, sign, reg, lat_r)
    if best is None:
        return narrow, np.abs(h - (h.max() if narrow > 0 else h.min())) < 0.14 * span, lat
    return best[1], best[2], best[3]


def detect_frame(positions: np.ndarray, faces: np.ndarray, up=None, forward=None) -> Frame:
    """Find the rotation, centre and scale that put the head in face3d's frame."""
    pts = surface_samples(positions, faces)
    info: dict = {}
    up_v = parse_axis(up, "--up") if isinstance(up, str) or up is None else np.asarray(up, float)
    fw_v = parse_axis(forward, "--forward") if isinstance(forward, str) or forward is None else np.asarray(forward, float)
    if up_v is not None and fw_v is not None and abs(np.dot(up_v, fw_v)) > 1e-6:
        raise UsageError(f"--up {axis_name(up_v)} and --forward {axis_name(fw_v)} are not perpendicular; choose two different axes")
    centre0 = (pts.min(0) + pts.max(0)) / 2
    ext = pts.max(0) - pts.min(0)
    region = np.ones(len(pts), bool)
    full_body = False

    if up_v is None or fw_v is None:
        given = [int(np.argmax(np.abs(v))) for v in (up_v, fw_v) if v is not None]
        sym = symmetry_scores(pts)
        free = [a for a in range(3) if a not in given]
        lat = max(free, key=lambda a: sym[a])
        info["symmetry"] = [round(float(s), 3) for s in sym]
        rest = [a for a in range(3) if a != lat]
        # Full-body figures: stand along the long axis, head at the narrow end.
        if up_v is None and (fw_v is None or int(np.argmax(np.abs(fw_v))) in rest):
            a, b = rest
            long_ax, short_ax = (a, b) if ext[a] >= ext[b] else (b, a)
            if fw_v is not None:
                long_ax = [r for r in rest if r != int(np.argmax(np.abs(fw_v)))][0]
                short_ax = int(np.argmax(np.abs(fw_v)))
            if ext[long_ax] > 2.2 * ext[short_ax]:
                full_body = True
                h = pts[:, long_ax]
                lo_, hi_ = h.min(), h.max()
                span = hi_ - lo_
                top = pts[h > hi_ - 0.1 * span]
                bot = pts[h < lo_ + 0.1 * span]
                narrow = 1.0 if np.ptp(top[:, lat]) <= np.ptp(bot[:, lat]) else -1.0
                sign, region, lat = _body_end(pts, centre0, long_ax, lat, fw_v, span, h, narrow)
                rest = [a for a in range(3) if a != lat]
                up_v = np.zeros(3)
                up_v[long_ax] = sign
        if up_v is None or fw_v is None:
            cands = []
            if fw_v is not None:
                cands = [fw_v]
            else:
                for ax in rest:
                    if up_v is not None and np.abs(up_v[ax]) > 0.5:
                        continue
                    for s in (1.0, -1.0):
                        v = np.zeros(3)
                        v[ax] = s
                        cands.append(v)
            q_all = pts[region] - centre0
            best = None
            all_scores = []
            for fv in cands:
                fa = int(np.argmax(np.abs(fv)))
                score, ua, row, mid, u0, cell, width, rows, raw = _view_score(q_all, lat, fv, full_body)
                # Slight preference for the common +Z forward convention on near-ties.
                bonus = 1.05 if fa == 2 and fv[fa] > 0 else 1.0
                all_scores.append(raw)  # is there a face at all: before the saddle check
                if best is None or score * bonus > best[0]:
                    best = (score * bonus, fv, ua, row, mid, u0, cell, width, score, rows)
            _, fw_best, ua, row, mid, u0, cell, width, raw_score, rows = best
            info["nose_score"] = round(float(raw_score), 3)
            ranked = sorted(all_scores, reverse=True)
            confident = ranked[0] >= 0.11 or len(ranked) == 1 or ranked[0] >= 1.5 * max(ranked[1], 1e-9)
            info["confident"] = bool(confident)
            if not confident and up_v is None and fw_v is None and lat == 0 and not full_body:
                # No clear face: keep the file's own axes (the glTF / OBJ convention).
                up_v, fw_v = np.array([0.0, 1.0, 0.0]), np.array([0.0, 0.0, 1.0])
                info["fallback"] = "no clear face found; kept the file's +Y up, +Z forward (use --up/--forward)"
                info["note"] = "no clear face found: kept the file's +Y up, +Z forward; pass --up/--forward if it looks wrong"
            elif not confident and fw_v is None:
                info["note"] = "no clear face found: the way it looks is a guess; pass --up/--forward if it looks wrong"
            if fw_v is None:
                fw_v = fw_best
            if up_v is None:
                # Beside and above the nose lie the cheekbones, eyes, temples and ears: the
                # head is wider there than at the mouth and jaw just below the nose.
                ev = []
                for d in (1, -1):
                    acc = []
                    for frac in np.linspace(0.03, 0.4, 14):
                        r2 = row + d * max(int(round(frac * width[row] / cell)), 1)
                        acc.append(width[r2] if 0 <= r2 < len(width) else 0.0)
                    ev.append(float(np.mean(acc)) / width[row])
                sign = 1.0 if ev[0] >= ev[1] else -1.0
                info["up_evidence"] = [round(x, 3) for x in ev]
                # A second witness from the face itself: the nose falls away steeply toward
                # the mouth and gently toward the brow. It decides when the widths barely
                # differ (a bust's base, hair or a beard as wide as the face).
                nu = u0 + (row + 0.5) * cell
                qn = np.stack([q_all[:, lat], q_all[:, ua], q_all[:, int(np.argmax(np.abs(fw_v)))] * fw_v[int(np.argmax(np.abs(fw_v)))]], 1)
                nose = nose_drop(qn, nu, float(width[row]))
                info["nose_drop"] = round(nose, 3)
                contrast = abs(ev[0] - ev[1]) / max(max(ev), 1e-9)
                width_weak = contrast < 0.05
                # a very clear nose outranks the widths, which a base, hair or a beard can
                # make larger below the nose than above it
                if (width_weak and abs(nose) > 0.03) or (contrast < 0.25 and abs(nose) > 0.05) or abs(nose) > 0.06:
                    sign = 1.0 if nose > 0 else -1.0
                elif width_weak or (abs(nose) > 0.015 and (nose > 0) != (sign > 0)):
                    info["note"] = ("the face's up direction is uncertain (head width and nose disagree or "
                                    "are unclear); if the face looks upside down, pass --up/--forward")
                up_v = np.zeros(3)
                up_v[ua] = sign

    up_v = up_v / np.linalg.norm(up_v)
    fw_v = fw_v / np.linalg.norm(fw_v)
    lat_v = np.cross(up_v, fw_v)
    rot = np.stack([lat_v, up_v, fw_v])
    vpts = np.asarray(positions, np.float64)[np.unique(np.asarray(faces))] @ rot.T
    if full_body:
        h = vpts[:, 1]
        vpts = vpts[h > h.max() - 0.14 * np.ptp(h)]
    head = vpts
    lo, hi = head.min(0), head.max(0)
    centre_new = (lo + hi) / 2
    radius = float(np.linalg.norm(head - centre_new, axis=1).max())
    centre = centre_new @ rot  # back in file coordinates
    scale = 1.0 / max(radius, 1e-12)
    info.update(up=axis_name(up_v), forward=axis_name(fw_v), scale=scale, full_body=full_body)
    frame = Frame(rotation=rot, centre=centre, scale=scale, info=info)
    if full_body:
        info["frame_center"] = [0.0, 0.0, 0.0]
        info["frame_radius"] = 1.0
    return frame
