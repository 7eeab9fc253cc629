"""VRM 0.x and 1.0 avatars and skeleton-framed characters, on small files built here
(tests/_vrm.py), plus the shared avatars when ../shared is present."""

from __future__ import annotations

import numpy as np
import pytest

from _vrm import make_avatar
from conftest import SHARED_HEADS, run_cli

AVATARS = SHARED_HEADS / "avatars"   # ../shared/heads/avatars beside the checkout


def _load(path, **kw):
    from face3d.mesh.heads import load_head

    return load_head(path, **kw)


def _delta(rig, name):
    return rig.deltas[rig.names.index(name)].astype(np.float64)


@pytest.mark.parametrize("version", ["0", "1"])
def test_vrm_expressions_are_shapes_baked_from_their_binds(tmp_path, version):
    rig = _load(make_avatar(tmp_path / f"a{version}.vrm", version=version))
    for name in ("aa", "ou", "ee", "oh", "blink", "blinkLeft", "blinkRight", "happy"):
        assert name in rig.names, (name, rig.names)
    assert "ih" not in rig.names  # the file has no such expression
    # oh = 0.5 ah + 1.0 ou (VRM 0.x: weights 50 and 100 of 100)
    np.testing.assert_allclose(_delta(rig, "oh"), 0.5 * _delta(rig, "aa") + _delta(rig, "ou"), atol=1e-6)
    np.testing.assert_allclose(_delta(rig, "blink"), _delta(rig, "blinkLeft") + _delta(rig, "blinkRight"), atol=1e-6)
    assert np.abs(_delta(rig, "happy") - 0.5 * _delta(rig, "ee")).max() < 1e-6
    # face3d's curves drive the expressions: jawOpen is the file's A / aa
    np.testing.assert_allclose(_delta(rig, "jawOpen"), _delta(rig, "aa"), atol=1e-6)
    np.testing.assert_allclose(_delta(rig, "eyeBlinkLeft"), _delta(rig, "blinkLeft"), atol=1e-6)
    label = "A: ah" if version == "0" else "aa: ah"
    assert rig.info["found"]["jawOpen"] == [label]


@pytest.mark.parametrize("version", ["0", "1"])
def test_vrm_faces_the_camera_and_left_is_its_own_left(tmp_path, version):
    """VRM 0.x faces -Z, 1.0 +Z: both are drawn from the front, the avatar's left at +X."""
    rig = _load(make_avatar(tmp_path / f"a{version}.vrm", version=version))
    assert rig.info["forward"] == ("-z" if version == "0" else "+z")
    p = rig.positions
    nose = p[np.argmax(p[:, 2])]
    assert abs(nose[0]) < 0.05 and nose[2] > 0.8  # the nose faces the camera (+Z), on the mid-line
    moved = np.abs(_delta(rig, "blinkLeft")).max(1) > 0
    assert moved.any() and (p[moved, 0] > 0).all()  # the avatar's own left eye


def test_sparse_morph_targets_are_applied(tmp_path):
    dense = _load(make_avatar(tmp_path / "d.vrm", version="1"))
    sparse = _load(make_avatar(tmp_path / "s.vrm", version="1", sparse=True))
    assert np.abs(_delta(sparse, "aa")).max() > 0
    np.testing.assert_allclose(_delta(sparse, "aa"), _delta(dense, "aa"), atol=1e-7)
    np.testing.assert_allclose(_delta(sparse, "blinkRight"), _delta(dense, "blinkRight"), atol=1e-7)


@pytest.mark.parametrize("turned", [False, True], ids=["faces+z", "faces-z"])
def test_full_body_gltf_framed_on_its_head_facing_the_camera(tmp_path, turned):
    """A plain glTF character: the head joint frames it, the eyes say which way it faces."""
    rig = _load(make_avatar(tmp_path / "c.glb", version=None, turned=turned))
    assert rig.info["forward"] == ("-z" if turned else "+z")
    assert rig.info["full_body"] and rig.info["frame_radius"] == 1.0
    p = rig.positions
    assert p[:, 1].min() < -4  # the feet, far below the framed head
    head = np.linalg.norm(p, axis=1) < 1.05
    nose = p[np.argmax(np.where(head, p[:, 2], -np.inf))]
    assert nose[2] > 0.6 and abs(nose[0]) < 0.05


def test_frame_body_frames_everything(tmp_path):
    from face3d.render.camera import OrbitCamera

    path = make_avatar(tmp_path / "c.vrm", version="1")
    head = OrbitCamera.for_rig(_load(path))
    body = OrbitCamera.for_rig(_load(path, frame="body"))
    assert head.radius == 1.0 and body.radius > 4 * head.radius


def _img(path):
    from PIL import Image

    return np.asarray(Image.open(path).convert("RGB"), np.int64)


@pytest.mark.parametrize("version", ["0", "1"])
def test_snapshot_of_a_vrm_opens_the_mouth_and_blinks_both_eyes(tmp_path, version):
    path = make_avatar(tmp_path / "a.vrm", version=version)
    shots = {}
    for key, w in (("rest", None), ("jaw", "jawOpen=1"), ("blink", "blink=1")):
        out = tmp_path / f"{key}.png"
        args = ["snapshot", "--head", str(path), "-o", str(out), "--size", "160x160"]
        r = run_cli(*args, *(["--weights", w] if w else []))
        assert r.returncode == 0, r.stderr
        shots[key] = _img(out)
    assert ("A: ah" if version == "0" else "aa: ah") in r.stderr
    assert "expressions aa, ou, ee, oh, blink, blinkLeft, blinkRight, happy" in r.stderr
    h, w = shots["rest"].shape[:2]
    diff = np.abs(shots["jaw"] - shots["rest"]).sum(2) > 30
    ys, xs = np.nonzero(diff)
    assert len(ys) > 20 and ys.min() > h * 0.45 and ys.max() < h  # the mouth opens, inside the picture
    diff = np.abs(shots["blink"] - shots["rest"]).sum(2) > 30
    ys, xs = np.nonzero(diff)
    assert (xs < w / 2).sum() > 3 and (xs > w / 2).sum() > 3  # both eyes


def test_required_extension_refused_in_one_line(tmp_path):
    path = make_avatar(tmp_path / "m.glb", version=None, required=["EXT_meshopt_compression", "KHR_mesh_quantization"])
    r = run_cli("snapshot", "--head", str(path), "-o", str(tmp_path / "x.png"))
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "EXT_meshopt_compression" in lines[0] and "KHR_mesh_quantization" in lines[0]
    assert "Traceback" not in r.stderr and not (tmp_path / "x.png").exists()


def test_vrm_without_expressions_or_skin_loads(tmp_path):
    rig = _load(make_avatar(tmp_path / "n.vrm", version="1", extra_presets=False, body=False))
    assert "aa" in rig.names and rig.info["forward"] == "+z"


# ---------------------------------------------------------------- the shared avatars
def _shared(name):
    p = AVATARS / name
    if not p.is_file():
        pytest.skip(f"{p} not present")
    return p


@pytest.mark.parametrize("name,label", [
    ("derived_VALID_White_M_1_Casual_vrm0.vrm", "jawOpen (A: AE_AA_h + t_AE_AA_h)"),
    ("derived_VALID_White_M_1_Casual_vrm1.vrm", "jawOpen (aa: AE_AA_h + t_AE_AA_h)"),
])
def test_shared_vrm_load_line(name, label):
    from face3d.commands._common import describe_head

    rig = _load(_shared(name))
    line = describe_head(rig)
    assert label in line and "eyeBlinkLeft (" in line, line
    assert rig.info["forward"] == ("-z" if "vrm0" in name else "+z")


def test_shared_realistic_avatar_faces_the_camera():
    rig = _load(_shared("derived_VALID_Asian_F_1_Casual.glb"))
    assert rig.info["forward"] == "+z" and rig.info["full_body"]


def test_shared_meshopt_avatar_refused(tmp_path):
    r = run_cli("snapshot", "--head", str(_shared("VALID_Asian_F_1_Casual.meshopt.glb")), "-o", str(tmp_path / "x.png"))
    assert r.returncode == 2 and "EXT_meshopt_compression" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("name", ["cryptovoxels.vrm", "VRMC_vrm_expressions_isBinary_Overrides.vrm"])
def test_shared_vrm_edge_cases_load(name):
    rig = _load(_shared(name))
    assert rig.info["forward"] == ("-z" if name.startswith("crypto") else "+z")


@pytest.mark.parametrize("jaw_name", ["Jaw", "mixamorig:Jaw", "CC_Base_JawRoot"])
def test_jaw_joint_drives_jawopen_exactly_as_skinning_would(tmp_path, jaw_name):
    """jawOpen of a skinned head with a jaw joint is that joint turned by JAW_ANGLE_DEG:
    the baked blendshape equals the file posed with its jaw turned, skinned by the loader."""
    from face3d.mesh.autorig.synth import JAW_ANGLE_DEG
    from face3d.mesh.io.read import read_mesh
    from face3d.mesh.rig.jaw import bone_jaw_delta

    names = {"jaw": jaw_name}
    rest = make_avatar(tmp_path / "rest.glb", version=None, skin_jaw=True, names=names)
    posed = make_avatar(tmp_path / "posed.glb", version=None, skin_jaw=True, names=names, jaw_deg=JAW_ANGLE_DEG)
    a, b = read_mesh(rest), read_mesh(posed)
    w = a.skeleton["jaw_weights"]
    assert a.skeleton["jaw_name"] == jaw_name and 0 < (w > 0).sum() < len(w)
    delta = bone_jaw_delta(a.positions, w, a.skeleton["jaw_pivot"], JAW_ANGLE_DEG)
    assert np.abs(delta).max() > 0.005
    np.testing.assert_allclose(a.positions + delta, b.positions, atol=1e-6)
    rig = _load(rest)
    assert rig.info["found"]["jawOpen"] == [f"jaw joint {jaw_name}"]
    d = _delta(rig, "jawOpen")
    moved = np.abs(d).max(1) > 0
    assert d[moved, 1].mean() < 0 and d[:, 1].min() < -0.05  # the chin goes down


def test_demo_on_an_avatar_frames_its_face(tmp_path):
    """``demo --head avatar.vrm``: the poses and the video show the avatar's face, framed as
    snapshot frames it (the body far below is out of the picture)."""
    path = make_avatar(tmp_path / "a.vrm", version="0")
    out = tmp_path / "out"
    r = run_cli("demo", "--no-window", "-o", str(out), "--size", "128x128", "--head", str(path), timeout=600)
    assert r.returncode == 0, r.stderr
    assert "A: ah" in r.stderr and (out / "demo.mp4").stat().st_size > 1000
    rest, jaw = _img(out / "head_neutral.png"), _img(out / "head_jawOpen.png")
    bg = rest[0, 0]
    face = np.abs(rest - bg).sum(2) > 30
    assert face[40:90, 40:90].mean() > 0.9  # the head fills the middle of the picture
    assert (np.abs(jaw - rest).sum(2) > 30).sum() > 20  # and opens its mouth


@pytest.mark.parametrize("version", ["0", "1", None])
def test_eyeballs_on_eye_joints_turn_for_gaze(tmp_path, version):
    """Eyeballs that hang on the skeleton's eye joints are the rig's eyes: gaze turns each
    about its joint (the avatar's own left eye on +X)."""
    from face3d.render.pose import apply_pose, eye_groups

    rig = _load(make_avatar(tmp_path / "e.glb", version=version, eyeballs=True))
    eyes = eye_groups(rig)
    assert len(eyes) == 2
    for centre, idx in eyes:
        ball = rig.positions[idx].astype(np.float64)
        assert len(idx) == 12 * 16 and np.linalg.norm(ball.mean(0) - centre) < 0.02
    p = apply_pose(rig, rig.positions, {"eyeYaw": 30.0})
    for centre, idx in eyes:
        front = idx[np.argmax(rig.positions[idx, 2])]
        assert p[front, 0] - rig.positions[front, 0] > 0.01  # the pupil turns toward the avatar's left (+X)
    others = np.setdiff1d(np.arange(rig.n_vertices), np.concatenate([i for _, i in eyes]))
    assert np.abs(p[others] - rig.positions[others]).max() < 1e-6


def test_up_forward_options_override_the_skeleton_but_keep_the_head_framing(tmp_path):
    path = make_avatar(tmp_path / "a.vrm", version="1")
    rig = _load(path, forward="-z")  # the user knows better than the spec
    assert rig.info["forward"] == "-z" and rig.info["full_body"] and rig.info["frame_radius"] == 1.0
    r = run_cli("snapshot", "--head", str(path), "--up", "+y", "--forward", "+y", "-o", str(tmp_path / "x.png"))
    assert r.returncode == 2 and "not perpendicular" in r.stderr


@pytest.mark.parametrize("version", ["0", "1"])
def test_gaze_drives_look_expressions(gl, tmp_path, version):
    """A VRM whose lookAt is of type expression: the eye angles drive lookLeft / lookUp
    through the file's range map (here 20 degrees to weight 1), in the real shader."""
    from face3d.render.renderer import HeadRenderer

    rig = _load(make_avatar(tmp_path / "l.vrm", version=version, look_range=20))
    assert {"lookLeft", "lookUp"} <= set(rig.names) and "look_expressions" in rig.info
    r = HeadRenderer(gl, rig)
    try:
        r.set_pose(eyeYaw=10.0, eyePitch=30.0)
        got, _ = r.transform(np.zeros(rig.n_shapes, np.float32))
        want, _ = rig.apply(rig.weight_vector({"lookLeft": 0.5, "lookUp": 1.0}))
        np.testing.assert_allclose(got, want, atol=1e-5)
        r.set_pose(eyeYaw=-10.0, eyePitch=0.0)  # toward the right: lookRight, which this file lacks
        got, _ = r.transform(np.zeros(rig.n_shapes, np.float32))
        np.testing.assert_allclose(got, rig.positions, atol=1e-5)
    finally:
        r.release()
