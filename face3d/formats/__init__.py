"""Writers of weight tracks in other tools' formats, and the registry that names them.

One module per format, each with ``write(track, stream, info)``: ``track`` is the
native 100 Hz :class:`~face3d.track.WeightTrack` of the analysis (each writer resamples
it as its format needs), ``info`` an :class:`ExportInfo` (the sound's duration and name,
the frame rate, the head for glb, options). :data:`FORMATS` maps each ``--format`` name to
its module, the extension it takes by default and whether it writes bytes; adding a
format is a new module and one line here.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path

from face3d.errors import UsageError


@dataclass
class ExportInfo:
    """What a writer may need besides the curves."""

    duration: float                 # seconds of sound analysed
    sound_file: str = ""            # the input's name as Rhubarb writes it ('-' for standard input)
    fps: float = 60.0               # frames per second of frame-based formats
    rig: object = None              # face3d.mesh.rig.Rig, for glb
    pivot: object = None            # (3,) point the head turns about, for glb (default: the rig's neck_pivot)
    options: dict = field(default_factory=dict)   # per-format options (extended_shapes, ...)


@dataclass(frozen=True)
class Format:
    name: str
    module: str
    extension: str
    binary: bool
    needs_head: bool
    help: str
    alive: bool = True              # has a place for the blinks, brows, gaze or head angles (docs/alive.md)
    uses_visemes: bool = False      # the writer chooses its shapes from the fifteen viseme columns


FORMATS: dict[str, Format] = {f.name: f for f in (
    Format("csv", "face3d.formats.csvfile", ".csv", False, False, "face3d's own CSV (frame,time_s,jawOpen,...)"),
    Format("rhubarb-tsv", "face3d.formats.rhubarb", ".tsv", False, False, "Rhubarb Lip Sync mouth cues, TSV",
           alive=False, uses_visemes=True),
    Format("rhubarb-json", "face3d.formats.rhubarb", ".json", False, False, "Rhubarb Lip Sync mouth cues, JSON",
           alive=False, uses_visemes=True),
    Format("rhubarb-xml", "face3d.formats.rhubarb", ".xml", False, False, "Rhubarb Lip Sync mouth cues, XML",
           alive=False, uses_visemes=True),
    Format("arkit-csv", "face3d.formats.arkit", ".csv", False, False, "ARKit blendshapes as a Live Link Face take CSV",
           uses_visemes=True),
    Format("glb", "face3d.formats.gltf", ".glb", True, True, "the head with morph targets and a weights animation"),
    Format("vrma", "face3d.formats.vrma", ".vrma", True, False,
           "VRM Animation: expressions aa ih ou ee oh blink blinkLeft blinkRight, head and gaze, for any VRM avatar"),
)}

#: the format an output extension chooses when --format is not given (first listed wins)
BY_EXTENSION: dict[str, str] = {}
for _f in FORMATS.values():
    BY_EXTENSION.setdefault(_f.extension, _f.name)


def get(name: str) -> Format:
    try:
        return FORMATS[name]
    except KeyError:
        raise UsageError(f"unknown format '{name}'; use one of {', '.join(FORMATS)}") from None


def for_path(path: str, fmt: str | None = None) -> Format:
    """The format of an output file: ``fmt`` (``--format``) or the one its extension
    chooses (csv for a name without one). A UsageError, naming the extensions accepted,
    for an extension no format writes, or one that is not ``fmt``'s (no CSV under .mp4,
    no CSV under .vrma)."""
    from face3d.fileio import output_format

    if fmt is None:
        ext = Path(path).suffix.lower()
        if ext and ext not in BY_EXTENSION:
            by_ext: dict[str, list[str]] = {}
            for f in FORMATS.values():
                by_ext.setdefault(f.extension, []).append(f.name)
            listing = ", ".join(f"{e} ({' or '.join(names)})" for e, names in by_ext.items())
            raise UsageError(f"-o {path}: export writes {listing} (the format named by --format, else by the "
                             "extension); give a name ending in one of these")
        return FORMATS[BY_EXTENSION.get(ext, "csv")]
    f = get(fmt)
    output_format(path, {f.extension: f.name}, f"--format {f.name}", default=f.name)
    return f


def write(fmt: Format, track, stream, info: ExportInfo) -> None:
    """Write ``track`` in ``fmt`` to an open stream (text or binary as ``fmt.binary`` says)."""
    mod = importlib.import_module(fmt.module)
    mod.write(track, stream, info, variant=fmt.name)


def save(fmt: Format, track, path, info: ExportInfo) -> None:
    """Write ``track`` in ``fmt`` to ``path`` atomically (nothing half-written on failure)."""
    import io

    from face3d.fileio import write_atomic

    mod = importlib.import_module(fmt.module)
    if hasattr(mod, "to_bytes"):  # made in a few array operations, written with one system call
        write_atomic(path, mod.to_bytes(track, info, variant=fmt.name))
    elif fmt.binary:
        buf = io.BytesIO()
        write(fmt, track, buf, info)
        write_atomic(path, buf.getbuffer())
    else:
        buf = io.StringIO(newline="")
        write(fmt, track, buf, info)
        write_atomic(path, buf.getvalue().encode("utf-8"))


def frames(track, info: ExportInfo):
    """``track`` at ``info.fps`` from 0 to the end of the sound (the last frame inside it)."""
    return track.resample(info.fps, duration=max(0.0, info.duration - 1e-9))
