"""Option parsing shared by several commands."""

from __future__ import annotations

import re

from face3d.errors import UsageError


def parse_size(text: str) -> tuple[int, int]:
    """'800x600' -> (800, 600); 16..8192 each side."""
    m = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text or "")
    if not m:
        raise UsageError(f"--size '{text}' is not WIDTHxHEIGHT, e.g. --size 800x800")
    w, h = int(m.group(1)), int(m.group(2))
    if not (16 <= w <= 8192 and 16 <= h <= 8192):
        raise UsageError(f"--size {w}x{h} is out of range; each side must be 16 to 8192 pixels")
    return w, h


def parse_weights(text: str | None) -> dict[str, float]:
    """'jawOpen=1,mouthWide=0.5' -> {'jawOpen': 1.0, 'mouthWide': 0.5}; each weight in [0, 1].

    Shape names are checked against the head later (the head knows its shapes).
    """
    out: dict[str, float] = {}
    if not text:
        return out
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        name, sep, value = part.partition("=")
        name = name.strip()
        if not sep or not name:
            raise UsageError(f"--weights item '{part}' is not NAME=VALUE, e.g. --weights jawOpen=1,mouthWide=0.5")
        try:
            w = float(value)
        except ValueError:
            raise UsageError(f"--weights {name}='{value.strip()}' is not a number; use a value from 0 to 1") from None
        if not (0.0 <= w <= 1.0):
            raise UsageError(f"--weights {name}={value.strip()} is outside [0, 1]; use a value from 0 to 1")
        out[name] = w
    return out
