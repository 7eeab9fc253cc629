"""Helpers for the video and container tests: write audio (and video) files with PyAV."""

from __future__ import annotations

from pathlib import Path

import numpy as np

#: suffix -> (container format, audio codec, audio rate or None for the input's)
AUDIO_KINDS = {
    "m4a": ("ipod", "aac", None),
    "mp3": ("mp3", "libmp3lame", None),
    "opus": ("ogg", "libopus", 48000),
    "mp4": ("mp4", "aac", None),
    "mkv": ("matroska", "libopus", 48000),
    "webm": ("webm", "libopus", 48000),
}


def write_media(path: Path, x: np.ndarray | None, rate: int, *, video: bool = False, seconds: float | None = None) -> Path:
    """Encode mono float samples ``x`` at ``rate`` into ``path`` (format from the suffix);
    with ``video`` add a small H.264/VP9 picture track; ``x=None`` writes video only."""
    import av

    fmt, codec, out_rate = AUDIO_KINDS[path.suffix.lstrip(".")]
    with av.open(str(path), "w", format=fmt) as c:
        vs = None
        if video:
            vs = c.add_stream("libvpx-vp9" if fmt == "webm" else "libx264", rate=10)
            vs.width, vs.height, vs.pix_fmt = 64, 48, "yuv420p"
        a = None
        if x is not None:
            a = c.add_stream(codec, rate=out_rate or rate, layout="mono")
            resampler = av.AudioResampler(format=a.codec_context.format.name, layout="mono", rate=out_rate or rate)
        n_video = int(round((seconds if seconds is not None else len(x) / rate) * 10)) if vs is not None else 0
        for i in range(n_video):
            img = np.full((48, 64, 3), (i * 20) % 255, np.uint8)
            for p in vs.encode(av.VideoFrame.from_ndarray(img, format="rgb24").reformat(format="yuv420p")):
                c.mux(p)
        if a is not None:
            block = 4096
            for start in range(0, len(x), block):
                chunk = np.ascontiguousarray(x[start:start + block], np.float32)[None, :]
                frame = av.AudioFrame.from_ndarray(chunk, format="flt", layout="mono")
                frame.sample_rate = rate
                frame.pts = start
                frame.time_base = __import__("fractions").Fraction(1, rate)
                for f in resampler.resample(frame):
                    for p in a.encode(f):
                        c.mux(p)
            for f in resampler.resample(None):
                for p in a.encode(f):
                    c.mux(p)
            for p in a.encode(None):
                c.mux(p)
        if vs is not None:
            for p in vs.encode(None):
                c.mux(p)
    return path
