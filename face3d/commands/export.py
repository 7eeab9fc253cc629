"""``face3d export``: audio files -> viseme weight CSV files."""

from __future__ import annotations

import sys
from pathlib import Path

from face3d.commands._common import number_option
from face3d.commands._jobs import add_batch_options

HELP = "analyse audio files into jawOpen/mouthWide/mouthPucker/mouthClose CSV curves"


parse_fps = number_option("--fps", 1.0, 1000.0, unit="frames per second")


def register(subparsers):
    p = subparsers.add_parser(
        "export",
        help=HELP,
        description=(
            "Analyse WAV/FLAC/OGG files and write one CSV of blendshape weights per file: "
            "header frame,time_s,jawOpen,mouthWide,mouthPucker,mouthClose; one row per frame at "
            "time_s = frame / fps. With one input, -o is the CSV path. With several inputs or folders "
            "(searched recursively for audio and video files), -o is a folder: in/a/b.wav -> OUTDIR/a/b.csv, "
            "run on every core (--jobs) or a Dask cluster (--scheduler), with a report "
            "OUTDIR/face3d-report.jsonl; a failing file is reported and the rest go on (exit status 1)."
        ),
    )
    p.add_argument("inputs", nargs="+", metavar="AUDIO", help="audio files (WAV, FLAC, OGG; any rate, any channels) or folders of them")
    p.add_argument("-o", "--output", required=True, metavar="PATH", help="CSV file (one input) or folder (several inputs or folders; ends in / or exists)")
    p.add_argument("--fps", type=parse_fps, default=60.0, help="frames per second of the CSV (default 60)")
    p.add_argument("--no-progress", action="store_true", help="never show a progress bar")
    add_batch_options(p)
    return p


def run(args) -> int:
    from functools import partial

    from face3d.batch import up_to_date
    from face3d.commands import _jobs

    if _jobs.is_batch(args.inputs, args.output):
        return _jobs.run_batch_command(args, partial(_jobs.export_file, fps=args.fps), ".csv")
    _jobs.check_single(args)
    src, dst = args.inputs[0], Path(args.output)
    if args.skip_existing and up_to_date(Path(src), dst):
        print(f"{src} -> {dst} (up to date, skipped)", file=sys.stderr)
        return 0
    _jobs.export_file(src, str(dst), fps=args.fps)
    print(f"{src} -> {dst}", file=sys.stderr)
    return 0
