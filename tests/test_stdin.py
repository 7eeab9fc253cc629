"""Speech from standard input: ``export -``, ``view -`` and ``stream -``."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import soundfile as sf

from face3d.track import read_csv

from _audio_helpers import ROOT, corr, need_espeak, run_cli, speak

TEXT = "Hello there, how are you today? I am fine, thank you."


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    d = tmp_path_factory.mktemp("stdin")
    x, rate = speak(TEXT, d / "speech.wav")
    r = run_cli("export", d / "speech.wav", "-o", d / "file.csv")
    assert r.returncode == 0, r.stderr
    return d, x, rate


def run_bytes(*args, data: bytes, timeout=60) -> subprocess.CompletedProcess:
    """``face3d ARGS`` with ``data`` on standard input; stdout and stderr as text."""
    import os

    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    r = subprocess.run([sys.executable, "-m", "face3d", *map(str, args)], input=data, capture_output=True,
                       env=env, timeout=timeout, cwd=ROOT)
    r.stdout, r.stderr = r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")
    return r


def _export_pipe(data: bytes, out, *extra):
    return run_bytes("export", "-", "-o", out, *extra, data=data)


def test_espeak_stdout_piped_into_export_equals_the_file(speech, tmp_path):
    need_espeak()
    d = speech[0]
    espeak = subprocess.Popen(["espeak-ng", "--stdout", TEXT], stdout=subprocess.PIPE)
    env_py = [sys.executable, "-m", "face3d", "export", "-", "-o", str(tmp_path / "pipe.csv")]
    r = subprocess.run(env_py, stdin=espeak.stdout, capture_output=True, text=True, cwd=ROOT)
    espeak.stdout.close()
    espeak.wait()
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "pipe.csv").read_text() == (d / "file.csv").read_text()


@pytest.mark.parametrize("kind, channels", [("s16le", 1), ("f32le", 2)])
def test_raw_pcm_pipe_equals_the_file(speech, tmp_path, kind, channels):
    d, x, rate = speech
    if kind == "s16le":
        pcm = sf.read(str(d / "speech.wav"), dtype="int16")[0]
    else:
        pcm = x.astype("<f4")
    pcm = np.repeat(pcm.reshape(-1, 1), channels, axis=1)
    r = _export_pipe(pcm.tobytes(), tmp_path / "raw.csv", "--raw", kind, "--rate", rate, "--channels", channels)
    assert r.returncode == 0, r.stderr
    a, b = read_csv(tmp_path / "raw.csv"), read_csv(d / "file.csv")
    assert len(a) == len(b)
    np.testing.assert_allclose(a.values, b.values, atol=2e-4 if kind == "f32le" else 0)


@pytest.mark.parametrize("size", ["zero", "exact"])
def test_wav_stream_data_sizes(speech, tmp_path, size):
    """A data size of 0 means "to the end"; a real size is honoured (a chunk after the data,
    here a LIST chunk, is not sound)."""
    import struct

    d = speech[0]
    data, rate, header = _wav_stream(d / "speech.wav")
    n = len(data) - header
    if size == "zero":
        data = data[: header - 4] + struct.pack("<I", 0) + data[header:]
    else:
        data = data[: header - 4] + struct.pack("<I", n) + data[header:] + b"LIST" + struct.pack("<I", 4000) + b"\x7f" * 4000
    r = _export_pipe(data, tmp_path / "s.csv")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "s.csv").read_text() == (d / "file.csv").read_text()


def test_stdin_to_other_formats(speech, tmp_path):
    d = speech[0]
    r = _export_pipe((d / "speech.wav").read_bytes(), tmp_path / "cues.json")
    assert r.returncode == 0, r.stderr
    text = (tmp_path / "cues.json").read_text()
    assert '"soundFile": "-"' in text and '"mouthCues"' in text


@pytest.mark.parametrize("data, extra, words", [
    (b"hello, not a wav stream", (), "not a WAV stream"),
    (b"", (), "no data"),
    (b"RIFF\x24\x00\x00\x00WAVEfmt ", (), "WAV header"),
    (b"\x00\x01" * 100, ("--raw", "s16le"), "--rate"),
    (b"\x00\x01" * 100, ("--rate", "16000"), "--raw"),
])
def test_bad_standard_input_is_one_line(tmp_path, data, extra, words):
    r = _export_pipe(data, tmp_path / "x.csv", *extra)
    assert r.returncode == 2, r.stderr
    assert words in r.stderr and len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert not (tmp_path / "x.csv").exists()


def test_stdin_usage_errors(speech, tmp_path):
    d = speech[0]
    r = run_bytes("export", "-", d / "speech.wav", "-o", tmp_path / "out/", data=b"")
    assert r.returncode == 2 and "only AUDIO" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = run_bytes("export", d / "speech.wav", "--raw", "s16le", "--rate", "16000", "-o", tmp_path / "x.csv", data=b"")
    assert r.returncode == 2 and "'-'" in r.stderr and not (tmp_path / "x.csv").exists()
    r = run_bytes("stream", "-", "--mute", "--vmc", "127.0.0.1:39539", data=b"not a wav stream")
    assert r.returncode == 2 and r.stderr.strip().splitlines() == [
        line for line in r.stderr.strip().splitlines() if "not a WAV stream" in line], r.stderr


def _slow_writer(pipe, data: bytes, rate: int, header: int, pause_at: float, pause_s: float, log: dict):
    """Write the WAV header, then the sound in 20 ms pieces in real time, stopping once for
    ``pause_s`` seconds at ``pause_at`` seconds of sound; then close the pipe."""
    try:
        pipe.write(data[:header])
        pipe.flush()
        piece = int(rate * 0.02) * 2
        t0 = time.monotonic()
        sent = 0
        paused = False
        for off in range(header, len(data), piece):
            pipe.write(data[off: off + piece])
            pipe.flush()
            sent += piece
            if not paused and sent / 2 / rate >= pause_at:
                paused = True
                log["pause"] = time.monotonic()
                time.sleep(pause_s)
                log["resume"] = time.monotonic()
                t0 += pause_s
            time.sleep(max(0.0, t0 + sent / 2 / rate - time.monotonic()))
        log["end"] = time.monotonic()
    except BrokenPipeError:
        log["broken"] = True
    finally:
        try:
            pipe.close()
        except BrokenPipeError:
            pass


def _wav_stream(path) -> tuple[bytes, int, int]:
    """A WAV stream as a streaming writer sends it: data size unknown (0x7FFFF000)."""
    import struct

    pcm, rate = sf.read(str(path), dtype="int16")
    header = (b"RIFF" + struct.pack("<I", 0x7FFFF024) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
              + b"data" + struct.pack("<I", 0x7FFFF000))
    return header + pcm.tobytes(), rate, len(header)


@pytest.fixture(scope="module")
def xvfb():
    from _viewer_helpers import xvfb_display

    yield from xvfb_display()


@pytest.mark.realtime
def test_view_stdin_animates_as_it_arrives(speech, xvfb, tmp_path):
    from _viewer_helpers import RunningViewer, find_window, viewer_env

    d = speech[0]
    data, rate, header = _wav_stream(d / "speech.wav")
    duration = (len(data) - header) / 2 / rate
    rec = tmp_path / "rec.csv"
    proc = subprocess.Popen([sys.executable, "-m", "face3d", "view", "-", "--mute", "--record", str(rec), "--size", "320x240"],
                            cwd=ROOT, env=viewer_env(xvfb), stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=False)
    proc.stderr = __import__("io").TextIOWrapper(proc.stderr)
    v = RunningViewer(xvfb, proc)
    log: dict = {}
    try:
        v.wid = find_window(xvfb, "face3d view", proc, output=lambda: v.stderr)
        t0 = time.monotonic()
        w = threading.Thread(target=_slow_writer, args=(proc.stdin, data, rate, header, 1.0, 1.5, log), daemon=True)
        w.start()
        v.wait_for("stalled", timeout=30)
        stalled_at = time.monotonic()
        err = v.finish(expect=0, timeout=60)
        w.join(5)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "pause" in log and log["pause"] < stalled_at < log["resume"], "the stall is reported while the input stalls"
    assert "end of standard input" in err
    assert time.monotonic() - t0 >= duration + 1.5 - 0.5, "the viewer ran in real time with the input"
    got, ref = read_csv(rec), read_csv(d / "file.csv")
    n = min(len(got), len(ref))
    assert abs(len(got) - len(ref)) <= 3
    assert corr(got.column("jawOpen")[:n], ref.column("jawOpen")[:n]) > 0.95


@pytest.mark.realtime
def test_stream_stdin_sends_and_stops_at_the_end(speech):
    from test_stream_vmc import Receiver

    d = speech[0]
    data, rate, header = _wav_stream(d / "speech.wav")
    rcv = Receiver()
    try:
        t0 = time.monotonic()
        r = run_bytes("stream", "-", "--mute", "--vmc", f"127.0.0.1:{rcv.port}", data=data)
        took = time.monotonic() - t0
        time.sleep(0.3)
        frames = rcv.frames()
    finally:
        rcv.close()
    assert r.returncode == 0, r.stderr
    duration = (len(data) - header) / 2 / rate
    assert took >= duration, "sent in real time, not all at once"
    assert abs(len(frames) - duration * 60) < 0.15 * duration * 60
    a = np.array([f[2]["A"] for f in frames])
    assert a.max() > 0.3


@pytest.mark.realtime
@pytest.mark.skipif(any(shutil.which(t) is None for t in ("pulseaudio", "pactl", "parec")),
                    reason="needs pulseaudio and pulseaudio-utils")
def test_stream_stdin_plays_what_it_sends(speech, pulse, tmp_path):
    """Without --mute the piped sound is played as it is sent: a private PulseAudio's null
    sink hears the speech's loudness envelope, and the mouth opens with it."""
    from test_stream_vmc import Receiver

    d, x, rate = speech
    data, rate, header = _wav_stream(d / "speech.wav")
    back = tmp_path / "heard.wav"
    parec = subprocess.Popen(["parec", "-d", "spk.monitor", "--rate=16000", "--channels=1", "--format=s16le",
                              "--file-format=wav", str(back)], env=pulse)
    rcv = Receiver()
    try:
        time.sleep(0.5)
        import os

        env = dict(pulse, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        r = subprocess.run([sys.executable, "-m", "face3d", "stream", "-", "--vmc", f"127.0.0.1:{rcv.port}"],
                           input=data, capture_output=True, env=env, timeout=60, cwd=ROOT)
        time.sleep(0.5)
    finally:
        parec.send_signal(__import__("signal").SIGINT)
        parec.wait(timeout=10)
        rcv.close()
    err = r.stderr.decode()
    assert r.returncode == 0, err
    assert "no sound output" not in err, err
    heard, hr = sf.read(str(back), dtype="float32")

    def envelope(sig, sr):
        h = sr // 50
        n = len(sig) // h
        return np.sqrt(np.mean(sig[: n * h].reshape(n, h) ** 2, axis=1))

    a, b = envelope(heard, hr), envelope(x, rate)
    assert len(a) >= 0.9 * len(b)
    # matched in half-second pieces: a busy machine may drop a block of what the monitor hears
    rs = []
    for s0 in range(0, len(b) - 25, 25):
        piece = b[s0: s0 + 25]
        if piece.std() < 0.02:
            continue
        rs.append(max((corr(a[k: k + 25], piece) for k in range(0, len(a) - 25) if a[k: k + 25].std() > 0),
                      default=0.0))
    assert len(rs) >= 4 and np.median(rs) > 0.9, f"the heard envelope matches the speech's piece by piece: {rs}"
    assert max(f[2]["A"] for f in rcv.frames()) > 0.3
