"""``face3d record``: microphone -> viseme weight CSV (and optionally the WAV)."""

from __future__ import annotations

import signal
import sys
import time

from face3d.commands._common import number_option
from face3d.commands.export import parse_fps
from face3d.errors import AudioError

HELP = "record from the microphone into a weight CSV (Ctrl-C stops and keeps what was captured)"


_seconds = number_option("--seconds", 0.0, lo_inclusive=False, unit="seconds")


def register(subparsers):
    p = subparsers.add_parser(
        "record",
        help=HELP,
        description=(
            "Capture the microphone, analyse it live and write the weight CSV (same format as "
            "'face3d export'). Stops after --seconds, or on Ctrl-C, keeping everything captured "
            "so far; files are written completely or not at all."
        ),
    )
    p.add_argument("-o", "--output", required=True, metavar="CSV", help="weight CSV to write")
    p.add_argument("--seconds", type=_seconds, default=None, help="stop after this many seconds (default: until Ctrl-C)")
    p.add_argument("--wav", metavar="WAV", default=None, help="also save the captured audio (16-bit WAV)")
    p.add_argument("--device", default=None, help="input device index or name (see 'face3d devices'); default input if omitted")
    p.add_argument("--fps", type=parse_fps, default=60.0, help="frames per second of the CSV (default 60)")
    p.add_argument("--rate", type=int, default=16000, help="sample rate to ask of the device (default 16000)")
    p.add_argument("--quiet", action="store_true", help="no level meter on stderr")
    return p


def run(args) -> int:
    import numpy as np

    from face3d.analysis import HOP_S, NAMES, StreamAnalyzer
    from face3d.audio.mic import MicSource
    from face3d.fileio import check_writable
    from face3d.track import WeightTrack, save_csv

    check_writable(args.output)
    if args.wav:
        check_writable(args.wav)

    stop = {"flag": False, "why": None}

    def on_sigint(signum, frame):
        if stop["flag"]:  # second Ctrl-C: give up at once
            raise KeyboardInterrupt
        stop["flag"] = True
        stop["why"] = "Ctrl-C"

    mic = MicSource(args.device, rate=args.rate)
    blocks: list = []
    parts: list = []
    old = signal.signal(signal.SIGINT, on_sigint)
    meter = not args.quiet and sys.stderr.isatty()
    try:
        mic.start()
        ana = StreamAnalyzer(mic.rate)
        limit = None if args.seconds is None else int(round(args.seconds * mic.rate))
        got = 0
        print(
            f"recording from {mic.device['index']}: {mic.name} at {mic.rate} Hz"
            + (f" for {args.seconds:g} s" if args.seconds else "")
            + "; Ctrl-C stops",
            file=sys.stderr, flush=True,
        )
        last = time.monotonic()
        while not stop["flag"]:
            b = mic.read(timeout=0.2)
            if b is None:
                continue
            if limit is not None and got + b.shape[0] >= limit:
                b = b[: limit - got]
                stop["flag"], stop["why"] = True, "time"
            got += b.shape[0]
            blocks.append(b)
            w = ana.feed(b)
            parts.append(w)
            if meter and w.shape[0] and time.monotonic() - last > 0.05:
                last = time.monotonic()
                jaw = float(w[-1, 0])
                print(f"\r{got / mic.rate:7.1f} s  jawOpen {'#' * int(jaw * 30):<30}", end="", file=sys.stderr, flush=True)
        mic.stop()
        if stop["why"] == "Ctrl-C":
            # keep what was already delivered, up to the limit
            for b in mic.drain():
                if limit is not None and got >= limit:
                    break
                if limit is not None:
                    b = b[: limit - got]
                got += b.shape[0]
                blocks.append(b)
                parts.append(ana.feed(b))
        parts.append(ana.flush())
    finally:
        mic.stop()
        signal.signal(signal.SIGINT, old)
        if meter:
            print(file=sys.stderr)
    # from here on Ctrl-C raises KeyboardInterrupt again; outputs are atomic
    if not blocks or sum(b.shape[0] for b in blocks) == 0:
        raise AudioError(f"no audio was captured from device '{mic.name}'; nothing written (check the input level and device)")
    samples = np.concatenate(blocks)
    values = np.concatenate([p for p in parts if p.shape[0]]) if parts else np.zeros((0, 4), np.float32)
    track = WeightTrack(np.arange(values.shape[0]) * HOP_S, NAMES, values)
    duration = samples.shape[0] / mic.rate
    track = track.resample(args.fps, duration=max(0.0, duration - 1e-9))
    if args.wav:
        import soundfile as sf

        from face3d.fileio import atomic_path

        with atomic_path(args.wav, suffix=".wav") as tmp:
            sf.write(str(tmp), samples, mic.rate, subtype="PCM_16", format="WAV")
    save_csv(track, args.output)
    why = "stopped by Ctrl-C" if stop["why"] == "Ctrl-C" else "done"
    print(f"{why}: {duration:.2f} s captured -> {args.output}" + (f", {args.wav}" if args.wav else ""), file=sys.stderr)
    if mic.overflows or mic.dropped:
        print(
            f"warning: {mic.overflows} input overflow(s), {mic.dropped} block(s) dropped; "
            "some audio was lost (the machine was too busy)", file=sys.stderr,
        )
    return 0
