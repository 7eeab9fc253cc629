"""Decoding the sound of any audio or video container with PyAV (FFmpeg).

:func:`decode_audio` reads the first audio track of MP3, M4A/AAC, MP4/MOV/MKV/WebM,
Opus and everything else FFmpeg knows, as float32 samples (frames x channels) at the
file's own rate. :func:`face3d.audio.files.load_audio` falls back to it for the files
libsndfile cannot read. A video without an audio track, or a file with no decodable
audio, is an :class:`~face3d.errors.AudioError` that names the file.
"""

from __future__ import annotations

import numpy as np

from face3d.errors import AudioError

#: What users may give, for messages.
FORMATS = "WAV, FLAC, OGG, MP3, M4A, Opus, or a video (MP4, MOV, MKV, WebM) with sound"


def _first_line(exc: BaseException) -> str:
    if isinstance(getattr(exc, "strerror", None), str) and exc.strerror:
        return exc.strerror  # FFmpeg's reason without the errno and the path
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


#: Extensions of files that hold sound only: one of these without an audio track is not a
#: video without sound but a file that is not audio at all (text, a picture...).
AUDIO_ONLY = {".mp3", ".wav", ".flac", ".ogg", ".oga", ".opus", ".m4a", ".aac", ".aif", ".aiff", ".au",
              ".caf", ".w64", ".wma"}

#: FFmpeg's names for "containers" it makes of text and pictures.
_NOT_VIDEO = {"tty", "image2", "image2pipe"}


def _looks_like_video(path, container) -> bool:
    import os

    if os.path.splitext(str(path))[1].lower() in AUDIO_ONLY:
        return False
    names = set((container.format.name or "").split(","))
    return not (names & _NOT_VIDEO or any(n.endswith("_pipe") for n in names))


def decode_audio(path, label: str | None = None) -> tuple[np.ndarray, int]:
    """The first audio track of ``path`` as ((frames, channels) float32, rate)."""
    import av

    label = label or str(path)
    try:
        container = av.open(str(path), mode="r")
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise AudioError(f"{label}: not a readable audio file ({_first_line(exc)}); give {FORMATS}") from None
    except OSError as exc:
        raise AudioError(f"{label}: cannot be read ({exc.strerror or exc}); check the file") from None
    with container:
        if not container.streams.audio:
            if container.streams.video and _looks_like_video(path, container):
                raise AudioError(f"{label}: is a video without an audio track; give a file with sound in it")
            raise AudioError(f"{label}: not a readable audio file (no audio track found); give {FORMATS}")
        stream = container.streams.audio[0]
        stream.thread_type = "AUTO"
        length = None  # samples the container says the track holds, when it says
        if stream.duration and stream.time_base and stream.codec_context.sample_rate:
            length = int(round(float(stream.duration * stream.time_base) * stream.codec_context.sample_rate))
        chunks: list[np.ndarray] = []
        rate = 0
        resampler = None
        try:
            for frame in container.decode(stream):
                if resampler is None:
                    rate = int(frame.sample_rate)
                    # Planar float at the file's own rate and channels; the caller mixes down.
                    resampler = av.AudioResampler(format="fltp", layout=frame.layout, rate=rate)
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray())
            if resampler is not None:
                for out in resampler.resample(None):
                    chunks.append(out.to_ndarray())
        except (av.error.FFmpegError, ValueError) as exc:
            if not chunks:
                raise AudioError(f"{label}: not a readable audio file ({_first_line(exc)}); give {FORMATS}") from None
            # A damaged tail: keep what decoded (players do the same).
    if not chunks or rate <= 0:
        raise AudioError(f"{label}: holds no decodable audio (zero length); record or export it again")
    data = np.concatenate(chunks, axis=1).T  # (frames, channels)
    if length and 0 < length < data.shape[0]:
        data = data[:length]  # the encoder's padding after the end (AAC, Opus frames)
    if data.shape[0] == 0:
        raise AudioError(f"{label}: holds no audio (zero length); record or export it again")
    return np.ascontiguousarray(data, dtype=np.float32), rate
