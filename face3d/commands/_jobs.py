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


def export_file(src: str, dst: str, *, fmt: str = "csv", fps: float = 60.0, extended=None, head=None,
                alive=None, plot: bool = False) -> None:
    """One audio file -> one export in format ``fmt`` (see :mod:`face3d.formats`), atomically."""
    from face3d.analysis import ANALYSIS_RATE
    from face3d.audio.files import load_audio

    samples, rate = load_audio(src, rate=ANALYSIS_RATE)
    save_export(samples, rate, src, dst, fmt=fmt, fps=fps, extended=extended, head=head, alive=alive, plot=plot)


def save_export(samples, rate: int, src: str, dst: str, *, fmt: str, fps: float, extended=None, head=None,
                alive=None, plot: bool = False) -> None:
    """Analyse ``samples`` and write them to ``dst`` in format ``fmt``; ``head``: see :func:`head_spec`;
    ``alive``: the ``alive``/``seed`` keywords of :func:`face3d.pipeline.analyze`; ``plot``: also
    draw the curves as a PNG beside ``dst``."""
    from face3d import formats
    from face3d.pipeline import analyze

    f = formats.get(fmt)
    rig = load_rig(head) if f.needs_head else None
    if rig is not None:
        from face3d.commands._common import head_wants_visemes

        if head_wants_visemes(rig):       # the GLB drives the head's viseme targets
            alive = {**(alive or {}), "visemes": True}
    track = analyze(samples, rate=rate, fps=None, **(alive or {}))
    options = {} if extended is None else {"extended_shapes": extended}
    pivot = None
    if rig is not None:
        from face3d.render.pose import neck_pivot

        pivot = neck_pivot(rig)          # the head turns about its neck, as face3d draws it
    info = formats.ExportInfo(duration=samples.shape[0] / rate, sound_file=src, fps=fps, rig=rig, pivot=pivot,
                              options=options)
    formats.save(f, track, dst, info)
    if plot:
        from face3d.plot import plot_curves

        plot_curves(track, Path(dst).with_suffix(".png"), samples=samples, rate=rate,
                    title="standard input" if src == "-" else Path(src).name)


def head_spec(args) -> tuple:
    """The head named by the command's options, as a picklable value a worker can load
    (its files as absolute paths for a Dask cluster, whose workers run elsewhere)."""
    import os

    from face3d.commands._common import head_options_from_args

    opts = head_options_from_args(args)
    head = getattr(args, "head", None)
    if getattr(args, "scheduler", None):
        head = head and os.path.abspath(head)
        opts.update({k: os.path.abspath(opts[k]) for k in ("mapping", "landmarks") if opts.get(k)})
    return head, tuple(sorted(opts.items(), key=lambda kv: kv[0]))


_RIGS: dict = {}


def load_rig(spec: tuple):
    """Load (once per process: a worker keeps the last few) the head of a :func:`head_spec`."""
    from face3d.mesh.heads import load_head

    key = repr(spec)
    if key not in _RIGS:
        if len(_RIGS) >= 4:
            _RIGS.clear()
        path, opts = spec
        _RIGS[key] = load_head(path, **dict(opts))
    return _RIGS[key]


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


def is_folder(output: str) -> bool:
    """-o names a folder: it ends in / or is a folder already (else it is a file's name)."""
    return output.endswith(("/", "\\")) or Path(output).is_dir()


def is_batch(inputs, output: str) -> bool:
    """A batch: several inputs, a folder among them, or -o naming a folder."""
    return len(inputs) > 1 or is_folder(output) or any(Path(i).is_dir() for i in inputs)


def check_batch_output(inputs, output: str) -> None:
    """A batch writes into a folder: -o must end in / or be a folder (never a folder made
    from a file's name such as one.csv)."""
    if is_folder(output):
        return
    if Path(output).exists():
        raise OutputError(f"-o {output}: a batch needs a folder, but this is a file; give a folder")
    folders = [i for i in inputs if Path(i).is_dir()]
    what = f"{len(inputs)} inputs" if len(inputs) > 1 else f"the folder {folders[0]}"
    stem = Path(output).stem or "out"
    raise UsageError(f"-o {output} is a file name, but a batch ({what}) writes one output per input into a "
                     f"folder: end -o with / (e.g. -o {stem}/), or give one input")


def check_single(args) -> None:
    """The batch options that make no sense with one input and one output file."""
    if getattr(args, "scheduler", None):
        raise UsageError("--scheduler runs batches; give -o a folder (ending in /) for the outputs")


def run_batch_command(args, inputs, job, suffix: str) -> int:
    """Run ``job`` over ``inputs`` (files and folders) into the folder ``args.output``.

    Exit status: 0 when every input succeeded (or was skipped), 1 when some failed (one
    line says how many and where the report is). Usage errors raise before anything runs.
    """
    from face3d.batch import BatchInterrupted, discover, run_batch

    if args.jobs is not None and args.scheduler:
        raise UsageError("--jobs and --scheduler do not go together: the cluster's workers decide; drop one")
    check_batch_output(inputs, args.output)
    outdir = Path(args.output)
    pairs = discover(list(inputs), outdir, suffix, MEDIA_EXTENSIONS)
    head = getattr(job, "keywords", {}).get("head")
    if head is not None:
        load_rig(head)  # a bad head is bad usage, said once before anything runs
    try:
        outdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create output folder {outdir}: {exc.strerror}; choose another -o") from None

    def on_error(src, message):
        print(f"face3d {args.command}: error: {message if str(src) in message else f'{src}: {message}'}",
              file=sys.stderr)

    t0 = time.perf_counter()
    try:
        s = run_batch(pairs, job, outdir, jobs=args.jobs, scheduler=args.scheduler, skip_existing=args.skip_existing,
                      progress=not getattr(args, "no_progress", False), on_error=on_error)
    except BatchInterrupted as stop:
        import signal

        signal.signal(signal.SIGINT, signal.SIG_IGN)  # said and done: a further Ctrl-C changes nothing
        s = stop.summary
        print(f"face3d {args.command}: interrupted: {s.ok} of {s.total} {_files(s.total)} done, {s.interrupted} "
              f"left undone; see {s.report}; run again with --skip-existing to do the rest", file=sys.stderr)
        return 130
    if s.failed:
        print(f"face3d {args.command}: {s.failed} of {s.total} {_files(s.total)} failed; see {s.report}", file=sys.stderr)
        return 1
    skipped = f", {s.skipped} skipped as up to date" if s.skipped else ""
    print(f"face3d {args.command}: {s.total} {_files(s.total)} done in {time.perf_counter() - t0:.1f} s{skipped}; "
          f"report: {s.report}", file=sys.stderr)
    return 0


def _files(n: int) -> str:
    return "file" if n == 1 else "files"
