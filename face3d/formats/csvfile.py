"""face3d's own CSV: ``frame,time_s,jawOpen,mouthWide,mouthPucker,mouthClose[,...]``."""

from __future__ import annotations

from face3d.track import csv_bytes, export_columns


def to_bytes(track, info, variant: str = "csv") -> bytes:
    from face3d.formats import frames

    return csv_bytes(export_columns(frames(track, info)))


def write(track, stream, info, variant: str = "csv") -> None:
    stream.write(to_bytes(track, info, variant).decode("utf-8"))


def stream_bytes(blocks):
    """``(first, track)`` blocks of frames (see :meth:`face3d.pipeline.WeightStream.at_fps`)
    -> the CSV's bytes a block at a time (the header with the first): a long file is
    written without ever being whole in memory."""
    header = True
    for first, track in blocks:
        yield csv_bytes(export_columns(track), first=first, header=header)
        header = False
