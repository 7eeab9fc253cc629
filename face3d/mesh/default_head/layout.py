"""Layout of the procedural default head: where things are, their colours, shared helpers."""

from __future__ import annotations

import numpy as np

C0 = np.array([0.0, 0.01, 0.0])           # projection centre of the skin grid
N_COLS = 100                              # azimuth columns of the skin grid (even)
N_ROWS = 88                               # elevation rows of the skin grid (poles apart)
PHI_LIP = np.radians(-29.0)               # elevation (from C0) of the lip line row target
THETA_CORNER = np.radians(17.5)           # azimuth of the mouth corners (target)
EYE = np.array([0.0300, 0.025, 0.0620])   # left eyeball centre (+X); right is mirrored
EYE_R = 0.0118                            # eyeball radius
JAW_PIVOT = np.array([0.0, -0.025, -0.025])
JAW_ANGLE = np.radians(13.0)
JAW_GLIDE = 0.006                         # forward slide of the jaw at full opening
BAG_ROWS = 24                             # profile samples of the mouth bag (+1)
BAG_TUNNEL = 2                            # of which rows along the inner lip surface, each side
BAG_LIP = 0.0045                          # depth of the inner lip surface behind the lip edge

SKIN = np.array([0.87, 0.67, 0.56])
LIP = np.array([0.74, 0.41, 0.39])
BROW = np.array([0.20, 0.13, 0.09])
HAIR = np.array([0.21, 0.14, 0.10])


def smoothstep(e0, e1, x):
    t = np.clip((np.asarray(x, float) - e0) / (e1 - e0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def bump(r):
    """Compactly supported C1 bump: 1 at 0, exactly 0 for |r| >= 1."""
    r2 = np.minimum(np.asarray(r, float) ** 2, 1.0)
    return (1.0 - r2) ** 2


def norm(v):
    return np.sqrt(np.sum(v * v, axis=-1))


def unit(v):
    return v / np.maximum(norm(v), 1e-15)[..., None]



def sgnpow(x, e):
    return np.sign(x) * np.abs(x) ** e


def direction(phi, theta):
    """Unit vectors at elevation ``phi`` and azimuth ``theta`` (0 = forward, +X = left)."""
    return np.stack([np.cos(phi) * np.sin(theta), np.sin(phi), np.cos(phi) * np.cos(theta)], -1)


def lip_roll(radius, phi, theta, phi_lip, theta_c):
    """Inward offset that rolls the lips into the slit: a quarter circle around the lip row."""
    u = theta / theta_c
    rho = 0.0029 * np.sqrt(np.clip(1.0 - u ** 2, 0.0, 1.0)) ** 0.7
    s = np.abs(phi - phi_lip) * radius
    return np.where(s < rho, rho - np.sqrt(np.maximum(rho ** 2 - (rho - s) ** 2, 0.0)), 0.0)


def angles(p):
    """Elevation and azimuth of points as seen from C0."""
    r = p - C0
    return np.arctan2(r[:, 1], np.hypot(r[:, 0], r[:, 2])), np.arctan2(r[:, 0], r[:, 2])
