"""Batches for the commands that turn one input file into one output file.

The per-file jobs live here as module-level functions (so a process pool or a Dask
worker can import them by name); the batch machinery (discovery, report, runners) is
:mod:`face3d.batch`, which knows nothing of what a job does.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from face3d.commands._common import number_option
from face3d.errors import OutputError, UsageError

#: What a folder is searched for: audio files, and video files with a sound track.
MEDIA_EXTENSIONS = ("wav", "flac", "ogg", "oga", "opus", "mp3", "aif", "aiff", "au", "caf", "w64",
                    "mp4", "m4a", "mov", "mkv", "webm", "avi")

_jobs_number = number_option("--jobs", 1, 4096, unit="worker processes")


def parse_jobs(text: str) -> int:
    value = _jobs_number(text)
    if not value.is_integer():
        import argparse

        raise argparse.ArgumentTypeError(f"--jobs {text} is not a whole number; give e.g. --jobs 4")
    return int(value)


parse_jobs.finite_number = True


def export_file(src: str, dst: str, *, fps: float) -> None:
    """One input -> one weight CSV, written atomically."""
    from face3d.pipeline import analyze
    from face3d.track import save_csv

    save_csv(analyze(src, fps=fps), dst)


def add_batch_options(parser) -> None:
    """--jobs, --scheduler and --skip-existing (files and folders with -o OUTDIR/)."""
    g = parser.add_argument_group("batches (folders, or several inputs, with -o OUTDIR/)")
    g.add_argument("--jobs", type=parse_jobs, metavar="N",
                   help="worker processes on this machine (default: the number of CPU cores)")
    g.add_argument("--scheduler", metavar="ADDRESS",
                   help="run on a Dask cluster, e.g. tcp://10.0.0.5:8786 (needs face3d[dask]; every worker "
                        "must see the input and output paths)")
    g.add_argument("--skip-existing", action="store_true",
                   help="skip inputs whose output exists and is newer than the input")


def is_batch(inputs, output: str) -> bool:
    """A batch: several inputs, a folder among them, or -o naming a folder."""
    return (len(inputs) > 1 or output.endswith(("/", "\\")) or Path(output).is_dir()
            or any(Path(i).is_dir() for i in inputs))


def check_single(args) -> None:
    """The batch options that make no sense with one input and one output file."""
    if getattr(args, "scheduler", None):
        raise UsageError("--scheduler runs batches; give -o a folder (ending in /) for the outputs")


def run_batch_command(args, job, suffix: str) -> int:
    """Run ``job`` over the inputs and folders of ``args`` into the folder ``args.output``.

    Exit status: 0 when every input succeeded (or was skipped), 1 when some failed (one
    line says how many and where the report is). Usage errors raise before anything runs.
    """
    from face3d.batch import discover, run_batch

    if args.jobs is not None and args.scheduler:
        raise UsageError("--jobs and --scheduler do not go together: the cluster's workers decide; drop one")
    outdir = Path(args.output)
    if outdir.exists() and not outdir.is_dir():
        raise OutputError(f"-o {args.output}: a batch needs a folder, but this is a file; give a folder")
    if not outdir.is_dir() and not outdir.parent.is_dir():
        raise OutputError(f"-o {args.output}: parent folder {outdir.parent} does not exist; create it first")
    pairs = discover(list(args.inputs), outdir, suffix, MEDIA_EXTENSIONS)
    try:
        outdir.mkdir(exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create output folder {outdir}: {exc.strerror}; choose another -o") from None

    def on_error(src, message):
        print(f"face3d {args.command}: error: {message if str(src) in message else f'{src}: {message}'}",
              file=sys.stderr)

    t0 = time.perf_counter()
    s = run_batch(pairs, job, outdir, jobs=args.jobs, scheduler=args.scheduler, skip_existing=args.skip_existing,
                  progress=not getattr(args, "no_progress", False), on_error=on_error)
    if s.failed:
        print(f"face3d {args.command}: {s.failed} of {s.total} files failed; see {s.report}", file=sys.stderr)
        return 1
    skipped = f", {s.skipped} skipped as up to date" if s.skipped else ""
    print(f"face3d {args.command}: {s.total} files done in {time.perf_counter() - t0:.1f} s{skipped}; "
          f"report: {s.report}", file=sys.stderr)
    return 0
