"""Inputs of a batch: files and folders -> sorted (input, output) pairs mirroring the
inputs' relative paths under the output folder; and whether an output is up to date."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Sequence

from face3d.errors import UsageError


def discover(inputs: Sequence[str], outdir: Path, suffix: str, extensions: Iterable[str]) -> list[tuple[Path, Path]]:
    """Files and folders -> sorted ``(input, output)`` pairs.

    A file named on the command line is taken whatever its extension and written as
    ``OUTDIR/<its name with suffix>``; a folder is searched recursively (hidden files and
    folders, and the output folder itself, left out) for files whose extension is in
    ``extensions``, and ``folder/a/b.wav`` is written as ``OUTDIR/a/b<suffix>``.
    UsageError for a missing input, a folder with no such files, or two inputs that would
    write the same output.
    """
    exts = {e.lower().lstrip(".") for e in extensions}
    out_real = os.path.realpath(outdir)
    pairs: list[tuple[Path, Path]] = []
    seen: dict[Path, Path] = {}
    for arg in inputs:
        root = Path(arg)
        if root.is_dir():
            found = sorted(_walk(root, exts, out_real), key=lambda p: p.relative_to(root).parts)
            if not found:
                raise UsageError(f"folder {root} holds no files to do ({', '.join(sorted(exts))}); check the path")
            rels = [(p, p.relative_to(root)) for p in found]
        elif root.exists() or root.is_symlink():
            rels = [(root, Path(root.name))]
        else:
            raise UsageError(f"input {root} does not exist; check the path")
        for src, rel in rels:
            dst = outdir / rel.with_suffix(suffix)
            if dst in seen:
                raise UsageError(f"inputs {seen[dst]} and {src} would both write {dst}; rename one or do them separately")
            seen[dst] = src
            pairs.append((src, dst))
    return pairs


def _walk(root: Path, exts: set[str], out_real: str):
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".") and os.path.realpath(os.path.join(folder, d)) != out_real]
        for name in files:
            if not name.startswith(".") and name.rpartition(".")[2].lower() in exts and "." in name:
                yield Path(folder) / name


def up_to_date(src: Path, dst: Path) -> bool:
    """True if ``dst`` exists and is newer than ``src`` (outputs are atomic: one that exists is whole)."""
    try:
        return dst.is_file() and dst.stat().st_mtime_ns > src.stat().st_mtime_ns
    except OSError:
        return False
