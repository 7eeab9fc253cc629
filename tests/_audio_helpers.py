"""Helpers for the audio tests: espeak-ng speech, file writing, CLI runs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent


def need_espeak():
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")


def speak(text: str, path: Path, *, speed: int | None = None, voice: str | None = None) -> tuple[np.ndarray, int]:
    """Synthesise ``text`` with espeak-ng into ``path``; return (float32 mono, rate)."""
    import soundfile as sf

    need_espeak()
    cmd = ["espeak-ng", "-w", str(path)]
    if speed:
        cmd += ["-s", str(speed)]
    if voice:
        cmd += ["-v", voice]
    subprocess.run(cmd + [text], check=True, capture_output=True)
    x, rate = sf.read(str(path), dtype="float32")
    return x, rate


def at_dbfs(x: np.ndarray, dbfs: float) -> np.ndarray:
    """Scale so the peak is at ``dbfs``."""
    return (x / np.max(np.abs(x)) * 10 ** (dbfs / 20)).astype(np.float32)


def run_cli(*args, env=None, timeout=60, **kw) -> subprocess.CompletedProcess:
    e = dict(os.environ)
    e["PYTHONPATH"] = str(ROOT) + os.pathsep + e.get("PYTHONPATH", "")
    if env:
        e.update(env)
    return subprocess.run(
        [sys.executable, "-m", "face3d", *map(str, args)],
        capture_output=True, text=True, env=e, timeout=timeout, cwd=kw.pop("cwd", None), **kw,
    )


def corr(a, b) -> float:
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    return float(np.corrcoef(a, b)[0, 1])
