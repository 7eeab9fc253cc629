"""``face3d export``: audio files -> viseme weight CSV files."""

from __future__ import annotations

import sys
from pathlib import Path

from face3d.commands._common import number_option
from face3d.errors import OutputError, UsageError

HELP = "analyse audio files into jawOpen/mouthWide/mouthPucker/mouthClose CSV curves"


parse_fps = number_option("--fps", 1.0, 1000.0, unit="frames per second")


def register(subparsers):
    p = subparsers.add_parser(
        "export",
        help=HELP,
        description=(
            "Analyse audio files (WAV, FLAC, OGG, MP3, M4A, Opus, or videos with sound) and write one CSV of blendshape weights per file: "
            "header frame,time_s,jawOpen,mouthWide,mouthPucker,mouthClose; one row per frame at "
            "time_s = frame / fps. With one input, -o is the CSV path; with several, -o is a folder "
            "and each CSV is named after its input (speech.wav -> speech.csv)."
        ),
    )
    p.add_argument("inputs", nargs="+", metavar="AUDIO", help="audio files (WAV, FLAC, OGG, MP3, M4A, Opus, MP4/MOV/MKV/WebM with sound; any rate, any channels)")
    p.add_argument("-o", "--output", required=True, metavar="PATH", help="CSV file (one input) or folder (several; ends in / or exists)")
    p.add_argument("--fps", type=parse_fps, default=60.0, help="frames per second of the CSV (default 60)")
    p.add_argument("--no-progress", action="store_true", help="never show a progress bar")
    p.add_argument("--plot", action="store_true", help="also draw each CSV as a PNG beside it (waveform above the curves)")
    return p


def _targets(inputs: list[str], output: str) -> tuple[list[tuple[str, Path]], Path | None]:
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
        dst = out / (Path(src).stem + ".csv")
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


def run(args) -> int:
    from face3d.pipeline import analyze
    from face3d.track import save_csv

    pairs, folder = _targets(list(args.inputs), args.output)
    bar = None
    show = not args.no_progress and sys.stderr.isatty()
    if show and len(pairs) > 1:
        from tqdm import tqdm

        bar = tqdm(total=len(pairs), unit="file", file=sys.stderr, leave=False)
    created = False
    try:
        for src, dst in pairs:
            track = analyze(src, fps=args.fps)
            if folder is not None:
                created = _make_folder(folder)
                folder = None
            save_csv(track, dst)
            if getattr(args, "plot", False):
                from face3d.commands.plot import write_plot

                write_plot(track, dst.with_suffix(".png"), audio=src, title=Path(src).name)
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
