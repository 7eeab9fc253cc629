"""Short hair: a thin closed shell over the cranium, bounded by a smooth hairline.

Painting hair on the skin grid would follow the grid's cells, which are coarse at the
sides and back of the head, and draw the hairline as a staircase; the shell has its own
grid, whose first row *is* the hairline. For each azimuth around the head (seen from
``C0``) the hairline's elevation is found on the skin; rows run from there to the crown.
The outer surface rises from the skin at the hairline to ``THICK`` within a centimetre or
two; the inner one lies just under the skin, and both meet along the hairline, so the part
is closed.
"""

from __future__ import annotations

import numpy as np

from face3d.mesh.default_head.layout import C0, HAIR, direction, smoothstep
from face3d.mesh.default_head.sdf import project

N_AZ = 96            # columns around the head
N_UP = 10            # rows from the hairline to the crown (the crown is one vertex)
THICK = 0.0045       # hair volume on the crown and sides (m)

#: hairline height (m) against the azimuth around the vertical axis (degrees, 0 = front)
HAIRLINE = ((0.0, 0.097), (22.0, 0.095), (40.0, 0.090), (55.0, 0.086), (64.0, 0.080),
            (70.0, 0.068), (74.0, 0.045), (77.0, 0.016), (83.0, 0.008), (88.0, 0.034),
            (100.0, 0.040), (118.0, 0.012), (145.0, -0.026), (180.0, -0.034))


def hairline_y(az_deg):
    """Height of the hairline at azimuth ``az_deg`` (either sign)."""
    return np.interp(np.abs(az_deg), *zip(*HAIRLINE))


def _hairline_elevation(theta):
    """Elevation (from ``C0``) where the skin reaches the hairline, per azimuth."""
    target = hairline_y(np.degrees(theta))

    def skin_y(ph):
        d = direction(ph, theta)
        return C0[1] + d[:, 1] * project(d)

    # coarse scan (the skin rises with elevation on the cranium), then bisection
    grid = np.radians(np.linspace(-50.0, 89.0, 36))
    ys = np.stack([skin_y(np.full_like(theta, g)) for g in grid])
    i = np.argmax(ys >= target[None, :], axis=0)
    lo, hi = grid[np.maximum(i - 1, 0)], grid[i]
    for _ in range(20):
        mid = 0.5 * (lo + hi)
        below = skin_y(mid) < target
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    return 0.5 * (lo + hi)


def hair():
    """(positions, faces, colours) of the hair shell."""
    theta = np.linspace(-np.pi, np.pi, N_AZ, endpoint=False)
    ph0 = _hairline_elevation(theta)
    t = (np.arange(N_UP) / N_UP) ** 1.4                         # denser near the hairline
    PH = ph0[None, :] + (np.pi / 2 - ph0[None, :]) * t[:, None]   # (rows, cols)
    TH = np.broadcast_to(theta, PH.shape)
    d = direction(PH, TH)
    r = project(d.reshape(-1, 3)).reshape(PH.shape)
    # outer rise: from the skin at the hairline to THICK, over ~1.5 cm of arc
    arc = (PH - ph0[None, :]) * r
    rise = 0.0004 + (THICK - 0.0004) * smoothstep(0.0, 0.016, arc)
    crown_r = project(np.array([[0.0, 1.0, 0.0]]))[0]
    outer = C0 + d * (r + rise)[..., None]
    inner = C0 + d * (r - 0.0025)[..., None]
    n_c = N_AZ
    # vertices: outer rows 0..N_UP-1 (row 0 shared), outer crown, inner rows 1.., inner crown
    pos = [outer.reshape(-1, 3), [C0 + np.array([0.0, crown_r + THICK, 0.0])],
           inner[1:].reshape(-1, 3), [C0 + np.array([0.0, crown_r - 0.0025, 0.0])]]
    pos = np.concatenate([np.asarray(p, float).reshape(-1, 3) for p in pos])
    oc = N_UP * n_c
    ib = oc + 1
    ic = ib + (N_UP - 1) * n_c

    def o(i, j):
        return i * n_c + (j % n_c)

    def inn(i, j):
        return o(0, j) if i == 0 else ib + (i - 1) * n_c + (j % n_c)

    faces = []
    for j in range(n_c):
        for i in range(N_UP - 1):
            faces += [(o(i, j), o(i, j + 1), o(i + 1, j + 1)), (o(i, j), o(i + 1, j + 1), o(i + 1, j))]
            faces += [(inn(i, j), inn(i + 1, j + 1), inn(i, j + 1)), (inn(i, j), inn(i + 1, j), inn(i + 1, j + 1))]
        faces.append((o(N_UP - 1, j), o(N_UP - 1, j + 1), oc))
        faces.append((inn(N_UP - 1, j), ic, inn(N_UP - 1, j + 1)))
    faces = np.array(faces, np.int64)
    tri = pos[faces]
    if np.sum(tri[:, 0] * np.cross(tri[:, 1], tri[:, 2])) < 0:   # outward: positive volume
        faces = faces[:, ::-1].copy()
    # colour: a little lighter toward the crown, darker at the hairline's soft edge
    up = np.concatenate([np.repeat(t, n_c), [1.0], np.repeat(t[1:], n_c), [1.0]])
    col = HAIR[None, :] * (0.85 + 0.25 * smoothstep(0.0, 1.0, up))[:, None]
    return pos, faces, col
