"""Weight tracks: blendshape weights over time, and their CSV form.

A :class:`WeightTrack` holds ``times`` (T,) in seconds (increasing), ``names`` (K shape
names) and ``values`` (T, K) float32. ``at(t)`` and ``sample(times)`` interpolate
linearly and clamp outside the track; ``at`` costs one binary search, so a viewer can
call it every frame.

CSV format (written by :func:`write_csv`)::

    frame,time_s,jawOpen,mouthWide,mouthPucker,mouthClose[,eyeBlinkLeft,...,headRoll]
    0,0.0000,0.0000,0.0000,0.0000,0.0000
    1,0.0167,0.0123,...

(the :data:`ALIVE_NAMES` columns follow the mouth's unless ``--mouth-only``; the angle
columns :data:`ANGLE_NAMES` are degrees).

one row per frame, ``time_s = frame / fps``, four decimals. :func:`read_csv` reads that
and also any CSV with a time column (``time_s``, ``time``, ``t`` or ``seconds``) and any
subset of shape columns (other columns such as ``frame`` are ignored).
"""

from __future__ import annotations

import csv
import io
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from face3d.errors import FormatError

TIME_COLUMNS = ("time_s", "time", "t", "seconds")
#: The mouth columns of ``face3d export``, in their order (the analysis produces these).
MOUTH_NAMES = ("jawOpen", "mouthWide", "mouthPucker", "mouthClose")
#: The columns that follow them unless ``--mouth-only`` (made by :mod:`face3d.analysis.alive`):
#: blink and brow weights in [0, 1], then gaze and head angles in degrees.
ALIVE_NAMES = ("eyeBlinkLeft", "eyeBlinkRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight",
               "eyeYaw", "eyePitch", "headPitch", "headYaw", "headRoll")
#: The alive columns that are angles in degrees (eye and head pose), not blendshape weights.
ANGLE_NAMES = ("eyeYaw", "eyePitch", "headPitch", "headYaw", "headRoll")
#: The fifteen Oculus/Meta visemes, short names (see :mod:`face3d.analysis.visemes15`).
VISEMES = ("sil", "PP", "FF", "TH", "DD", "kk", "CH", "SS", "nn", "RR", "aa", "E", "I", "O", "U")
#: Their columns (``--visemes``: last, after the others; summing to 1 in every frame).
VISEME_NAMES = tuple(f"viseme_{v}" for v in VISEMES)


@dataclass(frozen=True)
class WeightTrack:
    times: np.ndarray
    names: tuple
    values: np.ndarray

    def __post_init__(self):
        t = np.ascontiguousarray(self.times, dtype=np.float64).reshape(-1)
        v = np.ascontiguousarray(self.values, dtype=np.float32)
        names = tuple(str(n) for n in self.names)
        if v.ndim != 2 or v.shape != (t.shape[0], len(names)):
            raise ValueError(f"values must be (T, K) = ({t.shape[0]}, {len(names)}), got {v.shape}")
        if t.shape[0] > 1 and np.any(np.diff(t) <= 0):
            raise ValueError("times must be strictly increasing")
        object.__setattr__(self, "times", t)
        object.__setattr__(self, "values", v)
        object.__setattr__(self, "names", names)

    def __len__(self) -> int:
        return self.times.shape[0]

    @property
    def duration(self) -> float:
        """Time of the last frame (0 for an empty or one-frame track)."""
        return float(self.times[-1]) if len(self) else 0.0

    def column(self, name: str) -> np.ndarray:
        return self.values[:, self.names.index(name)]

    def as_dict(self, t: float) -> dict:
        return dict(zip(self.names, self.at(t).tolist()))

    def at(self, t: float) -> np.ndarray:
        """Weights at time ``t`` (K,) float32: linear interpolation, clamped at the ends."""
        times = self.times
        n = times.shape[0]
        if n == 0:
            return np.zeros(len(self.names), np.float32)
        if t <= times[0]:
            return self.values[0].copy()
        if t >= times[-1]:
            return self.values[-1].copy()
        i = int(np.searchsorted(times, t, side="right"))
        t0, t1 = times[i - 1], times[i]
        f = (t - t0) / (t1 - t0)
        v0, v1 = self.values[i - 1], self.values[i]
        return (v0 + np.float32(f) * (v1 - v0)).astype(np.float32)

    def sample(self, times) -> np.ndarray:
        """Weights at many times: (N,) seconds -> (N, K) float32, linear, clamped."""
        q = np.asarray(times, dtype=np.float64).reshape(-1)
        out = np.empty((q.shape[0], len(self.names)), np.float32)
        if len(self) == 0:
            out[:] = 0.0
            return out
        for k in range(len(self.names)):
            out[:, k] = np.interp(q, self.times, self.values[:, k])
        return out

    def resample(self, fps: float, duration: float | None = None) -> "WeightTrack":
        """The track at ``fps`` frames per second: frame ``i`` at ``i / fps``, up to ``duration``
        (default: the last time of this track)."""
        fps = float(fps)
        if not (fps > 0 and math.isfinite(fps)):
            raise ValueError(f"fps must be a positive number, got {fps}")
        end = self.duration if duration is None else float(duration)
        n = int(math.floor(end * fps + 1e-9)) + 1 if len(self) else 0
        times = np.arange(n, dtype=np.float64) / fps
        return WeightTrack(times, self.names, self.sample(times))


def export_columns(track: WeightTrack) -> WeightTrack:
    """``track`` with the columns of ``face3d export`` (:data:`MOUTH_NAMES`) first, zero
    where the track has none, then any other columns it has."""
    names = MOUTH_NAMES + tuple(n for n in track.names if n not in MOUTH_NAMES)
    if names == track.names:
        return track
    values = np.zeros((len(track), len(names)), np.float32)
    for j, n in enumerate(names):
        if n in track.names:
            values[:, j] = track.column(n)
    return WeightTrack(track.times, names, values)


def write_csv(track: WeightTrack, stream, fps: float | None = None) -> None:
    """Write ``track`` as CSV to a text stream; with ``fps``, resample first.

    Header ``frame,time_s,<names>``; ``time_s`` and weights with four decimals.
    Without ``fps`` the frame numbers count rows and ``time_s`` is the track's own time.
    """
    if fps is not None:
        track = track.resample(fps)
    stream.write(csv_bytes(track).decode("utf-8"))


def csv_bytes(track: WeightTrack, first: int = 0, header: bool = True) -> bytes:
    """The CSV text of :func:`write_csv` as bytes, formatted by numpy in a few array
    operations (no number formatted on its own): byte for byte what ``"%.4f"`` of each
    weight rounded to four decimals gives. The ``frame,time_s,`` start of each row is
    kept from one file to the next (files at the same frame rate share it). ``first``:
    the frame number of the first row, and ``header=False`` leaves the header out (the
    rows of a long file, a block at a time)."""
    head = (",".join(["frame", "time_s", *track.names]) + "\n").encode("utf-8") if header else b""
    return head + _rows(track, int(first))


def _rows(track: WeightTrack, first: int) -> bytes:
    header = b""
    n = len(track)
    if n == 0:
        return header
    # np.round(v, 4) is rint(v * 10**4) / 10**4, and "%.4f" of that prints the integer's digits
    k = np.rint(track.values.astype(np.float64) * 10000.0)
    if not np.all(np.abs(k) < 1e15):  # not finite, or huge: number by number
        vals = np.round(track.values.astype(np.float64), 4) + 0.0
        row = "%d,%.4f" + ",%.4f" * vals.shape[1] + "\n"
        return header + "".join(row % (first + i, t, *r) for i, (t, r) in enumerate(
            zip(track.times.tolist(), vals.tolist()))).encode("ascii")
    pre, pre_keep = _row_starts(track.times, first)
    buf, keep = _fixed4(k.astype(np.int64))
    buf[:, -1, -1] = ord("\n")
    full = np.concatenate([pre, buf.reshape(n, -1)], axis=1)
    mask = np.concatenate([pre_keep, keep.reshape(n, -1)], axis=1)
    return header + full[mask].tobytes()


def _fixed4(k: np.ndarray):
    """(n, K) int64 ten-thousandths -> ((n, K, W) uint8 text of each as ``-12.3456,``, the
    same shape of bool: which characters to keep; the padding before the digits is left out)."""
    neg = k < 0
    a = np.abs(k)
    ip, fp = np.divmod(a, 10000)
    digits = max(1, len(str(int(ip.max()))))
    w = 1 + digits + 1 + 4 + 1
    buf = np.empty(k.shape + (w,), np.uint8)
    keep = np.ones(k.shape + (w,), bool)
    buf[..., 0] = ord("-")
    keep[..., 0] = neg
    for j in range(digits):
        power = 10 ** (digits - 1 - j)
        buf[..., 1 + j] = 48 + (ip // power) % 10
        if j < digits - 1:
            keep[..., 1 + j] = ip >= power
    buf[..., 1 + digits] = ord(".")
    for j in range(4):
        buf[..., 2 + digits + j] = 48 + (fp // 10 ** (3 - j)) % 10
    buf[..., -1] = ord(",")
    return buf, keep


_STARTS: list = []  # [times, text (n, P) uint8, keep (n, P)] of the last rows made


def _row_starts(times: np.ndarray, first: int = 0):
    """``frame,time_s,`` of each row as (n, P) bytes and which of them to keep; made with
    ``"%d,%.4f,"`` and kept for the next file with the same (or the first of the same) times."""
    n = times.shape[0]
    if first == 0 and _STARTS and _STARTS[0].shape[0] >= n and np.array_equal(_STARTS[0][:n], times):
        return _STARTS[1][:n], _STARTS[2][:n]
    rows = np.array([b"%d,%.4f," % (first + i, t) for i, t in enumerate(times.tolist())])
    text = rows.view(np.uint8).reshape(n, -1).copy()
    if first == 0:
        _STARTS[:] = [times.copy(), text, text != 0]
    return text, text != 0


def save_csv(track: WeightTrack, path, fps: float | None = None) -> None:
    """Write ``track`` to ``path`` atomically (see :mod:`face3d.fileio`)."""
    from face3d.fileio import write_atomic

    write_atomic(path, csv_bytes(track if fps is None else track.resample(fps)))


def read_csv(source, names=None) -> WeightTrack:
    """Read a weight CSV from a path or a text stream.

    Needs a time column (``time_s``, ``time``, ``t`` or ``seconds``; case-insensitive)
    and at least one shape column. With ``names`` (e.g. the rig's shapes), keep only
    those columns that are in it and fail if none is; otherwise every column but the
    time and ``frame`` columns is a shape. Empty cells read as 0. Times must increase.
    Problems raise :class:`~face3d.errors.FormatError` naming the file and line.
    """
    if isinstance(source, (str, os.PathLike)):
        label = str(source)
        p = Path(source)
        if not p.is_file():
            raise FormatError(f"{label}: no such file; check the path")
        try:
            with open(p, "r", newline="", encoding="utf-8-sig") as fh:
                return _read(fh, label, names)
        except UnicodeDecodeError:
            raise FormatError(f"{label}: not a text CSV file (bad UTF-8); give a CSV written by 'face3d export'") from None
        except OSError as exc:
            raise FormatError(f"{label}: cannot read ({exc.strerror}); check permissions") from None
    label = getattr(source, "name", "<stream>")
    return _read(source, str(label), names)


def _read(fh, label: str, names) -> WeightTrack:
    reader = csv.reader(fh)
    header = None
    for row in reader:
        if row and any(c.strip() for c in row):
            header = [c.strip() for c in row]
            break
    if header is None:
        raise FormatError(f"{label}: empty CSV; expected a header such as frame,time_s,jawOpen,...")
    hline = reader.line_num
    lower = [h.lower() for h in header]
    tcol = next((lower.index(c) for c in TIME_COLUMNS if c in lower), None)
    if tcol is None:
        raise FormatError(
            f"{label}:{hline}: no time column in header {','.join(header)}; "
            f"name one of {', '.join(TIME_COLUMNS)}"
        )
    keep = [i for i, h in enumerate(header) if i != tcol and h.lower() != "frame" and h]
    if names is not None:
        allowed = set(names)
        keep = [i for i in keep if header[i] in allowed]
    if not keep:
        want = f" (known shapes: {', '.join(names)})" if names is not None else ""
        raise FormatError(f"{label}:{hline}: no shape columns in header {','.join(header)}{want}")
    width = len(header)
    times, rows = [], []
    for row in reader:
        if not row or not any(c.strip() for c in row):
            continue
        ln = reader.line_num
        if len(row) > width:
            raise FormatError(f"{label}:{ln}: {len(row)} fields but the header has {width}; fix the row")
        row = row + [""] * (width - len(row))
        try:
            t = float(row[tcol])
        except ValueError:
            raise FormatError(f"{label}:{ln}: time '{row[tcol].strip()}' is not a number") from None
        if not math.isfinite(t):
            raise FormatError(f"{label}:{ln}: time '{row[tcol].strip()}' is not finite")
        if times and t <= times[-1]:
            raise FormatError(f"{label}:{ln}: time {t} does not increase (previous {times[-1]}); sort the rows")
        vals = []
        for i in keep:
            c = row[i].strip()
            if not c:
                vals.append(0.0)
                continue
            try:
                v = float(c)
            except ValueError:
                raise FormatError(f"{label}:{ln}: {header[i]} value '{c}' is not a number") from None
            if not math.isfinite(v):
                raise FormatError(f"{label}:{ln}: {header[i]} value '{c}' is not finite")
            vals.append(v)
        times.append(t)
        rows.append(vals)
    if not times:
        raise FormatError(f"{label}: header only, no rows; export the curves again")
    return WeightTrack(np.array(times), tuple(header[i] for i in keep), np.array(rows, dtype=np.float32))


def read_csv_text(text: str, label: str = "<text>") -> WeightTrack:
    """:func:`read_csv` on a string (handy in tests)."""
    s = io.StringIO(text)
    s.name = label
    return read_csv(s)
