"""``face3d record``: microphone -> viseme weight CSV (and optionally the WAV)."""

from __future__ import annotations

import signal
import sys

from face3d.commands._common import number_option
from face3d.commands.export import parse_fps
from face3d.errors import AudioError, DeviceError

HELP = "record from the microphone into a weight CSV (Ctrl-C stops and keeps what was captured)"


_seconds = number_option("--seconds", 0.0, lo_inclusive=False, unit="seconds")


def register(subparsers):
    p = subparsers.add_parser(
        "record",
        help=HELP,
        description=(
            "Capture the microphone, analyse it live and write the weight CSV (same format as "
            "'face3d export'). Stops after --seconds, or on Ctrl-C or SIGTERM, keeping everything "
            "captured so far; files are written completely or not at all."
        ),
    )
    p.add_argument("-o", "--output", required=True, metavar="CSV", help="weight CSV to write")
    p.add_argument("--seconds", type=_seconds, default=None, help="stop after this many seconds (default: until Ctrl-C)")
    p.add_argument("--wav", metavar="WAV", default=None, help="also save the captured audio (16-bit WAV)")
    p.add_argument("--device", default=None, help="input device index or name (see 'face3d devices'); default input if omitted")
    p.add_argument("--fps", type=parse_fps, default=60.0, help="frames per second of the CSV (default 60)")
    p.add_argument("--rate", type=int, default=16000, help="sample rate to ask of the device (default 16000)")
    p.add_argument("--quiet", action="store_true", help="no level meter on stderr")
    from face3d.commands._common import add_alive_options

    add_alive_options(p)
    return p


def run(args) -> int:
    from face3d.fileio import check_writable, output_format
    from face3d.live import LiveSource

    output_format(args.output, {".csv": "CSV"}, "record", default="CSV")
    check_writable(args.output)
    if args.wav:
        output_format(args.wav, {".wav": "WAV"}, "record --wav", default="WAV", option="--wav")
        check_writable(args.wav)

    stop = {"why": None}

    def on_signal(signum, frame):
        if stop["why"] is not None and signum == signal.SIGINT:  # second Ctrl-C: give up at once
            raise KeyboardInterrupt
        stop["why"] = "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name

    from face3d.commands._common import alive_from_args

    live = LiveSource(args.device, rate=args.rate, keep_audio=True, max_seconds=args.seconds, **alive_from_args(args))
    old = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    meter = not args.quiet and sys.stderr.isatty()
    failed = None
    try:
        live.start()
        mic = live.mic
        print(
            f"recording from {mic.device['index']}: {mic.name} at {mic.rate} Hz"
            + (f" for {args.seconds:g} s" if args.seconds else "")
            + "; Ctrl-C stops",
            file=sys.stderr, flush=True,
        )
        while stop["why"] is None and not live.finished.wait(0.05):
            if live.stream_failed:
                failed = f"input device '{mic.name}' stopped delivering sound mid-way (device error)"
                break
            if meter:
                jaw = float(live.weights()[0])
                print(f"\r{live.samples / live.rate:7.1f} s  jawOpen {'#' * int(jaw * 30):<30}",
                      end="", file=sys.stderr, flush=True)
    finally:
        try:
            live.close()     # the worker analyses what is still queued and flushes
        finally:
            for sig, handler in old.items():
                signal.signal(sig, handler)
            if meter:
                print(file=sys.stderr)
    # from here on Ctrl-C raises KeyboardInterrupt again; outputs are atomic
    return _save(args, live, stop["why"], failed)


def _save(args, live, why, failed) -> int:
    import numpy as np

    from face3d.fileio import atomic_path
    from face3d.track import WeightTrack, save_csv

    mic = live.mic
    samples = live.audio()
    if samples.shape[0] == 0:
        if failed:
            raise DeviceError(f"{failed}; nothing was captured before it, nothing written (check the device)")
        raise AudioError(f"no audio was captured from device '{mic.name}'; nothing written (check the input level and device)")
    values = live.drain()
    track = WeightTrack(np.arange(values.shape[0]) * live.hop_s, live.names, values)
    duration = samples.shape[0] / live.rate
    track = track.resample(args.fps, duration=max(0.0, duration - 1e-9))
    if args.wav:
        import soundfile as sf

        with atomic_path(args.wav, suffix=".wav") as tmp:
            sf.write(str(tmp), samples, live.rate, subtype="PCM_16", format="WAV")
    save_csv(track, args.output)
    outputs = args.output + (f", {args.wav}" if args.wav else "")
    if failed:
        raise DeviceError(f"{failed}; kept the {duration:.2f} s captured before it in {outputs}")
    print(f"{'done' if why is None else 'stopped by ' + why}: {duration:.2f} s captured -> {outputs}",
          file=sys.stderr)
    if mic.overflows or mic.dropped:
        print(
            f"warning: {mic.overflows} input overflow(s), {mic.dropped} block(s) dropped; "
            "some audio was lost (the machine was too busy)", file=sys.stderr,
        )
    return 0
