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
    options: dict = field(default_factory=dict)   # per-format options (extended_shapes, ...)


@dataclass(frozen=True)
class Format:
    name: str
    module: str
    extension: str
    binary: bool
    needs_head: bool
    help: str


FORMATS: dict[str, Format] = {f.name: f for f in (
    Format("csv", "face3d.formats.csvfile", ".csv", False, False, "face3d's own CSV (frame,time_s,jawOpen,...)"),
    Format("rhubarb-tsv", "face3d.formats.rhubarb", ".tsv", False, False, "Rhubarb Lip Sync mouth cues, TSV"),
    Format("rhubarb-json", "face3d.formats.rhubarb", ".json", False, False, "Rhubarb Lip Sync mouth cues, JSON"),
    Format("rhubarb-xml", "face3d.formats.rhubarb", ".xml", False, False, "Rhubarb Lip Sync mouth cues, XML"),
    Format("arkit-csv", "face3d.formats.arkit", ".csv", False, False, "ARKit blendshapes as a Live Link Face take CSV"),
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


def for_path(path: str) -> Format:
    """The format an output file's extension chooses; csv when the extension is unknown."""
    return FORMATS[BY_EXTENSION.get(Path(path).suffix.lower(), "csv")]


def write(fmt: Format, track, stream, info: ExportInfo) -> None:
    """Write ``track`` in ``fmt`` to an open stream (text or binary as ``fmt.binary`` says)."""
    mod = importlib.import_module(fmt.module)
    mod.write(track, stream, info, variant=fmt.name)


def save(fmt: Format, track, path, info: ExportInfo) -> None:
    """Write ``track`` in ``fmt`` to ``path`` atomically (nothing half-written on failure)."""
    from face3d.fileio import atomic_open

    if fmt.binary:
        with atomic_open(path, "wb") as fh:
            write(fmt, track, fh, info)
    else:
        with atomic_open(path, "w", newline="", encoding="utf-8") as fh:
            write(fmt, track, fh, info)


def frames(track, info: ExportInfo):
    """``track`` at ``info.fps`` from 0 to the end of the sound (the last frame inside it)."""
    return track.resample(info.fps, duration=max(0.0, info.duration - 1e-9))
