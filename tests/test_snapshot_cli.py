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

from conftest import ROOT, run_cli


def _one_line_error(res, *needles):
    assert res.returncode == 2, (res.returncode, res.stdout, res.stderr)
    err = res.stderr.strip()
    assert "Traceback" not in res.stderr
    assert len(err.splitlines()) == 1, err
    for n in needles:
        assert n in err, err
    return err


def test_snapshot_writes_png(tmp_path):
    out = tmp_path / "head.png"
    res = run_cli("snapshot", "--weights", "jawOpen=1,mouthWide=0.5", "--yaw", "20", "--size", "320x240", "-o", out)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == str(out)
    img = np.asarray(Image.open(out))
    assert img.shape == (240, 320, 3)
    assert img.std() > 10  # not a blank frame


def test_unknown_shape_lists_available(tmp_path):
    out = tmp_path / "x.png"
    err = _one_line_error(run_cli("snapshot", "--weights", "jawOpn=1", "-o", out), "jawOpn", "jawOpen", "mouthWide", "mouthPucker", "mouthClose")
    assert "unknown shape" in err
    assert not out.exists()


@pytest.mark.parametrize("weights", ["jawOpen=1.5", "jawOpen=-0.1", "jawOpen=abc", "jawOpen"])
def test_bad_weight_values(tmp_path, weights):
    out = tmp_path / "x.png"
    _one_line_error(run_cli("snapshot", "--weights", weights, "-o", out), "--weights")
    assert not out.exists()


@pytest.mark.parametrize("size", ["800", "800x", "axb", "0x100", "100000x100"])
def test_bad_size(tmp_path, size):
    out = tmp_path / "x.png"
    _one_line_error(run_cli("snapshot", "--size", size, "-o", out), "--size")
    assert not out.exists()


def test_missing_head(tmp_path):
    out = tmp_path / "x.png"
    _one_line_error(run_cli("snapshot", "--head", tmp_path / "nope.obj", "-o", out), "nope.obj", "does not exist")
    assert not out.exists()


def test_unwritable_output(tmp_path):
    _one_line_error(run_cli("snapshot", "-o", tmp_path / "no" / "such" / "dir" / "x.png"), "does not exist")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        if os.access(ro, os.W_OK):  # root ignores permissions: use a path under a file instead
            target = tmp_path / "afile"
            target.write_text("x")
            _one_line_error(run_cli("snapshot", "-o", target / "x.png"), "x.png")
        else:
            _one_line_error(run_cli("snapshot", "-o", ro / "x.png"), "not writable")
    finally:
        ro.chmod(0o700)
    assert list(tmp_path.rglob("*.png")) == []
    assert list(tmp_path.rglob(".*.png")) == []


def test_output_is_a_folder(tmp_path):
    _one_line_error(run_cli("snapshot", "-o", tmp_path), "folder")


def test_demo_renders_poses(tmp_path):
    res = run_cli("demo", "-o", tmp_path / "out", "--size", "200x200")
    assert res.returncode == 0, res.stderr
    paths = [Path(p) for p in res.stdout.split()]
    names = {p.stem for p in paths}
    assert {"head_neutral", "head_jawOpen", "head_mouthWide", "head_mouthPucker"} <= names
    imgs = {p.stem: np.asarray(Image.open(p)).astype(int) for p in paths}
    # each pose differs from neutral
    for name, img in imgs.items():
        if name != "head_neutral":
            assert np.abs(img - imgs["head_neutral"]).sum(-1).astype(bool).sum() > 100, name


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
    venv.create(env_dir, with_pip=True, system_site_packages=False)
    py = env_dir / "bin" / "python"
    site = subprocess.run([sys.executable, "-c", "import numpy, os; print(os.path.dirname(os.path.dirname(numpy.__file__)))"],
                          capture_output=True, text=True).stdout.strip()
    pth = subprocess.run([str(py), "-c", "import site; print(site.getsitepackages()[0])"], capture_output=True, text=True).stdout.strip()
    (Path(pth) / "deps.pth").write_text(site + "\n")
    inst = subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
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
