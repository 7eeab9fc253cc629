"""The default head's shapes look right on real pixels (issue 24, item 7): shut lids are smooth
and hide the eyeball from corner to corner, the open mouth tapers into its corners (a lens,
not a box), and opening the jaw leaves no crease across the cheeks at lip level."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from face3d.mesh.default_head.layout import angles
from face3d.render.offscreen import render_snapshot

SIZE = (800, 800)
BLINK = {"eyeBlinkLeft": 1.0, "eyeBlinkRight": 1.0}


def _render(gl, head, weights):
    return render_snapshot(head, head.weight_vector(weights), size=SIZE, ctx=gl).astype(int)


def _eye_boxes(gl, head) -> np.ndarray:
    """Mask of two boxes around the whites of the eyes, found on the open eyes."""
    img = _render(gl, head, {})
    white = (img.min(-1) > 170) & (img.max(-1) - img.min(-1) < 40)
    lab, n = ndimage.label(white)
    sizes = ndimage.sum(white, lab, range(1, n + 1))
    assert n >= 2 and np.sort(sizes)[-2] > 100, "the open eyes show no white"
    box = np.zeros_like(white)
    for k in np.argsort(sizes)[::-1][:2] + 1:
        ys, xs = np.nonzero(lab == k)
        box[ys.min() - 6:ys.max() + 7, xs.min() - 10:xs.max() + 11] = True
    return box


def _skin_edges(head, faces):
    """(pairs of face indices sharing an edge) among ``faces``."""
    e = np.concatenate([np.sort(faces[:, [0, 1]], 1), np.sort(faces[:, [1, 2]], 1), np.sort(faces[:, [2, 0]], 1)])
    fi = np.tile(np.arange(len(faces)), 3)
    o = np.lexsort((e[:, 1], e[:, 0]))
    e, fi = e[o], fi[o]
    same = (e[1:] == e[:-1]).all(1)
    return fi[:-1][same], fi[1:][same]


def test_shut_lids_hide_the_whole_eyeball(gl, head):
    """No white of the eye left anywhere around the eyes, corners included (it showed in
    slivers at the corners), and the shut lids' shading has no hard creases: the crumpled
    lid's folds were steps of 60 grey levels per pixel (a Laplacian of 48); the smooth lid
    with its drawn lash line stays under 40 (32)."""
    box = _eye_boxes(gl, head)
    img = _render(gl, head, BLINK)
    white = (img.min(-1) > 170) & (img.max(-1) - img.min(-1) < 60)
    assert int((white & box).sum()) == 0, "white of the eye shows between the shut lids"
    lum = img @ np.array([0.30, 0.59, 0.11])
    gy, gx = np.gradient(ndimage.gaussian_filter(lum, 0.7))
    grad = np.hypot(gx, gy)[box]
    assert grad.max() < 48, f"a hard edge on the shut lids ({grad.max():.0f} grey levels per pixel)"
    crease = np.abs(ndimage.laplace(ndimage.gaussian_filter(lum, 1.0)))[box]
    assert crease.max() < 40, f"a crease on the shut lids (Laplacian {crease.max():.0f})"


def test_shut_lids_are_not_folded(head):
    """On the deformed mesh: neighbouring triangles of the shut lid meet at gentle angles
    (the crumpled lid had a hundred edges sharper than 45 degrees, folds over itself)."""
    a, b = head.info["parts"]["skin"]
    pos = head.apply(BLINK)[0].astype(np.float64)
    moved = np.zeros(head.n_vertices, bool)
    for shape in BLINK:
        moved[a:b] |= np.linalg.norm(head.deltas[head.names.index(shape)][a:b], axis=1) > 1e-5
    f = head.faces.astype(np.int64)
    f = f[moved[f].all(1)]
    fn = np.cross(pos[f[:, 1]] - pos[f[:, 0]], pos[f[:, 2]] - pos[f[:, 0]])
    area = np.linalg.norm(fn, axis=1)
    fn = fn / np.maximum(area, 1e-30)[:, None]
    A, B = _skin_edges(head, f)
    # triangles shrunk onto the line where the lids meet have no direction of their own
    keep = (area[A] > 2e-8) & (area[B] > 2e-8)
    dihedral = np.degrees(np.arccos(np.clip(np.sum(fn[A] * fn[B], 1), -1, 1)))[keep]
    assert len(dihedral) > 300
    assert (dihedral > 45).sum() < 0.08 * len(dihedral), (int((dihedral > 45).sum()), len(dihedral))
    assert (dihedral > 90).sum() <= 2, np.sort(dihedral)[-5:]            # nothing folds back


def test_open_mouth_tapers_into_its_corners(gl, head):
    """The dark opening of the fully open mouth narrows toward its corners: at 85 % of the
    way from the middle to a corner it is well under two thirds of its height in the middle
    (the box-shaped mouth was as tall there as in the middle)."""
    img = _render(gl, head, {"jawOpen": 1.0})
    dark = img.sum(-1) < 75
    lab, n = ndimage.label(dark)
    sizes = ndimage.sum(dark, lab, range(1, n + 1))
    mouth = lab == (np.argmax(sizes) + 1)
    ys, xs = np.nonzero(mouth)
    assert 350 < ys.mean() < 600 and abs(xs.mean() - 400) < 20, (ys.mean(), xs.mean())
    x0, x1 = xs.min(), xs.max()
    centre, half = 0.5 * (x0 + x1), 0.5 * (x1 - x0)
    assert half > 40, half

    def height(x):
        return int(mouth[:, int(round(x))].sum())

    h_mid = height(centre)
    h_side = max(height(centre - 0.85 * half), height(centre + 0.85 * half))
    assert h_mid > 30
    assert h_side < 0.6 * h_mid, (h_side, h_mid)
    # and it is a lens, not a slit: the middle half stays open
    assert min(height(centre - 0.5 * half), height(centre + 0.5 * half)) > 0.6 * h_mid


def test_jaw_leaves_no_crease_across_the_cheeks(head):
    """The cheeks beside the mouth stretch smoothly as the jaw opens: between neighbouring
    vertices the jaw's displacement changes by at most 2.5 times their distance (the crease
    at lip level came from a weight that jumped from 0 to 1 over 4 mm: 4.7 times)."""
    a, b = head.info["parts"]["skin"]
    p = head.positions.astype(np.float64)
    lm = head.info["landmarks"]
    phi, th = angles(p)
    corner = abs(th[lm["mouth_corner_left"]])
    lip = phi[lm["upper_lip_center"]]
    cheek = np.zeros(len(p), bool)
    cheek[a:b] = True
    cheek &= (np.abs(th) > corner + np.radians(2)) & (np.abs(th) < np.radians(60))
    cheek &= (np.abs(phi - lip) < np.radians(15)) & (p[:, 2] > 0.0)
    d = head.deltas[head.names.index("jawOpen")].astype(np.float64)
    f = head.faces.astype(np.int64)
    e = np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]])
    e = e[cheek[e[:, 0]] & cheek[e[:, 1]]]
    assert len(e) > 1000
    strain = np.linalg.norm(d[e[:, 0]] - d[e[:, 1]], axis=1) / np.linalg.norm(p[e[:, 0]] - p[e[:, 1]], axis=1)
    assert strain.max() < 2.5, strain.max()
