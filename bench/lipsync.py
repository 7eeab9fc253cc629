"""Lip-sync accuracy against espeak-ng's own phoneme timings, beside two PyPI peers.

Synthesises varied sentences with espeak-ng (through libespeak-ng, which reports when
each phoneme starts), turns each phoneme into target openness, width and rounding, and
compares every system's curves at 100 frames per second:

* ``r open``: Pearson r of the system's jaw opening against the target openness, at the
  lag (``lag ms``, positive = system late) in -150..150 ms that maximises it;
  ``r@0`` is the same at zero lag.
* ``pbm closed``: share of p/b/m phonemes during which the mouth is shut at some frame
  (mouthClose >= 0.5 or jaw opening <= 0.05), at the best lag.
* ``pause rest``: share of pause frames (espeak-ng pauses and leading/trailing silence,
  40 ms in from each edge) where opening, width and rounding are all < 0.1 and
  mouthClose < 0.5.
* ``r wide``, ``r round``: Pearson r of width and rounding against their targets.

Peers (installed in their own virtualenv, default /tmp/peers; not face3d dependencies):
``openfacefx energy --retarget arkit`` (opening = jawOpen, width = mouthStretch L/R,
rounding = max(mouthPucker, mouthFunnel); no mouthClose channel) and ``pylipsync``
(uLipSync's MFCC template method; opening = aa + 0.6 oh + 0.4 ee + 0.3 ih + 0.2 ou,
width = ee + 0.6 ih, rounding = ou + 0.5 oh). A peer that cannot be found or run gets
a row saying so.

    .venv/bin/python bench/lipsync.py [--peers /tmp/peers] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import soundfile as sf  # noqa: E402

import face3d  # noqa: E402
from _espeak import synthesize  # noqa: E402

FPS = 100
SENTENCES = [
    ("Father saw a large dark barn on the far farm.", 175),
    ("We see three green trees, and she keeps the key.", 175),
    ("Do you choose the blue shoes, or the new boots?", 160),
    ("Bob made me a map, but my mom bought a bumpy bike.", 175),
    ("Open the window. Look at the moon! It is so cool.", 150),
    ("Peter Piper picked a peck of pickled peppers.", 190),
    ("How now, brown cow? The mouse found a house.", 165),
    ("Sit still; little Tim will fix it with his ship kit.", 175),
    ("A warm wind was blowing over the water, while we waited.", 140),
    ("Please, beam me up. Maybe by May, maybe by June.", 200),
    ("The cat sat on a hat. Pass the jam, Sam.", 175),
    ("Who knew you would move to the zoo, too?", 175),
]

# phoneme -> (openness, width, rounding); espeak-ng English mnemonics
_V = {
    "a": (0.9, 0.2, 0.0), "aa": (1.0, 0.1, 0.0), "a#": (0.6, 0.1, 0.0), "A:": (1.0, 0.0, 0.0),
    "A@": (1.0, 0.0, 0.0), "A": (1.0, 0.0, 0.0), "aI": (0.9, 0.3, 0.0), "aI@": (0.9, 0.3, 0.0),
    "aU": (0.9, 0.0, 0.4), "aU@": (0.9, 0.0, 0.4), "V": (0.7, 0.1, 0.0), "0": (0.8, 0.0, 0.4),
    "O": (0.7, 0.0, 0.6), "O:": (0.7, 0.0, 0.7), "O@": (0.6, 0.0, 0.6), "OI": (0.6, 0.2, 0.5),
    "o@": (0.6, 0.0, 0.7), "oU": (0.5, 0.0, 0.8), "@": (0.4, 0.1, 0.0), "@-": (0.3, 0.1, 0.0),
    "@2": (0.35, 0.1, 0.0), "@5": (0.3, 0.0, 0.3), "@L": (0.35, 0.1, 0.0), "3": (0.45, 0.1, 0.2),
    "3:": (0.45, 0.1, 0.2), "@@": (0.45, 0.1, 0.2), "E": (0.6, 0.5, 0.0), "E2": (0.6, 0.5, 0.0),
    "e@": (0.6, 0.4, 0.0), "eI": (0.5, 0.6, 0.0), "I": (0.3, 0.6, 0.0), "I2": (0.3, 0.5, 0.0),
    "I#": (0.3, 0.5, 0.0), "i": (0.25, 0.8, 0.0), "i:": (0.2, 1.0, 0.0), "i@": (0.3, 0.7, 0.0),
    "i@3": (0.3, 0.7, 0.0), "u:": (0.2, 0.0, 1.0), "U": (0.3, 0.0, 0.6), "U@": (0.3, 0.0, 0.6),
    "u@": (0.3, 0.0, 0.7),
}
_C = {
    "p": (0.0, 0.0, 0.0), "b": (0.0, 0.0, 0.0), "m": (0.0, 0.0, 0.0),
    "f": (0.1, 0.2, 0.0), "v": (0.1, 0.2, 0.0), "T": (0.15, 0.2, 0.0), "D": (0.15, 0.2, 0.0),
    "s": (0.1, 0.4, 0.0), "z": (0.1, 0.4, 0.0), "S": (0.15, 0.0, 0.5), "Z": (0.15, 0.0, 0.5),
    "tS": (0.15, 0.0, 0.4), "dZ": (0.15, 0.0, 0.4), "t": (0.2, 0.2, 0.0), "d": (0.2, 0.2, 0.0),
    "n": (0.2, 0.2, 0.0), "l": (0.25, 0.2, 0.0), "r": (0.2, 0.0, 0.3), "w": (0.1, 0.0, 1.0),
    "j": (0.15, 0.5, 0.0), "k": (0.25, 0.1, 0.0), "g": (0.25, 0.1, 0.0), "N": (0.25, 0.1, 0.0),
    "h": (0.4, 0.1, 0.0), "x": (0.25, 0.0, 0.0), "?": (0.2, 0.0, 0.0),
}
PBM = {"p", "b", "m"}


def phoneme_target(ph: str):
    """(openness, width, rounding, kind) with kind 'pause', 'pbm', 'speech' or None (marker)."""
    if ph.startswith("_"):
        return (0.0, 0.0, 0.0, "pause")
    base = ph.rstrip(";'/,!-#") or ph
    if ph in _V:
        return (*_V[ph], "speech")
    if base in _V:
        return (*_V[base], "speech")
    for sym in (ph, base, ph[:2], ph[:1]):
        if sym in _C:
            return (*_C[sym], "pbm" if sym in PBM else "speech")
    if ph[:1] in "aAeEiIoOuUV03@":
        return (0.5, 0.2, 0.2, "speech")
    return None  # stress / length markers continue the previous phoneme


def targets(events, n_frames):
    """Per-frame target (n, 3), kind array, and list of p/b/m frame ranges."""
    tgt = np.zeros((n_frames, 3))
    kind = np.full(n_frames, "pause", dtype=object)
    segs = []
    for t, ph in events:
        v = phoneme_target(ph)
        if v is None:
            continue
        segs.append([t, v, ph])
    pbm = []
    for i, (t, v, ph) in enumerate(segs):
        t1 = segs[i + 1][0] if i + 1 < len(segs) else n_frames / FPS
        a, b = int(round(t * FPS)), int(round(t1 * FPS))
        a, b = max(0, min(a, n_frames)), max(0, min(b, n_frames))
        if b <= a:
            continue
        tgt[a:b] = v[:3]
        kind[a:b] = v[3]
        if v[3] == "pbm":
            pbm.append((a, b))
    return tgt, kind, pbm


# ---------------------------------------------------------------- systems

def run_face3d(paths):
    out = []
    for p in paths:
        tr = face3d.analyze(p, fps=FPS)
        v = tr.values.astype(np.float64)
        out.append(v)  # open, wide, round, close
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


def _fit(v, n):
    if len(v) >= n:
        return v[:n]
    return np.concatenate([v, np.repeat(v[-1:], n - len(v), axis=0)])


_NFRAMES: dict = {}


def _n_frames(p):
    if p not in _NFRAMES:
        info = sf.info(str(p))
        _NFRAMES[p] = int(np.floor(info.frames / info.samplerate * FPS - 1e-9)) + 1
    return _NFRAMES[p]


# ---------------------------------------------------------------- metrics

def _pearson(a, b):
    if np.std(a) < 1e-9 or np.std(b) < 1e-9:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def _shift(v, lag):
    """Curves moved earlier by ``lag`` frames (a late system is advanced), edge-padded."""
    if lag == 0:
        return v
    if lag > 0:
        return np.concatenate([v[lag:], np.repeat(v[-1:], lag, axis=0)])
    return np.concatenate([np.repeat(v[:1], -lag, axis=0), v[:lag]])


def score(curves, refs, max_lag=15):
    cat_t = np.concatenate([r[0] for r in refs])
    best = (-2.0, 0)
    r0 = None
    for lag in range(-max_lag, max_lag + 1):
        cv = np.concatenate([_fit(_shift(c, lag), len(r[0])) for c, r in zip(curves, refs)])
        rr = _pearson(cv[:, 0], cat_t[:, 0])
        if lag == 0:
            r0 = rr
        if np.isfinite(rr) and rr > best[0]:
            best = (rr, lag)
    lag = best[1]
    cv = [_fit(_shift(c, lag), len(r[0])) for c, r in zip(curves, refs)]
    allv = np.concatenate(cv)
    closed, total = 0, 0
    rest_ok, rest_n = 0, 0
    for v, (tgt, kind, pbm) in zip(cv, refs):
        shut = (v[:, 3] >= 0.5) | (v[:, 0] <= 0.05)
        for a, b in pbm:
            total += 1
            closed += bool(shut[a:b].any())
        pause = kind == "pause"
        # 40 ms in from each edge of every pause run
        edge = np.zeros_like(pause)
        idx = np.flatnonzero(np.diff(np.concatenate([[0], pause.astype(int), [0]])))
        for s, e in zip(idx[::2], idx[1::2]):
            edge[s : min(e, s + 4)] = True
            edge[max(s, e - 4) : e] = True
        sel = pause & ~edge
        rest = (v[:, 0] < 0.1) & (v[:, 1] < 0.1) & (v[:, 2] < 0.1) & (v[:, 3] < 0.5)
        rest_ok += int(rest[sel].sum())
        rest_n += int(sel.sum())
    return dict(
        r_open=best[0], lag_ms=lag * 1000 // FPS, r0=r0,
        pbm=closed / max(total, 1), n_pbm=total,
        rest=rest_ok / max(rest_n, 1), n_rest=rest_n,
        r_wide=_pearson(allv[:, 1], cat_t[:, 1]), r_round=_pearson(allv[:, 2], cat_t[:, 2]),
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--peers", default=os.environ.get("FACE3D_PEERS", "/tmp/peers"), help="virtualenv holding openfacefx and pylipsync")
    ap.add_argument("--keep", default=None, help="keep the synthesised WAVs and peer outputs in this folder")
    args = ap.parse_args(argv)

    tmp = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="lipsync"))
    tmp.mkdir(parents=True, exist_ok=True)
    paths, refs = [], []
    total_s = 0.0
    for i, (text, speed) in enumerate(SENTENCES):
        x, rate, events = synthesize(text, speed=speed)
        p = tmp / f"s{i:02d}.wav"
        sf.write(str(p), x, rate, subtype="PCM_16")
        paths.append(p)
        n = _n_frames(p)
        refs.append(targets(events, n))
        total_s += len(x) / rate
    print(f"{len(paths)} espeak-ng sentences, {total_s:.1f} s of speech, "
          f"{sum(len(r[2]) for r in refs)} p/b/m phonemes, targets at {FPS} frames/s\n")

    rows = []
    systems = [
        ("face3d", lambda: run_face3d(paths)),
        ("openfacefx energy (arkit)", lambda: run_openfacefx(paths, args.peers, tmp)),
        ("pylipsync (uLipSync)", lambda: run_pylipsync(paths, args.peers, tmp)),
    ]
    for name, fn in systems:
        t0 = time.perf_counter()
        try:
            curves = fn()
        except Exception as exc:  # a peer that cannot run gets a row saying so
            rows.append((name, None, f"not run: {exc}"))
            continue
        rows.append((name, score(curves, refs), f"{time.perf_counter() - t0:.1f} s"))

    hdr = f"{'system':<27} {'r open':>7} {'lag ms':>7} {'r@0':>6} {'pbm closed':>10} {'pause rest':>10} {'r wide':>7} {'r round':>7}  wall"
    print(hdr)
    print("-" * len(hdr))
    for name, m, note in rows:
        if m is None:
            print(f"{name:<27} {note}")
            continue
        print(f"{name:<27} {m['r_open']:>7.3f} {m['lag_ms']:>7d} {m['r0']:>6.3f} {m['pbm']:>10.2f} "
              f"{m['rest']:>10.2f} {m['r_wide']:>7.3f} {m['r_round']:>7.3f}  {note}")
    if not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
