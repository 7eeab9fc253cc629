"""Skin colours of the default head: cheeks, nose tip, lips with a Cupid's bow, the insides
of the nostrils, eyebrows and lids, a little shade where the skin faces down (under the
jaw) and on the neck, and the hair's colour under the hair shell, painted per vertex."""

from __future__ import annotations

import numpy as np

from face3d.mesh.default_head.hair import hairline_y
from face3d.mesh.default_head.sdf import NOSTRIL, NOSTRIL_R
from face3d.mesh.default_head.layout import BROW, EYE, EYE_R, HAIR, LIP, SKIN, norm, smoothstep


def skin_colors(p, phi, th, phi_lip, theta_c, normals):
    x, y, z = p[:, 0], p[:, 1], p[:, 2]
    ax = np.abs(x)
    col = np.tile(SKIN, (len(p), 1))
    # warm cheeks, a hint of colour on the nose tip and ears' side
    blush = np.exp(-(((ax - 0.045) / 0.018) ** 2 + ((y + 0.008) / 0.016) ** 2)) * (z > 0.02)
    col = col + blush[:, None] * np.array([0.025, -0.012, -0.010])
    tip = np.exp(-((ax / 0.012) ** 2 + ((y + 0.010) / 0.01) ** 2)) * (z > 0.09)
    col = col + tip[:, None] * np.array([0.02, -0.02, -0.02])
    # lips: vermilion above and below the lip line, Cupid's bow on the upper lip
    r = 0.094
    s = (phi - phi_lip) * r                    # arc distance from the lip line (+ up)
    u = th / theta_c
    inside = np.clip(1.0 - u ** 2, 0.0, 1.0)
    bow = 1.0 + 0.18 * np.exp(-((np.abs(u) - 0.22) / 0.16) ** 2) - 0.07 * np.exp(-(u / 0.1) ** 2)
    h_up = 0.0074 * inside ** 0.45 * bow
    h_lo = 0.0094 * inside ** 0.55
    lip = np.where(s >= 0, smoothstep(h_up + 0.0014, h_up - 0.0012, s),
                   smoothstep(-h_lo - 0.0016, -h_lo + 0.0014, s))
    lip = lip * (np.abs(u) < 1.05) * (z > 0.04)
    lip = np.maximum(lip, np.where((np.abs(s) < 0.0004) & (np.abs(u) <= 1.0) & (z > 0.04), 1.0, 0.0))
    col = col * (1 - lip[:, None]) + LIP * lip[:, None]
    # the inner, rolled part of the lips is a touch darker
    roll = smoothstep(0.0025, 0.0, np.abs(s)) * (np.abs(u) < 1.0) * (z > 0.04)
    col = col * (1 - 0.25 * roll[:, None])
    # nostrils: only the skin inside the carved opening is dark (no paint on the skin
    # around it, which from the front read as a moustache-shaped smudge under the nose)
    q = np.stack([ax, y, z], -1)
    rim = norm((q - NOSTRIL) / NOSTRIL_R)
    nos = smoothstep(1.05, 0.85, rim) * smoothstep(NOSTRIL[1] + 0.007, NOSTRIL[1] + 0.004, y)
    nos = nos * smoothstep(-0.2, -0.6, normals[:, 1])   # the walls seen from below, not from the front
    col = col * (1 - 0.85 * nos[:, None])
    # eyebrows: an arc above each eye, thicker near the nose
    ue = ax - EYE[0]
    centre = EYE[1] + 0.0185 + 0.0035 * (1 - ((ue - 0.003) / 0.021) ** 2) - 0.002 * smoothstep(0.01, 0.022, ue)
    half = 0.0034 - 0.0015 * smoothstep(-0.012, 0.02, ue)
    along = smoothstep(-0.022, -0.013, ue) * smoothstep(0.027, 0.016, ue)
    brow = smoothstep(half + 0.0032, half - 0.0016, np.abs(y - centre)) * along * smoothstep(0.02, 0.04, z)
    col = col * (1 - 0.92 * brow[:, None]) + BROW * 0.92 * brow[:, None]
    # lids: a slightly darker, warmer rim around the eye opening
    dq = norm(np.stack([ax, y, z], -1) - EYE)
    rim = smoothstep(EYE_R + 0.0032, EYE_R + 0.0008, dq) * (z > 0.03)
    col = col * (1 - 0.12 * rim[:, None])
    # lash line: a dark edge right at the opening
    lash = smoothstep(EYE_R + 0.0016, EYE_R + 0.0002, dq) * (z > 0.03)
    col = col * (1 - 0.55 * lash[:, None])
    # soft occlusion: skin facing down (under the lower lip, chin and jaw; not under the
    # nose, where it drew a shadow band) and the
    # neck are a little darker, so the jaw line reads against the neck as it does in a photo
    down = smoothstep(-0.15, -0.75, normals[:, 1]) * smoothstep(-0.060, -0.078, y)
    neck = smoothstep(-0.085, -0.12, y) * (1 - 0.5 * smoothstep(0.0, 0.05, z))
    col = col * (1 - 0.22 * down - 0.10 * neck)[:, None]
    # short hair painted on the cranium above a hairline (front, temples, sideburns, nape)
    hair = hair_amount(p)
    col = col * (1 - hair[:, None]) + HAIR * hair[:, None]
    gloss = (0.28 + 0.17 * lip) * (1 - 0.5 * hair) * (1 - nos)
    return col, gloss


def hair_amount(p):
    """0 (skin) .. 1 (hair colour) for skin points: the skin under the hair shell (see
    ``hair``) is painted too, from a few millimetres inside its edge, so none shows through."""
    az = np.degrees(np.arctan2(p[:, 0], p[:, 2]))
    line = hairline_y(az) + 0.002
    return smoothstep(line, line + 0.004, p[:, 1])
