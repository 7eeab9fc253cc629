"""The real viewer on an avatar (a VRM 0.x full-body test avatar) under a private Xvfb: its
home view frames the face, not the body."""

from __future__ import annotations

import shutil
import time

import numpy as np
import pytest

from _viewer_helpers import ROOT, geometry, grab, mask, running_viewer, xdo, xvfb_display
from _vrm import make_avatar

pytestmark = pytest.mark.skipif(shutil.which("xdotool") is None, reason="needs xdotool (apt-get install xdotool)")

SPEECH = ROOT / "models" / "demo_speech.wav"


@pytest.fixture(scope="module")
def xvfb():
    yield from xvfb_display()


def test_viewer_home_view_frames_the_avatars_face(xvfb, tmp_path):
    from face3d.render.renderer import BACKGROUND

    path = make_avatar(tmp_path / "a.vrm", version="0")
    with running_viewer(xvfb, [SPEECH, "--head", path, "--size", "320x320", "--mute"]) as v:
        x, y, w, h = geometry(xvfb, v.wid)
        xdo(xvfb, "windowfocus", "--sync", v.wid)
        time.sleep(1.0)
        v.key("space", "h")  # pause, hide the overlay
        time.sleep(2.0)
        m = mask(grab(xvfb, v.wid, (w, h)), BACKGROUND)
        assert m[h // 2 - h // 8: h // 2 + h // 8, w // 2 - w // 8: w // 2 + w // 8].mean() > 0.9  # the head, centred
        rows = np.flatnonzero(m.any(1))
        assert rows.min() > 0.05 * h  # the top of the head inside the window (not the body framed)
        assert m[: h // 2].mean() > 0.2  # the head fills the window, not a small figure
