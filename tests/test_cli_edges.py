"""The CLI's edges through the real command in subprocesses: output permissions, paths where
no file can be made, numbers that are not numbers, folders left behind, the display, and ``-v``."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from conftest import ROOT, one_line_error, run_cli

SPEECH = ROOT / "models" / "demo_speech.wav"


def _cli(*args, umask: int, cwd=None):
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    return subprocess.run([sys.executable, "-m", "face3d", *map(str, args)], cwd=cwd or ROOT, env=env,
                          capture_output=True, text=True, timeout=120, umask=umask)


def _mode(path) -> int:
    return os.stat(path).st_mode & 0o777


# ------------------------------------------------------------------ defect 1: permissions
@pytest.mark.parametrize("umask, expect", [(0o022, 0o644), (0o027, 0o640)], ids=["umask022", "umask027"])
def test_new_outputs_get_the_umask_mode(tmp_path, umask, expect):
    png, csv = tmp_path / "head.png", tmp_path / "speech.csv"
    r = _cli("snapshot", "--size", "64x64", "-o", png, umask=umask)
    assert r.returncode == 0, r.stderr
    r = _cli("export", SPEECH, "-o", csv, umask=umask)
    assert r.returncode == 0, r.stderr
    assert (_mode(png), _mode(csv)) == (expect, expect), (oct(_mode(png)), oct(_mode(csv)))


@pytest.mark.parametrize("existing, umask", [(0o640, 0o022), (0o644, 0o077)], ids=["0640-umask022", "0644-umask077"])
def test_replacing_a_file_keeps_its_mode(tmp_path, existing, umask):
    png, csv = tmp_path / "head.png", tmp_path / "speech.csv"
    for p in (png, csv):
        p.write_text("old")
        p.chmod(existing)
    assert _cli("snapshot", "--size", "64x64", "-o", png, umask=umask).returncode == 0
    assert _cli("export", SPEECH, "-o", csv, umask=umask).returncode == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and csv.read_text().startswith("frame,")
    assert (_mode(png), _mode(csv)) == (existing, existing), (oct(_mode(png)), oct(_mode(csv)))


def test_viewer_outputs_get_the_umask_mode(tmp_path):
    """--record and --screenshot of the viewer (headless, EGL) go through the same writer."""
    rec, shot = tmp_path / "rec.csv", tmp_path / "shot.png"
    r = _cli("view", SPEECH, "--mute", "--window", "headless", "--size", "64x48", "--frames", "3",
             "--record", rec, "--screenshot", shot, umask=0o002)
    assert r.returncode == 0, r.stderr
    assert (_mode(rec), _mode(shot)) == (0o664, 0o664)


# ------------------------------------------------------------------ defect 7: paths, numbers, folders
@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")
@pytest.mark.parametrize("cmd", [["snapshot", "-o", "/proc/x.png"], ["export", str(SPEECH), "-o", "/proc/x.csv"],
                                 ["demo", "--no-window", "-o", "/proc"]])
def test_folder_where_no_file_can_be_made(cmd):
    one_line_error(run_cli(*cmd), "/proc", "choose another")


@pytest.mark.skipif(not os.path.exists("/dev/null"), reason="needs /dev/null")
def test_output_onto_a_device_is_refused():
    import stat

    one_line_error(run_cli("snapshot", "--size", "32x32", "-o", "/dev/null"), "/dev/null", "not a regular file")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


@pytest.mark.parametrize("cmd, option", [
    (["demo", "--no-window", "--yaw", "nan"], "--yaw"),
    (["demo", "--no-window", "--yaw", "inf"], "--yaw"),
    (["snapshot", "--yaw", "-inf"], "--yaw"),
    (["snapshot", "--pitch", "nan"], "--pitch"),
    (["snapshot", "--mouth-width", "nan"], "--mouth-width"),
    (["snapshot", "--mouth", "0,nan,1"], "--mouth"),
    (["snapshot", "--jaw-pivot", "inf,0,1"], "--jaw-pivot"),
    (["snapshot", "--weights", "jawOpen=nan"], "--weights"),
    (["export", str(SPEECH), "--fps", "nan"], "--fps"),
    (["view", "--seconds", "nan", "--window", "headless"], "--seconds"),
])
def test_numbers_that_are_not_finite_are_refused(tmp_path, cmd, option):
    out = tmp_path / "out"
    args = cmd + (["-o", out] if cmd[0] != "view" else [])
    one_line_error(run_cli(*args), option)
    assert not out.exists()


def test_every_numeric_option_refuses_nan_and_inf():
    """Every option of every command that takes a number goes through number_option."""
    import argparse

    from face3d.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    checked = []
    for name, p in sub.choices.items():
        for action in p._actions:
            assert action.type is not float, f"face3d {name} {action.option_strings}: type=float takes nan"
            if getattr(action.type, "finite_number", False):
                for bad in ("nan", "inf", "-inf", "1e999"):
                    with pytest.raises(argparse.ArgumentTypeError):
                        action.type(bad)
                checked.append((name, action.option_strings[0]))
    names = {n for n, _ in checked}
    assert {"demo", "snapshot", "export", "view"} <= names, checked
    assert ("snapshot", "--pitch") in checked and ("snapshot", "--mouth-width") in checked


def test_failed_batch_leaves_no_folder_behind(tmp_path):
    """A batch refused before it starts (an input that does not exist) makes no folder; a bad
    file in a batch is reported and the others are written (exit 1; see test_batch.py)."""
    missing = tmp_path / "missing.wav"
    out = tmp_path / "curves"
    one_line_error(run_cli("export", missing, SPEECH, "-o", out), "is a file name", f"-o {out.name}/")
    assert not out.exists()
    one_line_error(run_cli("export", missing, SPEECH, "-o", f"{out}/"), "missing.wav")
    assert not out.exists()
    bad = tmp_path / "bad.wav"
    bad.write_text("not audio\n")
    r = run_cli("export", bad, SPEECH, "-o", f"{out}/")
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    assert "bad.wav" in r.stderr and r.stderr.strip().splitlines()[-1].endswith("face3d-report.jsonl")
    assert sorted(p.name for p in out.iterdir()) == ["demo_speech.csv", "face3d-report.jsonl"]


# ------------------------------------------------------------------ display
def test_no_display_is_a_typed_error(monkeypatch):
    from face3d.errors import DeviceError, NoDisplayError
    from face3d.viewer.display import require_display

    if not sys.platform.startswith("linux"):
        pytest.skip("only Linux can lack a display")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with pytest.raises(NoDisplayError, match="DISPLAY is not set") as info:
        require_display()
    assert isinstance(info.value, DeviceError)
    monkeypatch.setenv("DISPLAY", ":4987")
    with pytest.raises(NoDisplayError, match='":4987"'):
        require_display()


def test_demo_with_a_bad_display_names_it_and_renders_files(tmp_path):
    out = tmp_path / "out"
    r = run_cli("demo", "-o", out, "--size", "64x64", env={"DISPLAY": ":4987",
                                                           "PULSE_SERVER": "unix:/nonexistent", "AUDIODEV": "null"})
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    assert '":4987"' in r.stderr and "instead of a window" in r.stderr, r.stderr
    assert len(list(out.glob("head_*.png"))) == 5 and (out / "demo.mp4").is_file()


# ------------------------------------------------------------------ -v
def test_verbose_shows_the_traceback(tmp_path):
    out = tmp_path / "x.png"
    quiet = run_cli("snapshot", "--weights", "jawOpen=2", "-o", out)
    one_line_error(quiet, "--weights")
    loud = run_cli("-v", "snapshot", "--weights", "jawOpen=2", "-o", out)
    assert loud.returncode != 0
    assert "Traceback (most recent call last)" in loud.stderr, loud.stderr
    assert "UsageError" in loud.stderr and "jawOpen=2" in loud.stderr
    assert not out.exists()
