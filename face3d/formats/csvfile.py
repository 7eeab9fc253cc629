"""face3d's own CSV: ``frame,time_s,jawOpen,mouthWide,mouthPucker,mouthClose[,...]``."""

from __future__ import annotations

from face3d.track import export_columns, write_csv


def write(track, stream, info, variant: str = "csv") -> None:
    from face3d.formats import frames

    write_csv(export_columns(frames(track, info)), stream)
