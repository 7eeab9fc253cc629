"""``face3d snapshot`` and ``face3d demo`` through the real CLI in subprocesses."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import ROOT, one_line_error, run_cli


def _png(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB")).astype(int)


def _snapshot(tmp_path, name, *args):
    out = tmp_path / f"{name}.png"
    res = run_cli("snapshot", *map(str, args), "-o", out)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == str(out)
    return _png(out)


def _pixels_of(rig, points, yaw, pitch, size):
    """(row, col) of ``points`` in a snapshot of ``rig`` (the camera face3d snapshot uses)."""
    from face3d.render.camera import OrbitCamera

    w, h = size
    cam = OrbitCamera.for_rig(rig, yaw=yaw, pitch=pitch)
    mvp = np.array(cam.projection(w / h), np.float64).T @ np.array(cam.view(w / h), np.float64).T
    c = np.c_[points, np.ones(len(points))] @ mvp.T
    ndc = c[:, :2] / c[:, 3:]
    return (1 - ndc[:, 1]) / 2 * h, (ndc[:, 0] + 1) / 2 * w


def test_snapshot_is_the_render_its_options_ask_for(tmp_path, gl, default_rig):
    """The CLI's PNG is the library's render with the same weights, yaw and pitch, and each of
    those changes the picture, so an option the command dropped would show."""
    from face3d.render.offscreen import render_snapshot

    size = (240, 200)
    weights = {"jawOpen": 1.0, "mouthWide": 0.5}
    img = _snapshot(tmp_path, "head", "--weights", "jawOpen=1,mouthWide=0.5", "--yaw", 20, "--pitch", 15,
                    "--size", "240x200")
    assert img.shape == (200, 240, 3)

    def render(w=weights, yaw=20.0, pitch=15.0):
        vec = default_rig.weight_vector(w) if w else None
        return render_snapshot(default_rig, vec, yaw=yaw, pitch=pitch, size=size, ctx=gl).astype(int)

    same = np.abs(img - render()).mean()
    assert same < 0.5, f"the snapshot is not the render of its options ({same:.2f})"
    for what, other in (("--weights", render(w={})), ("--yaw", render(yaw=0.0)), ("--pitch", render(pitch=0.0))):
        changed = (np.abs(img - other).sum(-1) > 12).mean()
        assert changed > 0.01, f"{what} makes no difference to the picture ({changed:.4f})"


def test_weights_move_the_mouth_and_nothing_else(tmp_path, default_rig):
    size = (240, 240)
    rest = _snapshot(tmp_path, "rest", "--size", "240x240")
    opened = _snapshot(tmp_path, "open", "--weights", "jawOpen=1", "--size", "240x240")
    assert rest.std() > 10  # a head, not a blank frame
    diff = np.abs(rest - opened).sum(-1) > 12
    assert diff.mean() > 0.01, f"jawOpen=1 did not change the picture ({diff.mean():.4f})"
    # where jawOpen acts: the vertices it moves or turns (shading), before and after opening
    k = default_rig.shape_index("jawOpen")
    moved = (np.abs(default_rig.deltas[k]).max(1) > 1e-4) | (np.abs(default_rig.normal_deltas[k]).max(1) > 1e-4)
    pts = default_rig.positions[moved]
    rows, cols = _pixels_of(default_rig, np.r_[pts, pts + default_rig.deltas[k][moved]], 0.0, 0.0, size)
    box = np.zeros_like(diff)
    box[max(0, int(rows.min()) - 4): int(rows.max()) + 5, max(0, int(cols.min()) - 4): int(cols.max()) + 5] = True
    inside = diff[box].sum() / diff.sum()
    assert inside > 0.97, f"jawOpen changed pixels away from the jaw ({1 - inside:.1%} outside)"
    assert np.abs(rest - opened)[~box].mean() < 0.2, "the rest of the picture changed"
    assert not diff[: int(rows.min()) - 4].any(), "the forehead moved"


def test_pitch_raises_the_camera(tmp_path):
    """--pitch 30 looks down at the head: the whole picture changes, and the mouth (found as
    the pixels jawOpen changes) sits lower in the frame than seen from level."""
    shots = {(p, w): _snapshot(tmp_path, f"p{p}{w}", "--pitch", p, "--weights", f"jawOpen={w}", "--size", "200x200")
             for p in (0, 30) for w in (0, 1)}
    changed = np.abs(shots[0, 0] - shots[30, 0]).sum(-1) > 12
    assert changed[:80].mean() > 0.02, "--pitch did not change the upper part of the picture"

    def mouth_row(p):
        ys, _ = np.nonzero(np.abs(shots[p, 0] - shots[p, 1]).sum(-1) > 12)
        return ys.mean()

    assert mouth_row(30) > mouth_row(0) + 4, (mouth_row(0), mouth_row(30))


def test_unknown_shape_lists_available(tmp_path):
    out = tmp_path / "x.png"
    err = one_line_error(run_cli("snapshot", "--weights", "jawOpn=1", "-o", out), "jawOpn", "jawOpen", "mouthWide", "mouthPucker", "mouthClose")
    assert "unknown shape" in err
    assert not out.exists()


@pytest.mark.parametrize("weights", ["jawOpen=1.5", "jawOpen=-0.1", "jawOpen=abc", "jawOpen"])
def test_bad_weight_values(tmp_path, weights):
    out = tmp_path / "x.png"
    one_line_error(run_cli("snapshot", "--weights", weights, "-o", out), "--weights")
    assert not out.exists()


@pytest.mark.parametrize("size", ["800", "800x", "axb", "0x100", "100000x100"])
def test_bad_size(tmp_path, size):
    out = tmp_path / "x.png"
    one_line_error(run_cli("snapshot", "--size", size, "-o", out), "--size")
    assert not out.exists()


def test_missing_head(tmp_path):
    out = tmp_path / "x.png"
    one_line_error(run_cli("snapshot", "--head", tmp_path / "nope.obj", "-o", out), "nope.obj", "does not exist")
    assert not out.exists()


def test_unwritable_output(tmp_path):
    # (a missing folder is made: see test_outputs.py)
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        if os.access(ro, os.W_OK):  # root ignores permissions: use a path under a file instead
            target = tmp_path / "afile"
            target.write_text("x")
            one_line_error(run_cli("snapshot", "-o", target / "x.png"), "x.png")
        else:
            one_line_error(run_cli("snapshot", "-o", ro / "x.png"), "not writable")
    finally:
        ro.chmod(0o700)
    assert list(tmp_path.rglob("*.png")) == []
    assert list(tmp_path.rglob(".*.png")) == []


def test_output_is_a_folder(tmp_path):
    one_line_error(run_cli("snapshot", "-o", tmp_path), "folder")


def test_demo_renders_poses(tmp_path):
    out = tmp_path / "out"
    res = run_cli("demo", "-o", out, "--size", "200x200")
    assert res.returncode == 0, res.stderr
    promised = {f"head_{n}.png" for n in ("neutral", "jawOpen", "mouthWide", "mouthPucker", "mouthClose")}
    promised |= {"demo.mp4", "demo.csv", "demo.png"}                   # the demo video, its curves and plot
    paths = [Path(p) for p in res.stdout.split()]
    assert sorted(p.name for p in paths) == sorted(promised)          # printed, each once
    assert {p.name for p in out.iterdir()} == promised                 # written, nothing else
    imgs = {p.stem: _png(p) for p in paths if p.name.startswith("head_")}
    neutral = imgs.pop("head_neutral")
    assert neutral.std() > 10
    for name, img in imgs.items():
        diff = np.abs(img - neutral).sum(-1) > 12
        assert diff.sum() > 100, f"{name} looks like the neutral face"
        assert not diff[:60].any(), f"{name} changed the top of the head"   # the poses move the mouth only
    assert np.abs(imgs["head_jawOpen"] - imgs["head_mouthPucker"]).sum(-1).astype(bool).sum() > 100


@pytest.mark.slow
def test_snapshot_from_installed_wheel(tmp_path):
    """Build the wheel, install it in a fresh venv, and run face3d snapshot outside the checkout."""
    dist = tmp_path / "dist"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)],
        capture_output=True, text=True, timeout=300,
    )
    assert build.returncode == 0, build.stderr
    wheel = next(dist.glob("face3d-*.whl"))
    env_dir = tmp_path / "venv"
    # reuse this interpreter's installed dependencies; face3d itself comes only from the wheel
    venv.create(env_dir, with_pip=False, system_site_packages=False)   # pip comes from outside (--python)
    py = env_dir / "bin" / "python"
    site = subprocess.run([sys.executable, "-c", "import numpy, os; print(os.path.dirname(os.path.dirname(numpy.__file__)))"],
                          capture_output=True, text=True).stdout.strip()
    pth = subprocess.run([str(py), "-c", "import site; print(site.getsitepackages()[0])"], capture_output=True, text=True).stdout.strip()
    (Path(pth) / "deps.pth").write_text(site + "\n")
    inst = subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "-q", "--no-deps", "--no-index",
                           str(wheel)],
                          capture_output=True, text=True, timeout=300)
    assert inst.returncode == 0, inst.stderr
    out = tmp_path / "w.png"
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DISPLAY")}
    res = subprocess.run([str(env_dir / "bin" / "face3d"), "snapshot", "--weights", "jawOpen=1", "--size", "160x160", "-o", str(out)],
                         cwd=work, capture_output=True, text=True, timeout=120, env=env)
    assert res.returncode == 0, res.stderr
    where = subprocess.run([str(py), "-c", "import face3d.assets as a; print(a.shader_dir()); print(a.model_dir())"],
                           cwd=work, capture_output=True, text=True, env=env).stdout
    assert str(env_dir) in where and str(ROOT) not in where, where
    assert np.asarray(Image.open(out)).std() > 10
