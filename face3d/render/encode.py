"""Writing frames to a video file (PyAV: H.264/AAC MP4, VP9 WebM with alpha) or a PNG sequence.

An :class:`EncoderThread` takes frames from the renderer through a short queue (so a long
video never holds more than a few frames) and encodes them beside it. The sound, given
as mono float samples (an array, or an iterable of blocks read as they are needed) and
their rate, is muxed as it goes: before video frame ``i`` the audio up to
``(i + 1) / fps``, so the two tracks interleave and a player can start early.
MP4/MOV files get their index (moov atom) at the front (``faststart``) for the web.

The encoder's defaults were chosen by measuring on the 2-core machine with llvmpipe
drawing beside it (``bench/video.py --sweep``, CPU seconds per second of 1280x720 video,
render included): x264 ``ultrafast`` 0.36-0.40, ``superfast`` 0.42-0.51, ``veryfast``
0.52-0.59; on two shared cores CPU time is what limits the speed. Its files are about
1.6x those of ``superfast`` (about 1 Mbit/s for a talking head at 1280x720): ``--preset``
trades the other way.
"""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import tempfile
import threading
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from face3d.errors import OutputError, UsageError

#: Output suffix -> (container format, default codec).
CONTAINERS = {
    ".mp4": ("mp4", "h264"),
    ".m4v": ("mp4", "h264"),
    ".mov": ("mov", "h264"),
    ".mkv": ("matroska", "h264"),
    ".webm": ("webm", "vp9"),
}
#: Codec option -> FFmpeg encoder.
ENCODERS = {"h264": "libx264", "vp9": "libvpx-vp9"}
AAC_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 64000, 88200, 96000)
DEFAULT_CRF = {"h264": 20, "vp9": 32}
H264_PRESET = "ultrafast"
ENCODER_THREADS = 2


@dataclass
class EncodeOptions:
    codec: str = "h264"
    crf: int | None = None
    alpha: bool = False
    preset: str = H264_PRESET
    threads: int = ENCODER_THREADS


def container_for(path, codec: str | None, alpha: bool) -> tuple[str, str]:
    """(container format, codec) for an output path; UsageError for what cannot be written."""
    suffix = Path(path).suffix.lower()
    if suffix not in CONTAINERS:
        raise UsageError(f"-o {path}: unknown video type '{suffix or '(none)'}'; "
                         f"end the name in {', '.join(CONTAINERS)} (or use --frames DIR for PNG files)")
    fmt, default = CONTAINERS[suffix]
    codec = codec or default
    if codec not in ENCODERS:
        raise UsageError(f"--codec {codec}: unknown codec; use one of {', '.join(ENCODERS)}")
    if fmt == "webm" and codec != "vp9":
        raise UsageError(f"-o {path}: WebM holds VP9 video, not {codec}; use --codec vp9 or an .mp4 name")
    if alpha and codec != "vp9":
        raise UsageError(f"--background transparent needs a WebM (VP9 with alpha) or --frames DIR; "
                         f"-o {path} is {codec}, which has no alpha: name it .webm")
    import av

    if ENCODERS[codec] not in av.codecs_available:
        raise UsageError(f"--codec {codec}: this FFmpeg build has no {ENCODERS[codec]} encoder; "
                         f"use one of {', '.join(c for c, e in ENCODERS.items() if e in av.codecs_available) or 'none'}")
    return fmt, codec


def check_video_size(size: tuple[int, int]) -> None:
    w, h = size
    if w % 2 or h % 2:
        raise UsageError(f"--size {w}x{h}: video needs even width and height (4:2:0 colour); "
                         f"use --size {w + w % 2}x{h + h % 2}")


def _rate(fps: float) -> Fraction:
    return Fraction(float(fps)).limit_denominator(1001)


class YuvCanvas:
    """The picture being encoded as BT.709 limited-range 4:2:0 planes (one (H*3/2, W) array:
    Y, then U, then V), converted from RGB only where it changed: the changed box, on even
    pixels, plus 8 pixels of margin so that the chroma filter sees the same neighbours as a
    whole-frame conversion. The planes are the same as converting every frame whole."""

    MARGIN = 8

    def __init__(self, size):
        from av.video.reformatter import VideoReformatter

        self.w, self.h = size
        self.reformatter = VideoReformatter()  # keeps its converter from call to call
        self.flat: np.ndarray | None = None

    def _convert(self, rgb: np.ndarray) -> np.ndarray:
        import av

        frame = av.VideoFrame.from_numpy_buffer(np.ascontiguousarray(rgb), format="rgb24")
        frame = self.reformatter.reformat(frame, format="yuv420p", dst_colorspace="ITU709", src_color_range="JPEG",
                                          dst_color_range="MPEG", threads=1)
        return frame.to_ndarray().reshape(-1)

    @staticmethod
    def _planes(flat: np.ndarray, w: int, h: int):
        n, c = w * h, (w // 2) * (h // 2)
        return (flat[:n].reshape(h, w), flat[n:n + c].reshape(h // 2, w // 2),
                flat[n + c:n + 2 * c].reshape(h // 2, w // 2))

    def update(self, img: np.ndarray, rect="full") -> np.ndarray:
        """The planes of ``img`` (the whole (H, W, 3) frame), given that it differs from the
        previous one only inside ``rect`` = (x0, y0, x1, y1) (top row 0); None: nowhere;
        "full": anywhere."""
        W, H, M = self.w, self.h, self.MARGIN
        if self.flat is None or isinstance(rect, str):
            self.flat = self._convert(img)
            return self.flat
        if rect is None:
            return self.flat
        x0, y0, x1, y1 = rect
        ix0, iy0, ix1, iy1 = x0 & ~1, y0 & ~1, min(W, x1 + (x1 & 1)), min(H, y1 + (y1 & 1))
        X0, Y0, X1, Y1 = max(0, ix0 - M), max(0, iy0 - M), min(W, ix1 + M), min(H, iy1 + M)
        part = self._planes(self._convert(img[Y0:Y1, X0:X1]), X1 - X0, Y1 - Y0)
        whole = self._planes(self.flat, W, H)
        for k, (dst, src) in enumerate(zip(whole, part)):
            d = 1 if k == 0 else 2
            dst[iy0 // d:iy1 // d, ix0 // d:ix1 // d] = src[(iy0 - Y0) // d:(iy1 - Y0) // d, (ix0 - X0) // d:(ix1 - X0) // d]
        return self.flat


class VideoSink:
    """One video file (plus an optional sound track) written with PyAV."""

    def __init__(self, path, fmt: str, size, fps: float, opts: EncodeOptions, audio=None):
        import av

        self.fps, self.size, self.alpha = float(fps), tuple(size), opts.alpha
        options = {"movflags": "+faststart"} if fmt in ("mp4", "mov") else {}
        self.container = av.open(str(path), "w", format=fmt, options=options)
        try:
            vs = self.container.add_stream(ENCODERS[opts.codec], rate=_rate(fps))
            vs.width, vs.height = self.size
            vs.pix_fmt = "yuva420p" if opts.alpha else "yuv420p"
            crf = DEFAULT_CRF[opts.codec] if opts.crf is None else int(opts.crf)
            if opts.codec == "h264":
                vs.options = {"crf": str(crf), "preset": opts.preset}
            else:
                # "good" keeps a clear alpha exactly 0 ("realtime" leaves 1s in it) at about half the speed
                vs.options = {"crf": str(crf), "b": "0", "deadline": "good", "cpu-used": "8", "row-mt": "1"}
            vs.codec_context.thread_count = max(1, int(opts.threads))
            # BT.709, limited range, tagged: what players assume for HD video anyway.
            cc = vs.codec_context
            cc.colorspace = cc.color_primaries = cc.color_trc = 1
            cc.color_range = 1
            from av.video.reformatter import VideoReformatter

            self.reformatter = VideoReformatter()  # keeps its converter from frame to frame
            self.yuv = None if opts.alpha else YuvCanvas(self.size)
            self.video = vs
            self.audio = self.resampler = None
            if audio is not None:
                samples, rate = audio
                if isinstance(samples, np.ndarray):
                    samples = [samples]
                self._blocks = iter(samples)  # mono float blocks, read as the video needs them
                self._pending = np.zeros(0, np.float32)
                self.rate = int(rate)
                if fmt == "webm":
                    a = self.container.add_stream("libopus", rate=48000, layout="mono")
                else:
                    a = self.container.add_stream("aac", rate=self.rate if self.rate in AAC_RATES else 48000, layout="mono")
                a.bit_rate = 128000
                self.audio = a
                self.resampler = av.AudioResampler(format=a.codec_context.format.name, layout="mono",
                                                   rate=a.codec_context.sample_rate)
                self.sent = 0
        except BaseException:
            self.container.close()
            raise

    def _audio_until(self, end: int | None) -> None:
        """Encode the sound up to sample ``end`` (None: all of it), reading its blocks as needed."""
        import av

        while end is None or self.sent < end:
            if not self._pending.shape[0]:
                block = next(self._blocks, None)
                if block is None:
                    return
                self._pending = np.ascontiguousarray(block, np.float32).reshape(-1)
                continue
            n = min(self._pending.shape[0], 8192, (end - self.sent) if end is not None else 8192)
            frame = av.AudioFrame.from_ndarray(self._pending[None, :n], format="flt", layout="mono")
            frame.sample_rate = self.rate
            frame.pts, frame.time_base = self.sent, Fraction(1, self.rate)
            self._pending = self._pending[n:]
            self.sent += n
            for f in self.resampler.resample(frame):
                for p in self.audio.encode(f):
                    self.container.mux(p)

    def write(self, i: int, img: np.ndarray, rect="full") -> None:
        """Frame ``i``; ``rect``: where it differs from frame ``i - 1`` (see :class:`YuvCanvas`)."""
        import av

        if self.yuv is not None:
            planes = self.yuv.update(img, rect)
            frame = av.VideoFrame.from_ndarray(planes.reshape(-1, self.size[0]), format="yuv420p")
        else:
            # The frame is ours (the renderer hands out a copy): wrap it without copying.
            frame = av.VideoFrame.from_numpy_buffer(np.ascontiguousarray(img), format="rgba")
            frame = self.reformatter.reformat(frame, format=self.video.pix_fmt, dst_colorspace="ITU709",
                                              src_color_range="JPEG", dst_color_range="MPEG", threads=1)
        frame.pts, frame.time_base = i, 1 / _rate(self.fps)
        if self.audio is not None:
            self._audio_until(int(round((i + 1) / self.fps * self.rate)))
        for p in self.video.encode(frame):
            self.container.mux(p)

    def close(self) -> None:
        for p in self.video.encode(None):
            self.container.mux(p)
        if self.audio is not None:
            self._audio_until(None)
            for f in self.resampler.resample(None):
                for p in self.audio.encode(f):
                    self.container.mux(p)
            for p in self.audio.encode(None):
                self.container.mux(p)
        self.container.close()

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self.container.close()


class PngSink:
    """Frames as ``frame_000000.png``... in a folder (RGBA when transparent)."""

    def __init__(self, folder):
        self.folder = Path(folder)

    def write(self, i: int, img: np.ndarray, rect=None) -> None:
        from PIL import Image

        Image.fromarray(img).save(self.folder / f"frame_{i:06d}.png", format="PNG", compress_level=1)

    def close(self) -> None:
        pass

    def abort(self) -> None:
        pass


class EncoderThread:
    """Encode frames in a thread: ``put(frame)`` or ``put((frame, rect))`` (blocks while
    ``depth`` frames wait), then
    ``finish()``; an encoder error is raised in the caller at the next ``put``/``finish``."""

    def __init__(self, sink, depth: int = 3):
        self.sink = sink
        self.queue: queue.Queue = queue.Queue(maxsize=depth)
        self.error: BaseException | None = None
        self.count = 0
        self.thread = threading.Thread(target=self._run, name="face3d-encoder", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        i = 0
        while True:
            item = self.queue.get()
            if item is None:
                return
            if self.error is not None:
                continue  # drain after a failure
            try:
                self.sink.write(i, *item) if isinstance(item, tuple) else self.sink.write(i, item)
                i += 1
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                self.error = exc

    def _raise(self) -> None:
        if self.error is not None:
            raise self.error

    def put(self, frame: np.ndarray) -> None:
        while True:
            self._raise()
            try:
                self.queue.put(frame, timeout=0.2)
                self.count += 1
                return
            except queue.Full:
                continue

    def _stop(self) -> None:
        while True:
            try:
                self.queue.put(None, timeout=0.2)
                break
            except queue.Full:
                with contextlib.suppress(queue.Empty):
                    self.queue.get_nowait()
        self.thread.join()

    def finish(self) -> None:
        self._stop()
        self._raise()
        self.sink.close()

    def abort(self) -> None:
        self.error = self.error or RuntimeError("aborted")
        self._stop()
        self.sink.abort()


def output_error(path, exc: BaseException) -> OutputError:
    """A one-line error for a failure while writing ``path`` (disk full, permissions...)."""
    reason = getattr(exc, "strerror", None) or (str(exc).splitlines() or [type(exc).__name__])[0]
    return OutputError(f"cannot write {path}: {reason}; free some space or choose another path")


@contextlib.contextmanager
def atomic_dir(path):
    """Yield a temporary folder beside ``path``; it becomes ``path`` when the block succeeds.

    ``path`` must not exist, or be an empty folder (replaced). On any exception the
    temporary folder and what is in it are removed.
    """
    target = Path(path)
    parent = target.parent if str(target.parent) else Path(".")
    if target.exists() and not (target.is_dir() and not any(target.iterdir())):
        raise OutputError(f"--frames {target}: exists and is not an empty folder; give a new folder name")
    if not parent.is_dir():
        raise OutputError(f"--frames {target}: folder {parent} does not exist; create it first")
    if not os.access(parent, os.W_OK):
        raise OutputError(f"--frames {target}: folder {parent} is not writable; choose another path")
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=parent))
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())
        if target.is_dir():
            target.rmdir()
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
