"""``face3d view``: a window with the talking head, live from the microphone or a speech file."""

from __future__ import annotations

HELP = "open a window where the head talks: from a speech file (played aloud) or the microphone"

DESCRIPTION = """\
Open a window with the head speaking. With no arguments it plays the bundled demo
speech on the default head. With AUDIO, the sound plays through the default output
device and the lips follow what is heard; with --mic they follow the microphone live.

Mouse: left-drag orbits, wheel zooms, right- or middle-drag pans.
Keys: R resets the view, H hides the overlay, space pauses, left/right seek 5 s,
Q or Escape quits.
"""


def register(sub):
    import argparse

    from face3d.audio.decode import FORMATS
    from face3d.commands._common import number_option

    p = sub.add_parser("view", help=HELP, description=DESCRIPTION,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("audio", nargs="?", metavar="AUDIO",
                   help=f"speech file to play ({FORMATS}), or '-' to play and animate standard input as it "
                        "arrives; default: the bundled demo speech")
    p.add_argument("--mic", action="store_true", help="drive the head live from the microphone")
    p.add_argument("--device", metavar="D", help="input device for --mic (index or name; see 'face3d devices')")
    try:
        from face3d.commands._common import add_head_options
    except ImportError:
        add_head_options = None
    if add_head_options is not None:
        add_head_options(p)
    else:
        p.add_argument("--head", metavar="PATH", help="head mesh (default: the bundled head)")
    p.add_argument("--curves", metavar="CSV", help="drive the head from a weight CSV (with AUDIO played alongside if given)")
    p.add_argument("--record", metavar="CSV", help="save the session's weight curves to CSV when the viewer closes")
    p.add_argument("--loop", action="store_true", help="repeat the sound (or curves) forever")
    p.add_argument("--size", default="1280x720", metavar="WxH", help="window size (default 1280x720)")
    p.add_argument("--no-vsync", action="store_true", help="draw as fast as possible (for measuring)")
    p.add_argument("--no-osd", action="store_true", help="start with the overlay hidden")
    p.add_argument("--mute", action="store_true", help="do not play the sound; run on the viewer's own clock")
    p.add_argument("--window", choices=("pyglet", "headless"), default="pyglet", help=argparse.SUPPRESS)
    p.add_argument("--frames", type=int, metavar="N", help=argparse.SUPPRESS)
    p.add_argument("--seconds", type=number_option("--seconds", 0.0, lo_inclusive=False, unit="seconds"), metavar="S",
                   help=argparse.SUPPRESS)
    p.add_argument("--screenshot", metavar="PNG", help="save the last drawn frame to PNG when the viewer closes")
    p.add_argument("--stats", action="store_true", help="print the time to the first frame and the frame rate")
    from face3d.commands._common import background_help

    p.add_argument("--background", metavar="COLOR", help=background_help())
    from face3d.commands._stdin import add_stdin_options

    add_stdin_options(p)
    from face3d.commands._common import add_alive_options

    add_alive_options(p)
    return p


def register_defaults():
    """The parsed arguments of a plain ``face3d view`` (for ``face3d demo``)."""
    import argparse

    sub = argparse.ArgumentParser(prog="face3d").add_subparsers()
    return register(sub).parse_args([])


def _load_rig(args):
    try:
        from face3d.commands._common import load_head_from_args
    except ImportError:
        load_head_from_args = None
    if load_head_from_args is not None:
        return load_head_from_args(args)
    from face3d.mesh.heads import load_head

    return load_head(args.head)


def build_session(args, log, shape_names=None):
    """The session (and its title) for the parsed arguments; raises Face3DError on bad input."""
    from pathlib import Path

    from face3d.errors import UsageError
    from face3d.viewer.session import Recorder, Session

    if args.mic and (args.audio or args.curves):
        raise UsageError("--mic takes no AUDIO or --curves; drop one or the other")
    if args.device and not args.mic:
        raise UsageError("--device chooses the microphone; use it with --mic")
    from face3d.commands._common import alive_from_args

    alive = alive_from_args(args)
    # --record writes export's columns for the same options: the visemes only with --visemes
    # (not when they are analysed only because the head shows them)
    leave_out = () if getattr(args, "record_visemes", True) else _viseme_names()

    def recorder(names):
        return Recorder(names, leave_out=leave_out) if args.record else None

    if args.mic:
        live = open_live(args.device, alive)
        rec = recorder(live.names)
        return Session(live=live, recorder=rec, label=live.label), live.label
    from face3d.commands._stdin import STDIN, raw_options

    raw_opts = raw_options(args, args.audio == STDIN)
    if args.audio == STDIN:
        if args.curves or args.loop:
            raise UsageError("AUDIO '-' (standard input) plays as it arrives: it takes no --curves or --loop")
        live = _open_pipe(args, raw_opts)
        session = Session(live=live, recorder=recorder(live.names), label=live.label)
        session.pipe = live.mic
        return session, live.label

    from face3d.audio.clock import OwnClock

    audio = args.audio
    if audio is None and args.curves is None:
        from face3d.assets import model_path

        audio = str(model_path("demo_speech.wav"))
    samples = rate = None
    if audio is not None:
        from face3d.audio.files import load_audio

        samples, rate = load_audio(audio, rate=None)
    if args.curves:
        from face3d.track import ALIVE_NAMES, ANGLE_NAMES, read_csv

        names = None
        if shape_names is not None:   # the head's shapes and the pose angles
            names = tuple(shape_names) + tuple(n for n in ANGLE_NAMES if n not in shape_names)
            if not alive["alive"]:    # --mouth-only: a still head, no blinks or brows
                names = tuple(n for n in names if n not in ALIVE_NAMES)
        track = read_csv(args.curves, names=names)
        from face3d.commands._common import check_curve_weights

        check_curve_weights(track, args.curves)       # the rule of --weights and render --curves
        label = f"curves: {Path(args.curves).name}" + (f" + {Path(audio).name}" if audio else "")
    else:
        from face3d.pipeline import analyze

        track = analyze(samples, rate=rate, fps=None, **alive)
        label = f"file: {Path(audio).name}"
    if samples is not None and not args.mute:
        from face3d.audio.player import open_player

        clock = open_player(samples, rate, loop=args.loop)
    else:
        duration = samples.shape[0] / rate if samples is not None else track.duration
        clock = OwnClock(duration, loop=args.loop)
    rec = recorder(track.names)
    return Session(track=track, clock=clock, recorder=rec, samples=samples, rate=rate, label=label), label


def _viseme_names():
    from face3d.track import VISEME_NAMES

    return VISEME_NAMES


def _open_pipe(args, raw_opts):
    """Standard input through the live analysis, released in real time as it arrives."""
    from face3d.audio.stdin import LABEL, PipeSource
    from face3d.commands._stdin import stdin_binary
    from face3d.live import LiveSource

    pipe = PipeSource(stdin_binary(), *raw_opts, play=not args.mute)   # the header is read when it starts
    from face3d.commands._common import alive_from_args

    live = LiveSource(mic=pipe, **alive_from_args(args))
    live.label = LABEL
    pipe.notices = live.notices      # a stall shows on the overlay and stderr like the live source's notices
    return live


def _end_with_input(session, opts, log) -> None:
    """Close the viewer once standard input has ended and all of it has been shown."""
    pipe = getattr(session, "pipe", None)
    if pipe is None:
        return
    update = session.update

    def update_until_end():
        w = update()
        if pipe.finished and opts.max_frames != 0:
            log(f"end of standard input after {pipe.released / pipe.rate:.1f} s of sound; closing")
            opts.max_frames = 0          # the viewer's loop stops after this frame
        return w

    session.update = update_until_end


def open_live(device, alive=None):
    """The microphone's LiveSource (``alive``: its alive/seed keywords); a missing device's
    error lists the sound devices."""
    from face3d.errors import DeviceError
    from face3d.live import LiveSource

    try:
        return LiveSource(device, **(alive or {}))
    except DeviceError as exc:
        msg = str(exc)
        if "input devices:" in msg or "(none" in msg:
            raise
        try:
            from face3d.audio.mic import list_devices

            devs = list_devices()
            listing = "; ".join(
                f"{d['index']}: {d['name']} ({d['max_input_channels']} in, {d['max_output_channels']} out)" for d in devs
            ) or "none"
        except Exception:  # noqa: BLE001
            listing = "cannot be listed"
        raise DeviceError(f"{msg.rstrip('.')}; sound devices: {listing}") from None


def run(args) -> int:
    import sys

    from face3d.commands._common import parse_size
    from face3d.fileio import check_writable

    def log(line):
        print(f"face3d view: {line}", file=sys.stderr, flush=True)

    size = parse_size(args.size)
    from face3d.commands._common import parse_background

    background = parse_background(getattr(args, "background", None))
    if background == "transparent":
        from face3d.errors import UsageError

        raise UsageError("--background transparent: a window cannot be see-through; use a colour here, "
                         "or 'face3d render --background transparent' / 'face3d snapshot --background transparent'")
    for path in (args.record, args.screenshot):
        if path:
            check_writable(path)
    rig = _load_rig(args)
    if getattr(args, "head", None) and not args.mouth_only:
        from face3d.commands._common import alive_note, describe_head

        log(describe_head(rig) + "; " + alive_note(rig))
    if args.window != "headless":
        from face3d.viewer.display import require_display

        require_display()  # before the (slow) analysis of the sound
    from face3d.commands._common import head_wants_visemes

    if not args.curves and not getattr(args, "visemes", False) \
            and head_wants_visemes(rig, live=bool(args.mic or args.audio == "-")):
        args.visemes = True          # the head shows the fifteen visemes: analyse with them ...
        args.record_visemes = False  # ... but --record keeps export's columns (visemes only with --visemes)
    session, label = build_session(args, log, shape_names=rig.names)
    from face3d.viewer.app import ViewerOptions, run_viewer

    opts = ViewerOptions(
        title=f"face3d view - {label}", size=size, vsync=not args.no_vsync, window=args.window,
        osd=not args.no_osd, max_frames=args.frames, max_seconds=args.seconds, stats=args.stats, record=args.record,
        screenshot=args.screenshot, background=background,
    )
    _end_with_input(session, opts, log)
    try:
        status = run_viewer(rig, session, opts, log=log)
    except BaseException:
        session.close()
        raise
    return status
