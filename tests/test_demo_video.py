"""``face3d demo`` without a display: the demo speech as a video, its curves and their plot."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from _audio_helpers import ROOT, run_cli

av = pytest.importorskip("av")


@pytest.mark.slow
def test_demo_without_display_writes_video_csv_and_plot(tmp_path):
    out = tmp_path / "out"
    r = run_cli("demo", "-o", out, "--size", "320x240", env={"DISPLAY": "", "WAYLAND_DISPLAY": ""}, timeout=180)
    assert r.returncode == 0, r.stderr
    mp4, csv, png = out / "demo.mp4", out / "demo.csv", out / "demo.png"
    for p in (mp4, csv, png):
        assert p.is_file() and str(p) in r.stdout, (p, r.stdout)
    assert "display" in r.stderr.lower(), "says why it did not open a window"
    info = sf.info(str(ROOT / "models" / "demo_speech.wav"))
    with av.open(str(mp4)) as c:
        v, a = c.streams.video[0], c.streams.audio[0]
        assert (v.codec_context.name, v.width, v.height) == ("h264", 320, 240)
        assert a.codec_context.name == "aac"
        assert abs(float(c.duration) / 1e6 - info.duration) <= 1 / 30
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    spread = np.std(np.stack([f.astype(np.float32) for f in frames[::3]]), axis=0).max(axis=2)
    assert np.count_nonzero(spread > 10) > 100, "the mouth moves"
    header = csv.read_text().splitlines()[0]
    from face3d.track import ALIVE_NAMES, MOUTH_NAMES

    assert header == ",".join(("frame", "time_s") + MOUTH_NAMES + tuple(ALIVE_NAMES)), "what face3d export writes"
    assert Image.open(png).size == (1200, 600)
