"""The mouth bag: a closed, dark pocket stitched to the upper and lower lip edges.

Each lip-line column between the corners gets a profile from the upper lip edge, back
along the inner lip surface, round the inside of the mouth and forward to the lower lip
edge; neighbouring profiles are joined into quads, and fans close the corners. The bag is
kept a few millimetres inside the skin so it never pokes through the cheeks.
"""

from __future__ import annotations

import numpy as np

from face3d.mesh.default_head.grid import SkinGrid
from face3d.mesh.default_head.layout import (
    BAG_LIP, BAG_ROWS, BAG_TUNNEL, C0, angles, lip_roll, norm, sgnpow, smoothstep,
)
from face3d.mesh.default_head.sdf import project


def _profiles(grid: SkinGrid):
    """Bag points (N, 3), their position ``s`` along the profile (0 upper edge .. 1 lower
    edge), and {column: vertex indices of its profile, lip edges included}."""
    skin = grid.positions
    n_skin = len(skin)
    M = BAG_ROWS
    bag_pts, bag_s = [], []
    prof_index = {}
    for j in grid.slit:
        up_i, lo_i = grid.index(grid.k_lip, j), grid.lower_copy[int(j)]
        P = 0.5 * (skin[up_i] + skin[lo_i])
        f = np.sqrt(max(1.0 - (grid.cols[j] / grid.theta_c) ** 2, 0.0))
        D = 0.021 * (0.45 + 0.55 * f)
        h_up, h_lo = 0.024 * (0.12 + 0.88 * f), 0.021 * (0.12 + 0.88 * f)
        idx = [up_i]
        for mm in range(1, M):
            sp = mm / M
            L = BAG_LIP * (0.5 + 0.5 * f)
            s0 = BAG_TUNNEL / M
            if sp <= s0 or sp >= 1 - s0:
                # inner surface of the lip: a short, nearly closed passage straight back
                t = (sp if sp <= s0 else 1 - sp) / s0
                cz = -L * t
                cy = (1 if sp <= s0 else -1) * 0.0003 * t * f
            else:
                beta = 2 * np.pi * (sp - s0) / (1 - 2 * s0)
                cz = -L - D + D * sgnpow(np.cos(beta), 2 / 3.2)
                sy = sgnpow(np.sin(beta), 2 / 3.2)
                cy = sy * (h_up if sy > 0 else h_lo) + (0.0003 * f if sp < 0.5 else -0.0003 * f)
            widen = 1.0 + 0.40 * f * np.sin(np.pi * sp) ** 0.7
            pt = np.array([P[0] * widen, P[1] + cy, P[2] + cz])
            idx.append(n_skin + len(bag_pts))
            bag_pts.append(pt)
            bag_s.append(sp)
        idx.append(lo_i)
        prof_index[int(j)] = idx
    return np.array(bag_pts), np.array(bag_s), prof_index


def _inside_skin(bag_pts, bag_s, grid: SkinGrid):
    """Pull bag points back to at least 3 mm inside the skin (less at the lip edges)."""
    rel = bag_pts - C0
    dist = norm(rel)
    bdir = rel / dist[:, None]
    near_edge = np.minimum(bag_s, 1 - bag_s)
    bphi, bth = angles(bag_pts)
    lim = project(bdir)
    lim = lim - lip_roll(lim, bphi, bth, grid.phi_lip, grid.theta_c)
    lim = lim - 0.0006 - 0.0026 * smoothstep(0.0, 0.2, near_edge)
    clamp = dist > lim
    dist = np.where(clamp, lim, dist)
    return C0 + bdir * dist[:, None]


def _faces(grid: SkinGrid, prof_index: dict) -> np.ndarray:
    M = BAG_ROWS
    c_l, c_r = grid.c_l, grid.c_r
    faces = []
    corner_l, corner_r = grid.index(grid.k_lip, c_l), grid.index(grid.k_lip, c_r)
    for j in range(c_l, c_r):
        for mm in range(M):
            if j == c_l:
                q = prof_index[j + 1]
                faces.append((q[mm], corner_l, q[mm + 1]))
            elif j + 1 == c_r:
                p = prof_index[j]
                faces.append((corner_r, p[mm], p[mm + 1]))
            else:
                p, q = prof_index[j], prof_index[j + 1]
                faces += [(q[mm], p[mm], p[mm + 1]), (q[mm], p[mm + 1], q[mm + 1])]
    return np.array(faces, np.int64)


def mouth_bag(grid: SkinGrid):
    """(positions (N, 3), faces indexing skin then bag vertices, s (N,) along the profile)."""
    bag_pts, bag_s, prof_index = _profiles(grid)
    return _inside_skin(bag_pts, bag_s, grid), _faces(grid, prof_index), bag_s


def bag_colors(bag_s: np.ndarray) -> np.ndarray:
    """Inner-lip pink at the lip edges darkening to a near-black throat."""
    edge = np.minimum(bag_s, 1 - bag_s)
    dark = np.array([0.22, 0.06, 0.06]) * (1 - smoothstep(0.1, 0.45, edge))[:, None] \
        + np.array([0.10, 0.026, 0.026]) * smoothstep(0.1, 0.45, edge)[:, None]
    lipin = np.array([0.45, 0.18, 0.17])
    t = smoothstep(0.0, 0.08, edge)[:, None]
    return lipin * (1 - t) + dark * t
