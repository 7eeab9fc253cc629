"""The skin grid: rows of elevation and columns of azimuth seen from ``C0``, denser over
the face, projected onto the skin; cut along the lip line into upper and lower lip edges."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from face3d.mesh.default_head.layout import C0, N_COLS, N_ROWS, PHI_LIP, THETA_CORNER, direction, lip_roll
from face3d.mesh.default_head.sdf import project


def _quantiles(lo, hi, density, qs):
    g = np.linspace(lo, hi, 20001)
    rho = density(g)
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (rho[1:] + rho[:-1]) * np.diff(g))])
    cdf /= cdf[-1]
    return np.interp(qs, cdf, g)


def _row_density(phi):
    d = np.degrees(phi)
    return (0.35 + 1.2 * np.exp(-0.5 * ((d + 5) / 32) ** 2)
            + 2.2 * np.exp(-0.5 * ((d - np.degrees(PHI_LIP)) / 2.5) ** 2)
            + 1.2 * np.exp(-0.5 * ((d - 15) / 8) ** 2)
            + 3.0 * np.exp(-0.5 * ((d - 16.5) / 2.5) ** 2)
            + 2.6 * np.exp(-0.5 * ((d + 17.5) / 2.5) ** 2))


def _col_density(theta):
    d = np.degrees(theta)
    return (0.45 + 1.5 * np.exp(-0.5 * (d / 32) ** 2) + 0.6 * np.exp(-0.5 * (d / 12) ** 2)
            + 0.5 * np.exp(-0.5 * ((np.abs(d) - 26) / 7) ** 2)
            + 0.8 * np.exp(-0.5 * ((np.abs(d) - 5) / 2.5) ** 2))


def grid_angles():
    """(rows phi (N_ROWS,), lip row index, cols theta (N_COLS,) with theta[N_COLS//2] = 0)."""
    lo, hi = -np.pi / 2, np.pi / 2
    g = np.linspace(lo, hi, 20001)
    rho = _row_density(g)
    frac = np.trapezoid(rho[g <= PHI_LIP], g[g <= PHI_LIP]) / np.trapezoid(rho, g)
    n_below = int(round(frac * N_ROWS))
    n_above = N_ROWS - n_below
    below = _quantiles(lo, PHI_LIP, _row_density, np.arange(1, n_below + 1) / n_below)
    above = _quantiles(PHI_LIP, hi, _row_density, np.arange(1, n_above + 1) / (n_above + 1))
    rows = np.concatenate([below, above])
    half = _quantiles(0.0, np.pi, _col_density, np.arange(0, N_COLS // 2 + 1) / (N_COLS // 2))
    cols = np.concatenate([-half[::-1][:-1], half[:-1]])   # -pi .. pi (exclusive), 0 at centre
    return rows, n_below - 1, cols


@dataclass
class SkinGrid:
    """The skin mesh and where its lips are.

    positions, faces : the skin (bottom pole, rows x cols, top pole, then the lower-lip copies
                       of the lip-line vertices between the mouth corners)
    phi, theta, side : per vertex elevation and azimuth from ``C0``; +1 above the lip line
                       (and on the upper lip edge), -1 below it (and on the lower lip edge)
    rows, cols       : the grid's elevations and azimuths; ``k_lip`` is the lip-line row,
                       ``c_mid`` the mid-line column, ``c_l``/``c_r`` the mouth corners
    lower_copy       : {column: index of the lower-lip copy of that lip-line vertex}
    """

    positions: np.ndarray
    faces: np.ndarray
    phi: np.ndarray
    theta: np.ndarray
    side: np.ndarray
    rows: np.ndarray
    cols: np.ndarray
    k_lip: int
    c_mid: int
    c_l: int
    c_r: int
    lower_copy: dict

    def index(self, i, j) -> int:
        """Vertex index of grid row ``i``, column ``j`` (wrapping around)."""
        return 1 + i * len(self.cols) + (j % len(self.cols))

    @property
    def phi_lip(self) -> float:
        return self.rows[self.k_lip]

    @property
    def theta_c(self) -> float:
        """Azimuth of the mouth corners."""
        return self.cols[self.c_r]

    @property
    def slit(self) -> np.ndarray:
        """Columns of the lip line between the corners (where the lips part)."""
        return np.arange(self.c_l + 1, self.c_r)


def skin_grid() -> SkinGrid:
    """Project the grid onto the skin, roll the lips in and split the lip line."""
    rows, k_lip, cols = grid_angles()
    nr, nc = len(rows), len(cols)
    c_mid = nc // 2
    m = int(np.argmin(np.abs(cols[c_mid:] - THETA_CORNER)))
    c_l, c_r = c_mid - m, c_mid + m
    theta_c = cols[c_r]
    phi_lip = rows[k_lip]

    PH, TH = np.meshgrid(rows, cols, indexing="ij")
    dirs = np.concatenate([[[0, -1.0, 0]], direction(PH, TH).reshape(-1, 3), [[0, 1.0, 0]]])
    phi_v = np.concatenate([[-np.pi / 2], PH.reshape(-1), [np.pi / 2]])
    th_v = np.concatenate([[0.0], TH.reshape(-1), [np.pi]])
    radius = project(dirs)
    radius = radius - lip_roll(radius, phi_v, th_v, phi_lip, theta_c)
    skin = C0 + dirs * radius[:, None]

    def gi(i, j):
        return 1 + i * nc + (j % nc)

    slit = np.arange(c_l + 1, c_r)
    n_grid = 2 + nr * nc
    lower_copy = {int(j): n_grid + t for t, j in enumerate(slit)}
    lip_line = [gi(k_lip, j) for j in slit]
    skin = np.concatenate([skin, skin[lip_line]])
    phi_v = np.concatenate([phi_v, phi_v[lip_line]])
    th_v = np.concatenate([th_v, th_v[lip_line]])
    side = np.where(phi_v > phi_lip, 1.0, np.where(phi_v < phi_lip, -1.0, 0.0))
    side[lip_line] = 1.0
    side[n_grid:] = -1.0
    # rest gap: the lip edges nearly touch
    gap = 0.00008 * np.sqrt(np.clip(1 - (th_v / theta_c) ** 2, 0, 1))
    skin[:, 1] += np.where(np.abs(phi_v - phi_lip) < 1e-12, side * gap, 0.0)

    faces = []
    bottom, top = 0, 1 + nr * nc
    for j in range(nc):
        faces.append((bottom, gi(0, j + 1), gi(0, j)))
        faces.append((gi(nr - 1, j), gi(nr - 1, j + 1), top))
        for i in range(nr - 1):
            a, b, c, d = gi(i, j), gi(i, j + 1), gi(i + 1, j), gi(i + 1, j + 1)
            if i + 1 == k_lip:
                c = lower_copy.get(j % nc, c)
                d = lower_copy.get((j + 1) % nc, d)
            # a quad much longer one way (a steep wall, like the upper lid's) is split along
            # its shorter diagonal, so the wall is cut along its slope on both sides of the
            # face; the others keep one direction (mirrored splits crease the mid-line)
            if np.sum((skin[a] - skin[d]) ** 2) * 1.4 < np.sum((skin[b] - skin[c]) ** 2):
                faces += [(a, b, d), (a, d, c)]
            else:
                faces += [(a, b, c), (b, d, c)]
    return SkinGrid(positions=skin, faces=np.array(faces, np.int64), phi=phi_v, theta=th_v, side=side,
                    rows=rows, cols=cols, k_lip=k_lip, c_mid=c_mid, c_l=c_l, c_r=c_r, lower_copy=lower_copy)
