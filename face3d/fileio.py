"""Atomic output: write to a temporary file beside the target, then rename.

A crash, an error or Ctrl-C never leaves a half-written file at the target path.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path

from face3d.errors import FormatError, OutputError


def check_writable(path: str | os.PathLike) -> Path:
    """Fail early, with a clear message, if ``path``'s folder cannot take a new file."""
    p = Path(path)
    parent = p.parent if str(p.parent) else Path(".")
    if p.is_dir():
        raise OutputError(f"output path {p} is a folder; give a file name such as {p / 'out'}")
    if not parent.is_dir():
        raise OutputError(f"cannot write {p}: folder {parent} does not exist; create it first")
    if not os.access(parent, os.W_OK):
        raise OutputError(f"cannot write {p}: folder {parent} is not writable; choose another path")
    return p


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = ""):
    """Yield a temporary path in the target folder; rename it onto ``path`` on success.

    On any exception (including KeyboardInterrupt) the temporary file is removed and
    the target is left as it was.
    """
    target = check_writable(path)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=suffix or target.suffix, dir=target.parent or "."
    )
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w", **kwargs):
    """Open a temporary file for writing; it replaces ``path`` only when the block succeeds."""
    with atomic_path(path) as tmp:
        with open(tmp, mode, **kwargs) as fh:
            yield fh


def read_json(path: str | os.PathLike, what: str, option: str):
    """Parse a user's JSON file; every failure is a one-line FormatError naming the file.

    what: how to call the file in messages ("shape map"); option: the option that named it.
    """
    p = Path(path)
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FormatError(f"{what} {p} does not exist; check the {option} path") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FormatError(f"cannot read {what} {p}: {exc}; check the file") from None
    except json.JSONDecodeError as exc:
        raise FormatError(f"{what} {p} is not valid JSON (line {exc.lineno}: {exc.msg}); fix the file") from None
