"""The options and glue for reading speech from standard input (AUDIO given as ``-``)."""

from __future__ import annotations

from face3d.errors import UsageError

STDIN = "-"


def add_stdin_options(p) -> None:
    """--raw / --rate / --channels: how to read raw PCM piped in as AUDIO '-'."""
    from face3d.commands._common import number_option

    g = p.add_argument_group("standard input (AUDIO '-')")
    g.add_argument("--raw", choices=("s16le", "f32le"),
                   help="standard input is raw PCM in this sample format (default: a WAV stream)")
    g.add_argument("--rate", type=number_option("--rate", 1000, 768000, unit="Hz"), metavar="R",
                   help="sample rate of the raw PCM (with --raw)")
    g.add_argument("--channels", type=number_option("--channels", 1, 64), metavar="C",
                   help="channels of the raw PCM (with --raw; default 1)")


def raw_options(args, uses_stdin: bool) -> tuple:
    """(raw, rate, channels) for :mod:`face3d.audio.stdin`, checked against each other."""
    raw, rate, ch = getattr(args, "raw", None), getattr(args, "rate", None), getattr(args, "channels", None)
    if not uses_stdin:
        if raw or rate or ch:
            raise UsageError("--raw, --rate and --channels describe standard input; give AUDIO as '-' to use them")
        return None, None, None
    if raw is None and (rate or ch):
        raise UsageError("--rate and --channels describe raw PCM; add --raw s16le or --raw f32le")
    if raw is not None:
        if rate is None:
            raise UsageError(f"--raw {raw} needs --rate R, the sample rate (e.g. --rate 16000)")
        if ch is not None and not float(ch).is_integer() or rate is not None and not float(rate).is_integer():
            raise UsageError("--rate and --channels must be whole numbers")
        return raw, int(rate), int(ch or 1)
    return None, None, None


def stdin_binary():
    """Standard input as a binary stream; a terminal there is a mistake (nothing was piped)."""
    import sys

    if sys.stdin is None or sys.stdin.isatty():
        raise UsageError("AUDIO '-' reads speech from standard input, but nothing is piped into it; "
                         "e.g. espeak-ng --stdout \"Hello\" | face3d ... -")
    return sys.stdin.buffer
