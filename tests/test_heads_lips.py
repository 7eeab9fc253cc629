"""Fused lips are cut along the lip line: a smooth seam, edges together at rest, a dark bag.

Procedural heads (no ../shared needed): the rendered rest face is the uncut face (no
slot), jawOpen shows a dark, rounded opening, and the jaw weights part exactly at the seam.
"""

from __future__ import annotations

import numpy as np

from test_heads_autorig import _fused_head, _pixel, _snap, _window


def _load(tmp_path, rows=120, cols=96, **kw):
    from face3d.mesh.heads import load_head
    from face3d.mesh.io.obj import write_obj

    pos, faces = _fused_head(rows, cols)
    write_obj(tmp_path / "fused.obj", pos, faces)
    return load_head(tmp_path / "fused.obj", **kw)


def test_cut_seam_is_a_smooth_curve_with_edges_together(tmp_path):
    from face3d.mesh.rig.jaw import jaw_weights
    from face3d.mesh.autorig.landmarks import detect_landmarks
    from face3d.mesh.autorig.lipcut import cut_lips

    bare = _load(tmp_path, autorig=False)
    p, faces = bare.positions.astype(float), bare.faces.astype(np.int64)
    marks = detect_landmarks(p, faces)
    cut = cut_lips(p, faces, marks)
    assert cut is not None
    q = cut["positions"]
    path = cut["path"]
    a, b, half = cut["curve"]
    # the seam lies on the curve y = a + b x^2 (not on a saw-toothed triangle row)...
    assert np.abs(q[path, 1] - (a + b * q[path, 0] ** 2)).max() < 1e-9
    assert np.ptp(q[path, 0]) > 0.6 * marks["mouth_width"]
    # ...and the lower edge's copies sit exactly on the upper edge: no gap at rest
    low = np.flatnonzero(cut["lower"] & ~cut["bag"])
    assert len(low) == len(path) - 2
    assert np.abs(q[low] - q[cut["parent"][low]]).max() == 0
    # faces below the seam use the lower copies only
    below = q[cut["faces"]].mean(1)[:, 1] < a + b * q[cut["faces"]].mean(1)[:, 0] ** 2
    assert not np.isin(cut["faces"][below & ~cut["bag"][cut["faces"]].any(1)], path[1:-1]).any()
    # jaw weights part at the seam (the bag's inner line held level with the lips)
    w = jaw_weights(q, cut["faces"], marks, seeds={int(i): 0.0 for i in path[1:-1]} | {int(i): 1.0 for i in low})
    assert w[path[1:-1]].max() == 0 and w[low].min() == 1


def test_fused_lips_closed_at_rest_open_and_dark_with_the_jaw(gl, tmp_path):
    bare = _load(tmp_path, autorig=False)
    rig = _load(tmp_path)
    assert rig.info["lips"] == "fused" and rig.info["mouth_opened"]["seam_vertices"] > 4
    size = (200, 200)
    mouth = np.asarray(rig.info["landmarks"]["mouth"])
    px = _pixel(rig, mouth, size)
    rest, uncut = _snap(rig, None, gl, size=size), _snap(bare, None, gl, size=size)
    # at rest the cut face looks like the uncut one around the mouth: no dark slot
    diff = np.abs(_window(rest, px, 6) - _window(uncut, px, 6))
    assert diff.mean() < 6 and diff.max() < 80  # only the seam row moved onto the curve
    assert _window(rest, px, 6).min() > 60
    opened = _snap(rig, {"jawOpen": 1.0}, gl, size=size)
    below = _pixel(rig, mouth + [0, -0.02, 0], size)
    assert _window(opened, below, 2).mean() < 40  # the mouth bag is dark
    # rounded: the opening is taller in the middle than near the corners
    mw = rig.info["landmarks"]["mouth_width"]
    big = (300, 300)
    dark = _snap(rig, {"jawOpen": 1.0}, gl, size=big).max(axis=2) < 40

    def height(x):
        col = _pixel(rig, mouth + [x, 0, 0], big)[0]
        return int(dark[:, col].sum())

    assert height(0.0) > 10
    assert (height(-0.3 * mw) + height(0.3 * mw)) / 2 < 0.75 * height(0.0)
    # mouthClose keeps it shut (and never opens it)
    shut = _snap(rig, {"mouthClose": 1.0}, gl, size=size)
    assert (shut.max(axis=2) < 40).sum() <= (rest.max(axis=2) < 40).sum() + 2


def test_cut_found_at_every_resolution():
    """The MediaPipe mask and its subdivisions (1x, 4x, 16x the triangles): the seam runs
    corner to corner each time (the corners lie well behind the lips' front)."""
    import pytest
    import trimesh

    from conftest import SHARED_HEADS
    from face3d.mesh.heads import load_head
    from face3d.mesh.autorig.landmarks import detect_landmarks
    from face3d.mesh.autorig.lipcut import cut_lips

    path = SHARED_HEADS / "mediapipe_canonical_face_model.obj"
    if not path.exists():
        pytest.skip(f"{path} not present (the real heads live in ../shared/heads)")
    rig = load_head(path, autorig=False)
    p, f = rig.positions.astype(float), rig.faces.astype(np.int64)
    for level in range(3):
        marks = detect_landmarks(p, f)
        cut = cut_lips(p, f, marks)
        assert cut is not None, level
        assert np.ptp(cut["positions"][cut["path"], 0]) > 0.85 * marks["mouth_width"], level
        p, f = trimesh.remesh.subdivide(p, f)
