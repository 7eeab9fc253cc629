"""``face3d export``: audio files (or standard input) -> weight curves in face3d's CSV or
another tool's format (:mod:`face3d.formats`)."""

from __future__ import annotations

import sys
from pathlib import Path

from face3d.commands._common import number_option
from face3d.errors import OutputError, UsageError

HELP = "analyse audio into weight curves: CSV, Rhubarb cues, ARKit CSV or an animated glTF"


parse_fps = number_option("--fps", 1.0, 1000.0, unit="frames per second")


def register(subparsers):
    p = subparsers.add_parser(
        "export",
        help=HELP,
        description=(
            "Analyse audio files (WAV, FLAC, OGG, MP3, M4A, Opus, or videos with sound) and write one CSV of blendshape weights per file: "
            "header frame,time_s,jawOpen,mouthWide,mouthPucker,mouthClose, then eyeBlinkLeft,eyeBlinkRight,"
            "browInnerUp,browOuterUpLeft,browOuterUpRight (weights) and eyeYaw,eyePitch,headPitch,headYaw,headRoll "
            "(degrees) unless --mouth-only; one row per frame at time_s = frame / fps. With one input, -o is the CSV path; with several, -o is a folder "
            "and each CSV is named after its input (speech.wav -> speech.csv). --format writes another "
            "tool's format instead (default: chosen by -o's extension: .csv face3d's CSV, .tsv/.json/.xml "
            "Rhubarb Lip Sync cues, .glb an animated glTF of the head). AUDIO '-' reads standard input."
        ),
    )
    from face3d.commands._common import add_head_options
    from face3d.commands._stdin import add_stdin_options
    from face3d.formats import FORMATS

    p.add_argument("inputs", nargs="+", metavar="AUDIO",
                   help="audio files (WAV, FLAC, OGG, MP3, M4A, Opus, MP4/MOV/MKV/WebM with sound; any rate, any "
                        "channels), or '-' for standard input")
    p.add_argument("-o", "--output", required=True, metavar="PATH", help="output file (one input) or folder (several; ends in / or exists)")
    p.add_argument("--format", choices=tuple(FORMATS), metavar="FORMAT",
                   help="output format: " + "; ".join(f"{f.name} ({f.help})" for f in FORMATS.values())
                   + " (default: by -o's extension, else csv)")
    p.add_argument("--fps", type=parse_fps, default=60.0, help="frames per second of the CSV, ARKit CSV and glTF animation (default 60)")
    p.add_argument("--extended-shapes", metavar="SHAPES", default="GHX",
                   help="Rhubarb formats: which of the extended shapes G, H, X to use (default GHX; '' for none)")
    p.add_argument("--no-progress", action="store_true", help="never show a progress bar")
    p.add_argument("--plot", action="store_true", help="also draw each output's curves as a PNG beside it (waveform above the curves)")
    add_head_options(p)
    add_stdin_options(p)
    from face3d.commands._common import add_alive_options

    add_alive_options(p)
    return p


def _targets(inputs: list[str], output: str, ext: str = ".csv") -> tuple[list[tuple[str, Path]], Path | None]:
    """(input, CSV) pairs, and the output folder still to be created (None if there is none to create).

    The folder is not created here: :func:`run` makes it just before the first CSV is
    written, so a run that fails before writing anything leaves no empty folder behind.
    """
    out = Path(output)
    as_dir = len(inputs) > 1 or output.endswith(("/", "\\")) or out.is_dir()
    if not as_dir:
        return [(inputs[0], out)], None
    missing = None
    if not out.is_dir():
        if out.exists():
            raise OutputError(f"-o {output}: several inputs need a folder, but this is a file; give a folder")
        if not out.parent.is_dir():
            raise OutputError(f"-o {output}: parent folder {out.parent} does not exist; create it first")
        missing = out
    pairs, seen = [], {}
    for src in inputs:
        dst = out / (Path(src).stem + ext)
        if dst in seen:
            raise UsageError(f"inputs {seen[dst]} and {src} would both write {dst}; rename one or export them separately")
        seen[dst] = src
        pairs.append((src, dst))
    return pairs, missing


def _make_folder(folder: Path) -> bool:
    """Create the output folder; True if this call created it."""
    try:
        folder.mkdir()
        return True
    except FileExistsError:
        return False
    except OSError as exc:
        raise OutputError(f"cannot create output folder {folder}: {exc.strerror}; choose another -o") from None


def _format(args, single: bool):
    from face3d import formats

    if args.format:
        return formats.get(args.format)
    return formats.for_path(args.output) if single else formats.FORMATS["csv"]


def _read(src: str, raw_opts):
    """(samples, rate) of a file (at the analysis rate) or of standard input."""
    from face3d.commands._stdin import STDIN, stdin_binary

    if src == STDIN:
        from face3d.audio.stdin import read_all

        return read_all(stdin_binary(), *raw_opts)
    from face3d.analysis import ANALYSIS_RATE
    from face3d.audio.files import load_audio

    return load_audio(src, rate=ANALYSIS_RATE)


def run(args) -> int:
    from face3d import formats
    from face3d.commands._stdin import STDIN, raw_options
    from face3d.pipeline import analyze

    inputs = list(args.inputs)
    if STDIN in inputs and len(inputs) > 1:
        raise UsageError("'-' (standard input) must be the only AUDIO; export other files separately")
    raw_opts = raw_options(args, STDIN in inputs)
    from face3d.formats.rhubarb import parse_extended

    extended = parse_extended(args.extended_shapes)
    single = len(inputs) == 1 and not (args.output.endswith(("/", "\\")) or Path(args.output).is_dir())
    fmt = _format(args, single)
    from face3d.commands._common import alive_from_args

    alive = alive_from_args(args)
    if STDIN in inputs and not single:
        raise UsageError(f"-o {args.output} is a folder; with '-' (standard input) give the output file's name")
    pairs, folder = _targets(inputs, args.output, fmt.extension)
    rig = None
    if fmt.needs_head:
        from face3d.commands._common import load_head_from_args

        rig = load_head_from_args(args)
    bar = None
    show = not args.no_progress and sys.stderr.isatty()
    if show and len(pairs) > 1:
        from tqdm import tqdm

        bar = tqdm(total=len(pairs), unit="file", file=sys.stderr, leave=False)
    created = False
    try:
        for src, dst in pairs:
            samples, rate = _read(src, raw_opts)
            # face3d's CSV carries the blinks, brows, gaze and head angles too (unless --mouth-only)
            track = analyze(samples, rate=rate, fps=None, **alive) if fmt.name == "csv" else \
                analyze(samples, rate=rate, fps=None)
            info = formats.ExportInfo(duration=samples.shape[0] / rate, sound_file=src, fps=args.fps, rig=rig,
                                      options={"extended_shapes": extended})
            if folder is not None:
                created = _make_folder(folder)
                folder = None
            formats.save(fmt, track, dst, info)
            if getattr(args, "plot", False):
                from face3d.plot import plot_curves

                plot_curves(track, dst.with_suffix(".png"), samples=samples, rate=rate,
                            title="standard input" if src == STDIN else Path(src).name)
            if bar is not None:
                bar.update(1)
                bar.set_postfix_str(Path(src).name)
    except BaseException:
        if created:  # ours: removed if the failure left it empty
            try:
                pairs[0][1].parent.rmdir()
            except OSError:
                pass
        raise
    finally:
        if bar is not None:
            bar.close()
    for src, dst in pairs:
        extra = f" + {dst.with_suffix('.png')}" if getattr(args, "plot", False) else ""
        print(f"{src} -> {dst}{extra}", file=sys.stderr)
    return 0
