"""The default head's blink and brow shapes, as full target meshes of the skin.

``eyeBlinkLeft``/``Right`` close the eye the way a lid does, as a curtain: the skin is
re-projected onto a closed version of the head (the lid shell carried over the opening,
see ``sdf._lid_offset``), so the shut lid is as smooth as the rest of the skin and covers
the eyeball from corner to corner. Along each column of the skin grid the upper lid
slides down and the lower lid up (a monotone remapping of the elevation seen from ``C0``,
so no skin ever folds over other skin) to meet on a line halfway up the opening; the skin
that was inside the opening (behind the eyeball) shrinks to a tenth of its height along
that line, a thin band in a shallow crease, where the painted lash line ends up (dark
enough for a face tracker to read the eye as shut). The shut lids lie on the lid shell,
1.5 mm outside the eyeball, so the straight path of the blendshape stays clear of the eye
(by half a millimetre where it passes closest). ``browInnerUp`` lifts the inner ends of
both brows, ``browOuterUpLeft``/``Right`` the outer end of one, with the forehead above
following; every field is exactly zero away from its region (compact bumps), so the rest
of the head has zero deltas.
"""

from __future__ import annotations

import numpy as np

from face3d.mesh.default_head.layout import C0, EYE, EYE_R, angles, bump, direction, smoothstep
from face3d.mesh.default_head.sdf import LID_OUT, project, skin_sdf

MEET = 0.5              # the lids meet this far up the opening (0 lower rim, 1 upper)
H_UP = np.radians(5.0)   # the upper lid stretches from its rim up to this far above it
H_LO = np.radians(4.5)   # the lower lid from its rim down to this far below it
CORNER = (1.0, 0.4)      # a column beside the opening closes this much of its neighbour's
                         # opening (inner, outer corner)
BAND = 0.10              # the skin from behind the eyeball keeps this much of its height: a
                         # thin dark band (the lash line, painted there) where the lids meet
CREASE = 0.00035         # depth of the crease where the lids meet (m)
CLOSED_BLEND = 0.007     # the shut lid blends into the socket with this fillet (rest: 3.5 mm)
BROW_LIFT = 0.0045       # metres at full weight


def _closed_offset(u, v, d):
    """The lid shell over the shut opening: as thick as around it."""
    return np.full_like(d, LID_OUT)


def _closed_sdf(p):
    return skin_sdf(p, closed_lid=_closed_offset, lid_blend=CLOSED_BLEND)


def _openings(phi, th, depth):
    """Per column of the skin grid (vertices sharing an azimuth): {column key: (bottom rim,
    top rim)} elevations of the opening, where the skin lies behind the eyeball's surface
    (``depth`` > 0, metres behind it), each rim where the skin crosses that surface between
    two rows; the rims are smoothed across neighbouring columns so the line where the lids
    meet runs without steps. A column beside the opening gets one too, about its
    neighbour's meeting line (``CORNER``: as tall as the neighbour's at the inner corner,
    where the opening ends on the socket's steep wall, smaller at the outer one), so the
    skin there closes with the lids instead of folding over them."""
    key = np.round(th, 3)
    cols = np.unique(key)
    rims = {}
    for k in cols:
        sel = np.nonzero(key == k)[0]
        sel = sel[np.argsort(phi[sel])]
        ph, dp = phi[sel], depth[sel]
        ins = np.nonzero(dp > 0)[0]
        if len(ins) == 0:
            continue
        i0, i1 = ins[0], ins[-1]

        def cross(a, b):            # where depth crosses 0 between rows a (inside) and b
            return ph[a] + (ph[b] - ph[a]) * dp[a] / (dp[a] - dp[b])

        lo = cross(i0, i0 - 1) if i0 > 0 else ph[i0]
        hi = cross(i1, i1 + 1) if i1 + 1 < len(ph) else ph[i1]
        rims[k] = (lo, hi)
    found = [k for k in cols if k in rims]
    smooth = {}
    for i, k in enumerate(found):
        nb = [rims[found[j]] for j in (i - 1, i, i + 1) if 0 <= j < len(found)]
        w = [0.25, 0.5, 0.25] if len(nb) == 3 else [0.5, 0.5] if i > 0 else [0.5, 0.5]
        smooth[k] = tuple(np.average(np.array(nb), axis=0, weights=w[:len(nb)]))
    rims = dict(smooth)
    for i, k in enumerate(cols):
        if k in rims:
            continue
        near = [cols[j] for j in (i - 1, i + 1) if 0 <= j < len(cols) and cols[j] in rims]
        if near:
            lo, hi = rims[near[0]] if len(near) == 1 else np.mean([rims[n] for n in near], axis=0)
            meet = lo + MEET * (hi - lo)
            pinch = CORNER[0] if abs(k) < abs(near[0]) else CORNER[1]
            rims[k] = (meet - pinch * (meet - lo), meet + pinch * (hi - meet))
    return key, rims


def _blink(p: np.ndarray, side: float) -> np.ndarray:
    """Target positions of the skin points ``p`` for the blink of the eye on ``side`` (+1: +X)."""
    phi, th = angles(p)
    rel = p - EYE * np.array([side, 1.0, 1.0])
    r = np.sqrt(np.sum(rel * rel, axis=1))
    region = (side * p[:, 0] > 0.002) & (rel[:, 2] > -0.004) & (r < EYE_R + 0.012)
    idx = np.nonzero(region)[0]
    key, rims = _openings(phi[idx], th[idx], EYE_R + 0.0003 - r[idx])
    bot = np.array([rims.get(k, (np.nan, np.nan))[0] for k in key])
    top = np.array([rims.get(k, (np.nan, np.nan))[1] for k in key])
    meet = bot + MEET * (top - bot)
    band_top, band_bot = meet + BAND * (top - meet), meet - BAND * (meet - bot)
    ph = phi[idx]
    t_up = np.clip((ph - top) / H_UP, 0.0, 1.0)
    t_lo = np.clip((bot - ph) / H_LO, 0.0, 1.0)
    ph2 = np.where(ph >= top, ph - (top - band_top) * (1 - t_up) ** 2,
                   np.where(ph <= bot, ph + (band_bot - bot) * (1 - t_lo) ** 2, meet + BAND * (ph - meet)))
    ph2 = np.where(np.isnan(ph2), ph, ph2)
    # only points that slide, or whose skin changes with the lid shut, move
    moves = (np.abs(_closed_sdf(p[idx]) - skin_sdf(p[idx])) > 1e-12) | (ph2 != ph)
    idx, ph2, meet, height = idx[moves], ph2[moves], meet[moves], (top - bot)[moves]
    d = direction(ph2, th[idx])
    radius = project(d, sdf=_closed_sdf)
    # the crease: a shallow groove along the line where the lids meet, none at the corners
    depth = CREASE * np.sqrt(np.clip(np.nan_to_num(height) / np.radians(4.0), 0.0, 1.0))
    radius = radius - depth * np.exp(-(np.nan_to_num(ph2 - meet) / np.radians(0.5)) ** 2)
    out = p.copy()
    out[idx] = C0 + d * radius[:, None]
    return out


def _brow_centre_y(ue):
    """Height of the painted brow's centre line (see colors.skin_colors)."""
    return EYE[1] + 0.0185 + 0.0035 * (1 - ((ue - 0.003) / 0.021) ** 2) - 0.002 * smoothstep(0.01, 0.022, ue)


def _brow(p: np.ndarray, inner: bool, side: float | None) -> np.ndarray:
    ax = np.abs(p[:, 0])
    ue = ax - EYE[0]
    yb = _brow_centre_y(ue)
    dy = p[:, 1] - yb
    # the brow band and the forehead above it move; the lid below follows less
    vert = np.where(dy >= 0, bump(dy / 0.035), bump(dy / 0.011))
    along = bump((ue + 0.010) / 0.020) if inner else bump((ue - 0.016) / 0.020)
    w = BROW_LIFT * along * vert * smoothstep(0.03, 0.05, p[:, 2])
    if side is not None:
        w = w * (np.sign(p[:, 0]) == side)
    out = p.copy()
    out[:, 1] += w
    out[:, 2] -= 0.15 * w          # up and a little back, along the forehead's slope
    return out


def face_shapes(pos: np.ndarray, skin: tuple[int, int]) -> dict:
    """{name: (V, 3) target} for the blink and brow shapes; only skin vertices move."""
    a, b = skin
    out = {}
    for name, fn in (
        ("eyeBlinkLeft", lambda p: _blink(p, 1.0)),
        ("eyeBlinkRight", lambda p: _blink(p, -1.0)),
        ("browInnerUp", lambda p: _brow(p, True, None)),
        ("browOuterUpLeft", lambda p: _brow(p, False, 1.0)),
        ("browOuterUpRight", lambda p: _brow(p, False, -1.0)),
    ):
        t = pos.copy()
        t[a:b] = fn(pos[a:b])
        out[name] = t
    return out
