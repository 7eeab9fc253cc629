"""``face3d view`` errors: one line on stderr, exit status 2, no traceback, no window."""

from __future__ import annotations

import pytest

from conftest import run_cli
from _viewer_helpers import ROOT, head_args, xvfb_display

SPEECH = ROOT / "models" / "demo_speech.wav"
NO_SOUND = {"PULSE_SERVER": "unix:/nonexistent", "AUDIODEV": "null"}


@pytest.fixture(scope="module")
def display():
    yield from xvfb_display("640x480x24")


def _one_line_error(r, *needles):
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("face3d view: error: ")
    for n in needles:
        assert n in lines[0], lines[0]
    return lines[0]


def test_no_display_suggests_snapshot(tmp_path):
    r = run_cli("view", SPEECH, *head_args(tmp_path), env={"DISPLAY": "", **NO_SOUND})
    _one_line_error(r, "no display", "face3d snapshot")


def test_unreachable_display(tmp_path):
    r = run_cli("view", SPEECH, *head_args(tmp_path), env={"DISPLAY": ":4999", **NO_SOUND})
    _one_line_error(r, "no display", 'X display ":4999"', "face3d snapshot")


def test_mic_without_input_device_lists_devices(tmp_path, display):
    r = run_cli("view", "--mic", *head_args(tmp_path), env={"DISPLAY": display, **NO_SOUND})
    _one_line_error(r, "no input device", "devices")


def test_mic_with_unknown_device(tmp_path, display):
    r = run_cli("view", "--mic", "--device", "no-such-mic", *head_args(tmp_path), env={"DISPLAY": display, **NO_SOUND})
    _one_line_error(r, "no-such-mic", "input devices")


@pytest.mark.parametrize("case", ["missing-head", "bad-head", "missing-audio", "bad-audio", "bad-curves",
                                  "record-folder", "device-without-mic", "mic-and-file"])
def test_bad_inputs(tmp_path, display, case):
    args = ["view"]
    bad = tmp_path / "bad.wav"
    bad.write_text("this is not audio\n")
    head = head_args(tmp_path)
    needle = ""
    if case == "missing-head":
        args += [SPEECH, "--head", tmp_path / "nope.obj"]
        needle = "nope.obj"
    elif case == "bad-head":
        h = tmp_path / "head.obj"
        h.write_text("v 0 0 garbage\nf 1 2 3\n")
        args += [SPEECH, "--head", h]
        needle = "head.obj"
    elif case == "missing-audio":
        args += [tmp_path / "nope.wav", *head]
        needle = "nope.wav"
    elif case == "bad-audio":
        args += [bad, *head]
        needle = "bad.wav"
    elif case == "bad-curves":
        c = tmp_path / "curves.csv"
        c.write_text("frame,jawOpen\n0,0.5\n")
        args += ["--curves", c, *head]
        needle = "curves.csv"
    elif case == "record-folder":
        # a missing folder is made (as for every output); a file where the folder should be is refused
        (tmp_path / "afile").write_text("x")
        args += [SPEECH, *head, "--record", tmp_path / "afile" / "r.csv"]
        needle = "afile"
    elif case == "device-without-mic":
        args += [SPEECH, *head, "--device", "1"]
        needle = "--mic"
    elif case == "mic-and-file":
        args += [SPEECH, "--mic", *head]
        needle = "--mic"
    r = run_cli(*args, env={"DISPLAY": display, **NO_SOUND})
    _one_line_error(r, needle)
