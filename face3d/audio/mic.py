"""The microphone, through sounddevice (PortAudio). The only module that imports sounddevice.

sounddevice is imported inside functions, so importing this module is cheap and a
missing PortAudio library becomes a :class:`~face3d.errors.DeviceError` only when a
device is actually used.

:class:`MicSource` opens an input stream whose callback does nothing but copy each
block into a queue and count overflows (PortAudio calls it on its own thread; any
analysis there would risk dropouts). The caller pulls blocks with :meth:`MicSource.read`.
"""

from __future__ import annotations

import queue
import threading
import time

from face3d.errors import DeviceError


def _sd():
    try:
        import sounddevice as sd
    except OSError as exc:  # PortAudio shared library missing
        raise DeviceError(
            f"cannot use sound devices: PortAudio is not available ({exc}); install libportaudio2"
        ) from None
    return sd


def list_devices() -> list[dict]:
    """Every PortAudio device: index, name, hostapi, max_input_channels,
    max_output_channels, default_samplerate, default_input, default_output."""
    sd = _sd()
    try:
        devs = sd.query_devices()
        apis = sd.query_hostapis()
        din, dout = sd.default.device
    except sd.PortAudioError as exc:
        raise DeviceError(f"cannot list sound devices ({exc}); check the sound system") from None
    out = []
    for d in devs:
        i = int(d["index"])
        out.append(
            dict(
                index=i,
                name=str(d["name"]),
                hostapi=str(apis[d["hostapi"]]["name"]),
                max_input_channels=int(d["max_input_channels"]),
                max_output_channels=int(d["max_output_channels"]),
                default_samplerate=float(d["default_samplerate"]),
                default_input=(i == din),
                default_output=(i == dout),
            )
        )
    return out


def _inputs_summary(devs: list[dict]) -> str:
    ins = [f"{d['index']}: {d['name']}" for d in devs if d["max_input_channels"] > 0]
    return "; ".join(ins) if ins else "none"


def find_input_device(spec=None) -> dict:
    """The input device for ``spec``: None (the default input), an index (int or digits)
    or a case-insensitive name substring (an exact name wins). DeviceError otherwise,
    listing the input devices."""
    devs = list_devices()
    hint = "run 'face3d devices' to list them"
    if spec is None or (isinstance(spec, str) and not spec.strip()):
        cands = [d for d in devs if d["default_input"]]
        if not cands:
            cands = [d for d in devs if d["max_input_channels"] > 0][:1]
        if not cands:
            raise DeviceError(f"no input device found (no microphone); connect one, or {hint}")
        return cands[0]
    text = str(spec).strip()
    if text.lstrip("-").isdigit():
        idx = int(text)
        match = [d for d in devs if d["index"] == idx]
        if not match:
            raise DeviceError(
                f"--device {idx}: no such device (input devices: {_inputs_summary(devs)}); {hint}"
            )
        dev = match[0]
    else:
        low = text.lower()
        exact = [d for d in devs if d["name"].lower() == low]
        subs = [d for d in devs if low in d["name"].lower()]
        subs_in = [d for d in subs if d["max_input_channels"] > 0]
        if exact:
            dev = exact[0]
        elif len(subs_in) == 1 or (subs_in and len({d["name"] for d in subs_in}) == 1):
            dev = subs_in[0]
        elif len(subs_in) > 1:
            names = "; ".join(f"{d['index']}: {d['name']}" for d in subs_in)
            raise DeviceError(f"--device '{text}' matches several input devices ({names}); give the index")
        elif subs:
            dev = subs[0]
        else:
            raise DeviceError(
                f"--device '{text}': no device has that name (input devices: {_inputs_summary(devs)}); {hint}"
            )
    if dev["max_input_channels"] < 1:
        raise DeviceError(
            f"--device {text}: '{dev['name']}' has no input channels (it is output only); "
            f"choose an input device ({_inputs_summary(devs)})"
        )
    return dev


class MicSource:
    """Mono float32 blocks from an input device.

    ``with MicSource(device, rate=16000) as mic: block = mic.read()``. ``rate`` is
    asked of the device; if the device refuses it, its default rate is used instead and
    :attr:`rate` says which (the analysis resamples). ``block_s``: the duration of one
    block in seconds, whatever rate the device was opened at (:attr:`blocksize` says how
    many frames that is); 0 lets PortAudio choose. ``overflows`` counts input overflows
    reported by PortAudio and ``dropped`` blocks lost to a full queue; neither stops the
    recording. ``last_callback``: :func:`time.monotonic` of the newest block's arrival.
    """

    last_callback = None

    def __init__(self, device=None, rate: int = 16000, block_s: float = 0.0, max_queue_s: float = 30.0):
        self.device = find_input_device(device)
        self.requested_rate = int(rate)
        self.rate = int(rate)
        self.block_s = float(block_s)
        self.blocksize = self.frames_per_block(self.rate)
        self.max_queue_s = float(max_queue_s)
        self.overflows = 0
        self.dropped = 0
        self.frames = 0
        self._q: queue.Queue = queue.Queue()
        self._stream = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.device["name"]

    def frames_per_block(self, rate: int) -> int:
        """Frames in one block of :attr:`block_s` seconds at ``rate`` (0: PortAudio chooses)."""
        return max(16, int(round(rate * self.block_s))) if self.block_s > 0 else 0

    def _callback(self, indata, frames, time_info, status):  # PortAudio thread: copy and count only
        self.last_callback = time.monotonic()
        if status and status.input_overflow:
            self.overflows += 1
        if self._q.qsize() * max(frames, 1) > self.max_queue_s * self.rate:
            self.dropped += 1
            return
        self._q.put_nowait(indata[:, 0].copy())

    def _open(self, rate: int):
        sd = _sd()
        return sd.InputStream(
            device=self.device["index"], channels=1, samplerate=rate, dtype="float32",
            blocksize=self.frames_per_block(rate), callback=self._callback,
        )

    def start(self) -> "MicSource":
        """Open the stream (at the requested rate, else the device's own) and start it.
        A stream that opened but would not start is closed again before the error."""
        from face3d.audio import quiet

        sd = _sd()
        stream = None
        quiet.hold()          # PortAudio's own failure lines stay off the terminal
        try:
            try:
                stream = self._open(self.requested_rate)
                rate = self.requested_rate
            except sd.PortAudioError:
                rate = int(round(self.device["default_samplerate"] or 48000))
                stream = self._open(rate)
            self.rate, self.blocksize = rate, self.frames_per_block(rate)
            stream.start()
        except sd.PortAudioError as exc:
            if stream is not None:
                try:
                    stream.close()
                except Exception:  # noqa: BLE001 - the start error is the one to report
                    pass
            quiet.release()
            raise DeviceError(
                f"cannot open input device {self.device['index']} '{self.name}' ({exc}); "
                "check it is connected and not in use, or pick another with --device"
            ) from None
        except BaseException:
            quiet.release()
            raise
        self._stream = stream
        return self

    def read(self, timeout: float | None = 0.5):
        """The next mono block (float32), or None if none came within ``timeout`` seconds."""
        try:
            b = self._q.get(timeout=timeout)
        except queue.Empty:
            return None
        self.frames += b.shape[0]
        return b

    def drain(self) -> list:
        """Every block already queued (after :meth:`stop`)."""
        out = []
        while True:
            try:
                b = self._q.get_nowait()
            except queue.Empty:
                return out
            self.frames += b.shape[0]
            out.append(b)

    @property
    def active(self) -> bool:
        """Whether the stream is running (False once the device failed or it was stopped)."""
        s = self._stream
        try:
            return bool(s is not None and s.active)
        except Exception:  # noqa: BLE001 - a broken stream is not active
            return False

    def stop(self) -> None:
        """Stop and close the stream (no more blocks arrive after this returns). A stream
        whose device failed may raise DeviceError, after it is closed."""
        from face3d.audio import quiet

        s, self._stream = self._stream, None
        if s is None:
            return
        try:
            s.stop()
        except Exception as exc:  # noqa: BLE001 - PortAudioError from a dead device
            problem = exc
        else:
            problem = None
        try:
            s.close()
        except Exception as exc:  # noqa: BLE001
            problem = problem or exc
        finally:
            quiet.release()
        if problem is not None:
            raise DeviceError(f"input device '{self.name}' failed while stopping ({problem})")

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False
