"""``face3d export``: audio files (or standard input) -> weight curves in face3d's CSV or
another tool's format (:mod:`face3d.formats`)."""

from __future__ import annotations

import sys
from pathlib import Path

from face3d.commands._common import number_option
from face3d.commands._jobs import add_batch_options
from face3d.errors import UsageError

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
            "(degrees) unless --mouth-only; one row per frame at time_s = frame / fps. With one input, -o is the "
            "CSV path. With several inputs or folders (searched recursively for audio and video files), -o is a "
            "folder: in/a/b.wav -> OUTDIR/a/b.csv, run on every core (--jobs) or a Dask cluster (--scheduler), "
            "with a report OUTDIR/face3d-report.jsonl; a failing file is reported and the rest go on (exit status 1). "
            "--format writes another "
            "tool's format instead (default: chosen by -o's extension: .csv face3d's CSV, .tsv/.json/.xml "
            "Rhubarb Lip Sync cues, .glb an animated glTF of the head, .vrma a VRM Animation for any VRM avatar). "
            "The blinks, brows, gaze and head motion go into csv, arkit-csv, glb and vrma (--mouth-only leaves "
            "them out, --seed picks them); Rhubarb cues are mouth shapes only. AUDIO '-' reads standard input."
        ),
    )
    from face3d.commands._common import add_head_options
    from face3d.commands._stdin import add_stdin_options
    from face3d.formats import FORMATS

    p.add_argument("inputs", nargs="+", metavar="AUDIO",
                   help="audio files (WAV, FLAC, OGG, MP3, M4A, Opus, MP4/MOV/MKV/WebM with sound; any rate, any "
                        "channels) or folders of them, or '-' for standard input")
    p.add_argument("-o", "--output", required=True, metavar="PATH", help="output file (one input) or folder (several inputs or folders; ends in / or exists)")
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
    add_batch_options(p)
    return p


def _format(args, single: bool):
    from face3d import formats

    if not single:  # a batch: each output takes the format's extension
        return formats.get(args.format or "csv")
    return formats.for_path(args.output, args.format)


def _read_stdin(raw_opts):
    """(samples, rate) of standard input."""
    from face3d.audio.stdin import read_all
    from face3d.commands._stdin import stdin_binary

    return read_all(stdin_binary(), *raw_opts)


def run(args) -> int:
    from functools import partial

    from face3d.batch import up_to_date
    from face3d.commands import _jobs
    from face3d.commands._common import alive_from_args
    from face3d.commands._stdin import STDIN, raw_options
    from face3d.formats.rhubarb import parse_extended

    inputs = list(args.inputs)
    if STDIN in inputs and len(inputs) > 1:
        raise UsageError("'-' (standard input) must be the only AUDIO; export other files separately")
    raw_opts = raw_options(args, STDIN in inputs)
    extended = parse_extended(args.extended_shapes)
    batch = _jobs.is_batch(inputs, args.output)
    if STDIN in inputs and batch:
        raise UsageError(f"-o {args.output} is a folder; with '-' (standard input) give the output file's name")
    fmt = _format(args, not batch)
    head = _jobs.head_spec(args) if fmt.needs_head else None
    # every format with a place for them carries the blinks, brows, gaze and head angles
    # (unless --mouth-only); Rhubarb's cues are mouth shapes only (docs/alive.md). The formats
    # that choose their shapes from the visemes get them; face3d's CSV with --visemes.
    if not fmt.alive and getattr(args, "seed", None) is not None:
        raise UsageError(f"--seed picks the blinks, gaze and head motion, which {fmt.name} (mouth cues only) "
                         "has no place for; drop --seed or export csv, arkit-csv or glb")
    alive = alive_from_args(args) if fmt.alive else {"alive": False}
    if fmt.uses_visemes:
        alive["visemes"] = True
    plot = bool(getattr(args, "plot", False))
    job = partial(_jobs.export_file, fmt=fmt.name, fps=args.fps, extended=extended, head=head, alive=alive, plot=plot)
    if batch:
        return _jobs.run_batch_command(args, inputs, job, fmt.extension)
    _jobs.check_single(args)
    src, dst = inputs[0], args.output
    if src != STDIN and args.skip_existing and up_to_date(Path(src), Path(dst)):
        print(f"{src} -> {dst} (up to date, skipped)", file=sys.stderr)
        return 0
    if src == STDIN:
        samples, rate = _read_stdin(raw_opts)
        _jobs.save_export(samples, rate, src, dst, fmt=fmt.name, fps=args.fps, extended=extended, head=head,
                          alive=alive, plot=plot)
    else:
        job(src, dst)
    extra = f" + {Path(dst).with_suffix('.png')}" if plot else ""
    print(f"{src} -> {dst}{extra}", file=sys.stderr)
    return 0
