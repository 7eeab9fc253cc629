"""Find the shipped ``shaders/`` and ``models/`` folders.

In an installed wheel they live inside the package (``face3d/_data/``, put there by
hatchling's force-include); in a source checkout they are the repository's top-level
folders. Both are checked, wheel location first.
"""

from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent


def _find(name: str) -> Path:
    for candidate in (_PKG / "_data" / name, _PKG.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"face3d data folder '{name}' not found next to {_PKG}; reinstall face3d"
    )


def shader_dir() -> Path:
    return _find("shaders")


def model_dir() -> Path:
    return _find("models")


def shader_source(name: str) -> str:
    return (shader_dir() / name).read_text(encoding="utf-8")


def model_path(name: str) -> Path:
    return model_dir() / name


def default_head_path() -> Path:
    return model_path("default_head.npz")
