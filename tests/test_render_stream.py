"""The video path's speed and memory measures keep the pictures: the head's box redraw
when the head turns equals whole frames, and ``render`` reads its sound, weights and
frames a block at a time (real GL, real files; no timings)."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from _audio_helpers import run_cli, speak

av = pytest.importorskip("av")


@pytest.fixture(scope="module")
def voice(tmp_path_factory):
    """espeak-ng speech at its own rate (22.05 kHz) and at 16 kHz: {rate: path}."""
    d = tmp_path_factory.mktemp("stream")
    x, rate = speak("Hello there, how are you today?", d / "own.wav")
    import soxr

    y = soxr.resample(x, rate, 16000).astype(np.float32)
    sf.write(str(d / "16k.wav"), y, 16000)
    return {rate: d / "own.wav", 16000: d / "16k.wav"}


def _turning_poses(n):
    """Head and eye angles (POSE_NAMES order) that turn, hold, and come back to rest."""
    t = np.linspace(0.0, 1.0, n)
    # big turns from frame to frame: where the head was is outside where it is
    swing = (np.arange(n) % 2).astype(np.float64)
    poses = np.stack([8 * np.sin(6 * t), -4 * t, 25 * swing, 40 * swing, 30 * swing], axis=1)
    poses[4] = poses[3]                   # a held pose (and held weights below) draws nothing
    poses[-3:] = 0.0                      # back at rest: the shapes' own box again
    return poses


@pytest.mark.parametrize("turntable", [False, True])
def test_head_box_redraw_equals_whole_frames(gl, default_rig, turntable):
    """When the head turns (pose angles) or the camera orbits, only the head's box where it
    was and where it is is drawn; the pictures are those of whole-frame redraws."""
    from face3d.render.video import FrameOptions, FrameRenderer

    n = 12
    rng = np.random.default_rng(7)
    w = rng.random((n, default_rig.n_shapes)).astype(np.float32)
    w[4] = w[3]
    poses = _turning_poses(n)
    out, drawn, rects = {}, {}, []
    for dirty in (False, True):
        fr = FrameRenderer(gl, default_rig, FrameOptions(size=(320, 180), yaw=10, dirty_box=dirty, turntable=turntable,
                                                         fps=2.0))
        got = list(fr.frames(w, boxes=True, poses=poses))
        out[dirty] = [img for img, _ in got]
        rects = [r for _, r in got] if dirty else rects
        drawn[dirty] = fr.drawn
        fr.release()
    assert drawn[True] < 0.7 * drawn[False], "the head's box is drawn, not whole frames"
    assert rects[0] == "full" and all(isinstance(r, tuple) for r in rects[5:])
    if not turntable:
        assert rects[4] is None, "a held pose draws nothing"
    assert not np.array_equal(out[False][1], out[False][2]), "the head moves"
    for i, (a, b) in enumerate(zip(out[False], out[True])):
        assert np.array_equal(a, b), i


def test_frames_read_weights_and_poses_as_they_go(gl, default_rig):
    """frames() takes its rows from iterators one frame at a time (a few frames ahead at
    most), so a long video's weights never need to be whole in memory."""
    from face3d.render.video import FrameOptions, FrameRenderer

    n = 10
    rng = np.random.default_rng(2)
    w = rng.random((n, default_rig.n_shapes)).astype(np.float32)
    poses = _turning_poses(n)
    pulled = []

    def weights():
        for i in range(n):
            pulled.append(i)
            yield w[i]

    fr = FrameRenderer(gl, default_rig, FrameOptions(size=(128, 96)))
    lazy = []
    for k, img in enumerate(fr.frames(weights(), poses=iter(poses))):
        assert len(pulled) <= k + 1 + 2 * len(fr.targets), "rows are read as frames are made"
        lazy.append(img)
    fr.release()
    fr = FrameRenderer(gl, default_rig, FrameOptions(size=(128, 96)))
    whole = list(fr.frames(w, poses=poses))
    fr.release()
    assert len(lazy) == n and all(np.array_equal(a, b) for a, b in zip(lazy, whole))


@pytest.mark.parametrize("alive", [True, False])
def test_streamed_weights_are_those_of_the_whole_file(voice, default_rig, alive):
    """SpeechFrames (read, analyse and sample a block at a time) gives the frame count and
    the weights and angles of analysing the whole file and sampling its track, to float
    rounding (the streaming analysis and resampler add up in other groupings)."""
    from face3d.commands._speech_frames import SpeechFrames
    from face3d.commands.render import load_speech_and_track, track_poses, track_weights
    from face3d.audio.blocks import AudioBlocks
    from face3d.render.video import frame_count, frame_times

    for rate, path in voice.items():
        _, track, duration = load_speech_and_track(str(path), None, default_rig, {"alive": alive, "seed": 3})
        for fps in (30.0, 24.0, 59.94):
            n = frame_count(duration, fps)
            times = frame_times(n, fps)
            want_w, want_p = track_weights(track, default_rig, times, "x"), track_poses(track, times)
            speech = SpeechFrames(path, default_rig, fps, alive=alive, seed=3, blocks=AudioBlocks(path, block=3000))
            got = list(speech)
            assert len(got) == n == speech.count == speech.estimate
            got_w = np.array([g[0] for g in got])
            assert np.abs(got_w - want_w).max() <= 1e-5, (rate, fps)
            if alive:
                assert np.abs(np.array([g[1] for g in got]) - want_p).max() <= 1e-4
                assert speech.has_poses
                # every shape the analysis names is driven (the visemes only when analysed)
                assert sorted(np.asarray(default_rig.names)[speech.active]) == sorted(
                    n for n in default_rig.names if n in track.names)
            else:
                assert want_p is None and all(g[1] is None for g in got)
                assert sorted(np.asarray(default_rig.names)[speech.active]) == sorted(track.names)


def test_audio_blocks_join_into_the_whole_file(tmp_path, voice):
    from _media_helpers import write_media

    from face3d.audio.blocks import AudioBlocks
    from face3d.audio.files import load_audio
    from face3d.errors import AudioError

    path = next(iter(voice.values()))
    x, rate = sf.read(str(path), dtype="float32")
    files = {"wav": path}
    sf.write(str(tmp_path / "st.flac"), np.stack([x, 0.5 * x], axis=1), rate)
    files["flac"] = tmp_path / "st.flac"
    for kind in ("m4a", "mp3", "webm"):
        files[kind] = write_media(tmp_path / f"s.{kind}", x, rate, video=kind == "webm")
    for kind, p in files.items():
        blocks = AudioBlocks(p, block=5000)
        got = np.concatenate(list(blocks))
        want, want_rate = load_audio(p)
        assert blocks.rate == want_rate and got.shape == want.shape, kind
        # MP3 is decoded by FFmpeg here and by libsndfile in load_audio
        assert np.abs(got - want).max() <= (1e-4 if kind == "mp3" else 0.0), kind
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(AudioError, match="empty"):
        AudioBlocks(tmp_path / "empty.wav")
    (tmp_path / "junk.m4a").write_bytes(b"not audio at all" * 100)
    with pytest.raises(AudioError):
        list(AudioBlocks(tmp_path / "junk.m4a"))


def test_rendered_video_matches_the_whole_file_path(tmp_path, voice, default_rig):
    """The command (streaming) and the same frames drawn from the whole file's track: the
    same number of frames, a sound track as long as the file, the same pictures (to H.264's
    rounding)."""
    from face3d.commands.render import load_speech_and_track, render_video, track_poses, track_weights
    from face3d.render.video import frame_count, frame_times

    path = voice[16000]
    size, fps = (160, 120), 25
    out = tmp_path / "stream.mp4"
    r = run_cli("render", path, "-o", out, "--size", f"{size[0]}x{size[1]}", "--fps", str(fps))
    assert r.returncode == 0, r.stderr
    from face3d.commands._common import head_wants_visemes

    # analysed as the command does: with the visemes when the head shows them
    alive = {"alive": True, "seed": 0, "visemes": head_wants_visemes(default_rig)}
    audio, track, duration = load_speech_and_track(str(path), None, default_rig, alive)
    times = frame_times(frame_count(duration, fps), fps)
    whole = tmp_path / "whole.mp4"
    render_video(default_rig, track_weights(track, default_rig, times, "x"), output=whole, fps=fps, size=size,
                 audio=audio, progress=False, poses=track_poses(track, times))
    got, want = _decode(out), _decode(whole)
    assert len(got[0]) == len(want[0]) == len(times)
    assert abs(got[1] - duration) < 0.05 and abs(got[1] - want[1]) < 1e-6
    for a, b in zip(got[0], want[0]):
        assert np.array_equal(a, b)


def _decode(path):
    with av.open(str(path)) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    with av.open(str(path)) as c:
        samples = sum(f.samples for f in c.decode(audio=0))
        rate = c.streams.audio[0].codec_context.sample_rate
    return frames, samples / rate


def test_speech_frames_read_the_file_as_they_go(voice, default_rig):
    """The first frames come after reading only the first blocks of the file (and the
    analysis rows behind them are let go), not after reading all of it."""
    from face3d.audio.blocks import AudioBlocks
    from face3d.commands._speech_frames import SpeechFrames

    path = voice[16000]

    class Counting(AudioBlocks):
        read_blocks = 0

        def __iter__(self):
            for block in super().__iter__():
                Counting.read_blocks += 1
                yield block

    blocks = Counting(path, block=1600)  # 0.1 s blocks
    total = -(-blocks.frames // 1600)
    frames = iter(SpeechFrames(path, default_rig, 25.0, alive=True, blocks=blocks))
    for _ in range(5):  # 0.2 s of video
        next(frames)
    assert Counting.read_blocks <= 5 < total, (Counting.read_blocks, total)
