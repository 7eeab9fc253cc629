"""face3d's own CSV: ``frame,time_s,jawOpen,mouthWide,mouthPucker,mouthClose[,...]``."""

from __future__ import annotations

from face3d.track import csv_bytes, export_columns


def to_bytes(track, info, variant: str = "csv") -> bytes:
    from face3d.formats import frames

    return csv_bytes(export_columns(frames(track, info)))


def write(track, stream, info, variant: str = "csv") -> None:
    stream.write(to_bytes(track, info, variant).decode("utf-8"))
