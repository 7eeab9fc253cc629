"""The viewer's frame-loop logic without a display: clocks, session, recorder, player clock,
and the real ViewerApp in moderngl-window's headless (EGL) window."""

from __future__ import annotations

import numpy as np
import pytest

from face3d.track import WeightTrack, read_csv
from face3d.audio.clock import OwnClock
from face3d.viewer.session import Recorder, Session

NAMES = ("jawOpen", "mouthWide", "mouthPucker", "mouthClose")


class FakeTime:
    def __init__(self, t=100.0):
        self.t = t

    def __call__(self):
        return self.t


def ramp_track(duration=10.0, rate=100):
    t = np.arange(int(duration * rate) + 1) / rate
    v = np.zeros((len(t), 4), np.float32)
    v[:, 0] = t / duration            # jawOpen = position / duration: the weight tells the time
    v[:, 1] = (np.sin(t * 3) + 1) / 2
    return WeightTrack(t, NAMES, v)


# ------------------------------------------------------------------ OwnClock
def test_own_clock_play_pause_seek_end():
    ft = FakeTime()
    c = OwnClock(10.0, now=ft).start()
    ft.t += 2.5
    assert c.position() == pytest.approx(2.5)
    c.pause()
    ft.t += 3
    assert c.position() == pytest.approx(2.5) and c.paused
    c.toggle()
    ft.t += 1
    assert c.position() == pytest.approx(3.5)
    c.seek_by(5)
    assert c.position() == pytest.approx(8.5)
    c.seek_by(-20)
    assert c.position() == 0.0
    c.seek(9.0)
    ft.t += 5
    assert c.position() == 10.0 and c.ended
    c.toggle()                       # space after the end plays again from the start
    ft.t += 1
    assert c.position() == pytest.approx(1.0) and not c.ended


def test_own_clock_loops():
    ft = FakeTime()
    c = OwnClock(4.0, loop=True, now=ft).start()
    ft.t += 9.0
    assert c.position() == pytest.approx(1.0) and not c.ended
    c.seek_by(5.0)
    assert c.position() == pytest.approx(2.0)
    c.seek_by(-3.0)
    assert c.position() == pytest.approx(3.0)


# ------------------------------------------------------------------ Session + Recorder
def test_session_weights_follow_clock_and_record_lines_up():
    ft = FakeTime()
    tr = ramp_track()
    clock = OwnClock(10.0, now=ft)
    s = Session(track=tr, clock=clock, recorder=Recorder(tr.names))
    s.start()
    for _ in range(60):              # 1 s at 60 frames/s
        ft.t += 1 / 60
        w = s.update()
        np.testing.assert_allclose(w, tr.at(clock.position()), atol=1e-6)
    assert s.weights[0] == pytest.approx(0.1, abs=1e-3)
    s.toggle_pause()
    for _ in range(30):
        ft.t += 1 / 60
        s.update()
    assert s.weights[0] == pytest.approx(0.1, abs=1e-3)   # paused: the face holds
    s.toggle_pause()
    for _ in range(12):              # 5 frames/s for 2.4 s (a slow renderer) ...
        ft.t += 0.2
        s.update()
    rec = s.recorder.track(tr)
    # ... yet the record has every 1/60 s frame of the 3.4 s played, no pause in it
    assert len(rec) == int(3.4 * 60) + 1
    np.testing.assert_allclose(rec.times, np.arange(len(rec)) / 60)
    np.testing.assert_allclose(rec.column("jawOpen"), tr.sample(rec.times)[:, 0], atol=1e-5)


def test_record_lines_up_after_a_late_first_frame_and_a_stall():
    """A loaded machine draws the first frame late and stops drawing for a moment: the media
    played meanwhile is in the record (it was heard), so the record still lines up with the
    file frame for frame; a seek is still a new stretch. (Before, any step over 0.5 s
    counted as a seek: a first frame 0.8 s late started the record at 0.8 s.)"""
    ft = FakeTime()
    tr = ramp_track()
    clock = OwnClock(10.0, now=ft)
    s = Session(track=tr, clock=clock, recorder=Recorder(tr.names), now=ft)
    s.start()
    ft.t += 0.8                      # the first frame, 0.8 s after the clock started
    s.update()
    for _ in range(30):
        ft.t += 1 / 60
        s.update()
    ft.t += 0.9                      # no frame for 0.9 s
    for _ in range(30):
        ft.t += 1 / 60
        s.update()
    played = clock.position()
    rec = s.recorder.track(tr)
    assert rec.duration == pytest.approx(played, abs=1 / 60)
    np.testing.assert_allclose(s.recorder.media_times(rec.times), rec.times, atol=1e-6)
    np.testing.assert_allclose(rec.column("jawOpen"), tr.sample(rec.times)[:, 0], atol=1e-5)
    s.seek_by(3.0)                   # a seek is a jump, stall or not
    ft.t += 1 / 60
    s.update()
    assert len(s.recorder.segments) == 2 and s.recorder.segments[1][0] == pytest.approx(played + 3.0 + 1 / 60)


def test_recorder_segments_seek_and_loop():
    tr = ramp_track(4.0)
    r = Recorder(NAMES)
    for m in (0.1, 0.3, 0.5):
        r.observe(m, 4.0, True)
    r.observe(3.5, 4.0, True)        # seek forward: new stretch
    r.observe(3.9, 4.0, True)
    r.observe(0.2, 4.0, True)        # loop wrap: 3.9 -> 4.0, then 0 -> 0.2
    r.observe(0.4, 4.0, True)
    assert r.played == pytest.approx(0.5 + 0.4 + 0.1 + 0.4)
    t = np.array([0.0, 0.25, 0.49, 0.6, 0.9, 0.99, 1.2, 1.4])
    np.testing.assert_allclose(r.media_times(t), [0.0, 0.25, 0.49, 3.6, 3.9, 3.99, 0.2, 0.4], atol=1e-9)
    rec = r.track(tr)
    np.testing.assert_allclose(rec.at(0.6)[0], 3.6 / 4.0, atol=1e-3)


def test_recorder_live_frames(tmp_path):
    r = Recorder(NAMES)
    v = np.random.default_rng(0).random((250, 4)).astype(np.float32)
    r.add_frames(v[:100], 0.01)
    r.add_frames(v[100:], 0.01)
    path = tmp_path / "rec.csv"
    tr = r.save(path)
    back = read_csv(path)
    assert back.names == NAMES
    assert back.duration == pytest.approx(2.49, abs=1 / 60)
    np.testing.assert_allclose(back.values[::3][:10, 0], np.interp(np.arange(10) * 0.05, np.arange(250) * 0.01, v[:, 0]), atol=1e-4)
    assert len(tr) == len(back)


# ------------------------------------------------------------------ AudioPlayer clock (no device)
class _Out:
    def __init__(self, n):
        self.a = np.zeros((n, 1), np.float32)


def test_player_clock_follows_heard_frames_through_pause_seek_and_loop():
    from face3d.audio.player import AudioPlayer

    ft = FakeTime(0.0)
    rate = 1000
    x = np.arange(4000, dtype=np.float32) / 4000        # 4 s; each sample tells its position
    p = AudioPlayer(x, rate, loop=True, now=ft)
    p.latency = 0.1
    p.started = True
    block = 50

    def cb(n=1):
        for _ in range(n):
            out = _Out(block)
            p._callback(out.a, block, None, None)
            ft.t += block / rate
        return out.a[:, 0]

    assert p.position() == 0.0                          # nothing heard yet
    data = cb(20)                                       # 1 s written
    assert data[0] == pytest.approx((950) / 4000)
    assert p.position() == pytest.approx(1.0 - 0.1, abs=0.01)      # written 1 s, minus the latency
    p.pause()
    cb(1)
    heard_at_pause = p.position()
    cb(10)                                              # after the latency: silence, clock stops
    assert np.all(cb(1) == 0)
    stopped = p.position()
    cb(5)
    assert p.position() == pytest.approx(stopped)
    assert stopped >= heard_at_pause
    p.resume()
    p.seek(3.9)
    cb(1)
    ft.t += 0.15                                        # the new sound reaches the speaker
    assert 3.9 <= p.position() < 4.0
    cb(4)                                               # wraps past the end
    assert p.position() < 0.3
    assert not p.ended


def test_player_ends_and_reports_a_failing_callback():
    from face3d.audio.player import AudioPlayer

    ft = FakeTime(0.0)
    p = AudioPlayer(np.ones(100, np.float32), 1000, now=ft)
    p.started = True
    out = np.zeros((64, 1), np.float32)
    for _ in range(4):
        p._callback(out, 64, None, None)
        ft.t += 0.064
    ft.t += 1
    assert p.ended and p.position() == pytest.approx(0.1)
    p.samples = None                                    # break it: the callback must not raise
    p.resume()
    p._callback(out, 64, None, None)
    assert p.callback_errors == 1 and "audio callback failed" in p.notices[0]
    assert np.all(out == 0)


# ------------------------------------------------------------------ the real app, headless EGL
@pytest.fixture
def headless_app(tmp_path):
    from face3d.mesh.rig import Rig
    from _viewer_helpers import headless_viewer, viewer_head
    from face3d.viewer.app import ViewerOptions
    from face3d.mesh.heads import load_head

    rig = load_head(viewer_head(tmp_path))
    ft = FakeTime()
    tr = ramp_track(10.0)
    clock = OwnClock(10.0, loop=True, now=ft)
    session = Session(track=tr, clock=clock, recorder=Recorder(tr.names), label="test")
    opts = ViewerOptions(window="headless", size=(320, 240))
    app, window = headless_viewer(rig, session, opts)
    assert isinstance(rig, Rig)
    yield app, window, ft, tr, clock
    app.release()
    window.destroy()


def _frame(window, ft, dt):
    from face3d.viewer.app import read_frame

    ft.t += dt
    window.use()
    window.render(0.0, dt)
    return read_frame(window)


def test_headless_frame_loop(headless_app):
    app, window, ft, tr, clock = headless_app
    jaw = app.rig.names.index("jawOpen")
    img0 = _frame(window, ft, 0.0)
    assert app.renderer.weights[jaw] == pytest.approx(0.0, abs=1e-3)
    img = _frame(window, ft, 8.0)                          # 8 s in: jawOpen = 0.8
    assert app.renderer.weights[jaw] == pytest.approx(0.8, abs=2e-3)
    assert np.abs(img.astype(int) - img0).mean() > 0.2     # the mouth moved on screen
    app.action("pause")
    _frame(window, ft, 1.0)
    assert app.renderer.weights[jaw] == pytest.approx(0.8, abs=2e-3)
    app.action("forward")                                  # 8 + 5 = 13 -> loops to 3 s
    _frame(window, ft, 0.0)
    assert app.renderer.weights[jaw] == pytest.approx(0.3, abs=2e-3)
    app.action("back")                                     # 3 - 5 -> loops to 8 s
    _frame(window, ft, 0.0)
    assert app.renderer.weights[jaw] == pytest.approx(0.8, abs=2e-3)
    app.action("pause")
    _frame(window, ft, 2.5)                                # wraps: 10.5 -> 0.5
    assert app.renderer.weights[jaw] == pytest.approx(0.05, abs=2e-3)
    np.testing.assert_allclose(app.session.weights, tr.at(clock.position()), atol=1e-6)
    yaw = app.camera.yaw
    app.on_mouse_scroll_event(0, 2)
    assert app.camera.zoom > 1.0
    app.action("reset")
    assert app.camera.zoom == 1.0 and app.camera.yaw == yaw == 0.0
    info = app.osd_info([])
    assert info["source"] == "test" and len(info["weights"]) == 4
    app.action("osd")
    assert not app.osd.visible
    _frame(window, ft, 0.1)                                # drawing without the overlay works too


# ------------------------------------------------------------------ the command, headless
@pytest.mark.parametrize("columns", [("jawOpen",), ("mouthWide", "jawOpen")], ids=["jaw-only", "two-reordered"])
def test_curves_drive_the_head_and_record_them_back(tmp_path, columns):
    """--curves without audio runs on the viewer's own clock; --record gives the same curves,
    always under the export header (every mouth column, in the export's order)."""
    from face3d.track import save_csv
    from conftest import run_cli
    from _viewer_helpers import head_args

    t = np.arange(0, 3.0, 0.02)
    ramps = {"jawOpen": (np.sin(t * 4) + 1) / 2, "mouthWide": t / 3}
    src = WeightTrack(t, columns, np.stack([ramps[c] for c in columns], 1).astype(np.float32))
    save_csv(src, tmp_path / "c.csv")
    r = run_cli("view", "--curves", tmp_path / "c.csv", *head_args(tmp_path), "--window", "headless",
                "--size", "160x120", "--seconds", "1.2", "--record", tmp_path / "r.csv",
                "--screenshot", tmp_path / "s.png")
    assert r.returncode == 0, r.stderr
    assert "playing silently" not in r.stderr       # no sound asked for: no notice
    header = (tmp_path / "r.csv").read_text().splitlines()[0]
    assert header == "frame,time_s,jawOpen,mouthWide,mouthPucker,mouthClose"
    rec = read_csv(tmp_path / "r.csv")
    assert rec.duration > 0.8
    for name in NAMES:
        want = src.sample(rec.times)[:, columns.index(name)] if name in columns else np.zeros(len(rec))
        np.testing.assert_allclose(rec.column(name), want, atol=2e-4, err_msg=name)
    assert (tmp_path / "s.png").stat().st_size > 0


def test_record_keeps_the_export_columns_on_a_head_with_visemes(tmp_path):
    """The default head shows the fifteen visemes, so the viewer analyses with them; --record
    still writes 'face3d export''s columns for the same options: the viseme columns only with
    --visemes."""
    from face3d.assets import model_path
    from face3d.track import ALIVE_NAMES, MOUTH_NAMES, VISEME_NAMES
    from conftest import run_cli

    speech = model_path("demo_speech.wav")
    for extra, want in (((), MOUTH_NAMES + ALIVE_NAMES), (("--visemes",), MOUTH_NAMES + ALIVE_NAMES + VISEME_NAMES)):
        rec = tmp_path / "r.csv"
        r = run_cli("view", speech, "--mute", "--window", "headless", "--size", "160x120", "--seconds", "0.5",
                    "--record", rec, *extra)
        assert r.returncode == 0, r.stderr
        assert read_csv(rec).names == want, extra
        e = run_cli("export", speech, "-o", tmp_path / "e.csv", *extra)
        assert e.returncode == 0, e.stderr
        assert read_csv(tmp_path / "e.csv").names == want, extra


def test_viewer_logic_modules_stay_light():
    import subprocess
    import sys

    code = ("import face3d.viewer.session, face3d.audio.clock, face3d.viewer.controls, face3d.commands.view\n"
            "import sys; print(' '.join(sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    loaded = set(out.stdout.split())
    assert not loaded & {"moderngl", "moderngl_window", "pyglet", "imgui_bundle", "sounddevice"}


def test_pyglet_key_bindings():
    """The window's keys map to the viewer's actions (pyglet's key codes; in a subprocess, since
    importing pyglet's keys needs pyglet set up headless without a display)."""
    import subprocess
    import sys

    code = """
import pyglet
pyglet.options["headless"] = True
from types import SimpleNamespace
from moderngl_window.context.pyglet.keys import Keys
from face3d.viewer.app import ViewerApp
done = []
stub = SimpleNamespace(wnd=SimpleNamespace(keys=Keys), action=done.append)
for key in (Keys.SPACE, Keys.LEFT, Keys.RIGHT, Keys.R, Keys.H, Keys.Q, Keys.ESCAPE, Keys.A):
    ViewerApp.on_key_event(stub, key, Keys.ACTION_PRESS, None)
ViewerApp.on_key_event(stub, Keys.SPACE, Keys.ACTION_RELEASE, None)
print(",".join(done))
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "pause,back,forward,reset,osd,quit,quit"
