"""Auto-rigging heads that have no blendshapes; the real heads in ../shared/heads."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import SHARED_HEADS, run_cli


def _snap(rig, weights, ctx, size=(160, 160), **kw):
    from face3d.render.offscreen import render_snapshot

    img = render_snapshot(rig, weights, size=size, ctx=ctx, **kw).astype(int)
    ctx.detect_framebuffer(0).use()  # see tests/test_heads.py::_snap
    return img


def _pixel(rig, point, size):
    """Where a head-frame point lands in a snapshot of ``size`` (x, y), framed as render_snapshot does."""
    from face3d.render.camera import OrbitCamera

    w, h = size
    cam = OrbitCamera.framing(rig.positions)
    clip = np.append(np.asarray(point, float), 1.0) @ np.asarray(cam.view(w / h)) @ np.asarray(cam.projection(w / h))
    ndc = clip[:3] / clip[3]
    return int(round((ndc[0] + 1) / 2 * w)), int(round((1 - ndc[1]) / 2 * h))


def _window(img, xy, r):
    x, y = xy
    return img[max(y - r, 0): y + r + 1, max(x - r, 0): x + r + 1]


def _fused_head(rows=120, cols=96):
    """A procedural head, +Y up and +Z forward, whose lips are one continuous surface."""
    t = np.linspace(0.02, np.pi - 0.02, rows)
    ph = np.linspace(0, 2 * np.pi, cols, endpoint=False)
    tt, pp = np.meshgrid(t, ph, indexing="ij")
    n = np.stack([np.sin(tt) * np.sin(pp), np.cos(tt), np.sin(tt) * np.cos(pp)], -1).reshape(-1, 3)
    x, y, z = n[:, 0], n[:, 1], n[:, 2]
    front = np.clip(z, 0, None)

    def bump(cx, cy, sx, sy, amp):
        return amp * np.exp(-(((x - cx) / sx) ** 2 + ((y - cy) / sy) ** 2)) * front

    r = 1 + bump(0, -0.05, 0.09, 0.16, 0.3) + bump(0, -0.36, 0.22, 0.06, 0.08) + bump(0, -0.5, 0.2, 0.06, 0.08) \
        + bump(0, -0.78, 0.22, 0.1, 0.05) - bump(0.33, 0.28, 0.12, 0.08, 0.08) - bump(-0.33, 0.28, 0.12, 0.08, 0.08)
    pos = n * r[:, None] * np.array([0.8, 1.15, 0.95])
    pos[:, 0] *= 1 - 0.2 * np.clip(-y, 0, None)
    faces = []
    for i in range(rows - 1):
        for j in range(cols):
            a, b = i * cols + j, i * cols + (j + 1) % cols
            faces += [(a, a + cols, b), (b, a + cols, b + cols)]
    # close the poles
    top, bot = len(pos), len(pos) + 1
    pos = np.vstack([pos, [[0, 1.15, 0]], [[0, -1.15 * 0.8, 0]]])
    for j in range(cols):
        faces.append((top, j, (j + 1) % cols))
        a, b = (rows - 1) * cols + j, (rows - 1) * cols + (j + 1) % cols
        faces.append((bot, b, a))
    return pos, np.asarray(faces)


def test_autorig_default_head_without_shapes(gl, tmp_path, default_rig):
    from face3d.mesh.heads import load_head
    from face3d.mesh.io.obj import write_obj

    src = default_rig
    write_obj(tmp_path / "bare.obj", src.positions, src.faces)
    rig = load_head(tmp_path / "bare.obj")
    assert rig.names == ("jawOpen", "mouthWide", "mouthPucker", "mouthClose")
    assert rig.info["synthesised"] == list(rig.names)
    assert rig.n_vertices == src.n_vertices  # separate lips: no cut needed
    marks = src.info["landmarks"]
    jaw = rig.deltas[0]
    size = np.ptp(rig.positions, 0).max()
    chin = marks["chin"]
    assert jaw[chin, 1] < -0.02 * size  # the chin goes down
    lower, upper = marks["lower_lip_center"], marks["upper_lip_center"]
    assert jaw[lower, 1] < -0.02 * size
    assert abs(jaw[upper, 1]) < 0.1 * abs(jaw[lower, 1])  # the upper lip stays
    forehead = rig.positions[:, 1] > rig.positions[marks["nose_tip"], 1] + 0.15 * size
    assert np.abs(jaw[forehead]).max() < 1e-6
    # and each other shape moves the mouth only
    for i in (1, 2, 3):
        moved = np.abs(rig.deltas[i]).max(1) > 1e-4 * size
        assert moved.any() and np.abs(rig.deltas[i][forehead]).max() < 1e-3 * size
    # rendered: pixels change at the mouth, not at the forehead
    size_px = (160, 160)
    neutral, opened = _snap(rig, None, gl), _snap(rig, {"jawOpen": 1.0}, gl)
    diff = np.abs(opened - neutral).max(axis=2)
    mouth_px = _pixel(rig, rig.positions[lower], size_px)
    top = np.flatnonzero(forehead)[np.argmax(rig.positions[forehead, 2])]
    assert _window(diff, mouth_px, 4).max() > 40
    assert _window(diff, _pixel(rig, rig.positions[top], size_px), 4).max() == 0


def test_autorig_opens_fused_lips(gl, tmp_path):
    from face3d.mesh.heads import load_head
    from face3d.mesh.io.obj import write_obj

    pos, faces = _fused_head()
    write_obj(tmp_path / "fused.obj", pos, faces)
    rig = load_head(tmp_path / "fused.obj")
    assert (rig.info["up"], rig.info["forward"]) == ("+y", "+z")
    assert rig.info["lips"] == "fused" and rig.info["mouth_opened"]["seam_vertices"] > 4
    mouth = np.asarray(rig.info["landmarks"]["mouth"])
    # the lip line was found between the two lip bumps (y -0.36 and -0.5 before normalising)
    scale = rig.info["scale"]
    centre_y = (pos[:, 1].max() + pos[:, 1].min()) / 2
    assert abs(mouth[1] / scale + centre_y - (-0.43 * 1.15)) < 0.08
    neutral, opened = _snap(rig, None, gl), _snap(rig, {"jawOpen": 1.0}, gl)
    px = _pixel(rig, mouth + [0, -0.02, 0], (160, 160))
    before = _window(neutral, px, 3).mean()
    after = _window(opened, px, 3).mean()
    assert after < 0.6 * before and after < 60  # a dark opening appears


def test_autorig_without_opening_stays_closed_when_told(tmp_path):
    """--no-autorig leaves a shapeless head shapeless (and it still loads)."""
    from face3d.mesh.heads import load_head
    from face3d.mesh.io.obj import write_obj

    pos, faces = _fused_head(30, 40)
    write_obj(tmp_path / "h.obj", pos, faces)
    rig = load_head(tmp_path / "h.obj", autorig=False)
    assert rig.names == () and rig.n_vertices == len(pos)


def test_landmarks_sidecar_and_options(tmp_path):
    from face3d.mesh.heads import load_head
    from face3d.mesh.io.obj import write_obj

    pos, faces = _fused_head(40, 56)
    pos = pos * 10 + 5  # file units and origin differ from the rig's
    write_obj(tmp_path / "h.obj", pos, faces)
    given = {"mouth": [5.0, 5 + 10 * -0.6, 5 + 10 * 0.9], "mouth_width": 4.0}
    (tmp_path / "h.landmarks.json").write_text(json.dumps(given))
    rig = load_head(tmp_path / "h.obj")
    marks = rig.info["landmarks"]
    assert marks["given"] == ["mouth", "mouth_width"]
    s = rig.info["scale"]
    assert abs(marks["mouth_width"] - 4.0 * s) < 1e-4
    lo, hi = pos.min(0), pos.max(0)
    assert np.allclose(marks["mouth"], (np.array(given["mouth"]) - (lo + hi) / 2) * s, atol=1e-4)
    # CLI-style overrides win over the sidecar
    rig2 = load_head(tmp_path / "h.obj", landmark_overrides={"mouth_width": 2.0})
    assert abs(rig2.info["landmarks"]["mouth_width"] - 2.0 * s) < 1e-4


@pytest.mark.parametrize("content,needle", [("[1, 2", "not valid JSON"), ('{"mouth": [1, 2]}', "[x, y, z]"),
                                            ('{"nose": [1, 2, 3]}', "unknown landmark")])
def test_bad_landmarks_fail_cleanly(tmp_path, content, needle):
    from face3d.mesh.io.obj import write_obj

    pos, faces = _fused_head(20, 24)
    write_obj(tmp_path / "h.obj", pos, faces)
    (tmp_path / "marks.json").write_text(content)
    res = run_cli("snapshot", "--head", tmp_path / "h.obj", "--landmarks", tmp_path / "marks.json",
                  "--size", "32x32", "-o", tmp_path / "x.png")
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and needle in res.stderr, res.stderr


# ------------------------------------------------------------ real heads (skip when absent)
REAL = ["mediapipe_canonical_face_model.obj", "suzanne.obj", "LeePerrySmith.glb", "derived_LeePerrySmith.obj",
        "ict_facekit"]


@pytest.mark.parametrize("name", REAL)
def test_real_head_talks(gl, name):
    from face3d.mesh.autorig.landmarks import detect_landmarks
    from face3d.mesh.heads import load_head

    path = SHARED_HEADS / name
    if not path.exists():
        pytest.skip(f"{path} not present")
    rig = load_head(path)
    assert "jawOpen" in rig.names
    size = (200, 200)
    neutral, opened = _snap(rig, None, gl, size), _snap(rig, {"jawOpen": 1.0}, gl, size)
    assert neutral.std() > 10
    diff = np.abs(opened - neutral).max(axis=2)
    marks = rig.info.get("landmarks") or detect_landmarks(rig.positions, rig.faces)
    mouth = np.asarray(marks["mouth"])
    nose = np.asarray(marks["nose_tip"])
    assert _window(diff, _pixel(rig, mouth, size), 5).max() > 30, name
    # forehead: the front-most point well above the nose
    above = rig.positions[:, 1] > nose[1] + 0.6 * (nose[1] - mouth[1]) + 0.15
    front = np.flatnonzero(above & (np.abs(rig.positions[:, 0]) < 0.1))
    top = front[np.argmax(rig.positions[front, 2])]
    assert _window(diff, _pixel(rig, rig.positions[top], size), 3).max() < 10, name


# ------------------------------------------------------------ face3d rig
def test_rig_command_round_trip(gl, tmp_path):
    from face3d.mesh.heads import load_head
    from face3d.mesh.io.obj import write_obj

    pos, faces = _fused_head(80, 72)
    write_obj(tmp_path / "h.obj", pos * 25, faces)
    out = tmp_path / "rigged"
    res = run_cli("rig", tmp_path / "h.obj", "-o", out)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == str(out)
    assert "synthesised jawOpen, mouthWide, mouthPucker, mouthClose" in res.stderr
    names = {p.name for p in out.iterdir()}
    assert {"neutral.obj", "jawOpen.obj", "mouthWide.obj", "mouthPucker.obj", "mouthClose.obj", "face3d_rig.json"} <= names
    direct = load_head(tmp_path / "h.obj")
    back = load_head(out)
    assert back.names == direct.names and back.n_vertices == direct.n_vertices
    assert np.array_equal(back.faces, direct.faces)
    assert np.abs(back.positions - direct.positions).max() < 1e-5
    assert np.abs(back.deltas - direct.deltas).max() < 1e-5
    assert np.abs(back.normals - direct.normals).max() < 1e-4
    assert np.abs(back.colors - direct.colors).max() < 1e-4
    assert np.abs(back.gloss - direct.gloss).max() < 1e-3
    assert back.double_sided == direct.double_sided
    assert back.info["synthesised"] == []  # every shape now comes from the folder
    a = _snap(direct, {"jawOpen": 1.0, "mouthWide": 0.5}, gl)
    b = _snap(back, {"jawOpen": 1.0, "mouthWide": 0.5}, gl)
    assert np.abs(a - b).max() <= 2
    # the target OBJs are plain same-topology meshes
    from face3d.mesh.io.obj import read_obj_positions

    assert len(read_obj_positions(out / "jawOpen.obj")) == back.n_vertices
    # and a .npz output is a face3d rig
    res = run_cli("rig", out, "-o", tmp_path / "r.npz")
    assert res.returncode == 0, res.stderr
    assert load_head(tmp_path / "r.npz").names == back.names


def test_rig_command_errors(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("x")
    res = run_cli("rig", tmp_path / "none.obj", "-o", tmp_path / "out")
    assert res.returncode == 2 and "does not exist" in res.stderr and "Traceback" not in res.stderr
    from face3d.mesh.io.obj import write_obj

    pos, faces = _fused_head(20, 24)
    write_obj(tmp_path / "h.obj", pos, faces)
    res = run_cli("rig", tmp_path / "h.obj", "-o", afile)
    assert res.returncode == 2 and "afile" in res.stderr and len(res.stderr.strip().splitlines()) == 1, res.stderr


def test_rig_refuses_landmarks_far_outside_the_head(tmp_path):
    """A jaw pivot half a metre above a 0.2 m head would tear the mouth: one line, exit 2, the bounds named."""
    from face3d.mesh.io.obj import write_obj

    pos, faces = _fused_head(30, 40)
    pos = pos * 0.1  # 0.16 m wide, 0.23 m tall
    write_obj(tmp_path / "scan.obj", pos, faces)
    out = tmp_path / "out"
    res = run_cli("rig", tmp_path / "scan.obj", "--jaw-pivot", "0,0.5,1", "-o", out)
    lines = res.stderr.strip().splitlines()
    assert res.returncode == 2 and "Traceback" not in res.stderr and len(lines) == 1, res.stderr
    assert "--jaw-pivot 0,0.5,1" in lines[0] and "outside the head" in lines[0], lines[0]
    lo, hi = pos.min(0), pos.max(0)
    assert f"y {lo[1]:.4g}..{hi[1]:.4g}" in lines[0] and f"z {lo[2]:.4g}..{hi[2]:.4g}" in lines[0], lines[0]
    assert not out.exists()
    res = run_cli("rig", tmp_path / "scan.obj", "--mouth-width", "3", "-o", out)
    assert res.returncode == 2 and "--mouth-width 3 is wider than the head" in res.stderr, res.stderr
    # in a landmark file: named with the file
    (tmp_path / "marks.json").write_text(json.dumps({"mouth": [0, -0.06, 2.0]}))
    res = run_cli("rig", tmp_path / "scan.obj", "--landmarks", tmp_path / "marks.json", "-o", out)
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert "'mouth' in landmark file" in res.stderr and "marks.json" in res.stderr, res.stderr
    # a pivot inside the head is taken
    res = run_cli("rig", tmp_path / "scan.obj", "--jaw-pivot", "0,0.01,-0.03", "-o", out)
    assert res.returncode == 0, res.stderr
    assert "jawOpen" in res.stderr
