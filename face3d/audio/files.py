"""Reading audio files.

:func:`load_audio` reads WAV, FLAC, OGG (anything libsndfile reads), and through PyAV
(:mod:`face3d.audio.decode`) MP3, M4A/AAC, Opus and the sound of MP4/MOV/MKV/WebM videos, at any sample rate,
integer or float, mono or multichannel, mixes down to mono (mean of channels) and
resamples with soxr to the rate the caller asks for (this module knows nothing of the
analysis; :mod:`face3d.pipeline` asks for its rate). Every problem becomes an
:class:`~face3d.errors.AudioError` that names the file and says what to do.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import numpy as np

from face3d.errors import AudioError

#: File types libsndfile reads that we document (others libsndfile knows work too).
SUPPORTED = ("wav", "flac", "ogg")


def check_samples(x: np.ndarray, label: str) -> np.ndarray:
    """Validate decoded samples: non-empty and finite. Returns float32 mono."""
    x = np.asarray(x)
    if x.ndim == 2:
        x = x.mean(axis=1, dtype=np.float64) if x.shape[1] > 1 else x[:, 0]
    elif x.ndim != 1:
        raise AudioError(f"{label}: samples must be 1-D (mono) or 2-D (frames x channels), got shape {x.shape}")
    if x.shape[0] == 0:
        raise AudioError(f"{label}: holds no audio (zero length); record or export it again")
    if not np.issubdtype(x.dtype, np.number):
        raise AudioError(f"{label}: samples are not numbers ({x.dtype})")
    if np.issubdtype(x.dtype, np.integer):
        info = np.iinfo(x.dtype)
        x = x.astype(np.float64) / float(max(abs(info.min), info.max))
    bad = ~np.isfinite(x)
    if bad.any():
        first = int(np.argmax(bad))
        raise AudioError(
            f"{label}: {int(bad.sum())} samples are NaN or infinite (first at sample {first}); "
            "the file is corrupt, re-export it"
        )
    return np.ascontiguousarray(x, dtype=np.float32)


def resample(x: np.ndarray, rate: int, target: int) -> np.ndarray:
    """Resample mono float samples from ``rate`` to ``target`` with soxr (high quality)."""
    if int(rate) == int(target):
        return np.ascontiguousarray(x, dtype=np.float32)
    import soxr

    y = soxr.resample(np.asarray(x, dtype=np.float32), int(rate), int(target), quality="HQ")
    return np.ascontiguousarray(y, dtype=np.float32)


@contextlib.contextmanager
def _native_stderr_silenced():
    """File descriptor 2 points at /dev/null for the block: libsndfile's MP3 decoder
    (libmpg123) prints its own "Note: Illegal Audio-MPEG-Header" lines there for a file
    that is not MP3; face3d says what is wrong in one line of its own."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, 2)
        finally:
            os.close(null)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def load_audio(path, rate: int | None = None) -> tuple[np.ndarray, int]:
    """Read an audio file as float32 mono samples at ``rate`` (None: the file's own rate).

    Returns ``(samples, rate)``. Raises AudioError for a missing, empty, unreadable or
    non-audio file, zero-length audio, or NaN/infinite samples.
    """
    import soundfile as sf

    label = str(path)
    p = Path(path)
    check_file(p, label)
    try:
        with _native_stderr_silenced(), sf.SoundFile(str(p)) as f:
            file_rate = int(f.samplerate)
            subtype = f.subtype or ""
            if f.frames == 0:
                raise AudioError(f"{label}: holds no audio (zero length); record or export it again")
            if subtype.startswith("PCM_") or subtype in ("PCM_U8",):
                data = f.read(dtype="float32", always_2d=True)
            else:
                data = f.read(dtype="float64", always_2d=True)
    except AudioError:
        raise
    except (sf.LibsndfileError, RuntimeError, ValueError, TypeError):
        # MP3, M4A, Opus, video files...: FFmpeg through PyAV (one-line errors of its own).
        from face3d.audio.decode import decode_audio

        data, file_rate = decode_audio(p, label)
    except OSError as exc:
        raise AudioError(f"{label}: cannot be read ({exc.strerror or exc}); check the file") from None
    if file_rate <= 0:
        raise AudioError(f"{label}: invalid sample rate {file_rate}; re-export the file")
    x = check_samples(data, label)
    if rate is None or int(rate) == file_rate:
        return x, file_rate
    return resample(x, file_rate, int(rate)), int(rate)


def audio_blocks(path, rate: int | None = None, block: int = 65536):
    """Read an audio file a block at a time, as float32 mono samples at ``rate`` (None: the
    file's own): a generator whose first item is the rate, then the blocks (memory does not
    grow with the file's length). Their concatenation is exactly :func:`load_audio`'s
    samples (the streaming soxr resampler gives the same numbers as the one-shot one).
    The errors of :func:`load_audio` come from the first ``next``, or for samples that are
    NaN or infinite from the block that holds them."""
    import soundfile as sf

    label = str(path)
    p = Path(path)
    check_file(p, label)
    try:
        with _native_stderr_silenced():
            f = sf.SoundFile(str(p))
    except (sf.LibsndfileError, RuntimeError, ValueError, TypeError):
        from face3d.audio.decode import decode_blocks

        raw = decode_blocks(p, label)
        file_rate = next(raw)
    except OSError as exc:
        raise AudioError(f"{label}: cannot be read ({exc.strerror or exc}); check the file") from None
    else:
        file_rate = int(f.samplerate)
        if f.frames == 0:
            f.close()
            raise AudioError(f"{label}: holds no audio (zero length); record or export it again")
        raw = _sf_blocks(f, block)
    if file_rate <= 0:
        raise AudioError(f"{label}: invalid sample rate {file_rate}; re-export the file")
    out_rate = file_rate if rate is None else int(rate)
    yield out_rate
    rs = None
    if out_rate != file_rate:
        import soxr

        rs = soxr.ResampleStream(file_rate, out_rate, 1, dtype="float32", quality="HQ")
    done = 0
    for data in raw:
        x = _mono_block(data, label, done)
        done += x.shape[0]
        if rs is not None:
            x = rs.resample_chunk(x)
        if x.shape[0]:
            yield x
    if rs is not None:
        x = rs.resample_chunk(np.zeros(0, np.float32), last=True)
        if x.shape[0]:
            yield x


def _sf_blocks(f, block: int):
    """A SoundFile's frames in blocks, read as :func:`load_audio` reads them."""
    with f:
        subtype = f.subtype or ""
        dtype = "float32" if subtype.startswith("PCM_") else "float64"
        while True:
            data = f.read(block, dtype=dtype, always_2d=True)
            if not data.shape[0]:
                return
            yield data


def _mono_block(data: np.ndarray, label: str, offset: int) -> np.ndarray:
    """A decoded block -> float32 mono, as :func:`check_samples` does it (per sample, so
    blocks give what the whole file gives)."""
    x = data.mean(axis=1, dtype=np.float64) if data.shape[1] > 1 else data[:, 0]
    bad = ~np.isfinite(x)
    if bad.any():
        first = offset + int(np.argmax(bad))
        raise AudioError(f"{label}: samples are NaN or infinite (the first at sample {first}); "
                         "the file is corrupt, re-export it")
    return np.ascontiguousarray(x, dtype=np.float32)


def check_file(p: Path, label: str) -> None:
    """AudioError (one line) unless ``p`` is a readable, non-empty file."""
    if not p.exists():
        raise AudioError(f"{label}: no such file; check the path")
    if p.is_dir():
        raise AudioError(f"{label}: is a folder, not an audio file; give an audio or video file with sound")
    if not os.access(p, os.R_OK):
        raise AudioError(f"{label}: cannot be read (permission denied); check its permissions")
    if p.stat().st_size == 0:
        raise AudioError(f"{label}: file is empty (0 bytes); give an audio or video file with sound in it")
