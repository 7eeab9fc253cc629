"""Sound from standard input: a WAV stream (header first, length unknown) or raw PCM.

:func:`open_pcm` reads the WAV header (or takes ``raw``/``rate``/``channels`` for raw
PCM) and returns the :class:`PcmFormat` and the bytes already read past the header;
:func:`read_all` reads everything to the end (``face3d export -``); :class:`PipeSource`
delivers the sound block by block *in real time* as it arrives, with the interface of
:class:`face3d.audio.mic.MicSource` (``start``/``read``/``drain``/``stop``, ``name``,
``rate``, ``blocksize``), so :class:`face3d.live.LiveSource` analyses it like a
microphone (``face3d view -``, ``face3d stream -``).

A WAV data size of 0 or of 0x7FFF0000 and more (what streaming writers such as
``espeak-ng --stdout`` put there) means "until the end of input".
"""

from __future__ import annotations

import queue
import struct
import threading
import time
from collections import deque
from dataclasses import dataclass

import numpy as np

from face3d.errors import AudioError

LABEL = "standard input"
RAW_KINDS = ("s16le", "f32le")
_UNKNOWN_SIZE = 0x7FFF0000
_GUID_TAIL = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"


@dataclass
class PcmFormat:
    rate: int
    channels: int
    dtype: str                  # numpy dtype of one sample: '<i2', '<i4', '|u1', '<f4', '<f8', or 'i24'
    remaining: int | None = None  # bytes of sound still to come (None: until the end of input)

    @property
    def frame_bytes(self) -> int:
        width = 3 if self.dtype == "i24" else np.dtype(self.dtype).itemsize
        return width * self.channels

    def decode(self, data: bytes) -> np.ndarray:
        """Whole frames of bytes -> float32 mono (mean of the channels)."""
        if self.dtype == "i24":
            b = np.frombuffer(data, np.uint8).reshape(-1, 3)
            v = (b[:, 0].astype(np.int32) | (b[:, 1].astype(np.int32) << 8) | (b[:, 2].astype(np.int32) << 16))
            x = ((v << 8) >> 8).astype(np.float64) / 8388608.0
        else:
            raw = np.frombuffer(data, self.dtype)
            if raw.dtype.kind == "i":
                x = raw.astype(np.float64) / float(2 ** (raw.dtype.itemsize * 8 - 1))
            elif raw.dtype.kind == "u":
                x = (raw.astype(np.float64) - 128.0) / 128.0
            else:
                x = raw.astype(np.float64)
        x = x.reshape(-1, self.channels).mean(axis=1)
        if not np.all(np.isfinite(x)):
            raise AudioError(f"{LABEL}: NaN or infinite samples in the stream; check what writes to the pipe")
        return x.astype(np.float32)


def _reader(stream):
    """A function read(n) -> up to n bytes, returning what is there (b'' only at the end)."""
    return getattr(stream, "read1", None) or stream.read


def _exact(read, n: int) -> bytes:
    out = b""
    while len(out) < n:
        chunk = read(n - len(out))
        if not chunk:
            break
        out += chunk
    return out


def _bad(what: str) -> AudioError:
    return AudioError(f"{LABEL}: {what}; pipe a WAV stream (e.g. espeak-ng --stdout), or give raw PCM with "
                      "--raw s16le|f32le --rate R --channels C")


def open_pcm(stream, raw: str | None = None, rate: int | None = None, channels: int | None = None):
    """The stream's sound format and any bytes of sound already read: ``(PcmFormat, bytes)``."""
    if raw is not None:
        if raw not in RAW_KINDS:
            raise AudioError(f"--raw {raw}: unknown sample format; use one of {', '.join(RAW_KINDS)}")
        if not rate or not channels:
            raise AudioError("--raw needs --rate R and --channels C (e.g. --raw s16le --rate 16000 --channels 1)")
        return PcmFormat(int(rate), int(channels), "<i2" if raw == "s16le" else "<f4"), b""
    read = _reader(stream)
    head = _exact(read, 12)
    if not head:
        raise AudioError(f"{LABEL}: no data (the pipe was closed before any sound); check the command writing to it")
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        raise _bad(f"not a WAV stream (it starts with {head[:4]!r})")
    fmt = None
    while True:
        hdr = _exact(read, 8)
        if len(hdr) < 8:
            raise _bad("the WAV header ends before its data chunk")
        cid, size = hdr[:4], struct.unpack("<I", hdr[4:])[0]
        if cid == b"data":
            if fmt is None:
                raise _bad("the WAV data comes before its fmt chunk")
            fmt.remaining = None if size == 0 or size >= _UNKNOWN_SIZE else size
            return fmt, b""
        if size > 1 << 20:
            raise _bad(f"the WAV header has a {size}-byte {cid!r} chunk")
        body = _exact(read, size + (size & 1))
        if len(body) < size:
            raise _bad("the WAV header is cut short")
        if cid == b"fmt ":
            fmt = _parse_fmt(body)


def _parse_fmt(body: bytes) -> PcmFormat:
    if len(body) < 16:
        raise _bad("the WAV fmt chunk is too short")
    tag, ch, rate, _, _, bits = struct.unpack("<HHIIHH", body[:16])
    if tag == 0xFFFE and len(body) >= 40 and body[26:40] == _GUID_TAIL:
        tag = struct.unpack("<H", body[24:26])[0]
    if ch < 1 or not 1000 <= rate <= 768000:
        raise _bad(f"the WAV header says {ch} channels at {rate} Hz")
    dtypes = {(1, 8): "|u1", (1, 16): "<i2", (1, 24): "i24", (1, 32): "<i4", (3, 32): "<f4", (3, 64): "<f8"}
    dt = dtypes.get((tag, bits))
    if dt is None:
        raise _bad(f"WAV sample format {tag} with {bits} bits is not plain PCM or float")
    return PcmFormat(rate, ch, dt)


class _Decoder:
    """Bytes as they come -> float32 mono, keeping partial frames for the next call."""

    def __init__(self, fmt: PcmFormat, pending: bytes = b""):
        self.fmt, self.pending = fmt, pending

    def feed(self, data: bytes) -> np.ndarray:
        if self.fmt.remaining is not None:
            data = data[: max(0, self.fmt.remaining)]
            self.fmt.remaining -= len(data)
        buf = self.pending + data
        whole = len(buf) - len(buf) % self.fmt.frame_bytes
        self.pending = buf[whole:]
        return self.fmt.decode(buf[:whole]) if whole else np.zeros(0, np.float32)

    @property
    def done(self) -> bool:
        return self.fmt.remaining is not None and self.fmt.remaining <= 0


def read_all(stream, raw=None, rate=None, channels=None) -> tuple[np.ndarray, int]:
    """Everything on ``stream`` (binary) as float32 mono samples and their rate."""
    fmt, pending = open_pcm(stream, raw, rate, channels)
    dec = _Decoder(fmt)
    parts = [dec.feed(pending)]
    read = _reader(stream)
    while not dec.done:
        chunk = read(1 << 16)
        if not chunk:
            break
        parts.append(dec.feed(chunk))
    x = np.concatenate(parts)
    if x.shape[0] == 0:
        raise AudioError(f"{LABEL}: the stream holds no sound (zero length); check the command writing to it")
    return x, fmt.rate


class PipeSource:
    """Sound from a pipe, released in real time in blocks (a microphone for :class:`LiveSource`).

    :meth:`start` waits for the WAV header (or takes ``raw``, ``rate`` and ``channels``
    for raw PCM). A reader thread then takes bytes as they arrive. The sound is released ``blocksize`` samples
    at a time on the timeline of the first sound (plus ``jitter_s`` of buffer): by the
    output device's callback while it plays the same samples (``play=True``), else by a
    timer thread. When the pipe has nothing more the timeline waits; after ``stall_s`` a
    notice says the input stalled. :attr:`ended` is set once the end of input is reached
    and every sample was released.
    """

    name = LABEL
    overflows = 0
    dropped = 0
    active = True

    def __init__(self, stream, raw: str | None = None, rate: int | None = None, channels: int | None = None, *,
                 block_s: float = 0.005, play: bool = False, jitter_s: float = 0.06, stall_s: float = 0.5,
                 device=None):
        self.stream = stream
        self._raw = (raw, rate, channels)
        self.fmt: PcmFormat | None = None
        self.rate = 0
        self.blocksize = 0
        self.block_s = float(block_s)
        self.play, self.device = bool(play), device
        self.jitter_s = float(jitter_s)
        self.jitter = 0
        self.stall_s = float(stall_s)
        self.notices: list[str] = []
        self.ended = threading.Event()
        self.eof = threading.Event()
        self.error: str | None = None
        self.released = 0                  # samples handed to the analysis
        self.last_callback = None
        self._dec = None
        self._buf: deque = deque()
        self._have = 0
        self._lock = threading.Lock()
        self._q: queue.Queue = queue.Queue()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._out = None
        self._primed = False
        self._waiting_since = None
        self._stall_noted = False
        self.stalls = 0                    # times the input stalled

    # --------------------------------------------------------------- input
    def _read_loop(self) -> None:
        read = _reader(self.stream)
        try:
            self._push(self._dec.feed(b""))
            while not self._stop.is_set() and not self._dec.done:
                chunk = read(1 << 14)
                if not chunk:
                    break
                self._push(self._dec.feed(chunk))
        except (OSError, ValueError, AudioError) as exc:
            self.error = str(exc)
            self._note(f"reading {LABEL} failed: {exc}")
        finally:
            self.eof.set()

    def _push(self, x) -> None:
        if x.size:
            with self._lock:
                self._buf.append(x)
                self._have += x.size

    def _take(self, n: int) -> np.ndarray:
        """Up to ``n`` buffered samples, once the jitter buffer has filled (or input ended)."""
        with self._lock:
            if not self._primed and self._have < max(self.jitter, 1) and not self.eof.is_set():
                return np.zeros(0, np.float32)
            self._primed = self._have > 0 or self._primed
            parts, got = [], 0
            while self._buf and got < n:
                b = self._buf.popleft()
                if got + b.size > n:
                    self._buf.appendleft(b[n - got:])
                    b = b[: n - got]
                parts.append(b)
                got += b.size
            self._have -= got
        if not got:
            return np.zeros(0, np.float32)
        return np.concatenate(parts) if len(parts) > 1 else parts[0]

    def _release(self, n: int) -> np.ndarray:
        """Take a block for playing and analysing; note stalls and the end."""
        x = self._take(n)
        now = time.monotonic()
        if x.size:
            self.last_callback = now
            self.released += x.size
            self._q.put(np.array(x, np.float32))
            self._waiting_since = None
            self._stall_noted = False
        elif self.eof.is_set() and self._have == 0:
            self.ended.set()
        elif self._primed:
            if self._waiting_since is None:
                self._waiting_since = now
            elif now - self._waiting_since >= self.stall_s and not self._stall_noted:
                self._stall_noted = True
                self.stalls += 1
                self._note(f"{LABEL} stalled: no sound for {self.stall_s:g} s after "
                           f"{self.released / self.rate:.1f} s; waiting for more")
                self._primed = False           # refill the jitter buffer before going on
        return x

    def _note(self, text: str) -> None:
        if text not in self.notices:
            self.notices.append(text)

    # --------------------------------------------------------------- pacing
    def _timer_loop(self) -> None:
        block_s = self.blocksize / self.rate
        due = None
        while not self._stop.is_set() and not self.ended.is_set():
            x = self._release(self.blocksize)
            now = time.monotonic()
            if x.size:
                due = (now if due is None or now - due > 0.25 else due) + x.size / self.rate
                time.sleep(max(0.0, due - time.monotonic()))
            else:
                due = None
                time.sleep(min(block_s, 0.005))

    def _callback(self, outdata, frames, time_info, status):  # PortAudio thread
        out = outdata[:, 0]
        x = self._release(frames)
        out[: x.size] = x
        out[x.size:] = 0.0

    def open(self) -> "PipeSource":
        """Read the WAV header (waiting for it), or take the raw format; AudioError if unusable."""
        if self.fmt is None:
            self.fmt, pending = open_pcm(self.stream, *self._raw)
            self._dec = _Decoder(self.fmt, pending)
            self.rate = int(self.fmt.rate)
            self.blocksize = max(1, int(round(self.rate * self.block_s)))
            self.jitter = int(self.rate * self.jitter_s)
        return self

    def start(self) -> "PipeSource":
        self.open()
        t = threading.Thread(target=self._read_loop, name="face3d-stdin", daemon=True)
        t.start()
        self._threads.append(t)
        if self.play:
            try:
                import sounddevice as sd

                from face3d.audio import quiet
                from face3d.audio.player import missing_output, output_error

                missing = missing_output(sd) if self.device is None else None
                if missing:
                    raise RuntimeError(missing)
                quiet.hold()
                try:
                    self._out = sd.OutputStream(samplerate=self.rate, channels=1, dtype="float32", device=self.device,
                                                blocksize=self.blocksize, latency="low", callback=self._callback)
                    self._out.start()
                except BaseException:
                    self._out = None
                    quiet.release()
                    raise
            except Exception as exc:  # noqa: BLE001 - no output device: animate silently
                self._note(f"no sound output ({output_error(exc)}); animating without sound")
        if self._out is None:
            t = threading.Thread(target=self._timer_loop, name="face3d-stdin-timer", daemon=True)
            t.start()
            self._threads.append(t)
        return self

    # --------------------------------------------------------------- consumer side
    def read(self, timeout: float | None = 0.5):
        try:
            return self._q.get(timeout=timeout)
        except queue.Empty:
            return None

    def drain(self) -> list:
        out = []
        while True:
            try:
                out.append(self._q.get_nowait())
            except queue.Empty:
                return out

    @property
    def finished(self) -> bool:
        """The end of input was reached and every block has been taken by the analysis."""
        return self.ended.is_set() and self._q.empty()

    def stop(self) -> None:
        self._stop.set()
        out, self._out = self._out, None
        if out is not None:
            try:
                out.abort()
                out.close()
            except Exception:  # noqa: BLE001
                pass
            from face3d.audio import quiet

            quiet.release()
