"""The X server going away under a running viewer: the session's --record and --screenshot
are kept, and face3d says what happened instead of Xlib's 'XIO: fatal IO error'.

* ``xvfb-run face3d view`` and Ctrl-C in the terminal: SIGINT reaches the X server too;
* the X server killed on its own while the viewer draws.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from face3d.render.renderer import BACKGROUND
from face3d.track import ALIVE_NAMES, MOUTH_NAMES, read_csv

from _viewer_helpers import ROOT, head_args, mask, running_viewer, start_xvfb, viewer_env

SPEECH = ROOT / "models" / "demo_speech.wav"
NO_SOUND = {"PULSE_SERVER": "unix:/nonexistent", "AUDIODEV": "null"}

pytestmark = pytest.mark.skipif(shutil.which("xdotool") is None, reason="needs xdotool (apt-get install xdotool)")


# Runs a command and writes its exit status to a file, riding out the SIGINT itself (a handler,
# not SIG_IGN, so that the command starts with the default disposition).
_KEEP_STATUS = ("import signal, subprocess, sys\n"
                "signal.signal(signal.SIGINT, lambda *a: None)\n"
                "r = subprocess.call(sys.argv[2:])\n"
                "open(sys.argv[1], 'w').write(str(r))\n")


def _wait_for(path, text, proc, timeout=60.0):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if text in path.read_text():
            return
        if proc.poll() is not None:
            raise AssertionError(f"exited early ({proc.returncode}): {path.read_text()}")
        time.sleep(0.1)
    raise AssertionError(f"no {text!r} after {timeout} s: {path.read_text()}")


def _wait_group_gone(pgid, timeout=30.0):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    raise AssertionError(f"processes of group {pgid} still running after {timeout} s")


def _check_outputs(rec, shot, size):
    tr = read_csv(rec)
    assert tr.names == MOUTH_NAMES + ALIVE_NAMES          # the demo speech, analysed with the alive curves
    # seconds of speech; not all 3 of them on a loaded machine, where a frame that comes
    # over 0.5 s late counts as a seek and its stretch is left out of the record
    assert tr.duration >= 0.5, tr.duration
    assert tr.column("jawOpen").max() > 0.3          # the speech, not a flat line
    img = np.asarray(Image.open(shot).convert("RGB"))
    assert img.shape == (size[1], size[0], 3)
    assert mask(img, BACKGROUND).mean() > 0.1        # a drawn frame with the head in it


@pytest.mark.skipif(shutil.which("xvfb-run") is None or shutil.which("xauth") is None,
                    reason="needs xvfb-run and xauth (apt-get install xvfb xauth)")
def test_ctrl_c_under_xvfb_run_keeps_the_record(tmp_path):
    """Ctrl-C in a terminal sends SIGINT to the whole process group: xvfb-run, Xvfb and face3d."""
    rec, shot, errf = tmp_path / "rec.csv", tmp_path / "shot.png", tmp_path / "err.txt"
    status = tmp_path / "status"
    with open(errf, "w") as err:
        proc = subprocess.Popen(
            ["xvfb-run", "-a", "-s", "-screen 0 640x480x24 -nolisten tcp", sys.executable, "-c", _KEEP_STATUS, status,
             sys.executable, "-m", "face3d", "view",
             str(SPEECH), *head_args(tmp_path), "--size", "320x240", "--record", str(rec), "--screenshot", str(shot),
             "--stats"],
            cwd=ROOT, env=viewer_env(None, NO_SOUND), stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
    try:
        _wait_for(errf, "first frame drawn", proc)
        time.sleep(2.0)
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=30)        # xvfb-run itself (/bin/sh) dies of the SIGINT at once ...
        _wait_group_gone(proc.pid)   # ... face3d finishes on its own
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    text = errf.read_text()
    assert "XIO" not in text and "Traceback" not in text, text
    assert "recorded" in text and "saved the last frame" in text, text
    assert status.read_text() == "130", text    # face3d's own status: interrupted
    _check_outputs(rec, shot, (320, 240))


def test_x_server_killed_under_the_viewer(tmp_path):
    rec, shot = tmp_path / "rec.csv", tmp_path / "shot.png"
    disp, xvfb = start_xvfb("640x480x24")
    try:
        args = [SPEECH, *head_args(tmp_path), "--size", "320x240", "--record", rec, "--screenshot", shot, "--stats"]
        with running_viewer(disp, args, env=NO_SOUND) as v:
            v.wait_for("first frame drawn")
            time.sleep(2.0)
            xvfb.terminate()
            xvfb.wait(timeout=10)
            err = v.finish(expect=1)
    finally:
        if xvfb.poll() is None:
            xvfb.kill()
            xvfb.wait()
    assert "XIO" not in err, err
    assert f"lost the connection to the display '{disp}'" in err
    assert "recorded" in err and "saved the last frame" in err, err
    _check_outputs(rec, shot, (320, 240))
