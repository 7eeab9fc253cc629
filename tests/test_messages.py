"""Messages a new user meets (issue 24): an option before its command, the load line of a
.npz rig, a one-file batch, playback without a sound device, and stream's wording."""

from __future__ import annotations

import socket

import numpy as np
import pytest

from _audio_helpers import run_cli, speak


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    d = tmp_path_factory.mktemp("msg")
    speak("Hello there.", d / "hello.wav")
    return d


@pytest.mark.parametrize("argv, option, example", [
    (["--yaw", "30"], "--yaw", "face3d snapshot --yaw 30"),
    (["--size=800x600"], "--size", "face3d snapshot --size 800x600"),
    (["-v", "--vmc", "127.0.0.1"], "--vmc", "face3d stream --vmc 127.0.0.1"),
    (["--mouth-only", "render", "x.wav"], "--mouth-only", "face3d render --mouth-only"),
])
def test_an_option_before_its_command_says_so(argv, option, example):
    r = run_cli(*argv)
    line = r.stderr.strip()
    assert r.returncode == 2 and len(line.splitlines()) == 1, r.stderr
    assert f"{option} needs a command first" in line and example in line and "invalid choice" not in line, line
    assert r.stdout == ""


def test_unknown_options_and_the_global_ones_are_unchanged():
    r = run_cli("--no-such-option")
    assert r.returncode == 2 and "unrecognized arguments: --no-such-option" in r.stderr
    r = run_cli("--version")
    assert r.returncode == 0 and r.stdout.startswith("face3d ")


def test_a_one_file_batch_says_file_not_files(speech, tmp_path):
    r = run_cli("export", speech / "hello.wav", "-o", f"{tmp_path / 'out'}/", "--jobs", "1", "--no-progress")
    assert r.returncode == 0, r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert "1 file done" in last and "1 files" not in last, last


def _ball_obj(path):
    """A plain sphere OBJ (no face: no auto-rig), written by hand."""
    rows, cols = 16, 24
    th, ph = np.linspace(0.1, np.pi - 0.1, rows), np.linspace(0, 2 * np.pi, cols, endpoint=False)
    t, p = np.meshgrid(th, ph, indexing="ij")
    pos = np.stack([np.sin(t) * np.sin(p), np.cos(t), np.sin(t) * np.cos(p)], -1).reshape(-1, 3)
    faces = [(r * cols + c, (r + 1) * cols + c, r * cols + (c + 1) % cols) for r in range(rows - 1) for c in range(cols)]
    faces += [(r * cols + (c + 1) % cols, (r + 1) * cols + c, (r + 1) * cols + (c + 1) % cols)
              for r in range(rows - 1) for c in range(cols)]
    with open(path, "w") as fh:
        fh.writelines(f"v {x:.5f} {y:.5f} {z:.5f}\n" for x, y, z in pos)
        fh.writelines(f"f {a + 1} {b + 1} {c + 1}\n" for a, b, c in faces)


def test_an_npz_rigs_load_line_names_the_npz(tmp_path):
    _ball_obj(tmp_path / "ball.obj")
    r = run_cli("rig", tmp_path / "ball.obj", "-o", tmp_path / "ball_rig.npz", "--no-autorig")
    assert r.returncode == 0, r.stderr
    r = run_cli("snapshot", "--head", tmp_path / "ball_rig.npz", "-o", tmp_path / "ball.png")
    assert r.returncode == 0, r.stderr
    line = r.stderr.strip().splitlines()[0]
    assert line.startswith(f"{tmp_path / 'ball_rig.npz'} (a face3d rig made from "), line
    assert "ball.obj" in line           # and what it was made from, after it


def test_portaudio_errors_in_words():
    from face3d.audio.player import output_error

    assert output_error(RuntimeError("Error querying device -1")) == "no output device found"
    assert output_error(RuntimeError("Invalid sample rate [PaErrorCode -9997]\nmore")) == \
        "Invalid sample rate [PaErrorCode -9997]"


def _free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_stream_playback_messages_name_no_viewer_and_no_raw_portaudio(speech):
    """Playing (not --mute) on a machine with or without a sound device: whatever stream says
    about the sound output is in words, and never mentions a viewer it does not have."""
    port = _free_port()
    r = run_cli("stream", speech / "hello.wav", "--vmc", f"127.0.0.1:{port}", "--seconds", "0.3")
    assert r.returncode == 0, r.stderr
    assert "viewer" not in r.stderr and "device -1" not in r.stderr, r.stderr
    wav = (speech / "hello.wav").read_bytes()
    r = run_cli("stream", "-", "--vmc", f"127.0.0.1:{port}", input=wav.decode("latin-1"), encoding="latin-1")
    assert r.returncode == 0, r.stderr
    assert "device -1" not in r.stderr and "viewer" not in r.stderr, r.stderr
