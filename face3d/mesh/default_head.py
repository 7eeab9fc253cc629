"""The procedural default head: ``python -m face3d.mesh.default_head`` rewrites the bundled model.

The head is built without any data files, from smooth analytic shapes, so it is
deterministic and small:

* the skin is a star-shaped surface seen from a centre inside the head: a spherical grid
  (rows of elevation, columns of azimuth, denser over the face) whose rays are projected
  onto a signed-distance description of cranium, brow, eye sockets and lids, nose,
  cheekbones, lips, chin, jaw and neck;
* along the lip line the grid is cut: the row of lip-line vertices is duplicated (upper
  and lower lip edges), the edges roll inward and a closed mouth bag (dark, matte) is
  stitched to them, so the opened mouth shows a dark interior, never the background;
* teeth (upper and lower rows), a tongue, two eyeballs (sclera, iris, pupil) and two
  ears are separate closed sub-meshes;
* the four blendshapes (``jawOpen``, ``mouthWide``, ``mouthPucker``, ``mouthClose``) are
  computed as full target meshes from compactly supported displacement fields, so the
  cranium, forehead, eyes, ears and back of the head have exactly zero deltas.

Everything is counter-clockwise seen from outside (mouth bag: seen from inside the mouth,
which is outside the solid).  Positions are rounded to 1e-6 so that tiny differences in
libm between machines do not change the saved bytes.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from face3d.mesh.rig import SHAPES, Rig, vertex_normals

# --------------------------------------------------------------------------- layout
C0 = np.array([0.0, 0.01, 0.0])           # projection centre of the skin grid
N_COLS = 100                              # azimuth columns of the skin grid (even)
N_ROWS = 76                               # elevation rows of the skin grid (poles apart)
PHI_LIP = np.radians(-29.0)               # elevation (from C0) of the lip line row target
THETA_CORNER = np.radians(17.5)           # azimuth of the mouth corners (target)
EYE = np.array([0.0315, 0.027, 0.0595])   # left eyeball centre (+X); right is mirrored
EYE_R = 0.0118                            # eyeball radius
JAW_PIVOT = np.array([0.0, -0.025, -0.025])
JAW_ANGLE = np.radians(19.0)
JAW_GLIDE = 0.009                         # forward slide of the jaw at full opening
BAG_ROWS = 24                             # profile samples of the mouth bag (+1)
BAG_TUNNEL = 2                            # of which rows along the inner lip surface, each side
BAG_LIP = 0.0045                          # depth of the inner lip surface behind the lip edge

SKIN = np.array([0.87, 0.67, 0.56])
LIP = np.array([0.74, 0.41, 0.39])
BROW = np.array([0.30, 0.20, 0.14])


# --------------------------------------------------------------------------- helpers
def _smoothstep(e0, e1, x):
    t = np.clip((np.asarray(x, float) - e0) / (e1 - e0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _bump(r):
    """Compactly supported C1 bump: 1 at 0, exactly 0 for |r| >= 1."""
    r2 = np.minimum(np.asarray(r, float) ** 2, 1.0)
    return (1.0 - r2) ** 2


def _norm(v):
    return np.sqrt(np.sum(v * v, axis=-1))


def _unit(v):
    return v / np.maximum(_norm(v), 1e-15)[..., None]


def _ell(p, c, r):
    """Approximate signed distance to an ellipsoid (centre c, radii r)."""
    q = (p - c) / r
    k0 = _norm(q)
    k1 = _norm(q / r)
    return k0 * (k0 - 1.0) / np.maximum(k1, 1e-12)


def _cone(p, a, b, ra, rb):
    """Capsule from a to b with radius going linearly from ra to rb (approximate)."""
    ba = b - a
    pa = p - a
    h = np.clip(np.sum(pa * ba, axis=-1) / np.dot(ba, ba), 0.0, 1.0)
    return _norm(pa - ba * h[..., None]) - (ra + (rb - ra) * h)


def _smin(a, b, k):
    h = np.clip(0.5 + 0.5 * (b - a) / k, 0.0, 1.0)
    return b * (1.0 - h) + a * h - k * h * (1.0 - h)


def _smax(a, b, k):
    return -_smin(-a, -b, k)


def _sgnpow(x, e):
    return np.sign(x) * np.abs(x) ** e


# --------------------------------------------------------------------------- the skin SDF
def _y_lip() -> float:
    return C0[1] + 0.094 * np.tan(PHI_LIP)


def _lid_offset(q):
    """Lid shell thickness around the eyeball: negative inside the eye opening (almond)."""
    u = q[..., 0] - EYE[0]                 # + is lateral
    v = q[..., 1] - EYE[1] - 0.10 * u      # outer corner slightly higher
    v = v + 0.0012 * _bump(u / 0.016) * (v > 0)  # upper lid arch peaks a little medially
    b = np.where(v > 0, 0.0054, 0.0046)
    d = np.sqrt((u / 0.0138) ** 2 + (v / b) ** 2)
    off = -0.0018 + 0.0033 * _smoothstep(0.90, 1.12, d)
    # upper-lid fold a few millimetres above the opening
    off = off + 0.0006 * _bump((d - 1.55) / 0.35) * (v > 0)
    return off


def skin_sdf(p):
    """Signed distance (approximate) of the head skin, p: (..., 3)."""
    x, y, z = p[..., 0], p[..., 1], p[..., 2]
    q = np.stack([np.abs(x), y, z], axis=-1)     # mirrored: features on +X
    yl = _y_lip()

    cranium = _ell(p, np.array([0.0, 0.031, -0.014]), np.array([0.0750, 0.090, 0.100]))
    # face mass, narrowing toward the front
    fx = 1.0 - 0.22 * _smoothstep(0.0, 0.09, z)
    pf = np.stack([x / fx, y, z], axis=-1)
    face = _ell(pf, np.array([0.0, -0.018, 0.028]), np.array([0.064, 0.068, 0.064]))
    # mandible: a U narrowing to the chin
    jx = 1.0 - 0.32 * _smoothstep(-0.01, 0.085, z)
    pj = np.stack([x / jx, y, z], axis=-1)
    jaw = _ell(pj, np.array([0.0, -0.060, 0.020]), np.array([0.058, 0.040, 0.066]))
    chin = _ell(p, np.array([0.0, -0.087, 0.068]), np.array([0.024, 0.015, 0.018]))
    head = _smin(cranium, face, 0.03)
    head = _smin(head, jaw, 0.02)
    head = _smin(head, chin, 0.018)

    # neck (elliptic cylinder, flat cut at the bottom)
    nr = 0.051 + 0.004 * _smoothstep(-0.12, -0.18, y)
    neck2d = np.sqrt((x / nr) ** 2 + ((z + 0.018 - 0.12 * (y + 0.1)) / (nr * 0.95)) ** 2) - 1.0
    neck = _smax(neck2d * nr, -(y + 0.180), 0.012)
    neck = _smax(neck, y - 0.02, 0.01)
    head = _smin(head, neck, 0.028)

    # brow ridge and cheekbones
    brow = _ell(q, np.array([0.030, 0.047, 0.071]), np.array([0.030, 0.011, 0.017]))
    head = _smin(head, brow, 0.014)
    cheek = _ell(q, np.array([0.045, 0.003, 0.056]), np.array([0.022, 0.016, 0.020]))
    head = _smin(head, cheek, 0.014)
    # temples slightly hollow
    temple = _ell(q, np.array([0.083, 0.045, 0.030]), np.array([0.016, 0.02, 0.02]))
    head = _smax(head, -temple, 0.012)

    # eye sockets and lids wrapped over the eyeball
    socket = _ell(q, np.array([EYE[0], EYE[1], EYE[2] + 0.012]), np.array([0.019, 0.0135, 0.016]))
    head = _smax(head, -socket, 0.008)
    lid = _norm(q - EYE) - (EYE_R + _lid_offset(q))
    head = _smin(head, lid, 0.0035)

    # nose: bridge, tip, wings, with a wider base blending into the face
    bridge = _cone(p, np.array([0.0, 0.031, 0.077]), np.array([0.0, -0.006, 0.104]), 0.0062, 0.0085)
    nbase = _ell(p, np.array([0.0, -0.008, 0.088]), np.array([0.015, 0.020, 0.014]))
    tip = _ell(p, np.array([0.0, -0.010, 0.1045]), np.array([0.0105, 0.0095, 0.0105]))
    ala = _ell(q, np.array([0.0135, -0.0165, 0.0935]), np.array([0.0082, 0.0072, 0.0085]))
    nose = _smin(_smin(bridge, tip, 0.006), nbase, 0.008)
    nose = _smin(nose, ala, 0.004)
    # nostrils: small dents under the tip
    nostril = _ell(q, np.array([0.0082, -0.0215, 0.0985]), np.array([0.0042, 0.0030, 0.0058]))
    nose = _smax(nose, -nostril, 0.002)
    head = _smin(head, nose, 0.006)

    # lips, philtrum and the groove above the chin
    ulip = _ell(p, np.array([0.0, yl + 0.0048, 0.0845]), np.array([0.0245, 0.0068, 0.0125]))
    llip = _ell(p, np.array([0.0, yl - 0.0058, 0.0825]), np.array([0.0225, 0.0078, 0.0125]))
    head = _smin(head, ulip, 0.005)
    head = _smin(head, llip, 0.005)
    philtrum = _ell(p, np.array([0.0, yl + 0.014, 0.0985]), np.array([0.0035, 0.008, 0.0028]))
    head = _smax(head, -philtrum, 0.003)
    sulcus = _ell(p, np.array([0.0, yl - 0.0205, 0.0955]), np.array([0.022, 0.0045, 0.006]))
    head = _smax(head, -sulcus, 0.006)
    return head


def project(dirs, sdf=skin_sdf, t_max=0.32, step=0.0015):
    """Distance from C0 along each unit direction to the outermost skin crossing."""
    dirs = np.asarray(dirs, float)
    ts = np.arange(0.0, t_max + step, step)
    out = np.empty(len(dirs))
    for s in range(0, len(dirs), 1024):
        d = dirs[s:s + 1024]
        pts = C0 + d[:, None, :] * ts[None, :, None]
        inside = sdf(pts) < 0.0
        last = len(ts) - 1 - np.argmax(inside[:, ::-1], axis=1)
        lo = ts[last]
        hi = lo + step
        for _ in range(36):
            mid = 0.5 * (lo + hi)
            ins = sdf(C0 + d * mid[:, None]) < 0.0
            lo = np.where(ins, mid, lo)
            hi = np.where(ins, hi, mid)
        out[s:s + 1024] = 0.5 * (lo + hi)
    return out


# --------------------------------------------------------------------------- grid layout
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
            + 1.6 * np.exp(-0.5 * ((d - 13) / 6) ** 2))


def _col_density(theta):
    d = np.degrees(theta)
    return (0.45 + 1.5 * np.exp(-0.5 * (d / 32) ** 2) + 0.6 * np.exp(-0.5 * (d / 12) ** 2)
            + 0.5 * np.exp(-0.5 * ((np.abs(d) - 26) / 7) ** 2))


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


def _dir(phi, theta):
    return np.stack([np.cos(phi) * np.sin(theta), np.sin(phi), np.cos(phi) * np.cos(theta)], -1)


# --------------------------------------------------------------------------- sub-meshes
def _uv_sphere(center, radii, n_rings, n_cols, axis_rings=None):
    """Closed UV sphere around +Z (pole at +Z).  Returns positions, faces, polar angle."""
    if axis_rings is None:
        axis_rings = np.linspace(0, np.pi, n_rings + 2)[1:-1]
    a = np.asarray(axis_rings, float)
    w = np.linspace(0, 2 * np.pi, n_cols, endpoint=False)
    A, W = np.meshgrid(a, w, indexing="ij")
    ring = np.stack([np.sin(A) * np.cos(W), np.sin(A) * np.sin(W), np.cos(A)], -1).reshape(-1, 3)
    pts = np.concatenate([[[0, 0, 1.0]], ring, [[0, 0, -1.0]]])
    alpha = np.concatenate([[0.0], A.reshape(-1), [np.pi]])
    az = np.concatenate([[0.0], W.reshape(-1), [0.0]])
    nr, nc = len(a), n_cols
    faces = []
    top, bot = 0, 1 + nr * nc
    for j in range(nc):
        j1 = (j + 1) % nc
        faces.append((top, 1 + j, 1 + j1))
        for i in range(nr - 1):
            p, q = 1 + i * nc + j, 1 + i * nc + j1
            r, s = p + nc, q + nc
            faces += [(p, r, q), (q, r, s)]
        faces.append((bot, 1 + (nr - 1) * nc + j1, 1 + (nr - 1) * nc + j))
    return center + pts * radii, np.array(faces, np.int64), alpha, az


def _eyeball():
    rings = np.radians([3, 6.5, 9.0, 10.2, 11.5, 15, 19, 23, 26.3, 28.0, 29.6, 32, 38, 48, 62,
                        80, 100, 125, 150])
    pos, faces, alpha, az = _uv_sphere(np.zeros(3), EYE_R, 0, 28, rings)
    ad = np.degrees(alpha)
    sclera = np.array([0.95, 0.93, 0.90]) * (1.0 - 0.25 * _smoothstep(40, 140, ad))[:, None]
    sclera = sclera + np.array([0.0, -0.04, -0.04]) * _smoothstep(32, 70, ad)[:, None]
    rays = 0.88 + 0.12 * np.cos(9 * az) * np.cos(4 * az + 1.0)
    inner = np.array([0.55, 0.42, 0.24])
    outer = np.array([0.30, 0.46, 0.55])
    t = _smoothstep(10.5, 22.0, ad)[:, None]
    iris = (inner * (1 - t) + outer * t) * rays[:, None]
    iris = iris * (1.0 - 0.55 * _smoothstep(24.5, 28.0, ad))[:, None]    # dark limbal ring
    col = np.where((ad < 28.8)[:, None], iris, sclera)
    col = np.where((ad < 9.6)[:, None], np.array([0.02, 0.02, 0.025]), col)
    # cornea: the iris sits a touch flatter, the pupil reads deeper
    return pos, faces, col


def _ear_center_h():
    a, b = 0.0, 0.0
    concha = -0.0045 * _bump(np.sqrt((a - 0.002) ** 2 + ((b + 0.004) / 1.3) ** 2) / 0.012)
    tragus = 0.0030 * _bump(np.sqrt((a - 0.0115) ** 2 + (b + 0.006) ** 2) / 0.0045)
    return concha + tragus


def _ear():
    """Left ear in head coordinates: a closed pillow with helix, antihelix, concha, tragus."""
    n_ang, n_rad = 36, 7
    w = np.linspace(0, 2 * np.pi, n_ang, endpoint=False)      # 0 = forward, pi/2 = up
    rho = np.linspace(0, 1, n_rad + 1)[1:]
    R, W = np.meshgrid(rho, w, indexing="ij")
    ra = np.where(np.sin(W) < 0, 0.0145 - 0.002 * np.abs(np.sin(W)), 0.0160)
    rb = np.where(np.sin(W) < 0, 0.030, 0.029)
    a = R * ra * np.cos(W)
    b = R * rb * np.sin(W)
    # front (outer) height profile
    back_up = _smoothstep(-0.2, 0.6, -np.cos(W) + 0.6 * np.sin(W))    # helix over top and back
    lobe = _smoothstep(-0.3, -0.75, np.sin(W))
    helix = 0.0030 * _bump((R - 0.9) / 0.16) * np.maximum(back_up, 0.25) * (1 - lobe)
    antihelix = 0.0018 * _bump((R - 0.6) / 0.16) * back_up * (1 - lobe)
    concha = -0.0045 * _bump(np.sqrt((a - 0.002) ** 2 + ((b + 0.004) / 1.3) ** 2) / 0.012)
    tragus = 0.0030 * _bump(np.sqrt((a - 0.0115) ** 2 + (b + 0.006) ** 2) / 0.0045)
    front = 0.0045 + 0.0035 * R ** 2 + helix + antihelix + concha + tragus - 0.0045 * (R ** 8)
    front = front + 0.0015 * lobe * (1 - R ** 4)
    backh = -0.0030 + 0.0010 * R ** 2 - 0.0010 * (R ** 8)
    rim = R == 1.0
    # vertices: front centre, front rings 0..n_rad-1 (last = shared rim), back rings, back centre
    fa, fb = a.reshape(-1), b.reshape(-1)
    fh = front.reshape(-1)
    bh = backh[:-1].reshape(-1)
    local = [(0.0, 0.0, float(0.0045 + _ear_center_h()))]
    local += list(zip(fa, fb, fh))
    local += list(zip(a[:-1].reshape(-1), b[:-1].reshape(-1), bh))
    local += [(0.0, 0.0, -0.0030)]
    local = np.array(local, float)
    del rim
    nf = 1 + n_rad * n_ang

    def fidx(i, j):
        return 1 + i * n_ang + (j % n_ang)

    def bidx(i, j):
        if i == n_rad - 1:
            return fidx(i, j)
        return nf + i * n_ang + (j % n_ang)

    bc = nf + (n_rad - 1) * n_ang
    faces = []
    for j in range(n_ang):
        faces.append((0, fidx(0, j), fidx(0, j + 1)))
        faces.append((bc, bidx(0, j + 1), bidx(0, j)))
        for i in range(n_rad - 1):
            faces += [(fidx(i, j), fidx(i + 1, j), fidx(i + 1, j + 1)),
                      (fidx(i, j), fidx(i + 1, j + 1), fidx(i, j + 1))]
            faces += [(bidx(i, j), bidx(i + 1, j + 1), bidx(i + 1, j)),
                      (bidx(i, j), bidx(i, j + 1), bidx(i + 1, j + 1))]
    faces = np.array(faces, np.int64)
    # frame: ear faces outward and a little forward, top tilted back
    psi, tau = np.radians(18.0), np.radians(14.0)
    n = np.array([np.cos(psi), 0.0, np.sin(psi)])
    up = np.array([0.0, np.cos(tau), -np.sin(tau)])
    up = _unit(up - n * np.dot(up, n))
    fwd = np.cross(up, n)
    fwd = fwd if fwd[2] > 0 else -fwd
    d = _unit(np.array([1.0, 0.004 - C0[1], -0.006]))
    origin = C0 + d * project(d[None])[0] + np.array([0.0015, 0.0, 0.0])
    pos = origin + local[:, :1] * fwd + local[:, 1:2] * up + local[:, 2:3] * n
    # (a, b, h) is right- or left-handed in head space: make faces point outward
    pos_f = pos[faces]
    nrm = np.cross(pos_f[:, 1] - pos_f[:, 0], pos_f[:, 2] - pos_f[:, 0])
    centre = pos.mean(axis=0)
    if np.sum(np.sum(nrm * (pos_f.mean(axis=1) - centre), axis=1)) < 0:
        faces = faces[:, ::-1]
    return pos, faces


def _tube(path, sections, close_ends=True):
    """Closed tube: path (N, 3) points, sections (N, S, 3) absolute loop points."""
    n, s = sections.shape[:2]
    pts = [sections.reshape(-1, 3)]
    faces = []
    for i in range(n - 1):
        for k in range(s):
            a, b = i * s + k, i * s + (k + 1) % s
            faces += [(a, b, a + s), (b, b + s, a + s)]
    if close_ends:
        c0 = n * s
        c1 = n * s + 1
        pts.append(sections[0].mean(axis=0, keepdims=True))
        pts.append(sections[-1].mean(axis=0, keepdims=True))
        for k in range(s):
            faces.append((c0, (k + 1) % s, k))
            faces.append((c1, (n - 1) * s + k, (n - 1) * s + (k + 1) % s))
    return np.concatenate(pts), np.array(faces, np.int64)


def _orient_outward(pos, faces, centre=None):
    """Flip all faces if most of them point toward the part's centre."""
    p = pos[faces]
    nrm = np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0])
    c = pos.mean(axis=0) if centre is None else centre
    if np.sum(np.sum(nrm * (p.mean(axis=1) - c), axis=1)) < 0:
        faces = faces[:, ::-1].copy()
    return faces


# widths of the teeth from the midline (m): incisors, lateral, canine, premolars
_TEETH_UP = (0.0085, 0.0066, 0.0078, 0.0070, 0.0068)
_TEETH_LOW = (0.0054, 0.0060, 0.0068, 0.0070, 0.0070)


def _teeth(z_front, y_edge, upper, arch_k):
    """A row of teeth along a parabolic arch; returns positions, faces, colours."""
    widths = _TEETH_UP if upper else _TEETH_LOW
    bounds = np.concatenate([[0.0], np.cumsum(widths)])
    total = bounds[-1]
    # arc-length parametrisation of the arch z = z_front - k x^2
    xs = np.linspace(0, 0.04, 4001)
    arc = np.concatenate([[0], np.cumsum(np.sqrt(1 + (2 * arch_k * 0.5 * (xs[1:] + xs[:-1])) ** 2) * np.diff(xs))])
    per_tooth = 4
    samples = [0.0]
    for i in range(len(widths)):
        for k in range(1, per_tooth + 1):
            samples.append(bounds[i] + widths[i] * k / per_tooth)
    s_half = np.array(samples)
    s_all = np.concatenate([-s_half[::-1], s_half[1:]])
    x = np.sign(s_all) * np.interp(np.abs(s_all), arc, xs)
    z = z_front - arch_k * x ** 2
    path = np.stack([x, np.zeros_like(x), z], -1)
    tang = _unit(np.stack([np.ones_like(x), np.zeros_like(x), -2 * arch_k * x], -1))
    outn = np.stack([-tang[:, 2], np.zeros_like(x), tang[:, 0]], -1)     # outward (front)
    # which tooth, position inside it (0..1)
    sa = np.abs(s_all)
    idx = np.minimum(np.searchsorted(bounds, sa, side="right") - 1, len(widths) - 1)
    inside = (sa - bounds[idx]) / np.array(widths)[idx]
    edge_round = 0.0009 * (np.abs(2 * inside - 1) ** 3)
    canine = 0.0009 * _bump((inside - 0.5) / 0.5) * (idx == 2)
    back = 0.0012 * _smoothstep(2.5, 4.5, idx + inside)
    sgn = 1.0 if upper else -1.0
    height = 0.0105 if upper else 0.0095
    y_e = y_edge + sgn * (edge_round + back - canine)
    y_g = y_edge + sgn * height
    thick = 0.0055 + 0.002 * _smoothstep(2.0, 4.0, idx + inside)
    prof = np.array([  # (outward offset, fraction from edge (0) to gum (1)), loop
        (0.0000, 1.00), (0.0005, 0.60), (0.0003, 0.25), (0.0000, 0.04), (-0.0006, 0.0),
        (-0.0014, 0.05), (-0.0030, 0.45), (-0.0045, 1.0), (-0.0025, 1.12)])
    n, s = len(x), len(prof)
    sec = np.empty((n, s, 3))
    fr = np.empty((n, s))
    for k, (o, f) in enumerate(prof):
        oo = o if o >= -0.0015 else o * thick / 0.0055
        yy = y_e + (y_g - y_e) * f
        sec[:, k] = path + outn * oo[..., None] if np.ndim(oo) else path + outn * oo
        sec[:, k, 1] = yy
        fr[:, k] = f
    pos, faces = _tube(path, sec)
    # orientation: the normal of the first side face must point away from its ring's centre
    ring = sec[0].mean(axis=0)
    f0 = pos[faces[0]]
    n0 = np.cross(f0[1] - f0[0], f0[2] - f0[0])
    if np.dot(n0, f0.mean(axis=0) - ring) < 0:
        faces = faces[:, ::-1].copy()
    # colours: enamel, darker between teeth and toward the back, gum at the root
    fr_all = np.concatenate([fr.reshape(-1), [0.5, 0.5]])
    ins_all = np.concatenate([np.repeat(inside, s), [0.5, 0.5]])
    depth_all = np.concatenate([np.repeat(sa / total, s), [1.0, 1.0]])
    enamel = np.array([0.93, 0.91, 0.84])
    gap = 1.0 - 0.35 * (np.abs(2 * ins_all - 1) ** 6)
    shade = 1.0 - 0.5 * depth_all
    col = enamel * (gap * shade)[:, None]
    gum = np.array([0.62, 0.30, 0.30]) * shade[:, None]
    g = _smoothstep(0.85, 1.05, fr_all)[:, None]
    col = col * (1 - g) + gum * g
    return pos, faces, col


# --------------------------------------------------------------------------- assembly
def _lip_roll(radius, phi, theta, phi_lip, theta_c):
    """Inward offset that rolls the lips into the slit: a quarter circle around the lip row."""
    u = theta / theta_c
    rho = 0.0029 * np.sqrt(np.clip(1.0 - u ** 2, 0.0, 1.0)) ** 0.7
    s = np.abs(phi - phi_lip) * radius
    return np.where(s < rho, rho - np.sqrt(np.maximum(rho ** 2 - (rho - s) ** 2, 0.0)), 0.0)


def _angles(p):
    """Elevation and azimuth of points as seen from C0."""
    r = p - C0
    return np.arctan2(r[:, 1], np.hypot(r[:, 0], r[:, 2])), np.arctan2(r[:, 0], r[:, 2])


def build_default_head() -> Rig:
    rows, k_lip, cols = grid_angles()
    nr, nc = len(rows), len(cols)
    c_mid = nc // 2
    m = int(np.argmin(np.abs(cols[c_mid:] - THETA_CORNER)))
    c_l, c_r = c_mid - m, c_mid + m
    theta_c = cols[c_r]
    phi_lip = rows[k_lip]

    # ---- skin grid
    PH, TH = np.meshgrid(rows, cols, indexing="ij")
    dirs = np.concatenate([[[0, -1.0, 0]], _dir(PH, TH).reshape(-1, 3), [[0, 1.0, 0]]])
    phi_v = np.concatenate([[-np.pi / 2], PH.reshape(-1), [np.pi / 2]])
    th_v = np.concatenate([[0.0], TH.reshape(-1), [np.pi]])
    radius = project(dirs)

    radius = radius - _lip_roll(radius, phi_v, th_v, phi_lip, theta_c)
    skin = C0 + dirs * radius[:, None]

    def gi(i, j):
        return 1 + i * nc + (j % nc)

    slit = np.arange(c_l + 1, c_r)
    n_grid = 2 + nr * nc
    lower_copy = {int(j): n_grid + t for t, j in enumerate(slit)}
    skin = np.concatenate([skin, skin[[gi(k_lip, j) for j in slit]]])
    phi_v = np.concatenate([phi_v, phi_v[[gi(k_lip, j) for j in slit]]])
    th_v = np.concatenate([th_v, th_v[[gi(k_lip, j) for j in slit]]])
    side = np.where(phi_v > phi_lip, 1.0, np.where(phi_v < phi_lip, -1.0, 0.0))
    side[[gi(k_lip, j) for j in slit]] = 1.0
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
            faces += [(a, b, c), (b, d, c)]
    skin_faces = np.array(faces, np.int64)
    n_skin = len(skin)

    # ---- mouth bag stitched to the lip edges
    M = BAG_ROWS
    bag_pts, bag_s, bag_col_idx = [], [], []
    prof_index = {}
    y_lip_c = skin[gi(k_lip, c_mid), 1]
    z_lip_c = skin[gi(k_lip, c_mid), 2]
    for j in slit:
        up_i, lo_i = gi(k_lip, j), lower_copy[int(j)]
        P = 0.5 * (skin[up_i] + skin[lo_i])
        f = np.sqrt(max(1.0 - (cols[j] / theta_c) ** 2, 0.0))
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
                cz = -L - D + D * _sgnpow(np.cos(beta), 2 / 3.2)
                sy = _sgnpow(np.sin(beta), 2 / 3.2)
                cy = sy * (h_up if sy > 0 else h_lo) + (0.0003 * f if sp < 0.5 else -0.0003 * f)
            widen = 1.0 + 0.40 * f * np.sin(np.pi * sp) ** 0.7
            pt = np.array([P[0] * widen, P[1] + cy, P[2] + cz])
            idx.append(n_skin + len(bag_pts))
            bag_pts.append(pt)
            bag_s.append(sp)
            bag_col_idx.append(j)
        idx.append(lo_i)
        prof_index[int(j)] = idx
    bag_pts = np.array(bag_pts)
    bag_s = np.array(bag_s)
    # keep the bag at least 3 mm inside the skin
    rel = bag_pts - C0
    dist = _norm(rel)
    bdir = rel / dist[:, None]
    near_edge = np.minimum(bag_s, 1 - bag_s)
    bphi, bth = _angles(bag_pts)
    lim = project(bdir)
    lim = lim - _lip_roll(lim, bphi, bth, phi_lip, theta_c)
    lim = lim - 0.0006 - 0.0026 * _smoothstep(0.0, 0.2, near_edge)
    clamp = dist > lim
    dist = np.where(clamp, lim, dist)
    bag_pts = C0 + bdir * dist[:, None]

    faces = []
    corner_l, corner_r = gi(k_lip, c_l), gi(k_lip, c_r)
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
    bag_faces = np.array(faces, np.int64)

    # ---- teeth and tongue
    z_teeth = z_lip_c - BAG_LIP - 0.0016
    up_t, up_tf, up_tc = _teeth(z_teeth, y_lip_c - 0.0003, True, 44.0)
    lo_t, lo_tf, lo_tc = _teeth(z_teeth - 0.0019, y_lip_c + 0.0012, False, 50.0)
    tg, tgf, _, tg_az = _uv_sphere(np.zeros(3), 1.0, 0, 20, np.linspace(0, np.pi, 12)[1:-1])
    tg_local = tg.copy()
    tg = tg * np.array([0.0165, 0.0062, 0.021])
    tg[:, 1] = np.where(tg[:, 1] < 0, tg[:, 1] * 0.5, tg[:, 1])            # flat underside
    tg[:, 1] += 0.0018 * np.exp(-(tg[:, 0] / 0.006) ** 2) * (tg[:, 1] > 0) * -1.0  # centre groove
    tg = tg + np.array([0.0, y_lip_c - 0.0115, z_teeth - 0.021])
    tgf = _orient_outward(tg, tgf)
    tg_col = np.array([0.55, 0.24, 0.24]) * (1.0 - 0.45 * _smoothstep(-0.3, -1.0, tg_local[:, 2]))[:, None]

    # ---- eyes and ears
    eye_p, eye_f, eye_c = _eyeball()
    eye_l = eye_p + EYE
    eye_r = eye_p * np.array([-1, 1, 1]) + EYE * np.array([-1, 1, 1])
    ear_p, ear_f = _ear()
    ear_r = ear_p * np.array([-1, 1, 1])

    parts = [
        ("skin", skin, skin_faces),
        ("mouth_bag", bag_pts, bag_faces),   # bag faces index skin + bag (global offsets)
        ("teeth_upper", up_t, up_tf),
        ("teeth_lower", lo_t, lo_tf),
        ("tongue", tg, tgf),
        ("eye_left", eye_l, eye_f),
        ("eye_right", eye_r, eye_f[:, ::-1]),
        ("ear_left", ear_p, ear_f),
        ("ear_right", ear_r, ear_f[:, ::-1]),
    ]
    positions, all_faces, ranges = [], [], {}
    off = 0
    for name, p, f in parts:
        positions.append(p)
        if name == "skin":
            all_faces.append(f)
        elif name == "mouth_bag":
            all_faces.append(f)                    # already global (skin first)
        else:
            all_faces.append(f + off)
        ranges[name] = [off, off + len(p)]
        off += len(p)
    pos = np.concatenate(positions)
    faces = np.concatenate(all_faces).astype(np.int64)
    V = len(pos)
    pos = np.round(pos, 6)

    # ---- per-vertex attributes over the whole mesh
    part = np.zeros(V, np.int64)
    for pid, (name, _, _) in enumerate(parts):
        a, b = ranges[name]
        part[a:b] = pid
    colors = np.zeros((V, 3))
    gloss = np.zeros(V)
    a, b = ranges["skin"]
    colors[a:b], gloss[a:b] = _skin_colors(skin, phi_v, th_v, phi_lip, theta_c)
    a, b = ranges["mouth_bag"]
    edge = np.minimum(bag_s, 1 - bag_s)
    dark = np.array([0.16, 0.035, 0.035]) * (1 - _smoothstep(0.1, 0.45, edge))[:, None] \
        + np.array([0.05, 0.012, 0.012]) * _smoothstep(0.1, 0.45, edge)[:, None]
    lipin = np.array([0.45, 0.18, 0.17])
    t = _smoothstep(0.0, 0.08, edge)[:, None]
    colors[a:b] = lipin * (1 - t) + dark * t
    gloss[a:b] = 0.0
    for name, col, gl in (("teeth_upper", up_tc, 0.55), ("teeth_lower", lo_tc, 0.55),
                          ("tongue", tg_col, 0.15), ("eye_left", eye_c, 1.0),
                          ("eye_right", eye_c, 1.0)):
        a, b = ranges[name]
        colors[a:b] = col
        gloss[a:b] = gl
    for name in ("ear_left", "ear_right"):
        a, b = ranges[name]
        colors[a:b] = SKIN * np.array([0.99, 0.93, 0.92])
        gloss[a:b] = 0.25

    # ---- blendshapes
    targets = _blendshapes(pos, ranges, phi_v, th_v, side, phi_lip, theta_c, bag_s)
    targets = {k: np.round(v, 6) for k, v in targets.items()}

    landmarks = {
        "upper_lip_center": int(gi(k_lip + 0, c_mid)),
        "lower_lip_center": int(lower_copy[c_mid]),
        "mouth_corner_left": int(corner_r),     # +X is the head's left
        "mouth_corner_right": int(corner_l),
        "chin": int(np.argmin(_chin_score(pos, part))),
        "nose_tip": int(np.argmax(np.where(part == 0, pos[:, 2], -9))),
    }
    info = {
        "description": "face3d procedural default head: skin with a lip slit and closed mouth bag, "
                       "teeth, tongue, eyeballs (sclera/iris/pupil), ears; +Y up, +Z forward, metres",
        "generator": "face3d.mesh.default_head",
        "parts": ranges,
        "landmarks": landmarks,
    }
    normals = vertex_normals(pos, faces)
    return Rig.from_targets(pos.astype(np.float32), faces.astype(np.uint32),
                            {k: targets[k] for k in SHAPES}, normals=normals,
                            colors=np.round(np.clip(colors, 0, 1), 5).astype(np.float32),
                            gloss=np.round(gloss, 5).astype(np.float32), info=info)


def _chin_score(pos, part):
    # lowest front point on the midline of the skin
    score = pos[:, 1] - 0.5 * pos[:, 2] + 5.0 * np.abs(pos[:, 0])
    return np.where((part == 0) & (pos[:, 2] > 0.03), score, 9.0)


def _skin_colors(p, phi, th, phi_lip, theta_c):
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
    lip = np.where(s >= 0, _smoothstep(h_up + 0.0014, h_up - 0.0012, s),
                   _smoothstep(-h_lo - 0.0016, -h_lo + 0.0014, s))
    lip = lip * (np.abs(u) < 1.05) * (z > 0.04)
    lip = np.maximum(lip, np.where((np.abs(s) < 0.0004) & (np.abs(u) <= 1.0) & (z > 0.04), 1.0, 0.0))
    col = col * (1 - lip[:, None]) + LIP * lip[:, None]
    # the inner, rolled part of the lips is a touch darker
    roll = _smoothstep(0.0025, 0.0, np.abs(s)) * (np.abs(u) < 1.0) * (z > 0.04)
    col = col * (1 - 0.25 * roll[:, None])
    # nostrils
    nos = np.exp(-((((ax - 0.0082) / 0.0033) ** 2) + ((z - 0.0985) / 0.0045) ** 2)) \
        * _smoothstep(-0.015, -0.019, y) * _smoothstep(-0.027, -0.023, y)
    col = col * (1 - 0.55 * np.clip(nos, 0, 1)[:, None])
    # eyebrows: an arc above each eye, thicker near the nose
    ue = ax - EYE[0]
    centre = EYE[1] + 0.0185 + 0.0035 * (1 - ((ue - 0.003) / 0.021) ** 2) - 0.002 * _smoothstep(0.01, 0.022, ue)
    half = 0.0034 - 0.0015 * _smoothstep(-0.012, 0.02, ue)
    along = _smoothstep(-0.022, -0.013, ue) * _smoothstep(0.027, 0.016, ue)
    brow = _smoothstep(half + 0.0045, half - 0.0015, np.abs(y - centre)) * along * _smoothstep(0.02, 0.04, z)
    col = col * (1 - 0.6 * brow[:, None]) + BROW * 0.6 * brow[:, None]
    # lids: a slightly darker, warmer rim around the eye opening
    dq = _norm(np.stack([ax, y, z], -1) - EYE)
    rim = _smoothstep(EYE_R + 0.0032, EYE_R + 0.0008, dq) * (z > 0.03)
    col = col * (1 - 0.12 * rim[:, None])
    gloss = 0.28 + 0.17 * lip
    return col, gloss


# --------------------------------------------------------------------------- blendshapes
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
    smooth = _smoothstep(centre + band, centre - band, dphi)
    in_mouth = np.abs(theta) <= theta_c + 1e-9
    step = np.where(side < 0, 1.0, np.where(side > 0, 0.0, 0.5))
    w = np.where(in_mouth & (np.abs(dphi) < 0.35), step, smooth)
    w = w * _smoothstep(JAW_PIVOT[2] - 0.005, JAW_PIVOT[2] + 0.03, p[:, 2])
    y_plane = -0.090 - 0.357 * p[:, 2]
    w = w * _smoothstep(y_plane - 0.022, y_plane + 0.004, p[:, 1])
    # under the jaw the weight ramps up from the throat to the chin, so nothing folds
    under = _smoothstep(-0.055, -0.085, p[:, 1])
    return w * (1.0 - under * (1.0 - _smoothstep(-0.03, 0.07, p[:, 2])))


def _blendshapes(pos, ranges, phi_v, th_v, side, phi_lip, theta_c, bag_s):
    V = len(pos)
    sk0, sk1 = ranges["skin"]
    bg0, bg1 = ranges["mouth_bag"]

    # per-vertex mouth coordinates: skin from its grid angles, the bag from its own direction
    phi = np.zeros(V)
    th = np.zeros(V)
    sd = np.zeros(V)
    follow = np.zeros(V)          # how much the lip fields move a vertex
    phi[sk0:sk1], th[sk0:sk1], sd[sk0:sk1] = phi_v, th_v, side
    follow[sk0:sk1] = 1.0
    bphi, bth = _angles(pos[bg0:bg1])
    phi[bg0:bg1], th[bg0:bg1] = bphi, bth
    sd[bg0:bg1] = np.where(bag_s < 0.5, 1.0, -1.0)
    # bag vertices just behind the skin move with it; deep ones stay
    bag = pos[bg0:bg1]
    r_bag = _norm(bag - C0)
    r_skin = project((bag - C0) / r_bag[:, None])
    r_skin = r_skin - _lip_roll(r_skin, bphi, bth, phi_lip, theta_c)
    follow[bg0:bg1] = 1.0 - _smoothstep(0.005, 0.016, r_skin - r_bag)

    # ---------------- jawOpen: rotation about the jaw joint with smooth weights
    w = np.zeros(V)
    w[sk0:sk1] = _jaw_weight(pos[sk0:sk1], phi_v, th_v, side, phi_lip, theta_c)
    wb_space = _jaw_weight(pos[bg0:bg1], bphi, bth, sd[bg0:bg1], phi_lip, theta_c)
    wb_deep = _smoothstep(0.30, 0.70, bag_s)
    fb = follow[bg0:bg1]
    w[bg0:bg1] = fb * wb_space + (1 - fb) * wb_deep
    for name in ("teeth_lower", "tongue"):
        a, b = ranges[name]
        w[a:b] = 1.0
    # rotation about the joint plus the forward glide of the condyle
    moved = _rot_x(pos, JAW_PIVOT, JAW_ANGLE) + np.array([0.0, 0.0, JAW_GLIDE])
    jaw = pos + w[:, None] * (moved - pos)

    uu = th / theta_c
    vv = (phi - phi_lip) / 0.10       # 1 unit ~ 1 cm
    ss = sd
    au = np.abs(uu)
    lat = np.where(au <= 1.0, uu, np.sign(uu) * np.maximum(0.0, 1.0 - (au - 1.0) / 1.3))
    region = _bump(uu / 2.4) * _bump(vv / np.where(vv > 0, 2.2, 2.8))
    lips = _bump(uu / 1.35) * _bump(vv / np.where(vv > 0, 1.4, 1.8))
    edge_rows = _bump(uu / 1.15) * np.exp(-(vv / 0.45) ** 2)

    def field(dx, dy, dz):
        return pos + np.stack([dx, dy, dz], -1) * follow[:, None]

    # mouthWide: corners out (and a little up/back), lips thin and stretch
    dx = 0.0095 * lat * region
    dy = 0.0020 * lat ** 2 * region - 0.0013 * ss * edge_rows * (1 - lat ** 2)
    dz = -0.0045 * lat ** 2 * region - 0.0012 * lips
    wide = field(dx, dy, dz)

    # mouthPucker: lips forward and round, corners in
    dx = -0.45 * pos[:, 0] * _bump(uu / 1.9) * _bump(vv / np.where(vv > 0, 1.6, 2.0))
    dz = 0.0105 * lips * (1 - 0.35 * np.clip(au, 0, 1) ** 2)
    dy = 0.0016 * ss * edge_rows - 0.0010 * vv * lips * (np.abs(vv) < 1.0)
    pucker = field(dx, dy, dz)

    # mouthClose: lip edges move toward each other (lower lip does most), lower one tucks in
    lat_fall = _smoothstep(1.3, 0.5, au)
    up_w = np.where(ss > 0, _bump(vv / 1.6), 0.0)
    lo_w = np.where(ss < 0, _bump(vv / 2.4), 0.0)
    dy = (-0.0045 * up_w + 0.0095 * lo_w) * lat_fall
    dz = (0.0005 * up_w - 0.0010 * lo_w) * lat_fall
    close = field(np.zeros(V), dy, dz)

    return {"jawOpen": jaw, "mouthWide": wide, "mouthPucker": pucker, "mouthClose": close}


# --------------------------------------------------------------------------- output
def write_obj(rig: Rig, path) -> None:
    """Neutral mesh as OBJ with ``v x y z r g b`` colours and normals (deterministic)."""
    from face3d.fileio import atomic_path

    lines = ["# face3d default head (neutral); generated by python -m face3d.mesh.default_head",
             f"# {rig.n_vertices} vertices, {len(rig.faces)} triangles"]
    for p, c in zip(rig.positions.tolist(), rig.colors.tolist()):
        lines.append("v %.6f %.6f %.6f %.4f %.4f %.4f" % (*p, *c))
    for n in rig.normals.tolist():
        lines.append("vn %.5f %.5f %.5f" % tuple(n))
    for f in (rig.faces.astype(np.int64) + 1).tolist():
        lines.append("f %d//%d %d//%d %d//%d" % (f[0], f[0], f[1], f[1], f[2], f[2]))
    with atomic_path(path, suffix=".obj") as tmp:
        Path(tmp).write_text("\n".join(lines) + "\n", encoding="ascii", newline="\n")


def main(argv=None) -> int:
    import time

    from face3d.assets import model_dir

    argv = sys.argv[1:] if argv is None else argv
    out = Path(argv[0]) if argv else model_dir()
    t0 = time.perf_counter()
    rig = build_default_head()
    rig.save(out / "default_head.npz")
    write_obj(rig, out / "default_head.obj")
    for name in ("default_head.npz", "default_head.obj"):
        (out / name).chmod(0o644)
    print(f"wrote {out / 'default_head.npz'} and .obj: {rig.n_vertices} vertices, "
          f"{len(rig.faces)} triangles, {rig.n_shapes} shapes in {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
