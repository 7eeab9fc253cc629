"""Reading an audio file a block at a time, so that a long file never sits whole in memory.

:class:`AudioBlocks` opens a file as :func:`face3d.audio.files.load_audio` does (the same
checks and one-line :class:`~face3d.errors.AudioError` messages; libsndfile first, then
FFmpeg through PyAV) and iterates over it as mono float32 blocks at the file's own rate:
the blocks joined are the samples ``load_audio(path)`` returns (for MP3, FFmpeg's decoder
instead of libsndfile's: within 1e-5).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from face3d.errors import AudioError

#: Samples per block (about 1.5 s at 44.1 kHz).
BLOCK = 65536


class AudioBlocks:
    """``for block in AudioBlocks(path)``: (n,) float32 mono blocks at :attr:`rate`.
    :attr:`frames`: the length the file's header gives (None when it gives none); after a
    full pass, :attr:`read` is the true length. Each pass reads the file again."""

    def __init__(self, path, block: int = BLOCK):
        import soundfile as sf

        self.path, self.label, self.block = Path(path), str(path), int(block)
        p = self.path
        from face3d.audio.files import check_file

        check_file(p, self.label)
        self.read = 0
        try:
            with sf.SoundFile(str(p)) as f:
                self.rate, self.frames = int(f.samplerate), int(f.frames)
                subtype = f.subtype or ""
            if subtype.startswith("MPEG"):
                # libsndfile's MP3 reads in parts are not those of one whole read (and
                # libmpg123 prints errors at some part sizes): FFmpeg reads MP3 here
                raise ValueError("MP3")
            self.dtype = "float32" if subtype.startswith("PCM_") else "float64"
            self._reader = self._sndfile
        except (sf.LibsndfileError, RuntimeError, ValueError, TypeError):
            self._reader = self._ffmpeg
            self.rate, self.frames = self._probe()
        except OSError as exc:
            raise AudioError(f"{self.label}: cannot be read ({exc.strerror or exc}); check the file") from None
        if self.frames == 0:
            raise AudioError(f"{self.label}: holds no audio (zero length); record or export it again")
        if self.rate <= 0:
            raise AudioError(f"{self.label}: invalid sample rate {self.rate}; re-export the file")

    @property
    def duration(self) -> float | None:
        """Seconds the header gives (None when it gives none)."""
        return None if self.frames is None else self.frames / self.rate

    def __iter__(self):
        from face3d.audio.files import check_samples

        self.read = 0
        for data in self._reader():
            if data.shape[0]:
                x = check_samples(data, f"{self.label} (from sample {self.read})")
                self.read += x.shape[0]
                yield x
        if self.read == 0:
            raise AudioError(f"{self.label}: holds no decodable audio (zero length); record or export it again")

    def _sndfile(self):
        import soundfile as sf

        with sf.SoundFile(str(self.path)) as f:
            while True:
                data = f.read(self.block, dtype=self.dtype, always_2d=True)
                if data.shape[0] == 0:
                    return
                yield data

    def _open(self):
        import av

        from face3d.audio.decode import FORMATS, first_line

        try:
            container = av.open(str(self.path), mode="r")
        except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
            raise AudioError(f"{self.label}: not a readable audio or video file ({first_line(exc)}); give {FORMATS}") from None
        except OSError as exc:
            raise AudioError(f"{self.label}: cannot be read ({exc.strerror or exc}); check the file") from None
        if not container.streams.audio:
            video = bool(container.streams.video)
            container.close()
            if video:
                raise AudioError(f"{self.label}: is a video without an audio track; give a file with sound in it")
            raise AudioError(f"{self.label}: holds no audio track; give {FORMATS}")
        return container

    def _probe(self):
        with self._open() as container:
            stream = container.streams.audio[0]
            rate = int(stream.codec_context.sample_rate or 0)
            length = None
            if stream.duration and stream.time_base and rate:
                length = int(round(float(stream.duration * stream.time_base) * rate))
            return rate, (length if length and length > 0 else None)

    def _ffmpeg(self):
        import av

        from face3d.audio.decode import first_line

        with self._open() as container:
            stream = container.streams.audio[0]
            stream.thread_type = "AUTO"
            left = self.frames  # the encoder's padding after the end is dropped (AAC, Opus)
            resampler = None
            done = 0
            try:
                for frame in container.decode(stream):
                    if resampler is None:
                        # planar float at the file's own rate and channels, mixed down by the caller
                        resampler = av.AudioResampler(format="fltp", layout=frame.layout, rate=int(frame.sample_rate))
                    for out in resampler.resample(frame):
                        data, left = _cut(out.to_ndarray().T, left)
                        done += data.shape[0]
                        yield data
                if resampler is not None:
                    for out in resampler.resample(None):
                        data, left = _cut(out.to_ndarray().T, left)
                        yield data
            except (av.error.FFmpegError, ValueError) as exc:
                if not done:
                    raise AudioError(f"{self.label}: its audio track cannot be decoded ({first_line(exc)}); "
                                     "re-export the file") from None
                # a damaged tail: keep what decoded (players do the same)


def _cut(data: np.ndarray, left):
    """``data`` up to ``left`` samples (None: no limit), and what is left after it."""
    if left is None:
        return np.ascontiguousarray(data, np.float32), None
    data = data[:max(0, left)]
    return np.ascontiguousarray(data, np.float32), left - data.shape[0]
