"""The real viewer window under a private Xvfb: head on screen, drags, keys, quit.

Pixels come from the X server (XGetImage on the window), not from the viewer itself.
"""

from __future__ import annotations

import shutil
import time

import numpy as np
import pytest

from face3d.render.renderer import BACKGROUND

from _viewer_helpers import ROOT, geometry, grab, head_args, mask, running_viewer, viewer_env, xdo, xvfb_display

pytestmark = pytest.mark.skipif(shutil.which("xdotool") is None, reason="needs xdotool (apt-get install xdotool)")

SPEECH = ROOT / "models" / "demo_speech.wav"


@pytest.fixture(scope="module")
def xvfb():
    yield from xvfb_display()


def _settle(disp, wid, size, tries=40, still=1):
    """Wait until ``still`` + 1 grabs 0.15 s apart agree (the paused head has been redrawn);
    ask for more on a loaded machine, where two frames can be more than 0.15 s apart."""
    prev = grab(disp, wid, size)
    same = 0
    for _ in range(tries):
        time.sleep(0.15)
        cur = grab(disp, wid, size)
        same = same + 1 if np.abs(cur.astype(np.int16) - prev).max() <= 2 else 0
        if same >= still:
            return cur
        prev = cur
    return prev


def _drag(disp, wid, x0, y0, dx, button=1, steps=10):
    xdo(disp, "mousemove", "--window", wid, x0, y0)
    time.sleep(0.05)
    xdo(disp, "mousedown", button)
    for i in range(1, steps + 1):
        xdo(disp, "mousemove", "--window", wid, x0 + dx * i // steps, y0)
        time.sleep(0.02)
    xdo(disp, "mouseup", button)


def _centroid_x(m):
    ys, xs = np.nonzero(m)
    return float(xs.mean()), float(ys.min()), float(ys.max())


def test_window_shows_head_orbits_pans_and_quits(xvfb, tmp_path):
    with running_viewer(xvfb, [SPEECH, *head_args(tmp_path), "--size", "640x480", "--mute"]) as v:
        wid = v.wid
        x, y, w, h = geometry(xvfb, wid)
        assert (w, h) == (640, 480)
        xdo(xvfb, "windowfocus", "--sync", wid)
        time.sleep(1.0)
        with_osd = grab(xvfb, wid, (w, h))
        v.key("space", "h")            # pause (the mouth stops moving), hide the overlay
        a = _settle(xvfb, wid, (w, h))
        # the overlay was drawn in the top-left corner and is gone now
        corner = (slice(10, 60), slice(10, 150))
        assert np.abs(with_osd[corner].astype(int) - a[corner]).mean() > 5
        ma = mask(a, BACKGROUND)
        centre = ma[h // 2 - h // 8: h // 2 + h // 8, w // 2 - w // 8: w // 2 + w // 8]
        assert centre.mean() > 0.9, "the head is not in the middle of the window"
        assert ma.mean() < 0.8
        cxa, top_a, bot_a = _centroid_x(ma)

        _drag(xvfb, wid, w // 2, h // 2, 150)                   # left-drag: orbit
        b = _settle(xvfb, wid, (w, h))
        mb = mask(b, BACKGROUND)
        cxb, top_b, bot_b = _centroid_x(mb)
        inside = ma & mb
        diff = np.abs(a.astype(int) - b)[inside].mean()
        assert diff > 6, f"orbiting did not change the image ({diff:.1f})"
        assert abs(cxb - cxa) < 0.08 * w, "orbit moved the head sideways like a pan"
        assert abs(top_b - top_a) < 0.05 * h and abs(bot_b - bot_a) < 0.05 * h

        _drag(xvfb, wid, w // 2, h // 2, -150)                  # and back
        c = _settle(xvfb, wid, (w, h))
        back = np.abs(a.astype(int) - c).mean()
        assert back < 2.0, f"orbiting back did not restore the view ({back:.2f})"

        _drag(xvfb, wid, w // 2, h // 2, 100, button=3)         # right-drag: pan follows the mouse
        d = _settle(xvfb, wid, (w, h))
        cxd, _, _ = _centroid_x(mask(d, BACKGROUND))
        assert 60 < cxd - cxa < 140, f"panning moved the head by {cxd - cxa:.0f} px, not ~100"

        v.key("r")                                               # reset
        e = _settle(xvfb, wid, (w, h))
        assert np.abs(a.astype(int) - e).mean() < 2.0

        def bbox_ratio(m):
            ys, xs = np.nonzero(m)
            return (ys.max() - ys.min()) / (xs.max() - xs.min())

        xdo(xvfb, "windowsize", wid, 360, 480)                   # resize: the head keeps its shape
        time.sleep(0.3)
        assert geometry(xvfb, wid)[2:] == (360, 480)
        f = _settle(xvfb, wid, (360, 480))
        mf = mask(f, BACKGROUND)
        assert mf[240, 180], "the head left the middle after resizing"
        assert bbox_ratio(mf) == pytest.approx(bbox_ratio(ma), rel=0.05), "the resized view is stretched"

        v.key("q")
        v.finish(0)


def _export(tmp_path, audio):
    import subprocess
    import sys

    from face3d.track import read_csv

    out = tmp_path / "export.csv"
    r = subprocess.run([sys.executable, "-m", "face3d", "export", str(audio), "-o", str(out)],
                       cwd=ROOT, env=viewer_env(None), capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return read_csv(out)


def _check_record(rec_path, ref, min_s):
    from face3d.track import read_csv
    from _viewer_helpers import best_lag

    rec = read_csv(rec_path)
    assert rec.names == ref.names
    assert rec.duration >= min_s, rec.duration
    np.testing.assert_allclose(rec.times, np.arange(len(rec)) / 60, atol=1e-4)
    n = min(len(rec), len(ref))
    a, b = ref.column("jawOpen")[:n], rec.column("jawOpen")[:n]
    assert np.corrcoef(a, b)[0, 1] > 0.95
    lag, c = best_lag(a, b)
    assert abs(lag) <= 1 and c > 0.95, (lag, c)
    return rec


#: way out -> (how, exit status)
ROUTES = {"q": 0, "escape": 0, "close-button": 0, "ctrl-c": 130, "sigterm": 0}


def _leave(v, route):
    import signal

    if route == "q":
        v.key("q")
    elif route == "escape":
        v.key("Escape")
    elif route == "close-button":
        v.close_button()
    elif route == "ctrl-c":
        v.proc.send_signal(signal.SIGINT)
    elif route == "sigterm":
        v.proc.send_signal(signal.SIGTERM)
    return v.finish(ROUTES[route])


@pytest.mark.parametrize("route", list(ROUTES))
def test_record_and_screenshot_survive_every_way_out(xvfb, tmp_path, route):
    """--record and --screenshot in file mode (no sound device here: the silent clock, said
    once), closed by Q, Escape, the window's close button, Ctrl-C or SIGTERM: the CSV lines up
    with 'face3d export' of the file, and the PNG is the last frame the window showed."""
    from PIL import Image

    rec_path, shot_path = tmp_path / "rec.csv", tmp_path / "shot.png"
    args = [SPEECH, *head_args(tmp_path), "--size", "480x360", "--record", rec_path, "--screenshot", shot_path,
            "--stats"]
    with running_viewer(xvfb, args, env={"PULSE_SERVER": "unix:/nonexistent", "AUDIODEV": "null"}) as v:
        ref = _export(tmp_path, SPEECH)
        v.wait_for("first frame drawn")
        time.sleep(3.0)
        v.key("space", "h")            # pause and hide the overlay: the picture stands still
        shown = _settle(xvfb, v.wid, (480, 360), tries=60, still=6)
        err = _leave(v, route)
    assert err.count("playing silently") <= 1
    assert "recorded" in err and "saved the last frame" in err
    _check_record(rec_path, ref, 2.5)
    shot = np.asarray(Image.open(shot_path).convert("RGB")).astype(int)
    assert shot.shape == shown.shape
    assert np.abs(shot - shown).mean() < 1.0, "the screenshot is not the frame the window showed"
    assert mask(shot.astype(np.uint8), BACKGROUND).mean() > 0.1     # and it has the head in it


def test_demo_opens_the_viewer_when_there_is_a_display(xvfb, tmp_path):
    env = {"PULSE_SERVER": "unix:/nonexistent", "AUDIODEV": "null"}
    with running_viewer(xvfb, ["-o", tmp_path / "out"], title="demo_speech.wav", env=env, command="demo") as v:
        time.sleep(0.5)
        v.key("Escape")
        v.finish(0)
    assert not (tmp_path / "out").exists()       # the window, not the PNG files
