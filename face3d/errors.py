"""Errors users can act on.

Every error the program raises on bad input is a :class:`Face3DError`; the CLI prints
its message as one line and exits with status 2 (no traceback). Messages say what was
wrong, which file or option, and what to do.
"""


class Face3DError(Exception):
    """Base class: a problem with the user's input or environment, not a bug."""

    exit_code = 2


class UsageError(Face3DError):
    """A malformed command-line option or argument."""


class AudioError(Face3DError):
    """An audio file that cannot be read or holds unusable samples."""


class MeshError(Face3DError):
    """A head mesh that cannot be loaded or used."""


class DeviceError(Face3DError):
    """A sound device or display that is missing or failing."""


class NoDisplayError(DeviceError):
    """No display to open a window on (DISPLAY unset, or the X server cannot be reached)."""


class FormatError(Face3DError):
    """A data file (CSV, JSON map) in the wrong format."""


class OutputError(Face3DError):
    """An output path that cannot be written."""
