"""The default head's fifteen viseme shapes (``viseme_sil`` ... ``viseme_U``).

Each viseme is a whole mouth: a weighted sum of the four mouth shapes (jaw, width,
rounding, closure) and of six detail fields built here, which the four curves cannot
make:

* ``lift``: the upper lip rises off the upper teeth (they show);
* ``tuck``: the lower lip comes up and back under the upper teeth's edge (f, v);
* ``press``: the closed lips press and thin (p, b, m);
* ``flare``: both lips pushed forward and apart, squared (sh, ch, j);
* ``tip_out``: the tongue tip forward between the teeth (th);
* ``tip_up``: the tongue tip up behind the upper teeth (t, d, n, l);
* ``back_up``: the back of the tongue up (k, g, ng).

Every field is compactly supported (exactly zero away from the mouth) and deterministic;
the lip fields are calibrated from the head's own landmarks (the lower lip's centre, the
upper teeth's edge and front), so the tuck ends behind the teeth whatever the proportions.
"""

from __future__ import annotations

import numpy as np

from face3d.mesh.default_head.layout import bump, smoothstep

#: viseme -> {component: weight}. The phonetics of each mouth:
VISEME_MIX = {
    "sil": {},                                                            # rest: the neutral head
    "PP": {"mouthClose": 1.0, "press": 1.0},                              # p b m: lips pressed shut
    "FF": {"jawOpen": 0.04, "lift": 0.8, "tuck": 1.0},                    # f v: lower lip under the upper teeth
    "TH": {"jawOpen": 0.30, "lift": 0.3, "tip_out": 1.0},                 # th dh: tongue tip between the teeth
    "DD": {"jawOpen": 0.30, "lift": 0.25, "mouthWide": 0.15, "tip_up": 1.0},   # t d: tip on the ridge
    "kk": {"jawOpen": 0.34, "lift": 0.15, "mouthWide": 0.25, "back_up": 1.0},  # k g ng: back of the tongue up
    "CH": {"jawOpen": 0.05, "lift": 0.3, "mouthPucker": 0.35, "flare": 1.0},   # ch jh sh zh: lips pushed out
    "SS": {"jawOpen": 0.05, "lift": 0.5, "mouthWide": 0.6},               # s z: teeth together, lips spread
    "nn": {"jawOpen": 0.22, "lift": 0.15, "tip_up": 0.9},                 # n l: tongue tip up, jaw a little open
    "RR": {"jawOpen": 0.18, "lift": 0.1, "mouthPucker": 0.45},            # r er: lips a little rounded
    "aa": {"jawOpen": 0.85, "mouthWide": 0.1},                            # aa ae ah: jaw wide open
    "E": {"jawOpen": 0.45, "lift": 0.2, "mouthWide": 0.55},               # eh: half open, spread
    "I": {"jawOpen": 0.18, "lift": 0.35, "mouthWide": 0.8},               # ih iy y: nearly closed, spread
    "O": {"jawOpen": 0.55, "mouthPucker": 0.7},                           # ao: open and round
    "U": {"jawOpen": 0.15, "mouthPucker": 1.0},                           # uh uw w: round, pushed out
}


def _lip_fields(pos, phi, th, sd, follow, phi_lip, theta_c, lower_lip, teeth_up):
    """{lift, tuck, press, flare}: (V, 3) deltas of the lips (skin and the bag just behind)."""
    uu = th / theta_c
    vv = (phi - phi_lip) / 0.10                 # 1 unit ~ 1 cm from the lip line
    au = np.abs(uu)
    upper = (sd > 0) * bump(uu / 1.25)
    lower = (sd < 0) * bump(uu / 1.25)
    f = follow[:, None]

    # lift: the upper lip's edge rises 3.2 mm (less toward the corners and up toward the nose)
    w_up = upper * bump(vv / 1.5)
    lift = np.stack([np.zeros_like(uu), 0.0032 * w_up, 0.0008 * w_up], -1) * f

    # tuck: the lower lip's edge goes to just above the upper teeth's edge and behind
    # their front; the lip below follows less and less down to the chin's crease
    edge_y = teeth_up[:, 1].min()
    front = teeth_up[np.abs(teeth_up[:, 0]) < 0.004, 2].max()
    goal = np.array([0.0, edge_y + 0.0012 - lower_lip[1], front - 0.0012 - lower_lip[2]])
    w_lo = lower * np.where(vv <= 0, bump(vv / 1.7), 0.0)
    near = np.exp(-(vv / 0.55) ** 2)            # the edge rows go furthest (the lip rolls in)
    w_edge = w_lo * (0.45 + 0.55 * near) * smoothstep(1.25, 0.55, au)
    tuck = w_edge[:, None] * goal[None, :] * f

    # press: both lips squeeze back and thin toward the slit
    w_p = (upper + lower) * bump(vv / 1.2)
    press = np.stack([np.zeros_like(uu), -0.0007 * np.sign(sd) * w_p * near, -0.0012 * w_p], -1) * f

    # flare: both lips forward and apart, the corners a little in: a squared funnel
    w_f = (upper + lower) * bump(vv / 1.6)
    dx = -0.12 * pos[:, 0] * bump(uu / 1.6) * bump(vv / 1.8)
    flare = np.stack([dx, 0.0020 * np.sign(sd) * w_f * (0.4 + 0.6 * near), 0.0080 * w_f], -1) * f
    return {"lift": lift, "tuck": tuck, "press": press, "flare": flare}


def _tongue_fields(pos, tongue: slice):
    """{tip_out, tip_up, back_up}: (V, 3) deltas of the tongue (zero elsewhere)."""
    t = pos[tongue]
    z0, z1 = t[:, 2].min(), t[:, 2].max()
    along = (t[:, 2] - z0) / (z1 - z0)           # 0 at the back, 1 at the tip
    mid = np.exp(-(t[:, 0] / 0.011) ** 2)        # the middle more than the sides
    out = {k: np.zeros_like(pos) for k in ("tip_out", "tip_up", "back_up")}
    tip = smoothstep(0.35, 1.0, along)
    # th: the front slides forward 5 mm and up 15 mm, out between the teeth
    out["tip_out"][tongue] = np.stack([np.zeros_like(tip), 0.0150 * tip ** 1.3 * (0.6 + 0.4 * mid),
                                       0.0050 * tip], -1)
    # t d n l: the tip curls up 18 mm to just behind the upper teeth (it stays behind them)
    curl = tip ** 1.6 * (0.55 + 0.45 * mid)
    out["tip_up"][tongue] = np.stack([np.zeros_like(tip), 0.0180 * curl, -0.0045 * curl], -1)
    # k g ng: the back rises toward the soft palate
    back = bump((along - 0.3) / 0.45) * mid
    out["back_up"][tongue] = np.stack([np.zeros_like(back), 0.0060 * back, 0.0008 * back], -1)
    return out


def viseme_targets(pos, ranges, coords, phi_lip, theta_c, lower_lip_index: int, targets: dict) -> dict:
    """{``viseme_X``: (V, 3) target positions} for the assembled mesh ``pos``.

    coords  : (phi, theta, side, follow) per vertex (:func:`blendshapes.mouth_coordinates`)
    targets : the four mouth shapes as target positions
    """
    phi, th, sd, follow = coords
    a, b = ranges["teeth_upper"]
    parts = _lip_fields(pos, phi, th, sd, follow, phi_lip, theta_c, pos[lower_lip_index], pos[a:b])
    parts.update(_tongue_fields(pos, slice(*ranges["tongue"])))
    for name in ("jawOpen", "mouthWide", "mouthPucker", "mouthClose"):
        parts[name] = np.asarray(targets[name], np.float64) - pos
    out = {}
    for v, mix in VISEME_MIX.items():
        d = np.zeros_like(pos)
        for name, w in mix.items():
            d = d + w * parts[name]
        out[f"viseme_{v}"] = pos + d
    return out
