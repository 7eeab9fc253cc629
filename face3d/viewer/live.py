"""Microphone mode: capture -> streaming analysis on a worker thread -> newest weights.

The PortAudio input callback (:class:`face3d.audio.mic.MicSource`) only copies each block
into a queue. A worker thread takes every block as soon as it is queued, runs it through
:class:`face3d.analysis.StreamAnalyzer` and publishes the newest weight frame; the render
loop reads that (and, for ``--record``, every frame) when it draws. Analysis never runs on
the audio thread and never waits for a frame to be drawn.

Delay from sound entering the input callback to the weights that show it (see
:func:`latency_budget`; measured by :func:`measure_step_delay` in the tests):

* block: ``BLOCK_S`` = 5 ms of samples are gathered before PortAudio calls the callback;
* analysis: a 25 ms Hann window every 10 ms hop; a frame comes out the moment its window
  is complete, so a sound onset shows within the first frame whose window covers it, and
  reaches half of its full weight about 10 ms after it starts;
* smoothing: instant attack (the release only smooths decays), so it adds no onset delay;
* processing: tens of microseconds a block on the worker thread.

Every problem (input overflow, a device that fails mid-stream, an exception in the
worker) becomes a notice for the on-screen display and the log; the viewer keeps going.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque

import numpy as np

BLOCK_S = 0.005
RATE = 16000
#: Measured by :func:`measure_step_delay` (and checked by the tests): from the callback that
#: delivers a sound onset to the weight frame that reaches half of its response.
ANALYSIS_DELAY_MS = 10.0


def latency_budget(block_s: float = BLOCK_S) -> dict:
    """The parts of the capture-to-weights delay (milliseconds), from the analysis constants."""
    from face3d.analysis.bands import HOP_S, WIN_S

    return {
        "block_ms": block_s * 1000.0,
        "window_half_ms": WIN_S * 500.0,
        "hop_ms": HOP_S * 1000.0,
        "smoothing_attack_ms": 0.0,
    }


def measure_step_delay(block: int = int(RATE * BLOCK_S), rate: int = RATE, seed: int = 0) -> dict:
    """Feed silence then a loud vowel-like tone block by block through the streaming analysis;
    report how long after the onset (counting the wait for the block that carries it into the
    callback) jawOpen reaches half of its settled value, and the processing time per block.
    """
    from face3d.analysis import StreamAnalyzer

    rng = np.random.default_rng(seed)
    n_pre = int(1.5 * rate) + 37  # onset not aligned with blocks or hops
    t = np.arange(int(0.6 * rate)) / rate
    vowel = sum(np.sin(2 * np.pi * f * t) * a for f, a in ((140, 0.3), (700, 0.5), (1200, 0.3), (2500, 0.1)))
    x = np.concatenate([rng.normal(0, 1e-4, n_pre), 0.3 * vowel]).astype(np.float32)
    an = StreamAnalyzer(rate)
    jaw = []                # (sample index at the end of the block, jawOpen of the newest frame)
    last = 0.0
    proc = []
    for s in range(0, len(x), block):
        b = x[s:s + block]
        t0 = time.perf_counter()
        w = an.feed(b)
        proc.append(time.perf_counter() - t0)
        if len(w):
            last = float(w[-1, 0])
        jaw.append((s + len(b), last))
    settled = max(j for _, j in jaw)
    first = next(e for e, j in jaw if e > n_pre and j >= 0.5 * settled)
    # the onset sample reaches the callback at the end of its block
    onset_block_end = ((n_pre // block) + 1) * block
    return {
        "onset_to_half_ms": (first - n_pre) / rate * 1000.0,
        "callback_to_half_ms": (first - onset_block_end) / rate * 1000.0,
        "block_ms": block / rate * 1000.0,
        "processing_ms": float(np.median(proc)) * 1000.0,
        "processing_p99_ms": float(np.percentile(proc, 99)) * 1000.0,
    }


class LiveSource:
    """Live weights from an input device. ``names``: the analysis's shape names."""

    def __init__(self, device=None, rate: int = RATE, block_s: float = BLOCK_S, mic=None):
        from face3d.analysis import HOP_S, NAMES

        self.names = NAMES
        self.hop_s = HOP_S
        # ``mic``: anything with MicSource's start/read/drain/stop, name, rate, blocksize, overflows
        self.mic = mic if mic is not None else _TimedMic(device, rate=rate, blocksize=max(16, int(round(rate * block_s))))
        self.label = f"microphone: {self.mic.name}"
        self.notices: list[str] = []
        self.level_db = -100.0
        self.delay_ms = float("nan")       # callback -> weights published (queue + processing), newest block
        self.proc_ms = float("nan")
        self._latest = np.zeros(len(self.names), np.float32)
        self._frames: deque = deque()
        self._stop = threading.Event()
        self._thread = None
        self._overflows_seen = 0
        self.loop = False
        self.duration = 0.0
        self.paused = False

    def start(self) -> "LiveSource":
        from face3d.analysis import StreamAnalyzer

        self.mic.start()
        self._an = StreamAnalyzer(self.mic.rate)
        self._thread = threading.Thread(target=self._work, name="face3d-analysis", daemon=True)
        self._thread.start()
        return self

    def _note(self, text: str) -> None:
        if text not in self.notices:
            self.notices.append(text)

    def _work(self) -> None:
        while not self._stop.is_set():
            try:
                block = self.mic.read(timeout=0.1)
                if self.mic.overflows != self._overflows_seen:
                    self._overflows_seen = self.mic.overflows
                    self._note("input overflow: the sound device lost input (count on the overlay)")
                if getattr(self.mic, "dropped", 0):
                    self._note("input queue full: blocks dropped, the analysis fell behind (count on the overlay)")
                if block is None:
                    self._check_stream()
                    continue
                t0 = time.perf_counter()
                w = self._an.feed(block)
                rms = float(np.mean(np.square(block, dtype=np.float64))) if block.size else 0.0
                # meter: rises at once, falls 50 dB a second (readable, not flickering)
                fall = 50.0 * block.size / self.mic.rate
                self.level_db = max(10.0 * np.log10(rms + 1e-10), self.level_db - fall, -100.0)
                if len(w):
                    self._frames.append(w)
                    self._latest = w[-1].copy()
                    arrived = getattr(self.mic, "last_callback", None)
                    queued = getattr(self.mic, "_q", None)
                    if arrived is not None and (queued is None or queued.empty()):
                        self.delay_ms = (time.monotonic() - arrived) * 1000.0
                self.proc_ms = (time.perf_counter() - t0) * 1000.0
            except Exception as exc:  # noqa: BLE001 - report, keep the window alive
                self._note(f"analysis failed: {type(exc).__name__}: {exc}")
                time.sleep(0.05)

    def _check_stream(self) -> None:
        s = getattr(self.mic, "_stream", None)
        try:
            if s is not None and not s.active:
                self._note("microphone stream stopped (device error); the head rests")
                self._latest = np.zeros(len(self.names), np.float32)
                self.level_db = -100.0
        except Exception as exc:  # noqa: BLE001
            self._note(f"microphone stream failed: {exc}")

    def weights(self) -> np.ndarray:
        return self._latest

    def delay_text(self) -> str:
        """The capture-to-weights delay for the overlay: block + analysis + thread hand-over and processing."""
        block_ms = self.mic.blocksize / self.mic.rate * 1000.0
        run = self.delay_ms if np.isfinite(self.delay_ms) else 0.0
        total = block_ms + ANALYSIS_DELAY_MS + run
        text = f"delay {total:4.1f} ms = block {block_ms:.0f} + analysis {ANALYSIS_DELAY_MS:.0f} + processing {run:.1f}"
        lost = int(getattr(self.mic, "overflows", 0)), int(getattr(self.mic, "dropped", 0))
        if any(lost):
            text += f"\noverflows {lost[0]}, dropped {lost[1]}"
        return text

    def drain(self) -> np.ndarray:
        out = []
        while self._frames:
            out.append(self._frames.popleft())
        if not out:
            return np.zeros((0, len(self.names)), np.float32)
        return np.concatenate(out)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1.0)
        try:
            self.mic.stop()
        except Exception:  # noqa: BLE001
            pass
        # whatever was captured but not yet analysed still goes into the record
        try:
            rest = self.mic.drain()
            for b in rest:
                w = self._an.feed(b)
                if len(w):
                    self._frames.append(w)
            tail = self._an.flush()
            if len(tail):
                self._frames.append(tail)
        except Exception:  # noqa: BLE001
            pass


def _timed_mic_class():
    from face3d.audio.mic import MicSource

    class TimedMic(MicSource):
        """MicSource that also notes when its callback last ran (for the delay figure)."""

        last_callback = None

        def _callback(self, indata, frames, time_info, status):
            self.last_callback = time.monotonic()
            super()._callback(indata, frames, time_info, status)

    return TimedMic


def _TimedMic(*args, **kwargs):
    return _timed_mic_class()(*args, **kwargs)
