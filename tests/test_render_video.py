"""``face3d render``: real videos decoded with PyAV, frames compared with real snapshots."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import soundfile as sf

from _audio_helpers import ROOT, run_cli, speak

av = pytest.importorskip("av")

SIZE = (192, 144)
FPS = 25


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    """Speech, one second of silence, speech: (path, samples, rate)."""
    d = tmp_path_factory.mktemp("render")
    a, rate = speak("Hello there.", d / "a.wav")
    b, _ = speak("How are you?", d / "b.wav")
    x = np.concatenate([a, np.zeros(rate, np.float32), b]).astype(np.float32)
    path = d / "speech.wav"
    sf.write(str(path), x, rate)
    return path, x, rate


def decode_video(path):
    """(video stream info, audio stream info or None, [RGB frames])."""
    with av.open(str(path)) as c:
        vs = c.streams.video
        aus = c.streams.audio
        assert len(vs) == 1, "one video stream"
        v = vs[0]
        info = {"codec": v.codec_context.name, "pix_fmt": v.codec_context.pix_fmt, "size": (v.width, v.height),
                "rate": v.average_rate, "duration": float(c.duration) / 1e6}
        audio = None
        if aus:
            audio = {"n": len(aus), "codec": aus[0].codec_context.name,
                     "duration": float(aus[0].duration * aus[0].time_base)}
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    return info, audio, frames


def snapshot(rig, weights: dict, size=SIZE):
    from face3d.render.offscreen import render_snapshot

    return render_snapshot(rig, rig.weight_vector({k: v for k, v in weights.items() if k in rig.names}),
                           size=size, samples=0).astype(np.int16)


def snapshot_at(rig, track, t: float):
    """The head as the command draws ``track`` at time ``t`` (its shapes from the track's
    columns as :func:`track_weights` maps them: a head's visemes replace the mouth curves)."""
    from face3d.commands.render import track_weights
    from face3d.render.offscreen import render_snapshot

    return render_snapshot(rig, track_weights(track, rig, np.array([t]), "x")[0], size=SIZE, samples=0).astype(np.int16)


def test_mp4_streams_duration_and_timing(speech, tmp_path, default_rig):
    path, x, rate = speech
    out = tmp_path / "talk.mp4"
    # --mouth-only: the head stays still, so only the mouth region may change
    r = run_cli("render", path, "-o", out, "--size", f"{SIZE[0]}x{SIZE[1]}", "--fps", FPS, "--mouth-only",
                timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(out)
    info, audio, frames = decode_video(out)
    assert info["codec"] == "h264" and info["pix_fmt"] == "yuv420p"
    assert info["size"] == SIZE and info["rate"] == FPS
    assert audio is not None and audio["n"] == 1 and audio["codec"] == "aac"
    seconds = len(x) / rate
    assert abs(len(frames) / FPS - seconds) <= 1 / FPS, (len(frames), seconds)
    assert abs(info["duration"] - seconds) <= 1 / FPS
    assert abs(audio["duration"] - seconds) <= 1 / FPS
    head = out.read_bytes()[:4096]
    assert b"moov" in head, "faststart: the index is at the front"

    # A loud frame differs from a pause frame in the mouth region only.
    from face3d.commands._common import head_wants_visemes
    from face3d.pipeline import analyze_samples

    # as the command analyses: with the visemes when the head shows them (they then drive
    # its mouth in place of the four curves)
    track = analyze_samples(x, rate, visemes=head_wants_visemes(default_rig))
    w = track.sample(np.arange(len(frames)) / FPS)
    jaw = w[:, track.names.index("jawOpen")]
    loud = int(np.argmax(jaw))
    pause = int(round((len(x) / rate) / 2 * FPS))  # middle of the silence
    assert jaw[loud] > 0.5 and jaw[pause] < 0.05
    diff = np.abs(frames[loud].astype(np.int16) - frames[pause].astype(np.int16)).max(axis=2) > 40
    box = mouth_box(default_rig)
    assert diff.sum() > 50, "the mouth moves"
    assert not (diff & ~box).any(), "nothing outside the mouth region changes"

    # Frame i shows the weights at i / fps: where the weights change fast, frame i
    # matches the snapshot at i / fps better than those two frames earlier or later.
    from face3d.commands.render import track_weights

    drawn = track_weights(track, default_rig, np.arange(len(frames)) / FPS, "x")   # the shapes as drawn
    # (the viseme weights move in steps: take a frame whose mouth changes both before and after)
    change = np.minimum(np.abs(drawn[2:-2] - drawn[:-4]).sum(axis=1), np.abs(drawn[4:] - drawn[2:-2]).sum(axis=1))
    i = int(np.argmax(change)) + 2
    err = {}
    for k in (-2, 0, 2):
        want = snapshot_at(default_rig, track, (i + k) / FPS)
        err[k] = np.abs(frames[i].astype(np.int16) - want)[box].mean()
    assert err[0] < 4.5 and 1.5 * err[0] < min(err[-2], err[2]), err
    for j in (loud, pause):
        want = snapshot_at(default_rig, track, j / FPS)
        assert np.abs(frames[j].astype(np.int16) - want).mean() < 4.0, j


def mouth_box(rig):
    """Pixels any shape can change (a box around them, 2 pixels of room)."""
    mouth = np.zeros(SIZE[::-1], bool)
    neutral = snapshot(rig, {})
    for name in ("jawOpen", "mouthWide", "mouthPucker", "mouthClose") + tuple(
            n for n in rig.names if n.startswith("viseme_")):
        mouth |= np.abs(snapshot(rig, {name: 1.0}) - neutral).max(axis=2) > 10
    ys, xs = np.nonzero(mouth)
    box = np.zeros_like(mouth)
    box[ys.min() - 2:ys.max() + 3, xs.min() - 2:xs.max() + 3] = True
    return box


def test_curves_hold_the_jaw_open(tmp_path, default_rig):
    csv = tmp_path / "open.csv"
    csv.write_text("time_s,jawOpen\n0,1\n1.2,1\n")
    out = tmp_path / "open.mp4"
    r = run_cli("render", "--curves", csv, "-o", out, "--size", f"{SIZE[0]}x{SIZE[1]}", "--fps", FPS)
    assert r.returncode == 0, r.stderr
    info, audio, frames = decode_video(out)
    assert audio is None and len(frames) == round(1.2 * FPS)
    want, neutral = snapshot(default_rig, {"jawOpen": 1.0}), snapshot(default_rig, {})
    for i, f in enumerate(frames):
        f = f.astype(np.int16)
        assert np.abs(f - want).mean() < 4.0, i
        off_open = np.count_nonzero(np.abs(f - want).max(axis=2) > 25)
        off_neutral = np.count_nonzero(np.abs(f - neutral).max(axis=2) > 25)
        assert off_neutral > 100 and off_open < off_neutral / 4, (i, off_open, off_neutral)


def test_curves_with_visemes_say_which_curves_they_replace(tmp_path, default_rig):
    """A user's curves file with both the mouth curves and visemes: one line says the head's
    visemes drive its mouth and which of the file's curves are left to them; the same file
    without visemes says nothing (and a render of a sound, analysed with the visemes because
    the head shows them, says nothing either: test_disk_full_leaves_nothing)."""
    if not (default_rig.info or {}).get("visemes"):
        pytest.skip("the default head has no viseme shapes")
    both, curves = tmp_path / "both.csv", tmp_path / "curves.csv"
    both.write_text("time_s,jawOpen,viseme_aa\n0,1,1\n0.2,1,1\n")
    curves.write_text("time_s,jawOpen\n0,1\n0.2,1\n")
    for csv, said in ((both, True), (curves, False)):
        r = run_cli("render", "--curves", csv, "--frames", tmp_path / csv.stem, "--size", "64x48", "--fps", 10)
        assert r.returncode == 0, r.stderr
        assert ("visemes drive its mouth; jawOpen are left to them" in r.stderr) == said, r.stderr


def _corners(a):
    return np.array([a[0, 0], a[0, -1], a[-1, 0], a[-1, -1]])


def test_transparent_webm_has_alpha(tmp_path):
    csv = tmp_path / "c.csv"
    csv.write_text("time_s,jawOpen\n0,0\n0.4,1\n")
    out = tmp_path / "alpha.webm"
    r = run_cli("render", "--curves", csv, "-o", out, "--size", "160x120", "--background", "transparent")
    assert r.returncode == 0, r.stderr
    with av.open(str(out)) as c:
        dec = av.CodecContext.create("libvpx-vp9", "r")  # FFmpeg's own VP9 decoder drops alpha
        alphas = [np.asarray(f.to_ndarray(format="rgba"))[..., 3] for p in c.demux(c.streams.video[0]) for f in dec.decode(p)]
    assert len(alphas) == 12  # 0.4 s at 30 fps
    for a in alphas:
        assert (_corners(a) == 0).all() and a[60, 80] == 255


def test_transparent_and_green_frames(tmp_path):
    from PIL import Image

    csv = tmp_path / "c.csv"
    csv.write_text("time_s,jawOpen\n0,0\n2,1\n")
    d = tmp_path / "frames"
    r = run_cli("render", "--curves", csv, "--frames", d, "--size", "160x120", "--fps", "5",
                "--background", "transparent", "--turntable")
    assert r.returncode == 0, r.stderr
    names = sorted(p.name for p in d.iterdir())
    assert names == [f"frame_{i:06d}.png" for i in range(10)]
    first = np.asarray(Image.open(d / names[0]))
    last = np.asarray(Image.open(d / names[-1]))
    assert first.shape == (120, 160, 4) and (_corners(first)[:, 3] == 0).all() and first[60, 80, 3] == 255
    # The turntable turns the head: its outline moves, not just the mouth.
    assert np.count_nonzero((first[..., 3] > 0) != (last[..., 3] > 0)) > 300

    out = tmp_path / "green.mp4"
    r = run_cli("render", "--curves", csv, "-o", out, "--size", "160x120", "--fps", "5", "--background", "green")
    assert r.returncode == 0, r.stderr
    _, _, frames = decode_video(out)
    for c in _corners(frames[3]):
        assert c[1] > 230 and c[0] < 30 and c[2] < 30, c


def test_box_redraw_equals_full_redraw(gl, default_rig):
    from face3d.render.video import FrameOptions, FrameRenderer

    rng = np.random.default_rng(3)
    w = np.zeros((12, default_rig.n_shapes), np.float32)
    mouth = [default_rig.names.index(n) for n in ("jawOpen", "mouthWide", "mouthPucker", "mouthClose")]
    w[:, mouth] = rng.random((12, 4))  # speech moves the mouth only: the eyes and brows stay
    w[5] = w[4]  # a held pose draws nothing and still gives the same picture
    w[8:10] = 0.0
    out, drawn = {}, {}
    for dirty in (False, True):
        fr = FrameRenderer(gl, default_rig, FrameOptions(size=(256, 192), yaw=15, dirty_box=dirty))
        out[dirty] = list(fr.frames(w))
        drawn[dirty] = fr.drawn
        if dirty:
            assert fr._near is not None, "only the triangles near the box are drawn"
        fr.release()
    assert drawn[True] < 0.5 * drawn[False], "the box redraw is in use"
    for i, (a, b) in enumerate(zip(out[False], out[True])):
        assert np.array_equal(a, b), i


def sliding_cube_rig():
    """A still wall and a small cube in front of it that the shape 'slide' moves across it."""
    from face3d.mesh.rig import Rig

    wall = np.array([[-2, -1.5, 0], [2, -1.5, 0], [2, 1.5, 0], [-2, 1.5, 0]], np.float32)
    cube = np.array([[x, y, z] for x in (-0.2, 0.2) for y in (-0.2, 0.2) for z in (0.3, 0.7)], np.float32)
    cube[:, 0] -= 1.2
    quads = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 2, 6, 4), (1, 5, 7, 3), (0, 4, 5, 1), (2, 3, 7, 6)]
    faces = [(0, 1, 2), (0, 2, 3)]
    for a, b, c, d in quads:
        faces += [(4 + a, 4 + b, 4 + c), (4 + a, 4 + c, 4 + d)]
    pos = np.concatenate([wall, cube])
    moved = pos.copy()
    moved[4:, 0] += 2.4
    return Rig.from_targets(pos, np.array(faces), {"slide": moved})


def test_box_redraw_follows_a_moving_part(gl):
    """Where the part was and where it is both redraw: no trail of old pixels."""
    from face3d.render.video import FrameOptions, FrameRenderer

    rig = sliding_cube_rig()
    w = np.array([[0.0], [1.0], [1.0], [0.5], [0.0], [0.25], [1.0]], np.float32)
    out, drawn = {}, {}
    for dirty in (False, True):
        fr = FrameRenderer(gl, rig, FrameOptions(size=(160, 120), dirty_box=dirty))
        out[dirty] = list(fr.frames(w))
        drawn[dirty] = fr.drawn
        fr.release()
    assert drawn[True] < 0.8 * drawn[False]
    assert not np.array_equal(out[False][0], out[False][1]), "the cube moves"
    for i, (a, b) in enumerate(zip(out[False], out[True])):
        assert np.array_equal(a, b), i


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_render_leaves_nothing(speech, tmp_path, sig):
    path, x, rate = speech
    long = tmp_path / "long.wav"
    sf.write(str(long), np.tile(x, 8), rate)
    outdir = tmp_path / "out"
    outdir.mkdir()
    out = outdir / "talk.mp4"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    p = subprocess.Popen([sys.executable, "-m", "face3d", "render", str(long), "-o", str(out), "--size", "640x360"],
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not any(outdir.iterdir()) and time.monotonic() < deadline and p.poll() is None:
            time.sleep(0.05)
        time.sleep(0.5)  # encoding is under way
        assert p.poll() is None, p.communicate()
        p.send_signal(sig)
        _, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode != 0
    assert "Traceback" not in err, err
    assert list(outdir.iterdir()) == [], "no output and no temporary file"


def test_a_lost_interrupt_still_stops_the_render(tmp_path, default_rig):
    """A KeyboardInterrupt raised inside a finaliser is printed and dropped by Python; the
    signal is still noted, and the frame loop stops on it with nothing left behind."""
    from face3d.commands.render import _Interrupts, render_video

    out = tmp_path / "talk.mp4"
    weights = np.zeros((40, len(default_rig.names)), np.float32)
    interrupts = _Interrupts()
    interrupts.requested = True  # as if the handler ran and its KeyboardInterrupt was swallowed
    with pytest.raises(KeyboardInterrupt):
        render_video(default_rig, weights, output=out, fps=FPS, size=SIZE, progress=False, interrupts=interrupts)
    assert list(tmp_path.iterdir()) == []
    render_video(default_rig, weights, output=out, fps=FPS, size=SIZE, progress=False, interrupts=_Interrupts())
    assert out.exists()


def _bad(tmp_path, kind, speech):
    path = speech[0]
    out = tmp_path / "out.mp4"
    if kind == "no_folder":  # a file where the folder should be (a missing folder is made)
        (tmp_path / "afile").write_text("x")
        return [path, "-o", tmp_path / "afile" / "x.mp4"], None
    if kind == "avi":
        return [path, "-o", tmp_path / "x.avi"], tmp_path / "x.avi"
    if kind == "codec":
        return [path, "-o", out, "--codec", "mpeg9"], out
    if kind == "odd_size":
        return [path, "-o", out, "--size", "161x120"], out
    if kind == "bad_size":
        return [path, "-o", out, "--size", "big"], out
    if kind == "not_audio":
        junk = tmp_path / "junk.m4a"
        junk.write_text("not audio at all\n" * 50)
        return [junk, "-o", out], out
    if kind == "silent_video":
        from _media_helpers import write_media

        return [write_media(tmp_path / "silent.mp4", None, 16000, video=True, seconds=1.0), "-o", out], out
    if kind == "csv_shapes":
        csv = tmp_path / "squint.csv"
        csv.write_text("time_s,cheekSquintZ\n0,1\n1,0\n")
        return ["--curves", csv, "-o", out], out
    if kind == "alpha_mp4":
        return [path, "-o", out, "--background", "transparent"], out
    if kind == "colour":
        return [path, "-o", out, "--background", "chartreuse-ish"], out
    if kind == "fps":
        return [path, "-o", out, "--fps", "nan"], out
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["no_folder", "avi", "codec", "odd_size", "bad_size", "not_audio", "silent_video",
                                  "csv_shapes", "alpha_mp4", "colour", "fps"])
def test_bad_input_is_one_line_exit_2(speech, tmp_path, kind):
    args, out = _bad(tmp_path, kind, speech)
    r = run_cli("render", *args, "--size", "64x48") if kind not in ("odd_size", "bad_size") else run_cli("render", *args)
    assert r.returncode == 2, (kind, r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    if out is not None:
        assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "no temporary file"


def test_snapshot_background(tmp_path):
    from PIL import Image

    r = run_cli("snapshot", "--background", "transparent", "-o", tmp_path / "a.png", "--size", "120x120")
    assert r.returncode == 0, r.stderr
    a = np.asarray(Image.open(tmp_path / "a.png"))
    assert a.shape == (120, 120, 4) and (_corners(a)[:, 3] == 0).all() and a[60, 60, 3] == 255
    r = run_cli("snapshot", "--background", "#0000ff", "-o", tmp_path / "b.png", "--size", "120x120")
    assert r.returncode == 0, r.stderr
    b = np.asarray(Image.open(tmp_path / "b.png"))
    assert b.shape == (120, 120, 3) and (_corners(b) == (0, 0, 255)).all()
    assert np.abs(b[60, 60].astype(int) - a[60, 60, :3]).max() < 8, "the same head in front"
    r = run_cli("snapshot", "--background", "plaid", "-o", tmp_path / "c.png")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and not (tmp_path / "c.png").exists()


@pytest.fixture
def small_disk(tmp_path):
    """A 64 KiB tmpfs (needs root and mount rights; skipped otherwise)."""
    d = tmp_path / "small"
    d.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", str(d)], capture_output=True)
    if r.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        yield d
    finally:
        subprocess.run(["umount", str(d)], capture_output=True)


@pytest.mark.parametrize("target", ["video", "frames"])
def test_disk_full_leaves_nothing(speech, small_disk, target):
    out = small_disk / ("talk.mp4" if target == "video" else "frames")
    args = ["-o", out] if target == "video" else ["--frames", out]
    r = run_cli("render", speech[0], *args, "--size", "320x240")
    assert r.returncode == 2, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "No space left" in r.stderr, r.stderr
    assert list(small_disk.iterdir()) == []


def test_view_background_colour(tmp_path):
    from PIL import Image

    shot = tmp_path / "v.png"
    r = run_cli("view", "--window", "headless", "--frames", "3", "--screenshot", shot, "--background", "#ff00ff",
                "--mute", "--no-osd", "--size", "200x150", timeout=90)
    assert r.returncode == 0, r.stderr
    a = np.asarray(Image.open(shot))
    assert (_corners(a)[:, :3] == (255, 0, 255)).all()
    assert np.abs(a[75, 100, :3].astype(int) - (255, 0, 255)).max() > 60, "the head in front"
    r = run_cli("view", "--window", "headless", "--frames", "3", "--background", "transparent", "--mute")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1


def test_yuv_converted_in_boxes_equals_whole_frames(gl, default_rig):
    """The encoder converts only where the picture changed; the planes are those of whole frames."""
    from face3d.render.encode import YuvCanvas
    from face3d.render.video import FrameOptions, FrameRenderer

    rng = np.random.default_rng(5)
    for rig, n in ((default_rig, default_rig.n_shapes), (sliding_cube_rig(), 1)):
        w = rng.random((8, n)).astype(np.float32)
        w[3] = w[2]
        fr = FrameRenderer(gl, rig, FrameOptions(size=(254, 190), yaw=10))
        incremental = YuvCanvas((254, 190))
        rects = []
        for img, rect in fr.frames(w, boxes=True):
            rects.append(rect)
            got = incremental.update(img, rect).copy()
            want = YuvCanvas((254, 190)).update(img)
            assert np.array_equal(got, want), rect
        fr.release()
        assert rects[0] == "full" and rects[3] is None and all(isinstance(r, tuple) for r in rects[4:])


def test_curves_with_head_angles_turn_the_head(tmp_path, default_rig):
    """Head angle columns (degrees) turn the head in the video as in snapshot --pose."""
    from face3d.render.offscreen import render_snapshot

    csv = tmp_path / "turn.csv"
    csv.write_text("time_s,jawOpen,headYaw\n0,0,0\n1,0,30\n")
    out = tmp_path / "turn.mp4"
    r = run_cli("render", "--curves", csv, "-o", out, "--size", f"{SIZE[0]}x{SIZE[1]}", "--fps", FPS)
    assert r.returncode == 0, r.stderr
    assert "headYaw" not in r.stderr, "an angle column is not a missing shape"
    _, _, frames = decode_video(out)
    last = len(frames) - 1
    yaw = 30.0 * last / FPS
    want = render_snapshot(default_rig, None, size=SIZE, samples=0, pose={"headYaw": yaw}).astype(np.int16)
    still = snapshot(default_rig, {})
    got = frames[last].astype(np.int16)
    assert np.abs(got - want).mean() < 4.0
    assert np.count_nonzero(np.abs(got - still).max(axis=2) > 40) > 5 * max(1, np.count_nonzero(np.abs(got - want).max(axis=2) > 40))


def test_alive_by_default_and_still_with_mouth_only(speech, tmp_path):
    """By default the voice also moves the head, eyes and brows (the whole picture changes
    over time, not only the mouth); --mouth-only keeps everything above the mouth still."""
    path = speech[0]
    upper = {}
    for name, extra in (("alive", ()), ("still", ("--mouth-only",))):
        out = tmp_path / f"{name}.mp4"
        r = run_cli("render", path, "-o", out, "--size", f"{SIZE[0]}x{SIZE[1]}", "--fps", FPS, *extra, timeout=120)
        assert r.returncode == 0, r.stderr
        frames = np.stack(decode_video(out)[2]).astype(np.int16)
        top = frames[:, : SIZE[1] * 2 // 5]            # forehead, brows and eyes: above the mouth
        upper[name] = np.abs(top - top[0]).max(axis=(1, 2, 3))
    assert np.median(upper["alive"]) > 40, "the head moves with the voice"
    assert upper["still"].max() < 30, "with --mouth-only nothing above the mouth moves"
