"""Option parsing shared by several commands."""

from __future__ import annotations

import math
import re

from face3d.errors import UsageError


def parse_size(text: str) -> tuple[int, int]:
    """'800x600' -> (800, 600); 16..8192 each side."""
    m = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text or "")
    if not m:
        raise UsageError(f"--size '{text}' is not WIDTHxHEIGHT, e.g. --size 800x800")
    w, h = int(m.group(1)), int(m.group(2))
    if not (16 <= w <= 8192 and 16 <= h <= 8192):
        raise UsageError(f"--size {w}x{h} is out of range; each side must be 16 to 8192 pixels")
    return w, h


def parse_video_size(text: str) -> tuple[int, int]:
    """``--size`` of a command that writes video: :func:`parse_size`, both sides even (4:2:0 colour)."""
    from face3d.render.encode import check_video_size

    size = parse_size(text)
    check_video_size(size)          # render's own rule and words
    return size


#: Named background colours (sRGB, 0..1); green and blue are the usual chroma keys.
COLOURS = {
    "black": (0.0, 0.0, 0.0), "white": (1.0, 1.0, 1.0), "gray": (0.5, 0.5, 0.5), "grey": (0.5, 0.5, 0.5),
    "green": (0.0, 1.0, 0.0), "blue": (0.0, 0.0, 1.0), "magenta": (1.0, 0.0, 1.0),
}


def background_help(transparent: str | None = None) -> str:
    """``--background`` help naming every colour :func:`parse_background` takes; ``transparent``:
    what transparent gives (None: the command cannot be see-through)."""
    names = ", ".join(COLOURS)
    tail = f", or transparent ({transparent})" if transparent else ""
    return f"background colour: {names}, #RRGGBB or #RGB{tail} (default: face3d's grey-blue)"


def parse_background(text):
    """None (the default grey-blue), "transparent", or an (r, g, b) in [0, 1] from a name or #RRGGBB."""
    if text is None or text == "default":
        return None
    t = text.strip().lower()
    if t in ("transparent", "none", "alpha"):
        return "transparent"
    if t in COLOURS:
        return COLOURS[t]
    h = t.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    if len(h) == 6:
        try:
            return tuple(int(h[i:i + 2], 16) / 255.0 for i in (0, 2, 4))
        except ValueError:
            pass
    raise UsageError(f"--background '{text}' is not a colour; use a name ({', '.join(COLOURS)}), "
                     "#RRGGBB, or transparent")


def parse_weights(text: str | None) -> dict[str, float]:
    """'jawOpen=1,mouthWide=0.5' -> {'jawOpen': 1.0, 'mouthWide': 0.5}; each weight in [0, 1].

    Shape names are checked against the head later (the head knows its shapes).
    """
    out: dict[str, float] = {}
    if not text:
        return out
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        name, sep, value = part.partition("=")
        name = name.strip()
        if not sep or not name:
            raise UsageError(f"--weights item '{part}' is not NAME=VALUE, e.g. --weights jawOpen=1,mouthWide=0.5")
        try:
            w = float(value)
        except ValueError:
            raise UsageError(f"--weights {name}='{value.strip()}' is not a number; use a value from 0 to 1") from None
        if not (0.0 <= w <= 1.0):
            raise UsageError(f"--weights {name}={value.strip()} is outside [0, 1]; use a value from 0 to 1")
        out[name] = w
    return out


def add_head_options(parser, head: bool = True) -> None:
    """--head and the options that say how to read it (shared by every command that draws).

    ``head=False`` leaves out --head itself (for commands that take the head as an argument).
    """
    g = parser.add_argument_group("head")
    if head:
        g.add_argument("--head", metavar="PATH",
                       help="head to draw: .obj (alone; a folder of a neutral plus target OBJs is a target set), .glb/.gltf, .vrm, .ply, "
                            ".stl, or a face3d .npz rig (default: the bundled head)")
    g.add_argument("--up", metavar="AXIS", help="the head file's up axis, e.g. +y or --up=-z (default: detected)")
    g.add_argument("--forward", metavar="AXIS",
                   help="the way the face looks in the file, e.g. +z or --forward=-x (default: detected)")
    g.add_argument("--map", metavar="JSON", dest="shape_map",
                   help="JSON mapping face3d shapes to the file's blendshape names (default: built-in ARKit/viseme/VRM names)")
    g.add_argument("--landmarks", metavar="JSON",
                   help="JSON with mouth/jaw landmarks for auto-rigging (default: HEAD.landmarks.json if present, else detected)")
    g.add_argument("--mouth", metavar="X,Y,Z", help="mouth centre in the file's coordinates (overrides detection)")
    g.add_argument("--mouth-width", type=number_option("--mouth-width", 0.0, lo_inclusive=False, unit="(the file's units)"),
                   metavar="W", help="mouth corner-to-corner width, in the file's units")
    g.add_argument("--jaw-pivot", metavar="X,Y,Z", help="jaw hinge point in the file's coordinates")
    g.add_argument("--targets", metavar="FOLDER",
                   help="folder of blendshape OBJs for an OBJ head (one OBJ per shape, same vertices in the same order); "
                        "the OBJs beside a head file are not read as its shapes")
    g.add_argument("--frame", choices=("head", "body"), default="head",
                   help="what the camera frames: the head (default; a full-body avatar is framed on its face) or the whole body")
    g.add_argument("--no-autorig", action="store_true", help="do not synthesise missing shapes")
    g.add_argument("--allow-large", action="store_true", help="load meshes with more than 2 million vertices")


def _point(text, option):
    if text is None:
        return None
    try:
        vals = [float(x) for x in str(text).replace(";", ",").split(",")]
    except ValueError:
        vals = []
    if len(vals) != 3 or not all(math.isfinite(v) for v in vals):
        raise UsageError(f"{option} '{text}' is not X,Y,Z, e.g. {option} 0,1.2,8.5")
    return vals


def head_options_from_args(args) -> dict:
    """The keyword options of :func:`face3d.mesh.heads.load_head` from parsed arguments."""
    from face3d.mesh.orient.normalize import parse_axis

    up, fw = getattr(args, "up", None), getattr(args, "forward", None)
    parse_axis(up, "--up")
    parse_axis(fw, "--forward")
    marks = {}
    if getattr(args, "mouth", None) is not None:
        marks["mouth"] = _point(args.mouth, "--mouth")
    if getattr(args, "mouth_width", None) is not None:
        if not args.mouth_width > 0:
            raise UsageError(f"--mouth-width {args.mouth_width} must be positive (the mouth's width in the file's units)")
        marks["mouth_width"] = args.mouth_width
    if getattr(args, "jaw_pivot", None) is not None:
        marks["jaw_pivot"] = _point(args.jaw_pivot, "--jaw-pivot")
    return {
        "up": up,
        "forward": fw,
        "mapping": getattr(args, "shape_map", None),
        "landmarks": getattr(args, "landmarks", None),
        "landmark_overrides": marks or None,
        "autorig": not getattr(args, "no_autorig", False),
        "allow_large": bool(getattr(args, "allow_large", False)),
        "targets": getattr(args, "targets", None),
        "frame": getattr(args, "frame", None) or "head",
    }


def load_head_from_args(args, path=None):
    """Load the head named by --head (or ``path``, or the bundled one) with the shared head options."""
    from pathlib import Path

    from face3d.mesh.heads import load_head

    path = path if path is not None else getattr(args, "head", None)
    rig = load_head(path, **head_options_from_args(args))
    if path is not None and Path(path).suffix.lower() == ".npz" and not Path(path).is_dir():
        rig.info = {**(rig.info or {}), "rig_file": str(path)}   # the load line names the .npz, not its source
    return rig


def describe_head(rig) -> str:
    """One line: which shapes a loaded head brought, which were synthesised, and its axes."""
    info = rig.info or {}
    found = info.get("found") or {}
    parts = []
    if "source" in info:
        name = f"{info['rig_file']} (a face3d rig made from {info['source']})" if info.get("rig_file") else info["source"]
        parts.append(f"{name}: {rig.n_vertices} vertices, up {info.get('up')}, forward {info.get('forward')}")
    elif info.get("rig_file"):
        parts.append(f"{info['rig_file']} (a face3d rig): {rig.n_vertices} vertices")
    if found:
        parts.append("found " + ", ".join(
            f"{k}" + ("" if v == [k] else f" ({' + '.join(v)})") for k, v in found.items()))
    if info.get("expressions"):
        version = {"0": "VRM 0.x ", "1": "VRM 1.0 "}.get(str(info.get("vrm")), "")
        parts.append(f"{version}expressions {', '.join(info['expressions'])}")
    synth = info.get("synthesised") or []
    if synth:
        parts.append("synthesised " + ", ".join(synth))
    vis = info.get("visemes") or {}
    if vis.get("kind"):
        own = {"oculus": "its own viseme_* targets", "arkit": "its ARKit mouth shapes",
               "vrm": "its VRM vowels", "default": "its own"}.get(vis["kind"], vis["kind"])
        parts.append(f"visemes from {own} ({len(vis.get('sources', {})) or 15} of 15)")
    if info.get("mouth_opened"):
        parts.append("mouth cut open along the lip line (fused lips)")
    if info.get("hidden_surfaces"):
        parts.append("left out see-through surfaces " + ", ".join(info["hidden_surfaces"]))
    if info.get("orientation_note"):
        parts.append(info["orientation_note"])
    if info.get("targets_note"):
        parts.append(info["targets_note"])
    return "; ".join(parts) or f"{rig.n_vertices} vertices, shapes: {', '.join(rig.names)}"


def number_option(option: str, lo: float = -math.inf, hi: float = math.inf, *, unit: str = "",
                  lo_inclusive: bool = True):
    """An argparse ``type`` for a finite number in a range, with one-line messages.

    Every numeric option of every command goes through this (never ``type=float``):
    ``nan``, ``inf`` and numbers out of range are refused with a one-line error.
    """
    import argparse

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{option} '{text}' is not a number") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{option} {text} is not a finite number; give an ordinary number")
        above = value >= lo if lo_inclusive else value > lo
        if not (above and value <= hi):
            if math.isfinite(lo) and math.isfinite(hi):
                rng = f"{lo:g} to {hi:g}"
            elif math.isfinite(lo):
                rng = f"{'at least' if lo_inclusive else 'above'} {lo:g}"
            else:
                rng = f"at most {hi:g}"
            raise argparse.ArgumentTypeError(f"{option} {text} is out of range; use {rng}{' ' + unit if unit else ''}")
        return value

    parse.finite_number = True  # marks the parser for the test that checks every option uses it
    return parse


#: The camera angles every command takes (the camera clamps pitch to +-89 degrees).
YAW_RANGE = (-360.0, 360.0)
PITCH_RANGE = (-89.0, 89.0)


def parse_yaw(text: str) -> float:
    return number_option("--yaw", *YAW_RANGE, unit="degrees")(text)


def parse_pitch(text: str) -> float:
    return number_option("--pitch", *PITCH_RANGE, unit="degrees (the camera goes no higher or lower)")(text)


parse_yaw.finite_number = parse_pitch.finite_number = True


def check_curve_weights(track, path) -> None:
    """The same rule as ``--weights``: every weight column of a curves file in [0, 1] (head
    and eye angles, in degrees, are not weights); one line naming the first bad value."""
    import numpy as np

    from face3d.track import ANGLE_NAMES

    for k, name in enumerate(track.names):
        if name in ANGLE_NAMES:
            continue
        col = np.asarray(track.values[:, k], np.float64)
        bad = np.flatnonzero(~((col >= -1e-6) & (col <= 1.0 + 1e-6)))
        if bad.size:
            i = int(bad[0])
            raise UsageError(f"{path}: {name} is {col[i]:g} at {float(track.times[i]):.3f} s; weights must be "
                             f"from 0 to 1 (as --weights takes them); fix the CSV")


def parse_seed(text: str) -> int:
    """``--seed``: an integer 0 to 2**32 - 1 (one-line error otherwise)."""
    import argparse

    try:
        value = int(str(text).strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"--seed '{text}' is not a whole number; give e.g. --seed 7") from None
    if not 0 <= value < 2 ** 32:
        raise argparse.ArgumentTypeError(f"--seed {text} is out of range; use 0 to {2 ** 32 - 1}")
    return value


def add_alive_options(parser) -> None:
    """--mouth-only and --seed: the blink, brow, gaze and head curves from the voice, or none."""
    g = parser.add_argument_group("face beyond the mouth")
    g.add_argument("--mouth-only", action="store_true",
                   help="only the four mouth curves: no blinks, brows, gaze or head motion (a still head)")
    g.add_argument("--seed", type=parse_seed, metavar="N",
                   help="random choices of the blinks, gaze and head motion (default 0; the same seed, the same curves)")
    g.add_argument("--visemes", action="store_true",
                   help="also the fifteen viseme weights viseme_sil ... viseme_U (summing to 1), after the other columns")


def alive_from_args(args) -> dict:
    """``alive``/``seed`` keywords for :func:`face3d.pipeline.analyze` and the live source."""
    out = {"alive": not getattr(args, "mouth_only", False), "seed": int(getattr(args, "seed", 0) or 0)}
    if getattr(args, "visemes", False):
        out["visemes"] = True
    return out


POSE_OPTION_NAMES = ("headPitch", "headYaw", "headRoll", "eyeYaw", "eyePitch")


def parse_pose(text: str | None) -> dict[str, float]:
    """'headYaw=10,eyePitch=-5' -> {'headYaw': 10.0, 'eyePitch': -5.0}; each -90..90 degrees."""
    out: dict[str, float] = {}
    for part in (text or "").split(","):
        part = part.strip()
        if not part:
            continue
        name, sep, value = part.partition("=")
        name = name.strip()
        if not sep or name not in POSE_OPTION_NAMES:
            raise UsageError(f"--pose item '{part}' is not NAME=DEGREES with NAME one of {', '.join(POSE_OPTION_NAMES)}")
        try:
            deg = float(value)
        except ValueError:
            raise UsageError(f"--pose {name}='{value.strip()}' is not a number of degrees") from None
        if not (math.isfinite(deg) and -90.0 <= deg <= 90.0):
            raise UsageError(f"--pose {name}={value.strip()} is out of range; use -90 to 90 degrees")
        out[name] = deg
    return out


def alive_note(rig) -> str:
    """What of the face beyond the mouth this head shows (for the load line)."""
    names = set(rig.names)
    blinks = {"eyeBlinkLeft", "eyeBlinkRight"} <= names
    brows = bool(names & {"browInnerUp", "browOuterUpLeft", "browOuterUpRight"})
    eyes = bool((rig.info or {}).get("eyes"))
    have = ["head motion"] + (["gaze"] if eyes else []) + (["blinks"] if blinks else []) + (["brows"] if brows else [])
    missing = []
    if not blinks:
        missing.append("no eyeBlinkLeft/Right shapes: no blinks")
    if not brows:
        missing.append("no brow shapes: no brow raises")
    if not eyes:
        missing.append("no eyeballs known: no gaze")
    return "alive: " + ", ".join(have) + ("" if not missing else " (" + "; ".join(missing) + ")")


def head_wants_visemes(rig, live: bool = False) -> bool:
    """Whether to analyse with the fifteen visemes for ``rig``: the head shows them
    (``rig.info["visemes"]``: its own viseme targets, ARKit or VRM mouths, the default
    head's) and the viseme model in use gives them."""
    if not (rig.info or {}).get("visemes"):
        return False
    from face3d.analysis import VISEME_NAMES
    from face3d.analysis.model import load_model

    return load_model(live=live).n_out >= 4 + len(VISEME_NAMES)
