"""The live input (face3d.live) and the microphone (face3d.audio.mic) without a sound card.

* closing a LiveSource: the worker analyses what is still queued and flushes, the analyser
  runs on the worker only, and a failure in that last step is raised, not swallowed;
* a device that refuses 16 kHz gets 5 ms blocks at the rate it was opened at;
* a stream that opened but would not start is closed;
* PortAudio's own diagnostic lines are kept off stderr while a stream is open.
"""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import face3d.live as live_mod
from face3d.analysis import StreamAnalyzer
from face3d.errors import DeviceError
from face3d.live import LiveSource

from _audio_helpers import ROOT


class QueueMic:
    """A microphone whose blocks are all queued at once (as if the worker had fallen behind)."""

    name = "queued"
    rate = 16000
    blocksize = 80
    overflows = 0

    def __init__(self, blocks, hold=None):
        self._q = queue.Queue()
        for b in blocks:
            self._q.put(b)
        self.hold = hold          # an Event the first read waits on (keeps blocks queued)
        self.stopped = False

    def start(self):
        return self

    def read(self, timeout=0.5):
        if self.hold is not None:
            self.hold.wait()
        try:
            return self._q.get(timeout=timeout)
        except queue.Empty:
            return None

    def drain(self):
        out = []
        while not self._q.empty():
            out.append(self._q.get())
        return out

    def stop(self):
        self.stopped = True


def _tone(seconds, rate=16000):
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * (np.sin(2 * np.pi * 700 * t) + 0.5 * np.sin(2 * np.pi * 150 * t))).astype(np.float32)


class WatchedAnalyzer(StreamAnalyzer):
    """The real analyser, noting which thread calls it; optionally slow or failing at the flush."""

    threads: set = set()
    slow_s = 0.0
    fail_flush = False

    def feed(self, block):
        WatchedAnalyzer.threads.add(threading.current_thread().name)
        if WatchedAnalyzer.slow_s:
            time.sleep(WatchedAnalyzer.slow_s)
        return super().feed(block)

    def flush(self):
        WatchedAnalyzer.threads.add(threading.current_thread().name)
        if WatchedAnalyzer.fail_flush:
            raise RuntimeError("analyser broke at the end")
        return super().flush()


@pytest.fixture
def watched(monkeypatch):
    WatchedAnalyzer.threads = set()
    WatchedAnalyzer.slow_s = 0.0
    WatchedAnalyzer.fail_flush = False
    monkeypatch.setattr(live_mod, "StreamAnalyzer", WatchedAnalyzer)
    return WatchedAnalyzer


def test_close_analyses_everything_queued_on_the_worker(watched):
    x = np.concatenate([np.zeros(4000, np.float32), _tone(1.0)])
    blocks = [x[i:i + 80] for i in range(0, len(x), 80)]
    hold = threading.Event()
    mic = QueueMic(blocks, hold=hold)
    src = LiveSource(mic=mic, keep_audio=True).start()
    watched.slow_s = 0.003              # 250 blocks: 0.75 s of analysis left at close ...
    hold.set()
    src.close()                         # ... all of it done before close returns
    v = src.drain()
    assert mic.stopped and src.finished.is_set()
    assert len(v) == pytest.approx(len(x) / 160, abs=1)      # every 10 ms, the tail included
    assert v[-10:, 0].max() > 0.5                             # the end of the tone is there
    assert watched.threads == {"face3d-analysis"}             # never from the main thread
    assert src.audio().shape == x.shape
    src.close()                                               # a second close does nothing


def test_close_waits_for_a_slow_worker(watched):
    """The old close waited 1 s, then ran the analyser beside the worker."""
    x = _tone(0.5)
    blocks = [x[i:i + 800] for i in range(0, len(x), 800)]   # 10 blocks
    hold = threading.Event()
    src = LiveSource(mic=QueueMic(blocks, hold=hold)).start()
    watched.slow_s = 0.15                                     # 1.5 s of analysis left
    hold.set()
    t0 = time.monotonic()
    src.close()
    assert time.monotonic() - t0 > 1.2
    assert watched.threads == {"face3d-analysis"}
    assert len(src.drain()) == pytest.approx(len(x) / 160, abs=1)


def test_a_failing_tail_is_raised_not_swallowed(watched):
    x = _tone(0.3)
    src = LiveSource(mic=QueueMic([x[i:i + 80] for i in range(0, len(x), 80)])).start()
    watched.fail_flush = True
    with pytest.raises(DeviceError, match="end of the recording is missing"):
        src.close()
    assert any("last captured sound failed" in n for n in src.notices)


def test_max_seconds_stops_by_itself(watched):
    x = _tone(1.0)
    mic = QueueMic([x[i:i + 80] for i in range(0, len(x), 80)])
    src = LiveSource(mic=mic, keep_audio=True, max_seconds=0.25).start()
    assert src.finished.wait(5)
    src.close()
    assert src.audio().shape[0] == 4000
    assert len(src.drain()) == 25


# ---------------------------------------------------------------- MicSource with a fake PortAudio
class FakePortAudioError(Exception):
    pass


class FakeSD:
    """Just enough of sounddevice: one input device that refuses some rates."""

    PortAudioError = FakePortAudioError

    def __init__(self, rates=(48000,), start_fails=False):
        self.rates = rates
        self.start_fails = start_fails
        self.streams = []
        self.default = type("D", (), {"device": (0, 0)})()

    def query_devices(self):
        return [dict(index=0, name="fake mic", hostapi=0, max_input_channels=1, max_output_channels=0,
                     default_samplerate=48000.0)]

    def query_hostapis(self):
        return [dict(name="fake")]

    def InputStream(self, *, samplerate, blocksize, callback, **kw):  # noqa: N802 - sounddevice's name
        if samplerate not in self.rates:
            raise FakePortAudioError("Invalid sample rate")
        sd = self

        class Stream:
            closed = False
            active = False

            def start(self):
                if sd.start_fails:
                    raise FakePortAudioError("Device unavailable")
                self.active = True

            def stop(self):
                self.active = False

            def close(self):
                self.closed = True

        s = Stream()
        s.samplerate, s.blocksize, s.callback = samplerate, blocksize, callback
        self.streams.append(s)
        return s


@pytest.fixture
def fake_sd(monkeypatch):
    import face3d.audio.mic as mic_mod

    sd = FakeSD()
    monkeypatch.setattr(mic_mod, "_sd", lambda: sd)
    return sd


def test_device_refusing_16k_gets_5_ms_blocks_at_its_own_rate(fake_sd):
    from face3d.audio.mic import MicSource

    src = LiveSource(mic=MicSource(None, rate=16000, block_s=0.005))
    src.start()
    try:
        (s,) = fake_sd.streams
        assert s.samplerate == 48000 and src.rate == 48000
        assert s.blocksize == 240 and src.mic.blocksize == 240   # 5 ms, not 80 frames (1.7 ms)
        assert "block 5" in src.delay_text()
    finally:
        src.close()
    assert s.closed


def test_stream_that_will_not_start_is_closed(fake_sd):
    from face3d.audio import quiet
    from face3d.audio.mic import MicSource

    fake_sd.rates = (16000,)
    fake_sd.start_fails = True
    mic = MicSource(None, rate=16000, block_s=0.005)
    with pytest.raises(DeviceError, match="cannot open input device"):
        mic.start()
    (s,) = fake_sd.streams
    assert s.closed, "the opened stream leaked"
    assert not quiet.active()


# ---------------------------------------------------------------- PortAudio's noise on stderr
def test_portaudio_lines_are_kept_off_stderr():
    code = r"""
import os, sys, threading
from face3d.audio import quiet
print("before", file=sys.stderr, flush=True)
quiet.hold()
def pa_thread():   # PortAudio prints from its own thread, in pieces
    os.write(2, b"Expression 'alsa_snd_pcm_poll_descriptors_revents( self->pcm, pfds, self->nfds, &revents )' ")
    os.write(2, b"failed in 'src/hostapi/alsa/pa_linux_alsa.c', line: 3665\n")
    os.write(2, b"ALSA lib pcm.c:8570:(snd_pcm_recover) underrun occurred\n")
t = threading.Thread(target=pa_thread); t.start(); t.join()
os.write(2, b"Expressionless but kept\n")
print("during", file=sys.stderr, flush=True)
quiet.hold(); quiet.release()        # nested: still filtering
os.write(2, b"Expression 'x' failed in 'y', line: 1\n")
quiet.release()
print("face3d record: error: one line", file=sys.stderr, flush=True)
"""
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stderr.splitlines() == ["before", "Expressionless but kept", "during", "face3d record: error: one line"]


def test_viewer_session_keeps_the_frames_when_closing_fails(watched):
    """view --mic --record: a close that raises still leaves every frame analysed in the record."""
    from face3d.viewer.session import Recorder, Session

    x = _tone(0.5)
    hold = threading.Event()
    src = LiveSource(mic=QueueMic([x[i:i + 80] for i in range(0, len(x), 80)], hold=hold))
    rec = Recorder(src.names)
    s = Session(live=src, recorder=rec)
    s.start()
    watched.fail_flush = True
    hold.set()
    with pytest.raises(DeviceError):
        s.close()
    n = sum(len(f) for f in rec._frames)
    assert n >= (len(x) - 400) // 160          # every frame whose window was complete
