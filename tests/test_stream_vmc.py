"""``face3d stream --vmc``: a python-osc server on 127.0.0.1 receives the VMC stream."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

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
    assert frames and set(frames[0][2]) == {"aa", "ih", "ou", "ee", "oh"}
    receiver.got.clear()
    _, frames = _stream(speech, receiver, "--names", "arkit", "--seconds", "1.5")
    assert frames and len(frames[0][2]) == 52 and "JawOpen" in frames[0][2]
    ref = read_csv(speech / "speech.csv")
    times = np.array([f[1] for f in frames])
    jaw = np.array([f[2]["JawOpen"] for f in frames])
    # the reference CSV is at 60 fps and the stream samples the curves at its own frame
    # times, so the two differ by interpolation between frames, never by more (the jaw can
    # move 0.2 within one 60 fps frame at a plosive's release)
    want = ref.sample(times)[:, 0]
    assert corr(jaw, want) > 0.98 and np.abs(jaw - want).max() < 0.2


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
