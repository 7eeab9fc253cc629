"""``face3d stream``: send the weights live to a VTuber app over the VMC protocol."""

from __future__ import annotations

import sys

HELP = "send the mouth and blinks live to a VTuber app (VSeeFace, VNyan, Warudo, ...) over the VMC protocol"

DESCRIPTION = """\
Analyse speech (a file played aloud, standard input with '-', or the microphone with --mic)
and send the weights 60 times a second as VMC blendshape values (OSC over UDP):
/VMC/Ext/Blend/Val (name, value) for each shape, then /VMC/Ext/Blend/Apply. Names are VRM
0.x presets (A I U E O, and Blink, Blink_L, Blink_R from the voice's blinks) by default,
VRM 1.0 (aa ih ou ee oh, blink, blinkLeft, blinkRight) with --vrm 1, or the ARKit
blendshapes (the mouth, EyeBlinkLeft/Right and the brows) with --names arkit; --mouth-only
sends the mouth alone. A file stops at its end; the microphone runs until Ctrl-C.
"""


def register(sub):
    import argparse

    from face3d.audio.decode import FORMATS
    from face3d.commands._common import number_option
    from face3d.commands._stdin import add_stdin_options

    p = sub.add_parser("stream", help=HELP, description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("audio", nargs="?", metavar="AUDIO", help=f"speech file to play and send ({FORMATS}), or '-' for standard input")
    p.add_argument("--mic", action="store_true", help="send live from the microphone (until Ctrl-C)")
    p.add_argument("--device", metavar="D", help="input device for --mic (index or name; see 'face3d devices')")
    p.add_argument("--vmc", required=True, metavar="HOST[:PORT]", help="the VMC receiver (default port 39539), e.g. 127.0.0.1:39539")
    p.add_argument("--vrm", choices=("0", "1"), default="0", help="VRM version of the expression names: 0 (A I U E O, default) or 1 (aa ih ou ee oh)")
    p.add_argument("--names", choices=("vrm", "arkit", "visemes"), default="vrm",
                   help="vrm (default), arkit (the 52 ARKit blendshapes, for perfect-sync avatars) or visemes "
                        "(the fifteen Oculus visemes viseme_sil ... viseme_U, for Ready Player Me-style avatars)")
    p.add_argument("--mute", action="store_true", help="do not play the sound (send on face3d's own clock)")
    p.add_argument("--seconds", type=number_option("--seconds", 0.0, lo_inclusive=False, unit="seconds"), metavar="S",
                   help="stop after this many seconds")
    add_stdin_options(p)
    from face3d.commands._common import add_alive_options

    add_alive_options(p)
    return p


def run(args) -> int:
    import time

    from face3d.commands._common import alive_from_args
    from face3d.commands._stdin import STDIN, raw_options
    from face3d.errors import UsageError
    from face3d.formats.vmc import RATE_HZ, VmcSender, parse_target, send_loop

    if args.mic and args.audio:
        raise UsageError("--mic takes no AUDIO; give one or the other")
    if not args.mic and not args.audio:
        raise UsageError("give AUDIO (a file, or '-' for standard input) or --mic")
    if args.device and not args.mic:
        raise UsageError("--device chooses the microphone; use it with --mic")
    raw_opts = raw_options(args, args.audio == STDIN)
    host, port = parse_target(args.vmc)
    name_set = args.names if args.names in ("arkit", "visemes") else f"vrm{args.vrm}"
    alive = alive_from_args(args)
    if _with_visemes(name_set, live=bool(args.mic or args.audio == STDIN)):
        alive["visemes"] = True
    source = _open_source(args, raw_opts, alive)
    sender = VmcSender(host, port, name_set)
    log(f"sending {source.label} to {host}:{port} as VMC ({name_set} names, {RATE_HZ:g} Hz); "
        "UDP is not acknowledged, so nothing tells whether a receiver is listening")
    t0 = time.monotonic()
    stop = source.done
    if args.seconds is not None:
        stop = lambda: source.done() or time.monotonic() - t0 >= args.seconds  # noqa: E731
    status = 0
    try:
        source.start()
        send_loop(sender, source.frame, stop)
    except KeyboardInterrupt:
        status = 130
    finally:
        source.close()
        for line in source.notices():
            log(line)
    tail = f"; {sender.failures} messages could not be sent ({sender.last_error})" if sender.failures else ""
    log(f"{'stopped (Ctrl-C)' if status else 'done'}: sent {sender.frames} frames in {time.monotonic() - t0:.1f} s{tail}")
    return status


def log(line: str) -> None:
    print(f"face3d stream: {line}", file=sys.stderr, flush=True)


class _MediaSource:
    """A file: its analysed track on the player's clock (or face3d's own with --mute)."""

    def __init__(self, path: str, mute: bool, alive: dict | None = None):
        from pathlib import Path

        from face3d.audio.files import load_audio
        from face3d.pipeline import analyze

        self.samples, self.rate = load_audio(path, rate=None)
        self.track = analyze(self.samples, rate=self.rate, fps=None, **(alive or {}))
        self.label = f"file: {Path(path).name}"
        self.mute = mute
        self.clock = None

    def start(self):
        if self.mute:
            from face3d.audio.clock import OwnClock

            self.clock = OwnClock(self.samples.shape[0] / self.rate)
        else:
            from face3d.audio.player import open_player

            self.clock = open_player(self.samples, self.rate, log=log)
        self.clock.start()

    def frame(self):
        self.clock.tick()
        t = float(self.clock.position())
        return self.track.names, self.track.at(t), t

    def done(self) -> bool:
        return self.clock is not None and bool(self.clock.ended)

    def notices(self):
        return []

    def close(self):
        if self.clock is not None:
            self.clock.close()


class _LiveSource:
    """The microphone, or a pipe on standard input, through the live analysis."""

    def __init__(self, live, pipe=None):
        self.live, self.pipe = live, pipe
        self.label = live.label if pipe is None else "standard input"
        self._t0 = None

    def start(self):
        import time

        if self.pipe is not None:
            self.pipe.notices = self.live.notices       # stalls show with the live source's notices
        self.live.start()
        self._t0 = time.monotonic()
        self._seen = 0

    def frame(self):
        import time

        for line in self.live.notices[self._seen:]:
            log(line)
        self._seen = len(self.live.notices)
        return self.live.names, self.live.weights(), time.monotonic() - self._t0

    def done(self) -> bool:
        return self.pipe is not None and self.pipe.finished

    def notices(self):
        return []

    def close(self):
        self.live.close()


def _open_source(args, raw_opts, alive: dict):
    from face3d.commands._stdin import STDIN, stdin_binary

    if args.mic:
        from face3d.commands.view import open_live

        return _LiveSource(open_live(args.device, alive))
    if args.audio == STDIN:
        from face3d.audio.stdin import PipeSource
        from face3d.live import LiveSource

        pipe = PipeSource(stdin_binary(), *raw_opts, play=not args.mute).open()   # the header, or a one-line error
        return _LiveSource(LiveSource(mic=pipe, **alive), pipe)
    return _MediaSource(args.audio, args.mute, alive)


def _with_visemes(name_set: str, live: bool) -> bool:
    """Analyse with the fifteen visemes when the names use them (``visemes``; ``arkit`` fills
    its mouth shapes from them) and the viseme model in use gives them. ``--names visemes``
    without them is a one-line error; the other name sets go on with the four curves."""
    from face3d.analysis import VISEME_NAMES
    from face3d.analysis.model import load_model
    from face3d.errors import UsageError

    if name_set not in ("visemes", "arkit"):
        return False
    has = load_model(live=live).n_out >= 4 + len(VISEME_NAMES)
    if name_set == "visemes" and not has:
        raise UsageError("--names visemes: the installed viseme model gives no visemes (it has no viseme head); "
                         "use --names vrm or arkit, or install a model trained with them (scripts/train_visemes.py)")
    return has
