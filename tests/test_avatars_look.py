"""How avatars' materials are drawn: alpha cut-outs (alphaMode MASK) and toon shading for
MToon / unlit materials, on real pixels."""

from __future__ import annotations

import numpy as np
import pytest

from _vrm import make_textured_ball


def _shot(path, ctx, **kw):
    from face3d.mesh.heads import load_head
    from face3d.render.offscreen import render_snapshot

    rig = load_head(path, up="+y", forward="+z", autorig=False)
    return rig, render_snapshot(rig, np.zeros(rig.n_shapes, np.float32), size=(96, 96), ctx=ctx).astype(int)


def _background(img):
    return np.abs(img - img[0, 0]).sum(2) < 12


@pytest.mark.parametrize("mode", ["MASK", "BLEND", "OPAQUE"])
def test_alpha_mask_cuts_out_the_transparent_half(tmp_path, ctx, mode):
    _, img = _shot(make_textured_ball(tmp_path / "b.glb", alpha_mode=mode), ctx)
    bg = _background(img)
    rows = slice(30, 66)
    left, right = bg[rows, 20:44].mean(), bg[rows, 52:76].mean()
    assert right < 0.05  # the opaque half is drawn
    if mode == "OPAQUE":
        assert left < 0.05  # opaque materials ignore their image's alpha
    else:
        assert left > 0.9  # the cut-out half shows the background


def test_unlit_material_is_toon_shaded_not_plastic(tmp_path, ctx):
    lit_rig, lit = _shot(make_textured_ball(tmp_path / "lit.glb", textured=False), ctx)
    toon_rig, toon = _shot(make_textured_ball(tmp_path / "toon.glb", textured=False, unlit=True), ctx)
    assert (toon_rig.gloss < 0).all() and (lit_rig.gloss >= 0).all()
    inside = ~_background(lit) & ~_background(toon)
    lum_lit, lum_toon = lit.sum(2)[inside], toon.sum(2)[inside]
    # the painted colour (0.5 grey, sRGB 188) is what a toon surface shows where lit
    assert abs(np.percentile(lum_toon, 90) / 3 - 188) < 12
    assert np.std(lum_toon) < 0.5 * np.std(lum_lit)
