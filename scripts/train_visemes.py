#!/usr/bin/env python3
"""Fit face3d's viseme model (models/visemes.npz) on synthesised and recorded speech.

Speech: random sentences (seeded), each spoken by a random training voice of
``bench/_corpus.py`` (an espeak-ng accent with a voice variant, or Flite ``awb``; never the
held-out accents, variants and voice the benchmark scores, never Festival or Flite
``kal``/``slt``) at random rates and pitches, and the recorded utterances of
../shared/data/realspeech except its held-out speakers (``bench/_realspeech.py``), each
once clean and once varied (``bench/_conditions.py``: an in-breath in a lead-in of room
tone, a simulated room, babble of other utterances 5-20 dB under the voice, pink, brown
or white noise, telephone band, a lossy codec, level; the synthetic ones first get a
vocal-tract/pitch shift). Targets: per-phone openness, width, rounding, p/b/m closure
and one of the fifteen visemes (``face3d/analysis/visemes15.py``; hh and the schwa are
not scored) from the phone timings. Features: exactly what :class:`VisemeMapper` computes.
Model: each frame projected to a few numbers, those at a few frames around it (up to
160 ms back and 100 ms ahead; with ``--live``, 10 ms ahead) side by side into a ReLU
network (two hidden layers), fitted with Adam from the seed: 4 outputs (the mouth
curves) and a 15-way softmax head (the visemes). Each model file holds ``--ensemble``
networks (fit seeds ``seed``, ``seed + 1``, ...; their outputs are averaged). The same
seed and package versions give the same file.

    .venv/bin/python scripts/train_visemes.py [--seed 0] [--utterances 4000] [--live] [--out FILE]

Synthesised and varied data are cached under /tmp/face3d-lipsync-data (never committed).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import numpy as np  # noqa: E402

import _realspeech as realspeech  # noqa: E402
from _conditions import random_degrade, rir_bank  # noqa: E402
from _corpus import TRAIN_ACCENTS, TRAIN_FLITE, TRAIN_VARIANTS, synthesize, targets  # noqa: E402
from _realspeech import HELDOUT_SPEAKERS  # noqa: E402
from face3d.analysis.bands import ANALYSIS_RATE, BAND_EDGES, band_energies  # noqa: E402
from face3d.analysis.model import VisemeModel  # noqa: E402
from face3d.analysis.visemes import N_FEATURES, VisemeMapper  # noqa: E402
from face3d.analysis.visemes15 import VISEMES  # noqa: E402

#: Context frames (back; negative: ahead) of the file-mode model (100 ms of look-ahead) and
#: of the live model (10 ms, inside the microphone's 30 ms delay budget).
TAPS = (-10, -7, -4, -2, -1, 0, 1, 2, 4, 7, 11, 16)
LIVE_TAPS = (-1, 0, 1, 2, 4, 7, 11, 16)
HIDDEN = (128, 64)
PROJ = 12
PAUSE_WEIGHT = 2.0
VIS_WEIGHT = 1.0
VTLP = 0.13
ENSEMBLE = 2
UTTERANCES = 4000
SUBSET = 2000
EPOCHS = 3
LR = 1e-3
#: the models the fit starts from: the shipped ones before the viseme head (git history)
INIT = "12a5a01:models/visemes.npz"
INIT_LIVE = "12a5a01:models/visemes_live.npz"
N_OUT = 4 + len(VISEMES)
NV = len(VISEMES)
CACHE = Path("/tmp/face3d-lipsync-data")

WORDS = """father saw large dark barn farm calm palm art heart car start park bob map mom bumpy bike
made me may maybe baby mabel beam bean peas please people pepper piper picked peck pickled
pop pipe puppy apple ample maple paper bubble mumble moon boot blue shoe new choose who zoo
move too cool pool food rude room soon june noon tube we see three green trees she keeps key
eat cheese teeth free reach speak each need feel meet sit still little tim fix ship kit
his with will it is in bit pin ten bed head red said set get yes egg bell men hat cat sat
pass jam sam man bad black back and at as has happy rather half laugh how now brown cow mouse
found house out about loud town down round go so slow road home low boat rode over open old
show no oh bowl hope phone water warm saw all call talk walk law thought bought caught four
door floor more law boy toy join voice noise coin oil buy my time fine why light night high
mind sky eye nice rice kind way say day rain plain stay late name game wait paid bird word
work her first turn learn earth world girl the a of to for from then than this that there
they them thank think thing something nothing vision measure usual church judge edge jump
chair share sure fish wish wash watch judge fudge mouth north south both bath path""".split()


def sentences(rng, n):
    out = []
    for _ in range(n):
        k = int(rng.integers(4, 11))
        words = list(rng.choice(WORDS, size=k))
        text = " ".join(words)
        if rng.random() < 0.5:  # a pause inside
            cut = int(rng.integers(1, k))
            text = " ".join(words[:cut]) + rng.choice([", ", ". ", "; "]) + " ".join(words[cut:])
        out.append(text.capitalize() + rng.choice([".", "?", "!"]))
    return out


def pick_voice(rng):
    if rng.random() < 0.2:
        return "flite:" + str(rng.choice(TRAIN_FLITE))
    accent, variant = rng.choice(TRAIN_ACCENTS), rng.choice(TRAIN_VARIANTS)
    return f"espeak:{accent}" + (f"+{variant}" if variant else "")


def make_raw(seed, utterances, cache=CACHE):
    """Stage 1 (slow, cached): ``utterances`` random sentences, each spoken by a random
    training voice at a random rate and pitch, at 16 kHz -> (samples, events, cmu, voice)."""
    key = hashlib.sha256(repr((seed, utterances, TRAIN_ACCENTS, TRAIN_VARIANTS, TRAIN_FLITE, WORDS, "raw1"))
                         .encode()).hexdigest()[:12]
    path = Path(cache) / f"raw-{key}.npz"
    if path.exists():
        z = np.load(path, allow_pickle=True)
        return [(x.astype(np.float32) / 32767.0, list(zip(t.tolist(), p.tolist())), bool(c), str(v))
                for x, t, p, c, v in zip(z["X"], z["T"], z["P"], z["C"], z["V"])]
    import soxr

    rng = np.random.default_rng(seed)
    out = []
    for i, text in enumerate(sentences(rng, utterances)):
        voice = pick_voice(rng)
        speed, pitch = int(rng.integers(130, 220)), int(rng.integers(25, 75))
        x, rate, ev, cmu = synthesize(voice, text, speed=speed, pitch=pitch)
        y = soxr.resample(x, rate, ANALYSIS_RATE) if rate != ANALYSIS_RATE else x
        y = np.asarray(y, np.float32) / (np.abs(y).max() + 1e-9) * 0.9
        out.append((y, ev, cmu, voice))
        if (i + 1) % 200 == 0:
            print(f"  {i + 1} sentences", flush=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    obj = lambda k: np.array([k(u) for u in out] + [None], dtype=object)[:-1]  # noqa: E731
    np.savez(tmp, X=obj(lambda u: np.round(u[0] * 32767).astype(np.int16)),
             T=obj(lambda u: np.array([t for t, _ in u[1]], np.float64)),
             P=obj(lambda u: np.array([p for _, p in u[1]])), C=np.array([u[2] for u in out]),
             V=np.array([u[3] for u in out]))
    os.replace(tmp, path)
    return make_raw(seed, utterances, cache)


def make_data(seed, utterances, cache=CACHE, vtlp=VTLP, real=-1, subset=-1):
    """Stage 2 (cached): every utterance of stage 1 (and ``real`` recorded utterances of the
    training speakers: -1 all, 0 none) twice: once clean at a random level, once through a
    random chain of degradations (``bench/_conditions.py``: breath lead-in, room, babble
    of other training utterances, noise, telephone band, codec, level; the synthetic ones
    first get a vocal-tract/pitch shift) -> band energies E, targets T (openness, width,
    rounding, closure), visemes V (-1: not scored), descriptions D. ``subset``: only the
    first so many synthesised utterances (-1: all). The synthetic and the recorded part are
    cached apart (``vary`` of each can run in its own process)."""
    a = vary(seed, utterances, cache, vtlp, "synth", subset)
    b = vary(seed, real, cache, vtlp, "real") if real else ([], [], [], [])
    return tuple(x + y for x, y in zip(a, b))


def vary(seed, n, cache, vtlp, part, subset=-1):
    """One part of :func:`make_data`: ``part`` "synth" (``n`` sentences of stage 1) or
    "real" (``n`` recorded utterances, -1 all), cached."""
    key = hashlib.sha256(repr((seed, n, TRAIN_ACCENTS, TRAIN_VARIANTS, TRAIN_FLITE, BAND_EDGES, WORDS, vtlp,
                               HELDOUT_SPEAKERS, part, "data4") + ((subset,) if subset >= 0 else ()))
                         .encode()).hexdigest()[:12]
    path = Path(cache) / f"train-{part}-{key}.npz"
    if path.exists():
        z = np.load(path, allow_pickle=True)
        return list(z["E"]), list(z["T"]), list(z["V"]), list(z["desc"])
    import soxr

    if part == "synth":
        raw = make_raw(seed, n, cache)
        items = [(x, ev, cmu, voice, False) for x, ev, cmu, voice in raw[: None if subset < 0 else subset]]
    else:
        items = []
        for name, spk, _sex in realspeech.utterances(held_out=False)[: None if n < 0 else n]:
            x, ev = realspeech.load(name)
            items.append((x, ev, True, f"real:{spk}", True))
    print(f"  {len(items)} {part} utterances to vary", flush=True)
    rng = np.random.default_rng(seed + (7 if part == "synth" else 8))
    rirs = rir_bank(seed + (11 if part == "synth" else 12), n=int(min(24, max(3, len(items) // 100))))
    pool = [items[i][0] for i in rng.choice(len(items), size=min(200, len(items)), replace=False)]
    E, T, V, D = [], [], [], []
    for i, (x, ev, cmu, voice, is_real) in enumerate(items):
        for version in range(2):
            if version:
                y, evs = x, ev
                f = float(np.exp(rng.uniform(-vtlp, vtlp))) if not is_real else 1.0
                if abs(f - 1) > 0.01:  # vocal tract length / pitch by resampling
                    y = soxr.resample(y, ANALYSIS_RATE, int(round(ANALYSIS_RATE * f))).astype(np.float32)
                    evs = [(t * f, ph) for t, ph in evs]
                y, evs, d = random_degrade(rng, y, evs, pool, rirs, real=is_real)
                d = (f"vtlp{f:.2f}+" if abs(f - 1) > 0.01 else "") + d
            else:
                y, evs, d = x * 10 ** (rng.uniform(-25, -1) / 20) / (np.abs(x).max() + 1e-9), ev, "clean"
            e = band_energies(y)
            tg = targets(evs, e.shape[0], cmu, schwa_ah=is_real)
            closure = (tg["kind"] == "pbm").astype(np.float64)
            T.append(np.concatenate([tg["tgt"], closure[:, None]], axis=1).astype(np.float32))
            V.append(tg["vis"].astype(np.int8))
            E.append(e)
            D.append(f"{voice} {d}")
        if (i + 1) % 250 == 0:
            print(f"  {i + 1} {part} utterances varied", flush=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    obj = lambda a: np.array(list(a) + [None], dtype=object)[:-1]  # noqa: E731
    np.savez(tmp, E=obj(E), T=obj(T), V=obj(V), desc=np.array(D))
    os.replace(tmp, path)
    return E, T, V, D


def _init_file(spec: str):
    """A model file's path, or ``REV:PATH`` read from this repository's git history (a temporary file)."""
    if Path(spec).exists() or ":" not in spec:
        return spec
    import subprocess
    import tempfile

    r = subprocess.run(["git", "-C", str(ROOT), "show", spec], capture_output=True)
    if r.returncode != 0:
        raise OSError(f"git show {spec} failed")
    fd, tmp = tempfile.mkstemp(suffix=".npz")
    with os.fdopen(fd, "wb") as fh:
        fh.write(r.stdout)
    return tmp


def placeholder():
    d = N_FEATURES
    return VisemeModel(dict(mu=np.zeros(d), sd=np.ones(d), proj=np.zeros((d, 1)), w1=np.zeros((1, 1)),
                            b1=np.zeros(1), w2=np.zeros((1, N_OUT)), b2=np.zeros(N_OUT), taps=np.array([0]),
                            edges=np.array(BAND_EDGES)))


def tap_index(lengths, taps=TAPS):
    """(N, len(taps)) row of each frame's tap frames, clamped to its utterance (the mapper
    repeats the first frame before the start and the last one past the end)."""
    out, o = [], 0
    for n in lengths:
        j = np.arange(n)
        out.append(np.stack([o + np.clip(j - t, 0, n - 1) for t in taps], axis=1))
        o += n
    return np.concatenate(out)


def fit(F, idx_all, Y, V, seed, epochs, hidden=HIDDEN, proj=PROJ, lr=3e-3, batch=512, pause_weight=PAUSE_WEIGHT,
        dropout=0.0, vis_weight=VIS_WEIGHT, init=None):
    """Adam on: z = ((f - mu) / sd) @ proj per frame; x = z at the taps; h = relu(x @ w1 + b1),
    then relu(h @ wk + bk) for every further hidden layer; y = h @ wN + bN (linear): 4
    outputs (openness, width, rounding: squared error; the closure logit: cross-entropy)
    and the 15 viseme logits (softmax cross-entropy against ``V``, each viseme weighted by
    its frequency to the power -0.5, frames with ``V`` -1 not counted; ``vis_weight`` the
    head's share of the loss). ``dropout``: the share of hidden units dropped at random in
    each step of the fit. ``init``: a fitted network's arrays (``mu``, ``sd``, ``proj``,
    ``w1`` ...) to start from (its standardisation kept; a 4-output last layer gets the 15
    viseme columns added, drawn from the seed) instead of random weights."""
    rng = np.random.default_rng(seed + 1)
    mu, sd = F.mean(0), F.std(0) + 1e-3
    if init is not None:
        mu, sd = np.asarray(init["mu"], np.float64), np.asarray(init["sd"], np.float64)
    Fs = ((F - mu) / sd).astype(np.float32)
    d, nt = F.shape[1], idx_all.shape[1]
    sizes = [proj * nt, *hidden]
    P = dict(proj=(rng.standard_normal((d, proj)) / np.sqrt(d)).astype(np.float32))
    nl = len(hidden) + 1  # layers: the hidden ones and the linear output
    for k in range(1, nl):
        fan = sizes[k - 1]
        gain = 1.0 if k == 1 else np.sqrt(2.0)  # ReLU inputs after the first layer
        P[f"w{k}"] = (rng.standard_normal((fan, sizes[k])) * gain / np.sqrt(fan)).astype(np.float32)
        P[f"b{k}"] = np.zeros(sizes[k], np.float32)
    P[f"w{nl}"] = (rng.standard_normal((sizes[-1], N_OUT)) * 0.1).astype(np.float32)
    P[f"b{nl}"] = np.zeros(N_OUT, np.float32)
    if init is not None:
        for k in P:
            w = np.asarray(init[k], np.float32)
            if k in (f"w{nl}", f"b{nl}") and w.shape[-1] == 4:  # the curves' columns; new viseme ones
                P[k][..., :4] = w
                P[k][..., 4:] *= 0.1
            elif w.shape != P[k].shape:
                raise ValueError(f"--init: {k} has shape {w.shape}, the fit needs {P[k].shape}")
            else:
                P[k] = w.copy()
    m = {k: np.zeros_like(v) for k, v in P.items()}
    v2 = {k: np.zeros_like(v) for k, v in P.items()}
    b1, b2, eps, t = 0.9, 0.999, 1e-8, 0
    Yf = Y.astype(np.float32)
    Tf = Yf
    V = np.asarray(V, np.int64)
    counts = np.bincount(V[V >= 0], minlength=NV).astype(np.float64) + 1.0
    cw = counts ** -0.5
    cw /= np.sum(cw * counts) / counts.sum()  # the mean weight over scored frames is 1
    wv = np.where(V >= 0, cw[np.maximum(V, 0)], 0.0).astype(np.float32) * np.float32(vis_weight)
    onehot = np.eye(NV, dtype=np.float32)
    wpos = 3.0  # p/b/m frames are rare: weigh the closure's positives up
    wout = np.array([4.0, 1.0, 1.0], np.float32)  # openness (jaw) weighs most
    # pause frames (every target 0, no closure) weigh pause_weight in the shape errors
    wrow = np.where((Yf[:, :3] == 0).all(1) & (Yf[:, 3] == 0), np.float32(pause_weight), np.float32(1))
    n = len(Fs)
    for ep in range(epochs):
        order = rng.permutation(n)
        tot = 0.0
        rate = lr * (0.5 * (1 + np.cos(np.pi * ep / epochs)))
        for s in range(0, n, batch):
            rows = order[s : s + batch]
            fb, y = Fs[idx_all[rows]], Tf[rows]  # (B, taps, d)
            z = fb @ P["proj"]
            acts = [z.reshape(len(rows), -1)]
            masks = []
            for k in range(1, nl):
                h = np.maximum(acts[-1] @ P[f"w{k}"] + P[f"b{k}"], 0.0)
                if dropout:
                    masks.append((rng.random(h.shape) >= dropout).astype(np.float32) / np.float32(1 - dropout))
                    h *= masks[-1]
                acts.append(h)
            o = acts[-1] @ P[f"w{nl}"] + P[f"b{nl}"]
            g = np.empty_like(o)
            g[:, :3] = 2 * (o[:, :3] - y[:, :3]) * wout * wrow[rows, None]
            p = 1 / (1 + np.exp(-o[:, 3]))
            w = 1 + (wpos - 1) * y[:, 3]
            g[:, 3] = (p - y[:, 3]) * w
            tot += float(np.sum(wout * wrow[rows, None] * (o[:, :3] - y[:, :3]) ** 2))
            tot += float(np.sum(-w * (y[:, 3] * np.log(p + 1e-7) + (1 - y[:, 3]) * np.log(1 - p + 1e-7))))
            lg = o[:, 4:] - o[:, 4:].max(axis=1, keepdims=True)
            pv = np.exp(lg)
            pv /= pv.sum(axis=1, keepdims=True)
            vr, wr = V[rows], wv[rows]
            g[:, 4:] = (pv - onehot[np.maximum(vr, 0)]) * wr[:, None]
            tot += float(np.sum(-wr * np.log(pv[np.arange(len(rows)), np.maximum(vr, 0)] + 1e-7)))
            g /= len(rows)
            gr = {}
            for k in range(nl, 0, -1):
                a = acts[k - 1]
                gr[f"w{k}"], gr[f"b{k}"] = a.T @ g, g.sum(0)
                g = g @ P[f"w{k}"].T
                if k > 1:
                    g *= a > 0
                    if dropout:
                        g *= masks[k - 2]
            gz = g.reshape(z.shape)
            gr["proj"] = np.einsum("btd,btk->dk", fb, gz)
            t += 1
            for k in P:
                m[k] = b1 * m[k] + (1 - b1) * gr[k]
                v2[k] = b2 * v2[k] + (1 - b2) * gr[k] ** 2
                P[k] -= rate * (m[k] / (1 - b1**t)) / (np.sqrt(v2[k] / (1 - b2**t)) + eps)
        print(f"  epoch {ep + 1}/{epochs}: loss {tot / n:.4f}", flush=True)
    return dict(mu=mu, sd=sd, **{k: v.astype(np.float64) for k, v in P.items()})


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--utterances", type=int, default=UTTERANCES, help="sentences to synthesise")
    ap.add_argument("--subset", type=int, default=SUBSET,
                    help="use only the first so many synthesised sentences (-1: all)")
    ap.add_argument("--real-utterances", type=int, default=-1,
                    help="recorded utterances of the training speakers to use (-1: all; 0: none)")
    ap.add_argument("--epochs", type=int, default=EPOCHS)
    ap.add_argument("--hidden", default=",".join(map(str, HIDDEN)), help="units per hidden layer, e.g. 128,64")
    ap.add_argument("--proj", type=int, default=PROJ, help="numbers per frame after the projection")
    ap.add_argument("--pause-weight", type=float, default=PAUSE_WEIGHT, help="weight of pause frames in the fit")
    ap.add_argument("--vis-weight", type=float, default=VIS_WEIGHT, help="weight of the viseme head in the fit")
    ap.add_argument("--vtlp", type=float, default=VTLP, help="largest vocal-tract shift (natural log)")
    ap.add_argument("--dropout", type=float, default=0.0, help="share of hidden units dropped in each step of the fit")
    ap.add_argument("--leave-out", default="", help="comma-separated training voices to leave out of the fit "
                    "(e.g. flite:awb, to check generalisation to a synthesiser not in the fit)")
    ap.add_argument("--init", default=None, metavar="NPZ",
                    help="start each network from the same-numbered network of this model file (a fine-tune); "
                    f"REV:PATH reads it from git (default {INIT} or, with --live, {INIT_LIVE}: the models before "
                    "the viseme head; 'none' for random weights)")
    ap.add_argument("--lr", type=float, default=LR, help="Adam's learning rate (cosine decay to 0)")
    ap.add_argument("--ensemble", type=int, default=ENSEMBLE,
                    help="networks in the model file, from fit seeds seed, seed+1, ... (their outputs are averaged)")
    ap.add_argument("--live", action="store_true",
                    help="fit the live model (10 ms of look-ahead; default out models/visemes_live.npz)")
    ap.add_argument("--out", default=None, help="where to write the model (default models/visemes.npz, "
                    "or models/visemes_live.npz with --live)")
    ap.add_argument("--cache", default=str(CACHE), help="where synthesised training data are kept")
    args = ap.parse_args(argv)
    t0 = time.time()
    if args.ensemble < 1:
        print(f"train_visemes: --ensemble must be 1 or more, got {args.ensemble}", file=sys.stderr)
        return 2
    if not 0 <= args.dropout < 1:
        print(f"train_visemes: --dropout must be a share from 0 to just under 1, got {args.dropout}", file=sys.stderr)
        return 2
    voices = [f"espeak:{a}" for a in TRAIN_ACCENTS] + [f"flite:{v}" for v in TRAIN_FLITE]
    left = [v for v in args.leave_out.split(",") if v]
    if any(v not in voices for v in left):
        print(f"train_visemes: --leave-out takes voices from {', '.join(voices)}, got {args.leave_out!r}",
              file=sys.stderr)
        return 2
    try:
        hidden = tuple(int(h) for h in args.hidden.split(","))
        assert hidden and min(hidden) >= 1 and args.proj >= 1
    except (ValueError, AssertionError):
        print(f"train_visemes: --hidden must be positive integers separated by commas, got {args.hidden!r}",
              file=sys.stderr)
        return 2
    print(f"synthesising {args.utterances} sentences with random training voices (x2: clean, varied)")
    E, T, V, D = make_data(args.seed, args.utterances, args.cache, vtlp=args.vtlp, real=args.real_utterances,
                           subset=args.subset)
    speakers = sorted({d.split(" ")[0][5:] for d in D if d.startswith("real:")})
    if left:  # a description starts with the voice, e.g. "espeak:en-gb+m3 vtlp1.05"
        keep = [i for i, d in enumerate(D) if d.split(" ")[0].split("+")[0] not in left]
        E, T, V = [E[i] for i in keep], [T[i] for i in keep], [V[i] for i in keep]
        voices = [v for v in voices if v not in left]
    ph = placeholder()
    F = np.concatenate([VisemeMapper(model=ph).features(e)[0] for e in E])
    Y = np.concatenate(T).astype(np.float64)
    Vc = np.concatenate(V).astype(np.int64)
    print(f"{len(E)} utterances, {len(F)} frames, {F.shape[1]} features per frame ({time.time() - t0:.0f} s)")
    taps = LIVE_TAPS if args.live else TAPS
    idx = tap_index([len(e) for e in E], taps)
    opts = dict(hidden=hidden, proj=args.proj, pause_weight=args.pause_weight, dropout=args.dropout,
                vis_weight=args.vis_weight, lr=args.lr)
    base = None
    init_spec = args.init or (INIT_LIVE if args.live else INIT)
    if init_spec != "none":
        try:
            path = _init_file(init_spec)
            with np.load(path) as z:
                base = {k: z[k] for k in z.files}
            if path != init_spec:
                os.unlink(path)
            assert tuple(base["taps"]) == tuple(taps)
        except (OSError, ValueError, KeyError, AssertionError):
            print(f"train_visemes: --init {init_spec} is not a viseme model file with these taps "
                  f"({'live' if args.live else 'file'} model)", file=sys.stderr)
            return 2

    def network(k):
        """The network of fit seed ``seed + k`` on these data and options (cached: the same
        options give the same network)."""
        skip = ("out", "cache", "ensemble", "init")
        init = None
        if base is not None:
            pre = f"n{k}_" if k else ""
            if pre + "w1" not in base:
                pre = ""
            init = {n[len(pre):]: v for n, v in base.items() if n.startswith(pre) and (pre or not n.startswith("n"))}
        ident = hashlib.sha256(b"".join(np.ascontiguousarray(v).tobytes() for _, v in sorted(init.items()))
                               ).hexdigest()[:12] if init else None
        key = hashlib.sha256(repr((sorted((a, v) for a, v in vars(args).items() if a not in skip),
                                   taps, k, "vis15", ident)).encode()).hexdigest()[:12]
        path = Path(args.cache) / f"net-{key}.npz"
        if not path.exists():
            print(f"network {k + 1} (fit seed {args.seed + k})")
            tp = fit(F, idx, Y, Vc, args.seed + k, args.epochs, init=init, **opts)
            tmp = path.with_suffix(".tmp.npz")
            np.savez(tmp, **tp, taps=np.array(taps), edges=np.array(BAND_EDGES))
            os.replace(tmp, path)
        with np.load(path) as z:
            return {k: z[k] for k in z.files if k not in ("taps", "edges")}

    nets = [network(k) for k in range(args.ensemble)]
    params = {(f"n{i}_" if i else "") + k: v for i, net in enumerate(nets) for k, v in net.items()}
    out = Path(args.out or ROOT / "models" / ("visemes_live.npz" if args.live else "visemes.npz"))
    tmp = out.with_suffix(".tmp.npz")
    np.savez(tmp, **params, taps=np.array(taps), edges=np.array(BAND_EDGES), seed=np.array(args.seed),
             voices=np.array(voices), speakers=np.array(speakers, dtype=str))
    os.replace(tmp, out)
    print(f"wrote {out} ({out.stat().st_size // 1024} KiB) in {time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
