"""The real shaders on real pixels, through a standalone EGL context."""

from __future__ import annotations

import numpy as np

from conftest import sphere_rig


def test_vertex_shader_matches_numpy_reference(gl):
    from face3d.render.renderer import HeadRenderer

    rig = sphere_rig(n_shapes=7)
    r = HeadRenderer(gl, rig)
    assert 0 < r.n_moved < rig.n_vertices  # the back half is not moved: no blendshape work
    rng = np.random.default_rng(1)
    for _ in range(5):
        w = rng.uniform(0, 1, rig.n_shapes).astype(np.float32)
        w[rng.integers(0, rig.n_shapes)] = 0.0  # a zero weight is skipped in the shader
        assert (w > 0).sum() > 4
        pos, nrm = r.transform(w)
        ref_pos, ref_nrm = rig.apply(w)
        np.testing.assert_allclose(pos, ref_pos, atol=1e-5)
        np.testing.assert_allclose(nrm, ref_nrm, atol=1e-5)
    r.release()


def test_vertex_shader_applies_model_matrix_and_no_shapes(gl):
    from face3d.mesh.rig import Rig
    from face3d.render.renderer import HeadRenderer

    base = sphere_rig(n_shapes=1)
    rig = Rig(positions=base.positions, normals=base.normals, faces=base.faces, names=(),
              deltas=np.zeros((0, base.n_vertices, 3)), normal_deltas=np.zeros((0, base.n_vertices, 3)))
    r = HeadRenderer(gl, rig)
    assert r.n_moved == 0
    r.model = np.diag([2.0, 2.0, 2.0, 1.0]).astype(np.float32)
    pos, nrm = r.transform()
    np.testing.assert_allclose(pos, rig.positions * 2, atol=1e-5)
    np.testing.assert_allclose(nrm, rig.normals, atol=1e-5)
    r.release()


def test_head_renders_lit_and_framed(gl, default_rig):
    from face3d.render.offscreen import render_snapshot
    from face3d.render.renderer import BACKGROUND

    img = render_snapshot(default_rig, None, size=(200, 200), ctx=gl).astype(int)
    bg = np.round(np.array(BACKGROUND) * 255).astype(int)
    head = np.abs(img - bg).sum(-1) > 6
    share = head.mean()
    assert 0.15 < share < 0.8, share
    # the centre of the frame is the head, the corners are background
    assert head[90:110, 90:110].all()
    assert not head[:5, :5].any() and not head[-5:, -5:].any()
    lum = img[head].mean(-1)
    assert lum.std() > 12  # lit surfaces vary in brightness
    assert lum.max() - lum.min() > 80


def test_jaw_open_changes_mouth_not_forehead(gl, default_rig):
    from face3d.render.camera import OrbitCamera
    from face3d.render.offscreen import render_snapshot

    size = (240, 240)
    neutral = render_snapshot(default_rig, None, size=size, ctx=gl).astype(int)
    opened = render_snapshot(default_rig, {"jawOpen": 1.0}, size=size, ctx=gl).astype(int)
    diff = np.abs(neutral - opened).sum(-1) > 3

    # Project the forehead and chin points of the neutral mesh to find their pixels.
    cam = OrbitCamera.framing(default_rig.positions)
    mvp = np.array(cam.projection(1.0), dtype=np.float64).T @ np.array(cam.view(1.0), dtype=np.float64).T

    def pixel(p):
        c = mvp @ np.append(p, 1.0)
        ndc = c[:3] / c[3]
        return int((1 - ndc[1]) / 2 * size[1]), int((ndc[0] + 1) / 2 * size[0])

    pos = default_rig.positions
    moved = np.abs(default_rig.deltas[default_rig.shape_index("jawOpen")]).max(1) > 1e-4
    front = pos[:, 2] > np.percentile(pos[:, 2], 60)
    top = pos[:, 1].max()
    forehead = pos[front & (pos[:, 1] > top - 0.25 * np.ptp(pos[:, 1]))]
    fr, fc = pixel(forehead.mean(0))
    chin = pos[moved & front]
    cr, cc = pixel(chin.mean(0))
    assert cr > fr + 20  # the chin is well below the forehead in the image
    assert diff[cr - 8 : cr + 8, cc - 8 : cc + 8].mean() > 0.3
    assert not diff[fr - 8 : fr + 8, fc - 8 : fc + 8].any()
    assert (neutral[fr - 8 : fr + 8, fc - 8 : fc + 8] == opened[fr - 8 : fr + 8, fc - 8 : fc + 8]).all()


def test_neutral_framing_contains_the_open_jaw(gl, default_rig):
    """The camera frames the neutral mesh; the opened jaw must still be inside that frame, for
    snapshots (square), wide and tall windows, seen level or from above and below."""
    from face3d.render.camera import OrbitCamera
    from face3d.render.offscreen import render_snapshot
    from face3d.render.renderer import BACKGROUND

    k = default_rig.shape_index("jawOpen")
    moved = np.abs(default_rig.deltas[k]).max(1) > 1e-4
    opened, _ = default_rig.apply({"jawOpen": 1.0})
    assert np.abs(opened[moved] - default_rig.positions[moved]).max() > 0.02 * np.ptp(default_rig.positions[:, 1])
    jaw = np.c_[opened[moved], np.ones(int(moved.sum()))]
    for aspect in (1.0, 16 / 9, 9 / 16):
        for yaw, pitch in ((0.0, 0.0), (20.0, 0.0), (0.0, 30.0), (0.0, -30.0)):
            cam = OrbitCamera.for_rig(default_rig, yaw=yaw, pitch=pitch)
            mvp = np.array(cam.projection(aspect), np.float64).T @ np.array(cam.view(aspect), np.float64).T
            clip = jaw @ mvp.T
            ndc = clip[:, :3] / clip[:, 3:]
            edge = np.abs(ndc[:, :2]).max()
            assert edge < 0.97, f"the open jaw reaches {edge:.3f} of the frame (aspect {aspect:.2f}, pitch {pitch:g})"
            assert (np.abs(ndc[:, 2]) < 1).all(), "the open jaw is cut by the near or far plane"
    # and in real pixels: nothing of the opened head touches the snapshot's border
    img = render_snapshot(default_rig, {"jawOpen": 1.0}, size=(160, 160), ctx=gl).astype(int)
    head = np.abs(img - np.round(np.array(BACKGROUND) * 255)).sum(-1) > 6
    assert head.any() and not (head[0].any() or head[-1].any() or head[:, 0].any() or head[:, -1].any())
