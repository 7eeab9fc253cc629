"""``face3d plot``: a PNG of weight curves, with the speech's waveform above them."""

from __future__ import annotations

HELP = "draw weight curves (CSV) as a PNG, with the speech's waveform above them"


def register(sub):
    p = sub.add_parser("plot", help=HELP, description=(
        "Draw the curves of a weight CSV (from 'face3d export' or 'view --record') as a PNG: "
        "the sound's waveform on top (with --audio), the weights below, on one time axis."))
    p.add_argument("curves", metavar="CURVES.csv", help="weight CSV with a time column")
    p.add_argument("--audio", metavar="SPEECH", help="the sound the curves came from (any audio or video file)")
    p.add_argument("-o", "--output", required=True, metavar="PNG", help="output PNG file")
    p.add_argument("--size", default="1200x600", metavar="WxH", help="image size in pixels, at least 640x360 (default 1200x600)")
    return p


def write_plot(track, output, *, audio=None, size=(1200, 600), title=None) -> None:
    """The plot of ``track`` (with the waveform of ``audio``, a path, if given) at ``output``."""
    samples = rate = None
    if audio is not None:
        from face3d.audio.files import load_audio

        samples, rate = load_audio(audio, rate=None)
    from face3d.plot import plot_curves

    plot_curves(track, output, samples=samples, rate=rate, size=size, title=title)


def run(args) -> int:
    from pathlib import Path

    from face3d.commands._common import parse_size
    from face3d.errors import UsageError
    from face3d.fileio import check_writable, output_format
    from face3d.track import read_csv

    size = parse_size(args.size)
    output_format(args.output, {".png": "PNG"}, "plot", default="PNG")
    from face3d.plot import MIN_SIZE

    if size[0] < MIN_SIZE[0] or size[1] < MIN_SIZE[1]:
        raise UsageError(f"--size {args.size} is too small for the panels and their legends; "
                         f"give at least {MIN_SIZE[0]}x{MIN_SIZE[1]}")
    check_writable(args.output)
    track = read_csv(args.curves)
    title = Path(args.curves).name + (f" + {Path(args.audio).name}" if args.audio else "")
    write_plot(track, args.output, audio=args.audio, size=size, title=title)
    print(args.output)
    return 0
