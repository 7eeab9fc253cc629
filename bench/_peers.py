"""The peers of ``bench/lipsync.py``, each run in its own process on the same files:
openfacefx (energy mode, ARKit retarget), pylipsync (uLipSync's method) and, when given,
a Rhubarb Lip Sync binary. Each returns per-file curves (or Rhubarb's cues)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np

from _corpus import FPS
from _viseme_scores import read_rhubarb_tsv


# set by bench/lipsync.py to its own frame count and cut/pad (one definition for all systems)
_n_frames = None
_fit = None


def run_rhubarb(paths, exe, tmp, recognizer="pocketSphinx"):
    """Rhubarb Lip Sync's cues (TSV, extended shapes GHX), one shape per centisecond."""
    out = []
    for p in paths:
        dst = Path(tmp) / (Path(p).stem + f".{recognizer}.tsv")
        r = subprocess.run([str(exe), "-q", "-f", "tsv", "-r", recognizer, "--extendedShapes", "GHX", "-o", str(dst),
                            str(p)], capture_output=True, text=True, timeout=600)
        if r.returncode != 0:
            raise RuntimeError(f"failed: {(r.stderr.strip().splitlines() or ['?'])[-1]}")
        out.append(read_rhubarb_tsv(dst, _n_frames(p)))
    return out


def _interp_long_csv(path, n):
    """openfacefx long CSV (time,channel,value keyframes) -> dict channel -> (n,) at FPS."""
    import csv

    ch: dict = {}
    with open(path) as fh:
        for row in csv.DictReader(fh):
            ch.setdefault(row["channel"], []).append((float(row["time"]), float(row["value"])))
    t = np.arange(n) / FPS
    return {k: np.interp(t, *np.array(sorted(v)).T) for k, v in ch.items()}


def run_openfacefx(paths, peers, tmp):
    exe = Path(peers) / "bin" / "openfacefx"
    if not exe.exists():
        raise RuntimeError(f"not installed ({exe} missing; pip install openfacefx into {peers})")
    out = []
    for p in paths:
        n = _n_frames(p)
        dst = Path(tmp) / (Path(p).stem + ".ofx.csv")
        r = subprocess.run([str(exe), "energy", "--wav", str(p), "--fps", str(FPS), "-o", str(dst),
                            "--retarget", "arkit"], capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise RuntimeError(f"failed: {r.stderr.strip().splitlines()[-1] if r.stderr.strip() else r.returncode}")
        ch = _interp_long_csv(dst, n)
        z = np.zeros(n)
        get = lambda k: ch.get(k, z)  # noqa: E731
        opening = get("jawOpen")
        width = 0.5 * (get("mouthStretchLeft") + get("mouthStretchRight"))
        rounding = np.maximum(get("mouthPucker"), get("mouthFunnel"))
        close = get("mouthClose")
        out.append(np.stack([opening, width, rounding, close], axis=1))
    return out


_PYLIPSYNC = r"""
import json, sys, numpy as np, soundfile as sf
from pylipsync import PhonemeAnalyzer
a = PhonemeAnalyzer()
res = {}
for p in sys.argv[2:]:
    x, r = sf.read(p, dtype="float32")
    segs = a.extract_phoneme_segments(x, r, fps=int(sys.argv[1]))
    res[p] = [{ph.name: float(ph.target) for ph in s.phonemes} for s in segs]
json.dump(res, sys.stdout)
"""


def run_pylipsync(paths, peers, tmp):
    py = Path(peers) / "bin" / "python"
    if not py.exists():
        raise RuntimeError(f"not installed ({py} missing)")
    r = subprocess.run([str(py), "-c", _PYLIPSYNC, str(FPS), *map(str, paths)], capture_output=True,
                       text=True, timeout=600)
    if r.returncode != 0:
        raise RuntimeError(f"failed: {(r.stderr.strip().splitlines() or ['?'])[-1]}")
    res = json.loads(r.stdout)
    out = []
    for p in paths:
        n = _n_frames(p)
        frames = res[str(p)]
        g = lambda k: np.array([f.get(k, 0.0) for f in frames])  # noqa: E731
        aa, ee, ih, oh, ou = g("aa"), g("ee"), g("ih"), g("oh"), g("ou")
        opening = np.clip(aa + 0.6 * oh + 0.4 * ee + 0.3 * ih + 0.2 * ou, 0, 1)
        width = np.clip(ee + 0.6 * ih, 0, 1)
        rounding = np.clip(ou + 0.5 * oh, 0, 1)
        v = np.stack([opening, width, rounding, np.zeros_like(aa)], axis=1)
        out.append(_fit(v, n))
    return out


