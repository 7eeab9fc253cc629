"""A head that brings some of its own shapes keeps them; only the missing ones are
synthesised, matched in scale to the head's own."""

from __future__ import annotations

import numpy as np


def test_own_shapes_kept_and_missing_ones_matched_in_scale(tmp_path, default_rig):
    from face3d.mesh.heads import load_head
    from face3d.mesh.io.obj import write_obj

    pos, faces = default_rig.positions.astype(np.float64), default_rig.faces.astype(np.int64)
    write_obj(tmp_path / "bare.obj", pos, faces)
    bare = load_head(tmp_path / "bare.obj")  # everything synthesised
    jaw = bare.deltas[bare.names.index("jawOpen")].astype(np.float64)
    wide = {}
    for k in (0.5, 1.0, 1.25):
        folder = tmp_path / f"set{k}"
        folder.mkdir()
        write_obj(folder / "neutral.obj", pos, faces)
        write_obj(folder / "jawOpen.obj", pos + k * jaw / bare.info["scale"], faces)  # file units
        rig = load_head(folder)
        assert rig.info["synthesised"] == ["mouthWide", "mouthPucker", "mouthClose"]
        own = rig.deltas[rig.names.index("jawOpen")]
        # the head's own jawOpen is used as it is
        assert np.allclose(own, k * jaw, atol=1e-4)
        wide[k] = np.abs(rig.deltas[rig.names.index("mouthWide")]).max()
    base = np.abs(bare.deltas[bare.names.index("mouthWide")]).max()
    # a subtle own jaw gets subtle synthesised shapes, a strong one stronger ones
    assert wide[0.5] < 0.75 * base
    assert abs(wide[1.0] / base - 1) < 0.15
    assert wide[1.25] > 1.1 * base
