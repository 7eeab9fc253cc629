"""Keep PortAudio's and ALSA's own diagnostics off the terminal while a stream is open.

When a sound device fails mid-stream, PortAudio's ALSA host API prints lines such as
``Expression '...' failed in 'src/hostapi/alsa/pa_linux_alsa.c', line: 3665`` straight to
file descriptor 2, from its own audio thread, at any moment; alsa-lib adds ``ALSA lib ...``
lines. face3d reports the failure itself in one line, so these must not reach the user.

:func:`hold` (once per stream opened, paired with :func:`release`) points descriptor 2 at a
pipe; a small thread copies everything from the pipe to the real stderr as it arrives,
except whole lines in those two forms. When the last stream is released, descriptor 2 is
restored and everything still in the pipe is copied before :func:`release` returns, so no
line is lost or reordered with what is printed after it.
"""

from __future__ import annotations

import os
import re
import sys
import threading

#: Lines that PortAudio (its PA_ENSURE / PA_UNLESS debug prints) and alsa-lib write to fd 2.
NOISE = re.compile(rb"^(Expression '.*' failed in '.*', line: \d+|ALSA lib .*)\r?$")
_PREFIXES = (b"Expression '", b"ALSA lib ")

_lock = threading.Lock()
_users = 0
_state = None          # (saved fd, pipe read fd, thread) while installed


def _could_be_noise(partial: bytes) -> bool:
    return any(p.startswith(partial[: len(p)]) for p in _PREFIXES)


def _pump(rfd: int, out: int) -> None:
    """Copy ``rfd`` to ``out`` until end of file, dropping whole noise lines."""
    pending = b""          # the start of a line not yet complete and not yet forwarded
    passing = False        # part of the current line was already forwarded: forward the rest
    while True:
        try:
            chunk = os.read(rfd, 65536)
        except OSError:
            chunk = b""
        if not chunk:
            break
        data = pending + chunk
        pending = b""
        keep = []
        *lines, tail = data.split(b"\n")
        for line in lines:
            if passing or not NOISE.match(line):
                keep.append(line + b"\n")
            passing = False
        if tail:
            if passing or not _could_be_noise(tail):
                keep.append(tail)
                passing = True
            else:
                pending = tail
        if keep:
            _write_all(out, b"".join(keep))
    if pending and not NOISE.match(pending):
        _write_all(out, pending)
    os.close(rfd)


def _write_all(fd: int, data: bytes) -> None:
    try:
        while data:
            data = data[os.write(fd, data):]
    except OSError:
        pass


def hold() -> None:
    """Start filtering descriptor 2 (nested calls count; each needs a :func:`release`)."""
    global _users, _state
    with _lock:
        _users += 1
        if _users > 1:
            return
        try:
            sys.stderr.flush()
        except Exception:  # noqa: BLE001 - a closed or replaced stderr
            pass
        try:
            saved = os.dup(2)
        except OSError:     # no stderr at all: nothing to protect
            return
        r, w = os.pipe()
        os.dup2(w, 2)
        os.close(w)
        t = threading.Thread(target=_pump, args=(r, saved), name="face3d-stderr", daemon=True)
        t.start()
        _state = (saved, t)


def release() -> None:
    """Stop filtering once the last holder releases: restore descriptor 2, copy what is left."""
    global _users, _state
    with _lock:
        if _users == 0:
            return
        _users -= 1
        if _users or _state is None:
            return
        saved, t = _state
        _state = None
        try:
            sys.stderr.flush()
        except Exception:  # noqa: BLE001
            pass
        os.dup2(saved, 2)       # closes the pipe's last write end: the pump sees end of file
        t.join(timeout=5.0)
        os.close(saved)


def active() -> bool:
    """Whether descriptor 2 is being filtered now."""
    return _state is not None
