"""The default head's four blendshapes, as full target meshes.

Every shape is a compactly supported displacement field, so the cranium, forehead, eyes,
ears and back of the head have exactly zero deltas. jawOpen turns the chin, lower lip,
lower teeth and tongue about the jaw joint (with a small forward glide); the lip fields
(mouthWide, mouthPucker, mouthClose) work in mouth coordinates: azimuth over the corner
azimuth, and elevation from the lip line.
"""

from __future__ import annotations

import numpy as np

from face3d.mesh.default_head.layout import (
    C0, JAW_ANGLE, JAW_GLIDE, JAW_PIVOT, angles, bump, lip_roll, norm, smoothstep,
)
from face3d.mesh.default_head.sdf import project


def _rot_x(p, pivot, ang):
    c, s = np.cos(ang), np.sin(ang)
    q = p - pivot
    y = q[:, 1] * c - q[:, 2] * s
    z = q[:, 1] * s + q[:, 2] * c
    return pivot + np.stack([q[:, 0], y, z], -1)


def _jaw_weight(p, phi, theta, side, phi_lip, theta_c):
    """How much a skin point follows the jaw: 1 on chin and lower lip, 0 above the mouth,
    fading up the cheeks, toward the neck and behind the jaw joint (exactly 0 there)."""
    dphi = phi - phi_lip
    q = np.maximum(np.abs(theta) - theta_c, 0.0)
    centre = -0.15 * q
    band = 0.02 + 0.30 * q
    smooth = smoothstep(centre + band, centre - band, dphi)
    in_mouth = np.abs(theta) <= theta_c + 1e-9
    step = np.where(side < 0, 1.0, np.where(side > 0, 0.0, 0.5))
    w = np.where(in_mouth & (np.abs(dphi) < 0.35), step, smooth)
    w = w * smoothstep(JAW_PIVOT[2] - 0.005, JAW_PIVOT[2] + 0.03, p[:, 2])
    y_plane = -0.090 - 0.357 * p[:, 2]
    w = w * smoothstep(y_plane - 0.022, y_plane + 0.004, p[:, 1])
    # under the jaw the weight ramps up from the throat to the chin, so nothing folds
    under = smoothstep(-0.055, -0.085, p[:, 1])
    return w * (1.0 - under * (1.0 - smoothstep(-0.03, 0.07, p[:, 2])))


def mouth_coordinates(pos, ranges, phi_v, th_v, side, phi_lip, theta_c, bag_s):
    """Per vertex: elevation and azimuth from ``C0``, lip side (+1 upper, -1 lower), and how
    much the lip fields move it (skin 1; the bag 1 just behind the lips, 0 deep inside)."""
    V = len(pos)
    sk0, sk1 = ranges["skin"]
    bg0, bg1 = ranges["mouth_bag"]
    # skin from its grid angles, the bag from its own direction
    phi = np.zeros(V)
    th = np.zeros(V)
    sd = np.zeros(V)
    follow = np.zeros(V)          # how much the lip fields move a vertex
    phi[sk0:sk1], th[sk0:sk1], sd[sk0:sk1] = phi_v, th_v, side
    follow[sk0:sk1] = 1.0
    bphi, bth = angles(pos[bg0:bg1])
    phi[bg0:bg1], th[bg0:bg1] = bphi, bth
    sd[bg0:bg1] = np.where(bag_s < 0.5, 1.0, -1.0)
    # bag vertices just behind the skin move with it; deep ones stay
    bag = pos[bg0:bg1]
    r_bag = norm(bag - C0)
    r_skin = project((bag - C0) / r_bag[:, None])
    r_skin = r_skin - lip_roll(r_skin, bphi, bth, phi_lip, theta_c)
    follow[bg0:bg1] = 1.0 - smoothstep(0.005, 0.016, r_skin - r_bag)
    return phi, th, sd, follow


def _jaw_open(pos, ranges, phi, th, sd, follow, phi_lip, theta_c, bag_s):
    """jawOpen: rotation about the jaw joint with smooth weights, plus the condyle's glide."""
    sk0, sk1 = ranges["skin"]
    bg0, bg1 = ranges["mouth_bag"]
    w = np.zeros(len(pos))
    w[sk0:sk1] = _jaw_weight(pos[sk0:sk1], phi[sk0:sk1], th[sk0:sk1], sd[sk0:sk1], phi_lip, theta_c)
    wb_space = _jaw_weight(pos[bg0:bg1], phi[bg0:bg1], th[bg0:bg1], sd[bg0:bg1], phi_lip, theta_c)
    wb_deep = smoothstep(0.30, 0.70, bag_s)
    fb = follow[bg0:bg1]
    w[bg0:bg1] = fb * wb_space + (1 - fb) * wb_deep
    for name in ("teeth_lower", "tongue"):
        a, b = ranges[name]
        w[a:b] = 1.0
    moved = _rot_x(pos, JAW_PIVOT, JAW_ANGLE) + np.array([0.0, 0.0, JAW_GLIDE])
    return pos + w[:, None] * (moved - pos)


def _lip_shapes(pos, phi, th, sd, follow, phi_lip, theta_c):
    """mouthWide, mouthPucker and mouthClose as target positions."""
    V = len(pos)
    uu = th / theta_c
    vv = (phi - phi_lip) / 0.10       # 1 unit ~ 1 cm
    ss = sd
    au = np.abs(uu)
    lat = np.where(au <= 1.0, uu, np.sign(uu) * np.maximum(0.0, 1.0 - (au - 1.0) / 1.3))
    region = bump(uu / 2.4) * bump(vv / np.where(vv > 0, 2.2, 2.8))
    lips = bump(uu / 1.35) * bump(vv / np.where(vv > 0, 1.4, 1.8))
    edge_rows = bump(uu / 1.15) * np.exp(-(vv / 0.45) ** 2)

    def field(dx, dy, dz):
        return pos + np.stack([dx, dy, dz], -1) * follow[:, None]

    # mouthWide: corners out (and a little up/back), lips thin and stretch
    dx = 0.0120 * lat * region
    dy = 0.0020 * lat ** 2 * region - 0.0013 * ss * edge_rows * (1 - lat ** 2)
    dz = -0.0045 * lat ** 2 * region - 0.0012 * lips
    wide = field(dx, dy, dz)

    # mouthPucker: lips forward and round, corners in
    dx = -0.45 * pos[:, 0] * bump(uu / 1.9) * bump(vv / np.where(vv > 0, 1.6, 2.0))
    dz = 0.0105 * lips * (1 - 0.35 * np.clip(au, 0, 1) ** 2)
    dy = 0.0016 * ss * edge_rows - 0.0010 * vv * lips * (np.abs(vv) < 1.0)
    pucker = field(dx, dy, dz)

    # mouthClose: lip edges move toward each other (lower lip does most), lower one tucks in
    lat_fall = smoothstep(1.3, 0.5, au)
    up_w = np.where(ss > 0, bump(vv / 1.6), 0.0)
    lo_w = np.where(ss < 0, bump(vv / 2.4), 0.0)
    dy = (-0.0031 * up_w + 0.0065 * lo_w) * lat_fall
    dz = (0.0005 * up_w - 0.0010 * lo_w) * lat_fall
    close = field(np.zeros(V), dy, dz)
    return {"mouthWide": wide, "mouthPucker": pucker, "mouthClose": close}


def blendshapes(pos, ranges, phi_v, th_v, side, phi_lip, theta_c, bag_s) -> dict:
    """{shape: (V, 3) target positions} for the assembled mesh ``pos`` (parts in ``ranges``)."""
    phi, th, sd, follow = mouth_coordinates(pos, ranges, phi_v, th_v, side, phi_lip, theta_c, bag_s)
    jaw = _jaw_open(pos, ranges, phi, th, sd, follow, phi_lip, theta_c, bag_s)
    return {"jawOpen": jaw, **_lip_shapes(pos, phi, th, sd, follow, phi_lip, theta_c)}
