"""The default head shows the fifteen visemes (issue 21): upper teeth, a lower lip that
tucks under them on FF, the tongue between the teeth on TH and up behind the upper teeth on
DD/nn, lips pushed out on CH. Measured on the mesh and on real pixels, the parts painted in
tag colours so a pixel says which part it shows."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from conftest import part, run_cli

VISEMES = ("sil", "PP", "FF", "TH", "DD", "kk", "CH", "SS", "nn", "RR", "aa", "E", "I", "O", "U")
RED, GREEN, BLUE, CYAN = (1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0), (0.0, 1.0, 1.0)


def _lower_lip(head):
    """Vertices of the lower lip (skin and the inner lip surface): those mouthClose lifts."""
    p = head.positions
    c = p[head.info["landmarks"]["lower_lip_center"]]
    up = head.deltas[head.shape_index("mouthClose")][:, 1]
    idx = np.concatenate([part(head, "skin"), part(head, "mouth_bag")])
    q = p[idx]
    sel = (up[idx] > 0.3 * up.max()) & (q[:, 2] > c[2] - 0.008) & (np.abs(q[:, 0]) < 0.018)
    return idx[sel]


@pytest.fixture(scope="module")
def tagged(head):
    """The head with its upper teeth blue, lower teeth cyan, tongue green, lower lip red."""
    colors = head.colors.copy()
    colors[part(head, "teeth_upper")] = BLUE
    colors[part(head, "teeth_lower")] = CYAN
    colors[part(head, "tongue")] = GREEN
    colors[_lower_lip(head)] = RED
    return dataclasses.replace(head, colors=colors)


def _snap(rig, weights, gl, size=(360, 360)):
    from face3d.render.offscreen import render_snapshot

    img = render_snapshot(rig, weights, size=size, ctx=gl).astype(int)
    gl.detect_framebuffer(0).use()
    return img


def _is(img, colour):
    """Pixels whose colour is the lit tag ``colour`` (its channels high, the others low)."""
    on = np.array(colour) > 0.5
    hi = img[..., on].min(-1)
    lo = img[..., ~on].max(-1) if (~on).any() else np.zeros(img.shape[:2], int)
    return (hi > 70) & (lo < 0.35 * hi)


def test_fifteen_shapes_sil_is_rest(head):
    from face3d.mesh.rig.visemes import VISEME_NAMES

    assert head.names[-15:] == VISEME_NAMES
    assert head.info["visemes"] == {"kind": "default", "mutes": ["jawOpen", "mouthWide", "mouthPucker", "mouthClose"]}
    assert not np.any(head.deltas[head.shape_index("viseme_sil")])
    # nothing above the nose moves (the eyes, brows and hair stay)
    p = head.positions
    upper = p[:, 1] > 0.0
    for v in VISEME_NAMES:
        assert np.abs(head.deltas[head.shape_index(v)][upper]).max() < 1e-6, v


def test_each_viseme_renders_differently_from_sil(head, gl):
    sil = _snap(head, {"viseme_sil": 1.0}, gl)
    changed = {}
    for v in VISEMES[1:]:
        img = _snap(head, {f"viseme_{v}": 1.0}, gl)
        changed[v] = int((np.abs(img - sil).max(-1) > 25).sum())
    assert min(changed.values()) > 40, changed
    # and from each other: no two visemes draw the same mouth
    imgs = {v: _snap(head, {f"viseme_{v}": 1.0}, gl) for v in ("DD", "nn", "TH", "kk", "SS", "I")}
    names = list(imgs)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            assert (np.abs(imgs[a] - imgs[b]).max(-1) > 25).sum() > 15, (a, b)


def test_ff_tucks_the_lower_lip_under_the_upper_teeth(head, tagged, gl):
    """Mesh: the lower lip's centre ends behind the upper teeth's front, at their edge.
    Pixels: where the top of the lower lip showed at rest, FF shows upper teeth, with the
    lip just below them; at rest no upper tooth shows."""
    p, _ = head.apply({"viseme_FF": 1.0})
    lo = head.info["landmarks"]["lower_lip_center"]
    teeth = p[part(head, "teeth_upper")]
    mid = teeth[np.abs(teeth[:, 0]) < 0.004]
    assert p[lo, 2] < mid[:, 2].max()                       # behind the teeth's front
    assert abs(p[lo, 1] - mid[:, 1].min()) < 0.002           # at their edge
    big = (720, 720)
    rest, ff = _snap(tagged, None, gl, big), _snap(tagged, {"viseme_FF": 1.0}, gl, big)
    lip0, teeth0 = _is(rest, RED), _is(rest, BLUE)
    lip1, teeth1 = _is(ff, RED), _is(ff, BLUE)
    assert lip0.sum() > 100 and teeth0.sum() < 5
    assert (lip0 & teeth1).sum() > 30                        # the lip's top went behind the teeth
    cols = np.flatnonzero(teeth1.any(0))
    stacked = 0
    for x in cols:
        ys = np.flatnonzero(teeth1[:, x])
        below = lip1[ys.max() + 1: ys.max() + 4, x]
        stacked += bool(below.any())
    assert stacked > 0.6 * len(cols)                         # the teeth rest on the lip
    # on the real colours, FF changes the lower lip's region
    real0, real1 = _snap(head, None, gl, big), _snap(head, {"viseme_FF": 1.0}, gl, big)
    assert (np.abs(real1 - real0).max(-1)[lip0] > 25).sum() > 0.3 * lip0.sum()


def test_ff_snapshot_cli_shows_the_teeth_on_the_lip(tmp_path):
    """The real CLI: ``snapshot --weights viseme_FF=1`` differs from the neutral snapshot
    in the lower half of the face, and shows bright teeth there."""
    from PIL import Image

    shots = {}
    for key, w in (("ff", ("--weights", "viseme_FF=1")), ("rest", ())):
        out = tmp_path / f"{key}.png"
        r = run_cli("snapshot", "--size", "300x300", "-o", out, *w)
        assert r.returncode == 0, r.stderr
        shots[key] = np.asarray(Image.open(out).convert("RGB"), int)
    diff = np.abs(shots["ff"] - shots["rest"]).max(-1) > 25
    ys, xs = np.nonzero(diff)
    assert len(ys) > 40 and 0.5 < ys.mean() / 300 < 0.65 and abs(xs.mean() / 300 - 0.5) < 0.05
    white = lambda img: (img.min(-1) > 150) & (img.max(-1) - img.min(-1) < 60)   # noqa: E731
    assert (white(shots["ff"]) & diff).sum() > 10 and (white(shots["rest"]) & diff).sum() == 0


def test_th_shows_the_tongue_between_the_teeth(head, tagged, gl):
    p, _ = head.apply({"viseme_TH": 1.0})
    tongue, up, low = (p[part(head, n)] for n in ("tongue", "teeth_upper", "teeth_lower"))
    c = lambda a: a[np.abs(a[:, 0]) < 0.004]    # noqa: E731 - the middle
    tip = c(tongue)[np.argmax(c(tongue)[:, 2])]
    assert tip[2] > c(up)[:, 2].max()                        # ahead of the upper teeth
    assert c(low)[:, 1].max() < tip[1] < c(up)[:, 1].min() + 0.001   # between the rows
    rest, th = _snap(tagged, None, gl), _snap(tagged, {"viseme_TH": 1.0}, gl)
    assert _is(rest, GREEN).sum() == 0 and _is(th, GREEN).sum() > 30


@pytest.mark.parametrize("v", ["DD", "nn"])
def test_dd_nn_raise_the_tongue_behind_the_upper_teeth(head, tagged, gl, v):
    p, _ = head.apply({f"viseme_{v}": 1.0})
    tongue, up = p[part(head, "tongue")], p[part(head, "teeth_upper")]
    c = lambda a: a[np.abs(a[:, 0]) < 0.004]    # noqa: E731
    top = c(tongue)[np.argmax(c(tongue)[:, 1])]
    assert top[1] > c(up)[:, 1].min() - 0.002                # up at the upper teeth's edge
    assert top[2] < c(up)[:, 2].max()                        # behind them
    img = _snap(tagged, {f"viseme_{v}": 1.0}, gl)
    g, b = _is(img, GREEN), _is(img, BLUE)
    assert g.sum() > 30 and b.sum() > 30
    # the tongue shows just under the upper teeth: its top rows meet the teeth's bottom rows
    assert np.flatnonzero(g.any(1)).min() - np.flatnonzero(b.any(1)).max() < 4


def test_ch_pushes_the_lips_out_teeth_near_together(head):
    lm = head.info["landmarks"]
    p0 = head.positions
    p, _ = head.apply({"viseme_CH": 1.0})
    for k in ("upper_lip_center", "lower_lip_center"):
        assert p[lm[k], 2] - p0[lm[k], 2] > 0.004, k          # pushed out 4 mm or more
    assert p[lm["upper_lip_center"], 1] - p[lm["lower_lip_center"], 1] > 0.003   # apart
    up, low = p[part(head, "teeth_upper")], p[part(head, "teeth_lower")]
    c = lambda a: a[np.abs(a[:, 0]) < 0.004]    # noqa: E731
    assert c(up)[:, 1].min() - c(low)[:, 1].max() < 0.003     # the teeth nearly together
