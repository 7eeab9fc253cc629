"""The separate closed parts of the default head: eyeballs, ears, teeth and tongue."""

from __future__ import annotations

import numpy as np

from face3d.mesh.default_head.layout import C0, EYE_R, bump, smoothstep, unit
from face3d.mesh.default_head.sdf import NECK_CUT, neck_radius, project


def uv_sphere(center, radii, n_rings, n_cols, axis_rings=None):
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


def eyeball():
    rings = np.radians([3, 6.5, 9.0, 10.2, 11.5, 15, 19, 23, 26.3, 28.0, 29.6, 32, 38, 48, 62,
                        80, 100, 125, 150])
    pos, faces, alpha, az = uv_sphere(np.zeros(3), EYE_R, 0, 28, rings)
    ad = np.degrees(alpha)
    sclera = np.array([0.95, 0.93, 0.90]) * (1.0 - 0.25 * smoothstep(40, 140, ad))[:, None]
    sclera = sclera + np.array([0.0, -0.04, -0.04]) * smoothstep(32, 70, ad)[:, None]
    rays = 0.88 + 0.12 * np.cos(9 * az) * np.cos(4 * az + 1.0)
    inner = np.array([0.55, 0.42, 0.24])
    outer = np.array([0.30, 0.46, 0.55])
    t = smoothstep(10.5, 22.0, ad)[:, None]
    iris = (inner * (1 - t) + outer * t) * rays[:, None]
    iris = iris * (1.0 - 0.55 * smoothstep(24.5, 28.0, ad))[:, None]    # dark limbal ring
    col = np.where((ad < 28.8)[:, None], iris, sclera)
    col = np.where((ad < 9.6)[:, None], np.array([0.02, 0.02, 0.025]), col)
    # cornea: the iris sits a touch flatter, the pupil reads deeper
    return pos, faces, col


def _ear_center_h():
    a, b = 0.0, 0.0
    concha = -0.0045 * bump(np.sqrt((a - 0.002) ** 2 + ((b + 0.004) / 1.3) ** 2) / 0.012)
    tragus = 0.0030 * bump(np.sqrt((a - 0.0115) ** 2 + (b + 0.006) ** 2) / 0.0045)
    return concha + tragus


def ear():
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
    back_up = smoothstep(-0.2, 0.6, -np.cos(W) + 0.6 * np.sin(W))    # helix over top and back
    lobe = smoothstep(-0.3, -0.75, np.sin(W))
    helix = 0.0030 * bump((R - 0.9) / 0.16) * np.maximum(back_up, 0.25) * (1 - lobe)
    antihelix = 0.0018 * bump((R - 0.6) / 0.16) * back_up * (1 - lobe)
    concha = -0.0045 * bump(np.sqrt((a - 0.002) ** 2 + ((b + 0.004) / 1.3) ** 2) / 0.012)
    tragus = 0.0030 * bump(np.sqrt((a - 0.0115) ** 2 + (b + 0.006) ** 2) / 0.0045)
    front = 0.0045 + 0.0035 * R ** 2 + helix + antihelix + concha + tragus - 0.0045 * (R ** 8)
    front = front + 0.0015 * lobe * (1 - R ** 4)
    backh = -0.0030 + 0.0010 * R ** 2 - 0.0010 * (R ** 8)
    # vertices: front centre, front rings 0..n_rad-1 (last = shared rim), back rings, back centre
    fa, fb = a.reshape(-1), b.reshape(-1)
    fh = front.reshape(-1)
    bh = backh[:-1].reshape(-1)
    local = [(0.0, 0.0, float(0.0045 + _ear_center_h()))]
    local += list(zip(fa, fb, fh))
    local += list(zip(a[:-1].reshape(-1), b[:-1].reshape(-1), bh))
    local += [(0.0, 0.0, -0.0030)]
    local = np.array(local, float)
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
    up = unit(up - n * np.dot(up, n))
    fwd = np.cross(up, n)
    fwd = fwd if fwd[2] > 0 else -fwd
    d = unit(np.array([1.0, 0.004 - C0[1], -0.006]))
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


def orient_outward(pos, faces, centre=None):
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


def teeth(z_front, y_edge, upper, arch_k):
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
    tang = unit(np.stack([np.ones_like(x), np.zeros_like(x), -2 * arch_k * x], -1))
    outn = np.stack([-tang[:, 2], np.zeros_like(x), tang[:, 0]], -1)     # outward (front)
    # which tooth, position inside it (0..1)
    sa = np.abs(s_all)
    idx = np.minimum(np.searchsorted(bounds, sa, side="right") - 1, len(widths) - 1)
    inside = (sa - bounds[idx]) / np.array(widths)[idx]
    edge_round = 0.0009 * (np.abs(2 * inside - 1) ** 3)
    canine = 0.0009 * bump((inside - 0.5) / 0.5) * (idx == 2)
    back = 0.0012 * smoothstep(2.5, 4.5, idx + inside)
    sgn = 1.0 if upper else -1.0
    height = 0.0105 if upper else 0.0095
    y_e = y_edge + sgn * (edge_round + back - canine)
    y_g = y_edge + sgn * height
    thick = 0.0055 + 0.002 * smoothstep(2.0, 4.0, idx + inside)
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
    g = smoothstep(0.85, 1.05, fr_all)[:, None]
    col = col * (1 - g) + gum * g
    return pos, faces, col


def tongue(y_lip, z_teeth):
    """The tongue behind the lower teeth: a flattened sphere with a centre groove.
    Returns positions, faces, colours."""
    tg, tgf, _, _ = uv_sphere(np.zeros(3), 1.0, 0, 20, np.linspace(0, np.pi, 12)[1:-1])
    tg_local = tg.copy()
    tg = tg * np.array([0.0165, 0.0062, 0.021])
    tg[:, 1] = np.where(tg[:, 1] < 0, tg[:, 1] * 0.5, tg[:, 1])            # flat underside
    tg[:, 1] += 0.0018 * np.exp(-(tg[:, 0] / 0.006) ** 2) * (tg[:, 1] > 0) * -1.0  # centre groove
    tg = tg + np.array([0.0, y_lip - 0.0097, z_teeth - 0.021])
    tgf = orient_outward(tg, tgf)
    col = np.array([0.55, 0.24, 0.24]) * (1.0 - 0.45 * smoothstep(-0.3, -1.0, tg_local[:, 2]))[:, None]
    return tg, tgf, col


def collar(y=NECK_CUT + 0.011, minor=0.0085, n_around=48, n_tube=12):
    """A soft roll-neck collar (a closed tube) over the cut at the bottom of the neck."""
    nr = float(neck_radius(y)) + 0.002          # the neck's radius there, a little out
    a, b = nr, nr * 0.95
    zc = -0.018 + 0.12 * (y + 0.1)
    phi = np.linspace(0.0, 2 * np.pi, n_around, endpoint=False)
    th = np.linspace(0.0, 2 * np.pi, n_tube, endpoint=False)
    P, T = np.meshgrid(phi, th, indexing="ij")
    cx, cz = a * np.sin(P), zc + b * np.cos(P)
    nx, nz = np.sin(P) / a, np.cos(P) / b
    ln = np.hypot(nx, nz)
    nx, nz = nx / ln, nz / ln
    pos = np.stack([cx + minor * np.cos(T) * nx, y + 1.7 * minor * np.sin(T), cz + minor * np.cos(T) * nz], -1).reshape(-1, 3)
    faces = []
    for i in range(n_around):
        for j in range(n_tube):
            i1, j1 = (i + 1) % n_around, (j + 1) % n_tube
            q00, q10, q11, q01 = i * n_tube + j, i1 * n_tube + j, i1 * n_tube + j1, i * n_tube + j1
            faces += [(q00, q10, q11), (q00, q11, q01)]
    faces = np.array(faces, np.int64)
    t = pos[faces]
    if np.sum(t[:, 0] * np.cross(t[:, 1], t[:, 2])) < 0:    # outward: positive enclosed volume
        faces = faces[:, ::-1].copy()
    return pos, faces
