"""The viewer's overlay, drawn by the real app in a headless EGL window: every label whole
beside its bar, numbers beside (never over) their bars, every line inside the panel, bars
only for the shapes the head has, and a paused or ended sound's meter saying so."""

from __future__ import annotations

import numpy as np
import pytest

from face3d.audio.clock import OwnClock
from face3d.track import ALIVE_NAMES, WeightTrack
from face3d.viewer.session import Recorder, Session

MOUTH = ("jawOpen", "mouthWide", "mouthPucker", "mouthClose")
NAMES = MOUTH + tuple(ALIVE_NAMES)


class FakeTime:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


class FakeLive:
    """A live source's face to the session: fixed weights, a level and a delay line."""

    hop_s = 0.01
    level_db = -23.4
    notices: list = []

    def __init__(self, names):
        self.names = names
        self.label = "microphone: a very long device name that goes on and on, Monitor of Null Output"

    def drain(self):
        return np.zeros((0, len(self.names)), np.float32)

    def weights(self):
        return np.linspace(0.05, 0.95, len(self.names)).astype(np.float32)

    def delay_text(self):
        return "delay 22.7 ms = block 5 + analysis 17 + processing 0.1\noverflows 3, dropped 1"

    def start(self):
        pass

    def close(self):
        pass


def _rig(with_alive: bool):
    """A sphere with the mouth shapes, and the blink and brow shapes when ``with_alive``."""
    from conftest import sphere_rig
    from face3d.mesh.rig import Rig

    shapes = MOUTH + (tuple(n for n in ALIVE_NAMES if n.startswith(("eyeBlink", "brow"))) if with_alive else ())
    r = sphere_rig(len(shapes), rows=32, cols=48)
    return Rig(r.positions, r.normals, r.faces, shapes, r.deltas, r.normal_deltas)


def _app(rig, live=False, size=(640, 480)):
    from _viewer_helpers import headless_viewer
    from face3d.viewer.app import ViewerOptions

    ft = FakeTime()
    t = np.arange(0, 10, 0.01)
    vals = np.stack([0.5 + 0.5 * np.sin(t * (k + 1)) for k in range(len(NAMES))], 1).astype(np.float32)
    track = WeightTrack(t, NAMES, vals)
    if live:
        session = Session(live=FakeLive(NAMES), label="microphone")
    else:
        samples = (0.3 * np.sin(np.arange(160000) * 0.1)).astype(np.float32)
        session = Session(track=track, clock=OwnClock(10.0, now=ft), recorder=Recorder(NAMES), samples=samples,
                          rate=16000, label="file: speech.wav")
    opts = ViewerOptions(window="headless", size=size, record="take.csv")
    app, window = headless_viewer(rig, session, opts)
    return app, window, ft


def _draw(app, window, ft, dt=1.0):
    from face3d.viewer.app import read_frame

    ft.t += dt
    window.use()
    window.render(ft.t, dt)
    return read_frame(window)


def _inside(r, box, tol=0.5):
    return r[0] >= box[0] - tol and r[1] >= box[1] - tol and r[2] <= box[2] + tol and r[3] <= box[3] + tol


@pytest.mark.parametrize("live", [False, True], ids=["file", "microphone"])
def test_labels_bars_numbers_and_lines_fit_the_panel(live):
    from imgui_bundle import imgui

    app, window, ft = _app(_rig(True), live=live)
    try:
        _draw(app, window, ft)
        img = _draw(app, window, ft)
        lay = app.osd.layout
        labels = [n for n, _ in lay["labels"]]
        assert labels == ["input", *MOUTH, *(n for n in ALIVE_NAMES if n.startswith(("eyeBlink", "brow")))]
        win = lay["window"]
        for (name, lab), (_, bar), (number, num) in zip(lay["labels"], lay["bars"], lay["numbers"]):
            assert lab[2] - lab[0] >= imgui.calc_text_size(name).x - 0.5, f"{name} is cut"
            assert lab[2] <= bar[0] - 2, f"the bar starts inside the label {name!r}"
            assert num[0] >= bar[2] + 2, f"the number {number!r} sits on its bar"
            for r in (lab, bar, num):
                assert _inside(r, win), f"{name}: {r} outside the panel {win}"
            # no text drawn over the bar: its pixels are the bar's two colours, no white glyphs
            x0, y0, x1, y1 = (int(round(v)) for v in bar)
            px = img[y0 + 2: y1 - 2, x0 + 2: x1 - 2].astype(int)
            assert (px.min(axis=2) < 200).all(), f"white text over the {name} bar"
        for text, r in lay["lines"]:
            assert _inside(r, win), f"line {text!r} at {r} runs past the panel {win}"
        if live:
            assert any(t.startswith("delay 22.7 ms") for t, _ in lay["lines"])
            assert any(t.startswith("overflows 3") for t, _ in lay["lines"])
            assert [n for n, _ in lay["numbers"]][0] == "-23.4 dBFS"
    finally:
        app.release()
        window.destroy()


def test_paused_and_ended_sound_read_so_on_the_meter():
    app, window, ft = _app(_rig(True))
    try:
        _draw(app, window, ft)
        assert app.osd.layout["numbers"][0][0].endswith("dBFS")
        app.action("pause")
        _draw(app, window, ft)
        info = app.osd_info([])
        assert info["meter"] == "paused" and app.osd.layout["numbers"][0][0] == "paused"
        assert info["state"].startswith("paused") and "silent" not in info["state"], info["state"]
        app.action("pause")
        _draw(app, window, ft, dt=20.0)                    # past the end
        assert app.session.clock.ended and app.osd.layout["numbers"][0][0] == "ended"
    finally:
        app.release()
        window.destroy()


def test_no_blink_or_brow_bars_for_a_head_without_those_shapes():
    app, window, ft = _app(_rig(False))
    try:
        _draw(app, window, ft)
        info = app.osd_info([])
        assert [n for n, _ in info["weights"]] == list(MOUTH)
        assert info["note"] == "no blink or brow shapes on this head"
        assert [n for n, _ in app.osd.layout["labels"]] == ["input", *MOUTH]
        assert any(t == info["note"] for t, _ in app.osd.layout["lines"])
    finally:
        app.release()
        window.destroy()
