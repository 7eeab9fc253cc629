"""``face3d stream --vmc``: a python-osc server on 127.0.0.1 receives the VMC stream."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

import face3d
from face3d.track import read_csv

from _audio_helpers import corr, run_cli, speak

pytest.importorskip("pythonosc")


class Receiver:
    """A VMC receiver: every OSC message with its arrival time."""

    def __init__(self):
        from pythonosc.dispatcher import Dispatcher
        import socket

        from pythonosc.osc_server import BlockingOSCUDPServer

        self.got = []
        d = Dispatcher()
        d.set_default_handler(lambda address, *args: self.got.append((time.monotonic(), address, args)))
        # one thread, so messages are recorded in the order they arrive (a thread per
        # datagram may append a frame's values after its Apply on a loaded machine)
        self.server = BlockingOSCUDPServer(("127.0.0.1", 0), d)
        self.server.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def frames(self):
        """[(arrival time of the Apply, media time, {name: value})] per applied frame."""
        out, cur, t = [], {}, None
        for when, address, args in self.got:
            if address == "/VMC/Ext/T":
                t = args[0]
            elif address == "/VMC/Ext/Blend/Val":
                cur[args[0]] = args[1]
            elif address == "/VMC/Ext/Blend/Apply":
                out.append((when, t, cur))
                cur = {}
        return out


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    d = tmp_path_factory.mktemp("vmc")
    speak("Hello there, how are you today? I am fine, thank you very much.", d / "speech.wav")
    r = run_cli("export", d / "speech.wav", "-o", d / "speech.csv")
    assert r.returncode == 0, r.stderr
    return d


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def _stream(speech, receiver, *extra):
    r = run_cli("stream", speech / "speech.wav", "--mute", "--vmc", f"127.0.0.1:{receiver.port}", *extra)
    assert r.returncode == 0, r.stderr
    time.sleep(0.3)
    return r, receiver.frames()


@pytest.mark.realtime  # frames must arrive 60 times a second
def test_vmc_stream_of_a_file(speech, receiver):
    r, frames = _stream(speech, receiver)
    assert "not acknowledged" in r.stderr
    ref = read_csv(speech / "speech.csv")
    duration = ref.duration
    assert abs(len(frames) - duration * 60) < 0.1 * duration * 60 + 3, f"{len(frames)} frames for {duration:.2f} s"
    arrivals = np.array([f[0] for f in frames])
    rate = (len(arrivals) - 1) / (arrivals[-1] - arrivals[0])
    assert 54 <= rate <= 66, f"frames arrive at {rate:.1f} Hz"
    assert all(set("AIUEO") <= set(f[2]) for f in frames)
    times = np.array([f[1] for f in frames])
    a = np.array([f[2]["A"] for f in frames])
    assert np.all(np.diff(times) > 0) and times[-1] == pytest.approx(duration, abs=0.1)
    assert corr(a, ref.sample(times)[:, 0]) > 0.9, "A follows jawOpen"
    assert a.max() > 0.3 and all(0 <= v <= 1 for f in frames for v in f[2].values())


def test_vmc_vrm1_and_arkit_names(speech, receiver):
    _, frames = _stream(speech, receiver, "--vrm", "1", "--seconds", "0.5")
    assert frames and set(frames[0][2]) == {"aa", "ih", "ou", "ee", "oh", "blink", "blinkLeft", "blinkRight"}
    receiver.got.clear()
    _, frames = _stream(speech, receiver, "--names", "arkit", "--seconds", "1.5")
    assert frames and len(frames[0][2]) == 52 and "JawOpen" in frames[0][2]
    times = np.array([f[1] for f in frames])
    jaw = np.array([f[2]["JawOpen"] for f in frames])
    # the stream samples the 100 Hz analysis track at each frame's media time (the time it
    # sends with the frame), so that track sampled at the same times is what JawOpen must
    # be, to float32 precision. (A 60 fps CSV is not a fair reference: the jaw can rise by
    # 0.3 in 10 ms, so interpolating between 60 fps rows differs by more where the frames
    # happen to fall, and on a loaded machine they fall anywhere.)
    # (with ARKit names the stream analyses with the visemes, which fill the ARKit mouth shapes)
    want = face3d.analyze(speech / "speech.wav", fps=None, visemes=True).sample(times)[:, 0]
    assert corr(jaw, want) > 0.999 and np.abs(jaw - want).max() < 0.01, np.abs(jaw - want).max()


def test_vmc_stream_sends_blinks_from_the_alive_curves(speech, receiver):
    """Blink, Blink_L, Blink_R follow the file's eyeBlinkLeft/Right (the alive curves);
    --seed changes them, --mouth-only sends the mouth alone."""
    _, frames = _stream(speech, receiver)
    ref = read_csv(speech / "speech.csv")
    assert all({"Blink", "Blink_L", "Blink_R"} <= set(f[2]) for f in frames)
    times = np.array([f[1] for f in frames])
    blink = np.array([f[2]["Blink"] for f in frames])
    want = np.minimum(*(ref.sample(times)[:, ref.names.index(n)] for n in ("eyeBlinkLeft", "eyeBlinkRight")))
    assert blink.max() > 0.8 and np.abs(blink - want).max() < 0.35 and corr(blink, want) > 0.8
    receiver.got.clear()
    r = run_cli("export", speech / "speech.wav", "-o", speech / "seed3.csv", "--seed", "3")
    assert r.returncode == 0, r.stderr
    ref3 = read_csv(speech / "seed3.csv")
    _, frames = _stream(speech, receiver, "--seed", "3")
    times = np.array([f[1] for f in frames])
    blink = np.array([f[2]["Blink_L"] + f[2]["Blink"] for f in frames])
    err = {k: np.abs(blink - tr.sample(times)[:, tr.names.index("eyeBlinkLeft")]).mean() for k, tr in ((0, ref), (3, ref3))}
    assert err[3] < 0.5 * err[0], f"--seed 3 streams the blinks of export --seed 3: {err}"
    receiver.got.clear()
    _, frames = _stream(speech, receiver, "--mouth-only", "--names", "arkit", "--seconds", "1")
    assert frames and all(f[2]["EyeBlinkLeft"] == 0 and f[2]["BrowInnerUp"] == 0 for f in frames)


@pytest.mark.parametrize("target, words", [
    ("no-such-host.invalid:39539", "cannot resolve host"),
    ("127.0.0.1:70000", "out of range"),
    ("127.0.0.1:0", "out of range"),
])
def test_bad_vmc_target_is_one_line(speech, target, words):
    r = run_cli("stream", speech / "speech.wav", "--mute", "--vmc", target)
    assert r.returncode == 2 and words in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_no_receiver_is_not_an_error(speech):
    import socket

    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()                     # nothing listens there now
    r = run_cli("stream", speech / "speech.wav", "--mute", "--vmc", f"127.0.0.1:{port}", "--seconds", "0.5")
    assert r.returncode == 0, r.stderr
    assert r.stderr.count("not acknowledged") == 1


@pytest.mark.realtime  # speech played into a null sink and heard by the microphone stream
def test_vmc_stream_from_the_microphone(speech, pulse, receiver):
    """--mic through a private PulseAudio whose default source hears what is played into
    its null sink: speech played there opens A on the receiver."""
    import os
    import shutil
    import subprocess
    import sys

    if shutil.which("paplay") is None:
        pytest.skip("needs pulseaudio-utils (paplay)")
    from _audio_helpers import ROOT

    env = dict(pulse, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-m", "face3d", "stream", "--mic", "--seconds", "6",
                             "--vmc", f"127.0.0.1:{receiver.port}"], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(2.0)
        subprocess.run(["paplay", str(speech / "speech.wav")], env=pulse, timeout=30)
        err = proc.communicate(timeout=30)[1]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    frames = receiver.frames()
    assert len(frames) > 4 * 60 and set("AIUEO") <= set(frames[0][2])
    a = np.array([f[2]["A"] for f in frames])
    assert a[:60].max() < 0.05 and a.max() > 0.3, "A rests before the speech and opens with it"
