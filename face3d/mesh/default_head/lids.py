"""The default head's blink and brow shapes, as full target meshes of the skin.

``eyeBlinkLeft``/``Right``: the upper lid turns down about the eyeball's horizontal axis
to meet the lower lid, which turns up a little, a line about a third of the way up the
opening; lids that would brush the eyeball are lifted 1.4 mm clear of it, so the straight
path of the blendshape never cuts through the eye (a 40 degree turn sags 0.7 mm).
``browInnerUp`` lifts the inner ends of both brows, ``browOuterUpLeft``/``Right`` the outer
end of one, with the forehead above following; every field is exactly zero away from its
region (compact bumps), so the rest of the head has zero deltas.
"""

from __future__ import annotations

import numpy as np

from face3d.mesh.default_head.layout import EYE, EYE_R, bump, smoothstep

BETA_TOP = 0.48          # upper rim of the opening (radians about the eye's horizontal axis)
BETA_BOTTOM = -0.40      # lower rim
BETA_MEET = -0.20        # where the lids meet
LID_CLEAR = 0.0018       # closed lids stay this far outside the eyeball
BROW_LIFT = 0.0045       # metres at full weight


def _blink(p: np.ndarray, side: float) -> np.ndarray:
    """Target positions of the skin points ``p`` for the blink of the eye on ``side`` (+1: +X)."""
    out = p.copy()
    c = EYE * np.array([side, 1.0, 1.0])
    rel = p - c
    u = rel[:, 0] * side
    rho = np.hypot(rel[:, 1], rel[:, 2])
    beta = np.arctan2(rel[:, 1], rel[:, 2])
    r = np.sqrt(u * u + rho * rho)
    near = (rel[:, 2] > -0.004) & (r < EYE_R + 0.009) & (side * p[:, 0] > 0.004)
    w_u = smoothstep(0.0185, 0.0125, np.abs(u)) * smoothstep(EYE_R + 0.009, EYE_R + 0.005, r)
    up = (BETA_TOP - BETA_MEET) * smoothstep(BETA_TOP + 0.55, BETA_TOP, beta)
    down = (BETA_MEET - BETA_BOTTOM) * smoothstep(BETA_BOTTOM - 0.35, BETA_BOTTOM, beta)
    alpha = np.where(beta >= BETA_MEET, up, -down)
    b2 = beta - alpha
    visible = r >= EYE_R - 0.0008
    floor = np.sqrt(np.maximum((EYE_R + LID_CLEAR) ** 2 - u * u, 0.0))
    rho2 = np.where(visible, np.maximum(rho, floor), rho)
    turned = np.stack([rel[:, 0], rho2 * np.sin(b2), rho2 * np.cos(b2)], -1) + c
    w = np.where(near, w_u, 0.0)[:, None]
    out = p + w * (turned - p)
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
