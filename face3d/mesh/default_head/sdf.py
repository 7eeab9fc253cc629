"""The skin as a signed-distance function, and the projection of grid rays onto it.

The skin is a smooth union of ellipsoids and cones (cranium, face, jaw, chin, neck, brow,
cheekbones, eye sockets and lids, nose, lips) with hollows cut in (temples, nostrils,
philtrum, the groove above the chin); all distances are approximate, which is enough to
find where a ray from the centre ``C0`` leaves the head.
"""

from __future__ import annotations

import numpy as np

from face3d.mesh.default_head.layout import C0, EYE, EYE_R, PHI_LIP, bump, norm, smoothstep


def _ell(p, c, r):
    """Approximate signed distance to an ellipsoid (centre c, radii r)."""
    q = (p - c) / r
    k0 = norm(q)
    k1 = norm(q / r)
    return k0 * (k0 - 1.0) / np.maximum(k1, 1e-12)


def _cone(p, a, b, ra, rb):
    """Capsule from a to b with radius going linearly from ra to rb (approximate)."""
    ba = b - a
    pa = p - a
    h = np.clip(np.sum(pa * ba, axis=-1) / np.dot(ba, ba), 0.0, 1.0)
    return norm(pa - ba * h[..., None]) - (ra + (rb - ra) * h)


NECK_CUT = -0.178                       # height of the flat cut at the bottom of the neck


def neck_radius(y):
    """Half-width of the neck at height ``y`` (it widens a little toward the shoulders)."""
    return 0.051 + 0.004 * smoothstep(-0.12, -0.18, y)


def _smin(a, b, k):
    h = np.clip(0.5 + 0.5 * (b - a) / k, 0.0, 1.0)
    return b * (1.0 - h) + a * h - k * h * (1.0 - h)


def _smax(a, b, k):
    return -_smin(-a, -b, k)


def _y_lip() -> float:
    return C0[1] + 0.094 * np.tan(PHI_LIP)


#: left nostril (an opening under the nose tip, reaching up into it): centre and radii
NOSTRIL = np.array([0.0062, -0.0188, 0.0985])
NOSTRIL_R = np.array([0.0030, 0.0044, 0.0054])


def nostril_depth(p):
    """How far inside the nostril's ellipsoid a point is (0 at its surface, 1 at its centre)."""
    q = np.stack([np.abs(p[..., 0]), p[..., 1], p[..., 2]], axis=-1)
    return np.clip(1.0 - norm((q - NOSTRIL) / NOSTRIL_R), 0.0, 1.0)


#: the eye opening: an almond of half-width LID_A, half-heights LID_B_UP above and LID_B_LO
#: below its axis (tilted up laterally by LID_TILT), the upper arch lowered by LID_ARCH in the
#: middle; the lid shell runs from LID_IN inside the eyeball's radius (inside the opening,
#: d < LID_D0) to LID_OUT outside it (d > LID_D1), d being the almond's elliptic radius
LID_A, LID_B_UP, LID_B_LO, LID_TILT, LID_ARCH = 0.0138, 0.0056, 0.0047, 0.10, 0.0012
LID_IN, LID_RISE, LID_D0, LID_D1 = -0.0018, 0.0033, 0.90, 1.12
LID_OUT = LID_IN + LID_RISE


def lid_coords(q):
    """(u, v, d) of points q (..., 3) on the +X side: lateral and vertical offsets from the
    eye in the almond's frame and its elliptic radius (1 on the rim of the opening)."""
    u = q[..., 0] - EYE[0]                 # + is lateral
    v = q[..., 1] - EYE[1] - LID_TILT * u  # outer corner slightly higher
    v = v + LID_ARCH * bump(u / 0.016) * (v > 0)  # upper lid arch peaks a little medially
    b = np.where(v > 0, LID_B_UP, LID_B_LO)
    return u, v, np.sqrt((u / LID_A) ** 2 + (v / b) ** 2)


def _lid_offset(q, closed=None):
    """Lid shell thickness around the eyeball: negative inside the eye opening (almond).
    ``closed(u, v, d)``, if given, is the shell's offset over the shut opening instead."""
    u, v, d = lid_coords(q)
    off = LID_IN + LID_RISE * smoothstep(LID_D0, LID_D1, d)
    if closed is not None:
        off = np.where(d < LID_D1, closed(u, v, d), off)
    # upper-lid fold a few millimetres above the opening
    off = off + 0.0006 * bump((d - 1.55) / 0.35) * (v > 0)
    return off


def skin_sdf(p, closed_lid=None, lid_blend=0.0035):
    """Signed distance (approximate) of the head skin, p: (..., 3); ``closed_lid``: the lid
    shell's offset over the shut eye opening (see ``_lid_offset``), for the blink, and
    ``lid_blend`` the radius of the fillet between the lids and the socket around them."""
    x, y, z = p[..., 0], p[..., 1], p[..., 2]
    q = np.stack([np.abs(x), y, z], axis=-1)     # mirrored: features on +X
    yl = _y_lip()

    cranium = _ell(p, np.array([0.0, 0.030, -0.012]), np.array([0.0745, 0.086, 0.096]))
    # face mass, narrowing toward the front
    fx = 1.0 - 0.20 * smoothstep(0.0, 0.09, z)
    pf = np.stack([x / fx, y, z], axis=-1)
    face = _ell(pf, np.array([0.0, -0.016, 0.028]), np.array([0.069, 0.068, 0.064]))
    # mandible: a U narrowing to the chin
    jx = 1.0 - 0.30 * smoothstep(-0.01, 0.085, z)
    pj = np.stack([x / jx, y, z], axis=-1)
    jaw = _ell(pj, np.array([0.0, -0.051, 0.020]), np.array([0.064, 0.036, 0.066]))
    chin = _ell(p, np.array([0.0, -0.077, 0.074]), np.array([0.027, 0.015, 0.018]))
    head = _smin(cranium, face, 0.03)
    head = _smin(head, jaw, 0.02)
    head = _smin(head, chin, 0.026)

    # neck (elliptic cylinder, flat cut at the bottom)
    nr = neck_radius(y)
    neck2d = np.sqrt((x / nr) ** 2 + ((z + 0.018 - 0.12 * (y + 0.1)) / (nr * 0.95)) ** 2) - 1.0
    neck = _smax(neck2d * nr, -(y - NECK_CUT), 0.012)
    neck = _smax(neck, y - 0.02, 0.01)
    head = _smin(head, neck, 0.020)

    # brow ridge and cheekbones
    brow = _ell(q, np.array([EYE[0] - 0.0045, EYE[1] + 0.021, 0.062]), np.array([0.029, 0.010, 0.0135]))
    head = _smin(head, brow, 0.02)
    cheek = _ell(q, np.array([0.042, 0.005, 0.053]), np.array([0.022, 0.015, 0.018]))
    head = _smin(head, cheek, 0.030)
    # the soft cheek below the cheekbone (no hollow there)
    cheek_low = _ell(q, np.array([0.035, -0.026, 0.056]), np.array([0.020, 0.020, 0.020]))
    head = _smin(head, cheek_low, 0.030)
    # temples slightly hollow
    temple = _ell(q, np.array([0.083, 0.045, 0.030]), np.array([0.016, 0.02, 0.02]))
    head = _smax(head, -temple, 0.012)

    # eye sockets and lids wrapped over the eyeball
    socket = _ell(q, np.array([EYE[0] + 0.003, EYE[1] - 0.001, EYE[2] + 0.012]), np.array([0.0155, 0.0095, 0.012]))
    head = _smax(head, -socket, 0.011)
    lid = norm(q - EYE) - (EYE_R + _lid_offset(q, closed_lid))
    head = _smin(head, lid, lid_blend)

    # nose: bridge, tip, wings, with a wider base blending into the face
    bridge = _cone(p, np.array([0.0, 0.030, 0.076]), np.array([0.0, -0.008, 0.1075]), 0.0055, 0.0076)
    nbase = _ell(p, np.array([0.0, -0.008, 0.088]), np.array([0.0125, 0.020, 0.014]))
    tip = _ell(p, np.array([0.0, -0.0125, 0.1070]), np.array([0.0082, 0.0095, 0.0100]))
    ala = _ell(q, np.array([0.0113, -0.0165, 0.0930]), np.array([0.0063, 0.0068, 0.0078]))
    nose = _smin(_smin(bridge, tip, 0.006), nbase, 0.008)
    nose = _smin(nose, ala, 0.004)
    # nostrils: small dents under the tip
    nostril = _ell(q, NOSTRIL, NOSTRIL_R)
    nose = _smax(nose, -nostril, 0.0025)
    head = _smin(head, nose, 0.006)

    # lips, philtrum and the groove above the chin
    ulip = _ell(p, np.array([0.0, yl + 0.0050, 0.0866]), np.array([0.0245, 0.0072, 0.0135]))
    llip = _ell(p, np.array([0.0, yl - 0.0062, 0.0844]), np.array([0.0225, 0.0082, 0.0135]))
    head = _smin(head, ulip, 0.005)
    head = _smin(head, llip, 0.005)
    philtrum = _ell(p, np.array([0.0, yl + 0.014, 0.0985]), np.array([0.0035, 0.008, 0.0028]))
    head = _smax(head, -philtrum, 0.003)
    sulcus = _ell(p, np.array([0.0, yl - 0.0205, 0.1015]), np.array([0.026, 0.0050, 0.0045]))
    head = _smax(head, -sulcus, 0.010)
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
