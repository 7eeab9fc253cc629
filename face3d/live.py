"""Live input: microphone -> analysis on a worker thread -> the newest weights, and every frame.

Used by ``face3d view --mic`` (the viewer draws :meth:`LiveSource.weights` each frame and
records :meth:`LiveSource.drain`) and by ``face3d record`` (which keeps every frame and,
with ``keep_audio``, every sample). The PortAudio input callback
(:class:`face3d.audio.mic.MicSource`) only copies each block into a queue. A worker thread
takes every block as soon as it is queued, runs it through
:class:`face3d.analysis.StreamAnalyzer` and publishes the newest weight frame. Analysis
never runs on the audio thread and never waits for a frame to be drawn.

Delay from sound entering the input callback to the weights that show it (see
:func:`latency_budget`; measured by :func:`measure_step_delay` in the tests):

* block: ``BLOCK_S`` = 5 ms of samples are gathered before PortAudio calls the callback
  (at whatever rate the device was opened: 80 frames at 16 kHz, 240 at 48 kHz);
* analysis: a 25 ms Hann window every 10 ms hop; a frame comes out the moment its window
  is complete, and its weights one frame later, once the live viseme model has seen the
  frame after it (10 ms of look-ahead): a sound onset reaches half of its full weight
  about 20 ms after the callback that carries it;
* smoothing: instant attack (the release only smooths decays), so it adds no onset delay;
* processing: tens of microseconds a block on the worker thread.

Stopping: :meth:`LiveSource.close` stops the stream (no block arrives after that), tells
the worker to finish and waits for it; the worker analyses every block still queued and
flushes the analysis, so the last sound captured is in the frames. The analyser only ever
runs on the worker. A failure in that last step is raised (:class:`~face3d.errors.DeviceError`),
never swallowed. Problems while running (input overflow, a device that fails mid-stream,
an exception in the worker) become :attr:`LiveSource.notices` and keep the source going.
"""

from __future__ import annotations

import threading
import time
from collections import deque

import numpy as np

from face3d.analysis import ALIVE_NAMES, HOP_S, NAMES, VISEME_NAMES, StreamAnalyzer
from face3d.analysis.model import load_model
from face3d.analysis.bands import WIN_S
from face3d.errors import DeviceError

BLOCK_S = 0.005
RATE = 16000
#: Measured by :func:`measure_step_delay` (and checked by the tests): from the callback that
#: delivers a sound onset to the weight frame that reaches half of its response.
ANALYSIS_DELAY_MS = 20.0
#: How long :meth:`LiveSource.close` waits for the worker to analyse what is left.
CLOSE_TIMEOUT_S = 10.0


def latency_budget(block_s: float = BLOCK_S) -> dict:
    """The parts of the capture-to-weights delay (milliseconds), from the analysis constants."""
    return {
        "block_ms": block_s * 1000.0,
        "window_half_ms": WIN_S * 500.0,
        "hop_ms": HOP_S * 1000.0,
        "lookahead_ms": load_model(live=True).lookahead * HOP_S * 1000.0,
        "smoothing_attack_ms": 0.0,
    }


def measure_step_delay(block: int = int(RATE * BLOCK_S), rate: int = RATE, seed: int = 0) -> dict:
    """Feed silence then a loud vowel-like tone block by block through the streaming analysis;
    report how long after the onset (counting the wait for the block that carries it into the
    callback) jawOpen reaches half of its settled value, and the processing time per block.
    """
    rng = np.random.default_rng(seed)
    n_pre = int(1.5 * rate) + 37  # onset not aligned with blocks or hops
    t = np.arange(int(0.6 * rate)) / rate
    vowel = sum(np.sin(2 * np.pi * f * t) * a for f, a in ((140, 0.3), (700, 0.5), (1200, 0.3), (2500, 0.1)))
    x = np.concatenate([rng.normal(0, 1e-4, n_pre), 0.3 * vowel]).astype(np.float32)
    an = StreamAnalyzer(rate, live=True)
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
    """Live weights from an input device. ``names``: the analysis's shape names.

    ``mic``: anything with :class:`~face3d.audio.mic.MicSource`'s start/read/drain/stop,
    name, rate, blocksize and overflows (tests pass a fake). ``keep_audio``: keep every
    sample analysed (:meth:`audio`). ``max_seconds``: analyse this much sound, then
    finish by itself (:attr:`finished` is set; ``face3d record --seconds``). ``alive``:
    frames carry the blink, brow, gaze and head columns too (``seed`` picks their choices);
    ``visemes``: and the fifteen viseme weights last.
    """

    def __init__(self, device=None, rate: int = RATE, block_s: float = BLOCK_S, mic=None,
                 keep_audio: bool = False, max_seconds: float | None = None, alive: bool = False,
                 seed: int = 0, visemes: bool = False):
        self.alive = bool(alive)
        self.seed = int(seed)
        self.visemes = bool(visemes)
        self.names = NAMES + (ALIVE_NAMES if self.alive else ()) + (VISEME_NAMES if self.visemes else ())
        self.hop_s = HOP_S
        if mic is None:
            from face3d.audio.mic import MicSource

            mic = MicSource(device, rate=rate, block_s=block_s)
        self.mic = mic
        self.label = f"microphone: {self.mic.name}"
        self.notices: list[str] = []
        self.level_db = -100.0
        self.delay_ms = float("nan")       # callback -> weights published (queue + processing), newest block
        self.proc_ms = float("nan")
        self.keep_audio = bool(keep_audio)
        self.max_seconds = max_seconds
        self.samples = 0                   # samples analysed so far
        self.stream_failed = False         # the device stopped delivering (set by the worker)
        self.finished = threading.Event()  # the worker is done: analysed and flushed everything
        self._latest = np.zeros(len(self.names), np.float32)
        self._frames: deque = deque()
        self._audio: list = []
        self._stopping = False             # close() is stopping the stream (not a device failure)
        self._closing = threading.Event()  # ... and it has stopped: the worker finishes up
        self._thread = None
        self._an = None
        self._limit = None
        self._error = None                 # what went wrong in the worker's last step
        self._closed = False
        self._overflows_seen = 0
        self.loop = False
        self.duration = 0.0
        self.paused = False

    @property
    def rate(self) -> int:
        """The rate the device delivers (the one asked for, or the device's own)."""
        return int(self.mic.rate)

    def start(self) -> "LiveSource":
        self.mic.start()
        try:
            self._an = StreamAnalyzer(self.mic.rate, alive=self.alive, seed=self.seed, live=True,
                                      visemes=self.visemes)
        except BaseException:
            self.mic.stop()
            raise
        if self.max_seconds is not None:
            self._limit = int(round(self.max_seconds * self.mic.rate))
        self._thread = threading.Thread(target=self._work, name="face3d-analysis", daemon=True)
        self._thread.start()
        return self

    def _note(self, text: str) -> None:
        if text not in self.notices:
            self.notices.append(text)

    # ------------------------------------------------------------------ worker thread
    def _work(self) -> None:
        limit_reached = False
        while not self._closing.is_set() and not limit_reached:
            try:
                block = self.mic.read(timeout=0.05)
                self._watch_losses()
                if block is None:
                    self._check_stream()
                    continue
                limit_reached = self._take(block)
            except Exception as exc:  # noqa: BLE001 - report, keep the window alive
                self._note(f"analysis failed: {type(exc).__name__}: {exc}")
                time.sleep(0.05)
        # the last step, on this thread only: what is still queued, then the analysis's tail
        try:
            if not limit_reached:
                self._closing.wait()          # close() has stopped the stream: the queue is final
                for b in self.mic.drain():
                    if self._take(b):
                        break
            tail = self._an.flush()
            if len(tail):
                self._publish(tail)
        except Exception as exc:  # noqa: BLE001 - handed to close(), which raises it
            self._error = f"{type(exc).__name__}: {exc}"
            self._note(f"analysis of the last captured sound failed: {self._error}")
        finally:
            self.finished.set()

    def _watch_losses(self) -> None:
        if self.mic.overflows != self._overflows_seen:
            self._overflows_seen = self.mic.overflows
            self._note("input overflow: the sound device lost input (count on the overlay)")
        if getattr(self.mic, "dropped", 0):
            self._note("input queue full: blocks dropped, the analysis fell behind (count on the overlay)")

    def _take(self, block) -> bool:
        """Analyse one block; True once ``max_seconds`` of sound have been analysed."""
        done = False
        if self._limit is not None and self.samples + block.shape[0] >= self._limit:
            block = block[: max(0, self._limit - self.samples)]
            done = True
        t0 = time.perf_counter()
        self.samples += block.shape[0]
        if self.keep_audio and block.size:
            self._audio.append(np.array(block, np.float32, copy=True))
        w = self._an.feed(block)
        if block.size:
            rms = float(np.mean(np.square(block, dtype=np.float64)))
            # meter: rises at once, falls 50 dB a second (readable, not flickering)
            fall = 50.0 * block.size / self.mic.rate
            self.level_db = max(10.0 * np.log10(rms + 1e-10), self.level_db - fall, -100.0)
        if len(w):
            self._publish(w)
            arrived = getattr(self.mic, "last_callback", None)
            queued = getattr(self.mic, "_q", None)
            if arrived is not None and (queued is None or queued.empty()):
                self.delay_ms = (time.monotonic() - arrived) * 1000.0
        self.proc_ms = (time.perf_counter() - t0) * 1000.0
        return done

    def _publish(self, w) -> None:
        self._frames.append(w)
        self._latest = w[-1].copy()

    def _check_stream(self) -> None:
        active = getattr(self.mic, "active", True)
        if not active and not self.stream_failed and not self._stopping:
            self.stream_failed = True
            self._note("microphone stream stopped (device error); the head rests")
            self._latest = np.zeros(len(self.names), np.float32)
            self.level_db = -100.0

    # ------------------------------------------------------------------ main thread
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
        """Every weight frame published since the last call, (n, K) float32."""
        out = []
        while self._frames:
            out.append(self._frames.popleft())
        if not out:
            return np.zeros((0, len(self.names)), np.float32)
        return np.concatenate(out)

    def audio(self) -> np.ndarray:
        """Every sample analysed so far (with ``keep_audio``), float32 mono at :attr:`rate`."""
        if not self._audio:
            return np.zeros(0, np.float32)
        return np.concatenate(self._audio)

    def close(self) -> None:
        """Stop the stream, let the worker analyse what is left and flush, and wait for it.

        Raises DeviceError if that last step failed or did not finish (the frames would
        miss the end of the sound). A device that fails while stopping is only a notice:
        everything it delivered is analysed."""
        if self._closed:
            return
        self._closed = True
        self._stopping = True
        try:
            self.mic.stop()
        except Exception as exc:  # noqa: BLE001
            self._note(f"microphone did not stop cleanly: {exc}")
        self._closing.set()
        if self._thread is None:
            return
        self._thread.join(CLOSE_TIMEOUT_S)
        if self._thread.is_alive():
            raise DeviceError(
                f"the analysis of the microphone did not finish within {CLOSE_TIMEOUT_S:g} s of stopping; "
                "the last captured sound is missing"
            )
        if self._error is not None:
            raise DeviceError(
                f"analysing the last captured sound failed ({self._error}); the end of the recording is missing"
            )
