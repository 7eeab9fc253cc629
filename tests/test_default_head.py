"""The procedural default head: deterministic, well-formed, and its shapes do what they say."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from face3d.mesh.default_head import build_default_head, write_obj
from face3d.mesh.default_head.build import FACE_SHAPES
from face3d.mesh.rig import SHAPES
from face3d.mesh.rig.visemes import VISEME_NAMES

from conftest import part

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "models" / "default_head.npz"


def _posed(rig, **weights):
    return rig.apply(weights)[0].astype(np.float64)


# ------------------------------------------------------------------ (a) determinism
@pytest.mark.slow
def test_generation_is_deterministic(head, tmp_path):
    head.save(tmp_path / "a.npz")
    build_default_head().save(tmp_path / "b.npz")
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    write_obj(head, tmp_path / "a.obj")
    write_obj(head, tmp_path / "b.obj")
    assert (tmp_path / "a.obj").read_bytes() == (tmp_path / "b.obj").read_bytes()


def test_committed_model_matches_generator(head, tmp_path):
    assert COMMITTED.is_file(), "run: python -m face3d.mesh.default_head"
    head.save(tmp_path / "fresh.npz")
    assert COMMITTED.read_bytes() == (tmp_path / "fresh.npz").read_bytes(), (
        "models/default_head.npz is stale; regenerate with python -m face3d.mesh.default_head"
    )
    write_obj(head, tmp_path / "fresh.obj")
    assert (ROOT / "models" / "default_head.obj").read_bytes() == (tmp_path / "fresh.obj").read_bytes()
    assert COMMITTED.stat().st_size < 3_000_000


# ------------------------------------------------------------------ (b) well-formed
def test_mesh_is_well_formed(head):
    v = head.n_vertices
    assert 4000 <= v <= 15000
    assert head.names == SHAPES + FACE_SHAPES + VISEME_NAMES
    f = head.faces.astype(np.int64)
    assert f.ndim == 2 and f.shape[1] == 3 and len(f) > v
    assert f.min() >= 0 and f.max() < v
    assert np.all((f[:, 0] != f[:, 1]) & (f[:, 1] != f[:, 2]) & (f[:, 0] != f[:, 2]))
    used = np.zeros(v, bool)
    used[f.reshape(-1)] = True
    assert used.all(), "unreferenced vertices"
    for arr in (head.positions, head.normals, head.deltas, head.normal_deltas, head.colors, head.gloss):
        assert np.isfinite(arr).all()
    np.testing.assert_allclose(np.linalg.norm(head.normals, axis=1), 1.0, atol=1e-5)
    assert head.colors.min() >= 0 and head.colors.max() <= 1
    assert head.gloss.min() >= 0 and head.gloss.max() <= 1
    # every triangle area is real
    p = head.positions.astype(np.float64)
    area = np.linalg.norm(np.cross(p[f[:, 1]] - p[f[:, 0]], p[f[:, 2]] - p[f[:, 0]]), axis=1)
    assert area.min() > 1e-12


def test_every_part_is_closed_and_wound_outward(head):
    """Closed, consistently wound surfaces: no see-through and no back faces at any pose."""
    f = head.faces.astype(np.int64)
    edges = np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]])
    key = edges[:, 0] * head.n_vertices + edges[:, 1]
    rev = edges[:, 1] * head.n_vertices + edges[:, 0]
    assert len(np.unique(key)) == len(key), "an edge is used twice in the same direction"
    assert np.isin(rev, key).all(), "the surface has a hole or a flipped triangle"
    p = head.positions.astype(np.float64)
    parts = head.info["parts"]
    for name, (a, b) in parts.items():
        if name == "mouth_bag":
            continue  # closed together with the skin
        if name == "skin":
            b = parts["mouth_bag"][1]
        sel = ((f >= a) & (f < b)).all(axis=1)
        t = p[f[sel]]
        volume = np.sum(t[:, 0] * np.cross(t[:, 1], t[:, 2])) / 6.0
        assert volume > 0, f"{name} is wound inside out"


def test_parts_and_colours(head):
    parts = head.info["parts"]
    for name in ("skin", "mouth_bag", "teeth_upper", "teeth_lower", "tongue",
                 "eye_left", "eye_right", "ear_left", "ear_right"):
        assert name in parts
    eye = part(head, "eye_left")
    lum = head.colors[eye].mean(axis=1)
    assert lum.max() > 0.85 and lum.min() < 0.05          # white sclera and a black pupil
    assert head.gloss[eye].min() > 0.9
    bag = part(head, "mouth_bag")
    assert np.median(head.colors[bag].mean(axis=1)) < 0.1  # dark mouth interior
    assert head.gloss[bag].max() < 0.05
    teeth = part(head, "teeth_upper")
    assert head.colors[teeth].mean(axis=1).max() > 0.8
    lm = head.info["landmarks"]
    lip = head.colors[lm["upper_lip_center"]]
    skin = head.colors[part(head, "skin")]
    # lips redder than skin (hue, not brightness: the lip edge is shaded darker)
    assert lip[0] / lip[1] > 1.2 * np.median(skin[:, 0] / skin[:, 1])


# ------------------------------------------------------------------ (c) locality
def _still_regions(rig):
    p = rig.positions
    skin = np.zeros(rig.n_vertices, bool)
    a, b = rig.info["parts"]["skin"]
    skin[a:b] = True
    eye_y = p[part(rig, "eye_left"), 1].mean()
    regions = {
        "forehead": skin & (p[:, 1] > eye_y + 0.022) & (p[:, 2] > 0.0),
        "back of head": skin & (p[:, 2] < -0.04) & (p[:, 1] > -0.03),
        "cranium top": skin & (p[:, 1] > 0.09),
    }
    for name in ("eye_left", "eye_right", "ear_left", "ear_right", "teeth_upper"):
        m = np.zeros(rig.n_vertices, bool)
        m[part(rig, name)] = True
        regions[name] = m
    return regions


def test_shapes_leave_upper_head_still(head):
    for name, mask in _still_regions(head).items():
        assert mask.sum() > 50, name
        for shape in SHAPES:
            k = head.names.index(shape)
            moved = np.abs(head.deltas[k][mask]).max()
            assert moved < 1e-6, f"{shape} moves the {name} by {moved}"


def test_shapes_move_the_mouth(head):
    p = head.positions
    lm = head.info["landmarks"]
    y_lip = p[lm["upper_lip_center"], 1]
    mouth = (np.abs(p[:, 0]) < 0.03) & (np.abs(p[:, 1] - y_lip) < 0.015) & (p[:, 2] > 0.06)
    a, b = head.info["parts"]["skin"]
    mouth[:a] = False
    mouth[b:] = False
    assert mouth.sum() > 100
    for shape in SHAPES:
        k = head.names.index(shape)
        amount = np.linalg.norm(head.deltas[k][mouth], axis=1).max()
        assert amount > 0.004, f"{shape} barely moves the mouth ({amount * 1000:.1f} mm)"


# ------------------------------------------------------------------ (d) semantics
def test_jaw_open(head):
    lm = head.info["landmarks"]
    p0 = head.positions.astype(np.float64)
    p1 = _posed(head, jawOpen=1)
    assert p1[lm["chin"], 1] < p0[lm["chin"], 1] - 0.015
    assert p1[lm["lower_lip_center"], 1] < p0[lm["lower_lip_center"], 1] - 0.02
    assert abs(p1[lm["upper_lip_center"], 1] - p0[lm["upper_lip_center"], 1]) < 0.002
    lower = part(head, "teeth_lower")
    assert (p1[lower, 1] - p0[lower, 1]).mean() < -0.01
    gap = p1[lm["upper_lip_center"], 1] - p1[lm["lower_lip_center"], 1]
    assert gap > 0.025, f"mouth opens only {gap * 1000:.1f} mm"


def test_mouth_wide(head):
    lm = head.info["landmarks"]
    p0 = head.positions.astype(np.float64)
    p1 = _posed(head, mouthWide=1)
    for c in ("mouth_corner_left", "mouth_corner_right"):
        i = lm[c]
        assert abs(p1[i, 0]) > abs(p0[i, 0]) + 0.004, c
    assert p0[lm["mouth_corner_left"], 0] > 0 > p0[lm["mouth_corner_right"], 0]


def test_mouth_pucker(head):
    lm = head.info["landmarks"]
    p0 = head.positions.astype(np.float64)
    p1 = _posed(head, mouthPucker=1)
    for c in ("upper_lip_center", "lower_lip_center"):
        assert p1[lm[c], 2] > p0[lm[c], 2] + 0.006, c
    for c in ("mouth_corner_left", "mouth_corner_right"):
        i = lm[c]
        assert abs(p1[i, 0]) < abs(p0[i, 0]) - 0.004, c


def test_mouth_close_seals_a_slightly_open_mouth(head):
    lm = head.info["landmarks"]
    up, lo = lm["upper_lip_center"], lm["lower_lip_center"]

    def gap(**w):
        p = _posed(head, **w)
        return np.linalg.norm(p[up] - p[lo])

    open_gap = gap(jawOpen=0.35)
    closed_gap = gap(jawOpen=0.35, mouthClose=1)
    assert open_gap > 0.008
    assert closed_gap < 0.5 * open_gap
    assert closed_gap < 0.005
    p = _posed(head, jawOpen=0.35, mouthClose=1)
    assert p[up, 1] - p[lo, 1] < 0.004          # lips (nearly) together vertically
    # at rest it only presses: the lips move, but not wildly
    p0 = head.positions.astype(np.float64)
    p1 = _posed(head, mouthClose=1)
    assert 0.002 < np.linalg.norm(p1[lo] - p0[lo]) < 0.015


# ------------------------------------------------------------------ blinks and brows (issue 12)
def test_blink_and_brow_shapes_move_only_their_region(head):
    p = head.positions
    a, b = head.info["parts"]["skin"]
    skin = np.zeros(head.n_vertices, bool)
    skin[a:b] = True
    eye_y = p[part(head, "eye_left"), 1].mean()
    for shape in FACE_SHAPES:
        d = np.linalg.norm(head.deltas[head.names.index(shape)], axis=1)
        assert d[~skin].max() == 0.0, shape                       # eyes, teeth, ears stay
        assert d[skin & (p[:, 1] < eye_y - 0.03)].max() == 0.0, shape   # mouth, chin, neck stay
        assert d.max() > 0.003, shape
        side = 1 if shape.endswith("Left") else -1 if shape.endswith("Right") else None
        if side is not None:                                      # one side only
            assert d[np.sign(p[:, 0]) == -side].max() == 0.0, shape
    # brows lift (up), blinks close (the upper lid comes down)
    for shape in ("browInnerUp", "browOuterUpLeft"):
        dl = head.deltas[head.names.index(shape)]
        assert dl[:, 1].max() > 0.004 and dl[:, 1].min() >= 0.0, shape
    dl = head.deltas[head.names.index("eyeBlinkLeft")]
    assert dl[:, 1].min() < -0.004


def test_closing_lids_stay_clear_of_the_eyeball(head):
    a, b = head.info["parts"]["skin"]
    for shape, e in zip(("eyeBlinkLeft", "eyeBlinkRight"), head.info["eyes"]):
        c = np.asarray(e["center"])
        k = head.names.index(shape)
        base = head.positions[a:b]
        moved = np.linalg.norm(head.deltas[k][a:b], axis=1) > 1e-4
        r0 = np.linalg.norm(base - c, axis=1)
        outside = moved & (r0 > 0.0118 + 0.0005)                  # lid skin in front of the eye
        assert outside.sum() > 30
        for w in np.linspace(0.0, 1.0, 11):
            r = np.linalg.norm(base + w * head.deltas[k][a:b] - c, axis=1)
            assert r[outside].min() > 0.0118 + 0.0005, (shape, w)      # half a millimetre clear


def test_blink_closes_the_eyes_on_real_pixels(gl, head):
    from face3d.render.offscreen import render_snapshot

    def dark_in_eyes(weights):
        img = render_snapshot(head, head.weight_vector(weights), size=(400, 400), ctx=gl).astype(int)
        band = img[120:200, 100:300]                     # the eyes' band (framed head)
        return int((band.sum(-1) < 120).sum()), int((band.min(-1) > 200).sum())

    dark0, white0 = dark_in_eyes({})
    dark1, white1 = dark_in_eyes({"eyeBlinkLeft": 1.0, "eyeBlinkRight": 1.0})
    assert white0 > 60 and dark0 > 20                    # sclera and pupils show when open
    assert white1 < 0.05 * white0                         # closed: no white of the eye left
