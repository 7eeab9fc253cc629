"""Atomic output: write to a temporary file beside the target, then rename.

A crash, an error or Ctrl-C never leaves a half-written file at the target path.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
from pathlib import Path

from face3d.errors import FormatError, OutputError, UsageError


def check_writable(path: str | os.PathLike) -> Path:
    """Fail early, with a clear message, if ``path``'s folder cannot take a new file.

    The check creates (and removes) a temporary file beside ``path``, exactly as the
    atomic writer will, so a folder that looks writable but is not (``/proc``, a
    read-only mount) fails here, before any slow work. A folder that does not exist yet
    is fine when the nearest one above it is writable: the writer creates it.
    """
    p = Path(path)
    parent = p.parent if str(p.parent) else Path(".")
    if p.is_dir():
        raise OutputError(f"output path {p} is a folder; give a file name such as {p / 'out'}")
    if p.exists() and not p.is_file():  # a device, a pipe, ...: renaming onto it would replace it
        raise OutputError(f"output path {p} is not a regular file; give a file name")
    if not parent.is_dir():
        # a missing folder is made when the output is written (as demo and batches do);
        # here only whether it can be: the nearest folder that exists must take it
        above = _existing_ancestor(parent)
        if not above.is_dir():
            raise OutputError(f"cannot write {p}: {above} is a file, not a folder; choose another path")
        if not os.access(above, os.W_OK):
            raise OutputError(f"cannot write {p}: folder {above} is not writable; choose another path")
        return p
    if not os.access(parent, os.W_OK):
        raise OutputError(f"cannot write {p}: folder {parent} is not writable; choose another path")
    os.unlink(_temp_beside(p))
    return p


def output_format(path: str | os.PathLike, accepted: dict, what: str, default: str | None = None,
                  option: str = "-o") -> str:
    """The format that ``path``'s extension picks among ``accepted`` (extension -> format
    name, e.g. ``{".png": "PNG", ".jpg": "JPEG"}``); ``default`` for a name without an
    extension. Any other extension is a one-line UsageError naming the ones accepted, so
    that no command writes one format under another's name."""
    ext = Path(path).suffix.lower()
    if ext in accepted:
        return accepted[ext]
    if not ext and default is not None:
        return default
    names: dict[str, list[str]] = {}
    for e, name in accepted.items():
        names.setdefault(name, []).append(e)
    listing = ", ".join(f"{'/'.join(es)} ({name})" for name, es in names.items())
    raise UsageError(f"{option} {path}: {what} writes {listing}; give a name ending in one of these")


def _existing_ancestor(folder: Path) -> Path:
    """The nearest of ``folder``'s ancestors that exists (a folder or a file in the way)."""
    folder = folder.absolute()
    for up in (folder, *folder.parents):
        if up.exists():
            return up
    return Path("/")


def make_parent(path: str | os.PathLike) -> None:
    """Create the folder ``path`` goes in (and the folders above it) if missing."""
    parent = Path(path).parent
    if str(parent) in ("", ".") or parent.is_dir():
        return
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create folder {parent} for {path}: {exc.strerror}; choose another path") from None


def _temp_beside(target: Path, suffix: str = "") -> str:
    """A new empty temporary file in ``target``'s folder (closed); OutputError if none can be made."""
    parent = target.parent if str(target.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix or target.suffix, dir=parent)
    except OSError as exc:
        raise OutputError(
            f"cannot write {target}: no file can be created in folder {parent} ({exc.strerror}); choose another path"
        ) from None
    os.close(fd)
    return tmp


def current_umask() -> int:
    """The process's umask, read without changing it where the system allows (Linux)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # elsewhere: the classic read-and-restore
    os.umask(mask)
    return mask


def output_mode(target: Path) -> int:
    """The permission bits a plain ``open(target, "w")`` would leave: the existing file's
    when it replaces one, else 0666 less the umask."""
    try:
        st = os.stat(target)
    except OSError:
        return 0o666 & ~current_umask()
    return stat.S_IMODE(st.st_mode)


_NAMES = "abcdefghijklmnopqrstuvwxyz0123456789_"
_random = None


def _temp_name(target: Path) -> Path:
    """``.NAME.xxxxxxxx.ext`` beside ``target`` (the form :func:`tempfile.mkstemp` gives here,
    which a batch sweeps up after a killed writer)."""
    global _random
    if _random is None or _random[0] != os.getpid():
        import random

        _random = (os.getpid(), random.Random(os.urandom(16)))
    part = "".join(_random[1].choices(_NAMES, k=8))
    return target.with_name(f".{target.name}.{part}{target.suffix}")


def write_atomic(path: str | os.PathLike, chunks) -> None:
    """Write ``chunks`` (bytes, or an iterable of bytes) to ``path`` atomically, cheaply: a
    temporary file beside it created with the permissions a plain ``open()`` gives (the
    kernel applies the umask: no probe), one ``write`` per chunk, one rename. A missing
    folder is made. What went wrong is an OutputError naming the path (and nothing is
    left behind, whatever the exception)."""
    target = Path(path)
    if isinstance(chunks, (bytes, bytearray, memoryview)):
        chunks = (chunks,)
    try:
        st = os.stat(target)
    except OSError:
        mode = None
    else:
        if not stat.S_ISREG(st.st_mode):
            check_writable(target)  # a folder, a device, a pipe: one line that says so
        mode = stat.S_IMODE(st.st_mode)  # it replaces a file: keep its permissions
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for attempt in range(100):
        tmp = _temp_name(target)
        try:
            fd = os.open(tmp, flags, 0o666)
            break
        except FileExistsError:
            continue
        except FileNotFoundError:
            if attempt:
                raise OutputError(f"cannot write {target}: folder {target.parent} does not exist") from None
            check_writable(target)
            make_parent(target)
        except OSError as exc:
            check_writable(target)  # says why in one line
            raise OutputError(f"cannot write {target}: {exc.strerror}; choose another path") from None
    else:
        raise OutputError(f"cannot write {target}: no temporary file could be made beside it; choose another path")
    try:
        try:
            if mode is not None:
                os.fchmod(fd, mode)
            for data in chunks:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        try:
            os.replace(tmp, target)
        except OSError as exc:
            if target.is_dir():
                raise OutputError(f"output path {target} is a folder; give a file name such as {target / 'out'}") from None
            raise OutputError(f"cannot write {target}: {exc.strerror}; choose another path") from None
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise OutputError(f"cannot write {target}: {exc.strerror}; choose another path") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = ""):
    """Yield a temporary path in the target folder; rename it onto ``path`` on success.

    The result has the permissions a plain ``open()`` would give it (the umask's, or the
    replaced file's), not the temporary file's owner-only mode. On any exception
    (including KeyboardInterrupt) the temporary file is removed and the target is left
    as it was.
    """
    target = check_writable(path)
    make_parent(target)
    tmp = _temp_beside(target, suffix)
    try:
        yield Path(tmp)
        try:
            os.chmod(tmp, output_mode(target))
            os.replace(tmp, target)
        except OSError as exc:
            raise OutputError(f"cannot write {target}: {exc.strerror}; choose another path") from None
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
