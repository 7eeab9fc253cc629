"""Head motion and gaze in the renderer (issue 12): the whole head turns about its neck
pivot, the eyeballs about their centres, in the real vertex shader and on real pixels."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import run_cli


def test_shader_pose_matches_the_numpy_reference(gl, default_rig):
    from face3d.render.pose import apply_pose, neck_pivot
    from face3d.render.renderer import HeadRenderer

    rig = default_rig
    r = HeadRenderer(gl, rig)
    pose = {"headPitch": 6.0, "headYaw": -9.0, "headRoll": 4.0, "eyeYaw": 14.0, "eyePitch": -7.0}
    r.set_pose(pose)
    w = {"jawOpen": 0.6, "mouthWide": 0.3}
    pos, _ = r.transform(w)
    ref = apply_pose(rig, rig.apply(w)[0], pose)
    np.testing.assert_allclose(pos, ref, atol=2e-6)
    # the whole head moved (skull, teeth, ears), the pivot did not
    r0 = HeadRenderer(gl, rig)
    still, _ = r0.transform(w)
    r0.release()
    moved = np.linalg.norm(pos - still, axis=1)
    for part in ("skin", "teeth_upper", "ear_left", "eye_right"):
        a, b = rig.info["parts"][part]
        assert np.percentile(moved[a:b], 5) > 2e-3, part     # millimetres (only the neck is near the pivot)
    c = neck_pivot(rig)
    r.set_pose(headPitch=20.0, headYaw=0.0, headRoll=0.0, eyeYaw=0.0, eyePitch=0.0)
    np.testing.assert_allclose(np.asarray(r.model, np.float64).T @ np.r_[c, 1.0], np.r_[c, 1.0], atol=1e-6)
    r.release()


def test_gaze_turns_only_the_eyeballs_about_their_centres(gl, default_rig):
    from face3d.render.renderer import HeadRenderer

    rig = default_rig
    r = HeadRenderer(gl, rig)
    base, _ = r.transform()
    r.set_pose(eyeYaw=20.0, eyePitch=10.0)
    pos, _ = r.transform()
    moved = np.linalg.norm(pos - base, axis=1) > 1e-6
    eyes = np.zeros(rig.n_vertices, bool)
    for e in rig.info["eyes"]:
        a, b = e["range"]
        eyes[a:b] = True
        c = np.asarray(e["center"])
        # distances to the centre are kept; the front of the eye (the pupil) looks left and up
        np.testing.assert_allclose(np.linalg.norm(pos[a:b] - c, axis=1), np.linalg.norm(base[a:b] - c, axis=1), atol=1e-6)
        front = a + int(np.argmax(base[a:b, 2]))
        d = pos[front] - c
        assert d[0] > 0.3 * np.linalg.norm(d) and d[1] > 0.1 * np.linalg.norm(d)
    assert np.array_equal(moved, eyes)
    r.release()


def test_viewer_gaze_follows_the_camera_within_range():
    from face3d.render.pose import EYE_YAW_RANGE, viewer_gaze

    assert viewer_gaze(0.0, 0.0, 2.0, -1.0) == (2.0, -1.0)
    assert viewer_gaze(20.0, 10.0) == (20.0, 10.0)
    assert viewer_gaze(340.0, 0.0) == (-20.0, 0.0)            # orbit wraps
    assert viewer_gaze(120.0, 0.0)[0] == EYE_YAW_RANGE         # behind: as far as the eyes turn


def _head_mask(img):
    from face3d.render.renderer import BACKGROUND

    bg = np.round(np.array(BACKGROUND) * 255).astype(int)
    return np.abs(img.astype(int) - bg).sum(-1) > 6


def test_snapshot_pose_turns_the_head_on_real_pixels(tmp_path):
    from PIL import Image

    paths = {}
    for name, pose in (("still", None), ("yaw", "headYaw=25"), ("pitch", "headPitch=-20")):
        out = tmp_path / f"{name}.png"
        args = ["snapshot", "--size", "200x200", "-o", out] + (["--pose", pose] if pose else [])
        res = run_cli(*args)
        assert res.returncode == 0, res.stderr
        paths[name] = np.asarray(Image.open(out))
    still, yaw, pitch = (_head_mask(paths[k]) for k in ("still", "yaw", "pitch"))
    cols = np.arange(200)
    # turning toward the head's left (+X, the viewer's right): the top of the head shifts right
    top = slice(20, 80)
    assert (yaw[top] * cols).sum() / yaw[top].sum() > (still[top] * cols).sum() / still[top].sum() + 2
    # chin down (negative pitch): the head's outline changes
    assert (pitch != still).mean() > 0.01


@pytest.mark.parametrize("bad", ["headYaw=200", "nose=3", "headYaw=nan", "headYaw"])
def test_bad_pose_is_one_line(tmp_path, bad):
    res = run_cli("snapshot", "--pose", bad, "-o", tmp_path / "x.png")
    assert res.returncode == 2 and "--pose" in res.stderr and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_load_line_says_what_moves_beyond_the_mouth(tmp_path):
    from conftest import ROOT

    plain = run_cli("snapshot", "--head", ROOT / "models" / "default_head.obj", "--size", "64x64", "-o", tmp_path / "a.png")
    assert plain.returncode == 0, plain.stderr
    assert "alive: head motion (no eyeBlinkLeft/Right shapes: no blinks; no brow shapes" in plain.stderr, plain.stderr
    rig = run_cli("snapshot", "--head", ROOT / "models" / "default_head.npz", "--size", "64x64", "-o", tmp_path / "b.png")
    assert rig.returncode == 0, rig.stderr
    assert "alive: head motion, gaze, blinks, brows" in rig.stderr and "no blinks" not in rig.stderr, rig.stderr


def test_view_curves_turn_the_head_unless_mouth_only(tmp_path):
    """view --curves reads the angle columns and turns the head (real window, headless EGL);
    with --mouth-only the same curves leave it still, and --record keeps the angles."""
    from PIL import Image

    from face3d.track import WeightTrack, read_csv, save_csv

    t = np.arange(0, 2.0, 0.02)
    names = ("jawOpen", "headYaw", "eyeBlinkLeft")
    save_csv(WeightTrack(t, names, np.stack([0 * t, 25 + 0 * t, 0 * t], 1)), tmp_path / "turn.csv")
    save_csv(WeightTrack(t, names, np.zeros((len(t), 3))), tmp_path / "still.csv")
    shots = {}
    for name, extra in (("turn", []), ("still", []), ("mouth_only", ["--mouth-only"])):
        csv = tmp_path / ("still.csv" if name == "still" else "turn.csv")
        args = ["view", "--curves", csv, "--window", "headless", "--size", "200x200", "--seconds", "0.6", "--no-osd",
                "--screenshot", tmp_path / f"{name}.png", *extra]
        if name == "turn":
            args += ["--record", tmp_path / "rec.csv"]
        r = run_cli(*args)
        assert r.returncode == 0, r.stderr
        shots[name] = _head_mask(np.asarray(Image.open(tmp_path / f"{name}.png").convert("RGB")))
    cols = np.arange(shots["still"].shape[1])

    def centre(m):
        return (m[20:80] * cols).sum() / m[20:80].sum()

    assert centre(shots["turn"]) > centre(shots["still"]) + 2
    assert np.array_equal(shots["mouth_only"], shots["still"])
    rec = read_csv(tmp_path / "rec.csv")
    assert "headYaw" in rec.names and abs(float(np.median(rec.column("headYaw"))) - 25) < 1e-3
