"""Helpers for the audio tests: espeak-ng speech, file writing, CLI runs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
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


def start_pulse(prefix: str = "f3dpa"):
    """(env, folder) of a private PulseAudio daemon with a null sink 'spk' as the default sink
    and its monitor 'spk.monitor' as the default source: what is played into it is heard by
    an input stream, paced like a real card. Stop it with :func:`stop_pulse`."""
    d = tempfile.mkdtemp(prefix=prefix)  # short path: unix socket names are limited to 108 bytes
    os.chmod(d, 0o700)
    env = dict(os.environ, XDG_RUNTIME_DIR=d, HOME=d, PULSE_RUNTIME_PATH=os.path.join(d, "pulse"))
    env.pop("PULSE_SERVER", None)
    cmd = ["pulseaudio", "-D", "-n", "--exit-idle-time=-1", "--disallow-exit=false",
           "--load=module-native-protocol-unix", "--load=module-null-sink sink_name=spk"]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=30)
    for _ in range(100):
        if subprocess.run(["pactl", "info"], env=env, capture_output=True).returncode == 0:
            break
        time.sleep(0.1)
    else:
        shutil.rmtree(d, ignore_errors=True)
        pytest.fail(f"private pulseaudio did not start: {r.stderr.strip()[-500:]}")
    try:
        for args in (["set-default-sink", "spk"], ["set-default-source", "spk.monitor"]):
            subprocess.run(["pactl", *args], env=env, check=True, capture_output=True, timeout=10)
    except BaseException:
        stop_pulse(env, d)
        raise
    return env, d


def stop_pulse(env, d) -> None:
    subprocess.run(["pulseaudio", "-k"], env=env, capture_output=True, timeout=10)
    shutil.rmtree(d, ignore_errors=True)
