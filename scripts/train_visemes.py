#!/usr/bin/env python3
"""Fit face3d's viseme model (models/visemes.npz) on speech this script synthesises.

Speech: random sentences (seeded), each spoken by a random training voice of
``bench/_corpus.py`` (an espeak-ng accent with a voice variant, or Flite ``awb``; never the
held-out accents, variants and voice the benchmark scores, never Festival or Flite
``kal``/``slt``), at random rates and pitches, each once
clean and once varied (vocal-tract/pitch shift by resampling, reverberation, noise,
level, band-limiting; with ``--gender S``, a share S of the varied copies first gets a
new voice from Praat's "Change gender": formants, pitch median and range; needs the
``train`` extra, ``praat-parselmouth``). Targets: per-phone openness, width, rounding and p/b/m closure from
the synthesiser's phone timings. Features: exactly what :class:`VisemeMapper` computes.
Model: each frame projected to a few numbers, those at a few frames around it (up to
160 ms back and 100 ms ahead; with ``--live``, 10 ms ahead) side by side into a ReLU
network (two hidden layers by default; see ``face3d/analysis/model.py``), fitted with
Adam from the seed (pause frames weigh twice). Each model file holds two such networks
(``--ensemble 2``, fit seeds ``seed`` and ``seed + 1``; their outputs are averaged). The
same seed and package versions give the same file.

    .venv/bin/python scripts/train_visemes.py [--seed 0] [--utterances 9600] [--live] [--out FILE]

Synthesised data are cached under /tmp/face3d-lipsync-data (never committed).
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

from _corpus import TRAIN_ACCENTS, TRAIN_FLITE, TRAIN_VARIANTS, augment, change_gender, synthesize, targets  # noqa: E402
from face3d.analysis.bands import ANALYSIS_RATE, BAND_EDGES, band_energies  # noqa: E402
from face3d.analysis.model import VisemeModel  # noqa: E402
from face3d.analysis.visemes import N_FEATURES, VisemeMapper  # noqa: E402

#: Context frames (back; negative: ahead) of the file-mode model (100 ms of look-ahead) and
#: of the live model (10 ms, inside the microphone's 30 ms delay budget).
TAPS = (-10, -7, -4, -2, -1, 0, 1, 2, 4, 7, 11, 16)
LIVE_TAPS = (-1, 0, 1, 2, 4, 7, 11, 16)
HIDDEN = (128, 64)
PROJ = 12
PAUSE_WEIGHT = 2.0
VTLP = 0.13
CLICKS = 0.0
GENDER = 0.0
TEACHERS = 0
ENSEMBLE = 2
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


def make_data(seed, utterances, cache=CACHE, vtlp=VTLP, gender=GENDER):
    key = hashlib.sha256(repr((seed, utterances, TRAIN_ACCENTS, TRAIN_VARIANTS, TRAIN_FLITE, BAND_EDGES, WORDS,
                               6) + ((vtlp,) if vtlp != VTLP else ())
                              + (("gender", gender) if gender else ())).encode()).hexdigest()[:12]
    path = Path(cache) / f"train-{key}.npz"
    if path.exists():
        z = np.load(path, allow_pickle=True)
        return list(z["E"]), list(z["T"]), list(z["desc"])
    import soxr

    rng = np.random.default_rng(seed)
    grng = np.random.default_rng(seed + 3)  # its own stream: the rest of the data stay as without it
    E, T, D = [], [], []
    for i, text in enumerate(sentences(rng, utterances)):
        voice = pick_voice(rng)
        speed, pitch = int(rng.integers(130, 220)), int(rng.integers(25, 75))
        x, rate, ev, cmu = synthesize(voice, text, speed=speed, pitch=pitch)
        for version in range(2):
            if version:
                xv, dg = x, ""
                if gender and grng.random() < gender:
                    xv, dg = change_gender(x, rate, grng)
                    dg += "+"
                y, r, evs, d = augment(xv, rate, ev, rng, vtlp=vtlp)
                d = dg + d
            else:
                y, r, evs, d = x * 10 ** (rng.uniform(-20, -1) / 20) / (np.abs(x).max() + 1e-9), rate, ev, "clean"
            y16 = soxr.resample(y, r, ANALYSIS_RATE) if r != ANALYSIS_RATE else y
            e = band_energies(y16)
            tg = targets(evs, e.shape[0], cmu)
            closure = (tg["kind"] == "pbm").astype(np.float64)
            T.append(np.concatenate([tg["tgt"], closure[:, None]], axis=1).astype(np.float32))
            E.append(e)
            D.append(f"{voice} {d}")
        if (i + 1) % 100 == 0:
            print(f"  {i + 1} sentences", flush=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, E=np.array(E, dtype=object), T=np.array(T, dtype=object), desc=np.array(D))
    os.replace(tmp, path)
    return E, T, D


def add_clicks(E, T, seed, share=CLICKS):
    """Put a lead-in of quiet before ``share`` of the utterances, with a click in it (a
    2-6 frame burst of random tilt 15-45 dB below the voice's peak, decaying), and pause
    targets: microphones click and pop before anyone speaks, and so do some synthesisers;
    the network should learn to rest through them. Drawn from the seed."""
    rng = np.random.default_rng(seed + 2)
    E, T = list(E), list(T)
    nb = len(BAND_EDGES) - 1
    for i in range(len(E)):
        if rng.random() >= share:
            continue
        e = np.asarray(E[i], np.float64)
        L = 10 * np.log10(np.sum(10 ** (e[:, :15] / 10), axis=1))
        n_pre, burst = int(rng.integers(15, 40)), int(rng.integers(2, 7))
        at = int(rng.integers(1, n_pre - burst - 5))
        pre = np.repeat(e[np.argmin(L)][None], n_pre, axis=0)
        shape = L.max() - rng.uniform(15, 45) - 10 * np.log10(15) + rng.uniform(-1.0, 0.5) * (np.arange(nb) - 7)
        for k in range(burst):
            b = shape - rng.uniform(2, 8) * k
            pre[at + k] = 10 * np.log10(10 ** (pre[at + k] / 10) + 10 ** (b / 10))
        E[i] = np.concatenate([pre, e]).astype(np.float32)
        T[i] = np.concatenate([np.zeros((n_pre, T[i].shape[1]), np.float32), T[i]])
    return E, T


def placeholder():
    d = N_FEATURES
    return VisemeModel(dict(mu=np.zeros(d), sd=np.ones(d), proj=np.zeros((d, 1)), w1=np.zeros((1, 1)),
                            b1=np.zeros(1), w2=np.zeros((1, 4)), b2=np.zeros(4), taps=np.array([0]),
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


def teacher_outputs(models, F, idx_all, rows=65536):
    """The mean outputs of fitted networks (``VisemeModel``) over the training frames:
    openness, width, rounding, and the closure's probability (the logit's sigmoid)."""
    out = np.zeros((len(F), 4), np.float32)
    for m in models:
        z = m.project(F)
        for s in range(0, len(F), rows):
            ix = idx_all[s : s + rows]
            o = m.forward(z[ix].reshape(len(ix), -1))
            o[:, 3] = 1 / (1 + np.exp(-o[:, 3]))
            out[s : s + rows] += o
    return out / len(models)


def fit(F, idx_all, Y, seed, epochs, hidden=HIDDEN, proj=PROJ, lr=3e-3, batch=512, pause_weight=PAUSE_WEIGHT,
        dropout=0.0, soft=None):
    """Adam on: z = ((f - mu) / sd) @ proj per frame; x = z at the taps; h = relu(x @ w1 + b1),
    then relu(h @ wk + bk) for every further hidden layer; y = h @ wN + bN (linear).
    ``dropout``: the share of hidden units dropped at random in each step of the fit.
    ``soft``: (n, 4) targets to fit instead of ``Y`` (the mean outputs of teacher networks,
    :func:`teacher_outputs`); the pause frames are still those of ``Y``."""
    rng = np.random.default_rng(seed + 1)
    mu, sd = F.mean(0), F.std(0) + 1e-3
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
    P[f"w{nl}"] = (rng.standard_normal((sizes[-1], 4)) * 0.1).astype(np.float32)
    P[f"b{nl}"] = np.zeros(4, np.float32)
    m = {k: np.zeros_like(v) for k, v in P.items()}
    v2 = {k: np.zeros_like(v) for k, v in P.items()}
    b1, b2, eps, t = 0.9, 0.999, 1e-8, 0
    Yf = Y.astype(np.float32)
    Tf = Yf if soft is None else np.asarray(soft, np.float32)
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
    ap.add_argument("--utterances", type=int, default=9600, help="sentences to synthesise")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--hidden", default=",".join(map(str, HIDDEN)), help="units per hidden layer, e.g. 128,64")
    ap.add_argument("--proj", type=int, default=PROJ, help="numbers per frame after the projection")
    ap.add_argument("--pause-weight", type=float, default=PAUSE_WEIGHT, help="weight of pause frames in the fit")
    ap.add_argument("--vtlp", type=float, default=VTLP, help="largest vocal-tract shift (natural log)")
    ap.add_argument("--clicks", type=float, default=CLICKS, help="share of utterances given a click before them")
    ap.add_argument("--dropout", type=float, default=0.0, help="share of hidden units dropped in each step of the fit")
    ap.add_argument("--gender", type=float, default=GENDER,
                    help="share of the varied copies given a new voice by Praat's Change gender (needs the train extra)")
    ap.add_argument("--leave-out", default="", help="comma-separated training voices to leave out of the fit "
                    "(e.g. flite:awb, to check generalisation to a synthesiser not in the fit)")
    ap.add_argument("--teachers", type=int, default=TEACHERS,
                    help="networks fitted first (fit seeds seed, seed+1, ...); the model is then fitted on their "
                    "mean outputs (0: on the phone targets)")
    ap.add_argument("--ensemble", type=int, default=None,
                    help=f"networks in the model file, from fit seeds seed, seed+1, ... (their outputs are averaged; "
                    f"default {ENSEMBLE}; 1 with --teachers)")
    ap.add_argument("--live", action="store_true",
                    help="fit the live model (10 ms of look-ahead; default out models/visemes_live.npz)")
    ap.add_argument("--out", default=None, help="where to write the model (default models/visemes.npz, "
                    "or models/visemes_live.npz with --live)")
    ap.add_argument("--cache", default=str(CACHE), help="where synthesised training data are kept")
    args = ap.parse_args(argv)
    t0 = time.time()
    print(f"synthesising {args.utterances} sentences with random training voices (x2: clean, varied)")
    if not 0 <= args.gender <= 1:
        print(f"train_visemes: --gender must be a share from 0 to 1, got {args.gender}", file=sys.stderr)
        return 2
    ensemble = args.ensemble if args.ensemble is not None else 1 if args.teachers else ENSEMBLE
    if ensemble < 1 or (ensemble > 1 and args.teachers):
        print(f"train_visemes: --ensemble must be 1 or more (1 with --teachers), got {ensemble}", file=sys.stderr)
        return 2
    if args.teachers < 0:
        print(f"train_visemes: --teachers must be 0 or more, got {args.teachers}", file=sys.stderr)
        return 2
    if not 0 <= args.dropout < 1:
        print(f"train_visemes: --dropout must be a share from 0 to just under 1, got {args.dropout}", file=sys.stderr)
        return 2
    if args.gender:
        try:
            import parselmouth  # noqa: F401
        except ImportError:
            print("train_visemes: --gender needs praat-parselmouth (pip install -e '.[train]')", file=sys.stderr)
            return 2
    voices = [f"espeak:{a}" for a in TRAIN_ACCENTS] + [f"flite:{v}" for v in TRAIN_FLITE]
    left = [v for v in args.leave_out.split(",") if v]
    if any(v not in voices for v in left):
        print(f"train_visemes: --leave-out takes voices from {', '.join(voices)}, got {args.leave_out!r}",
              file=sys.stderr)
        return 2
    E, T, D = make_data(args.seed, args.utterances, args.cache, vtlp=args.vtlp, gender=args.gender)
    if left:  # a description starts with the voice, e.g. "espeak:en-gb+m3 vtlp1.05"
        keep = [i for i, d in enumerate(D) if d.split(" ")[0].split("+")[0] not in left]
        E, T = [E[i] for i in keep], [T[i] for i in keep]
        voices = [v for v in voices if v not in left]
    E, T = add_clicks(E, T, args.seed, args.clicks)
    ph = placeholder()
    F = np.concatenate([VisemeMapper(model=ph).features(e)[0] for e in E])
    Y = np.concatenate(T).astype(np.float64)
    print(f"{len(E)} utterances, {len(F)} frames, {F.shape[1]} features per frame ({time.time() - t0:.0f} s)")
    try:
        hidden = tuple(int(h) for h in args.hidden.split(","))
        assert hidden and min(hidden) >= 1 and args.proj >= 1
    except (ValueError, AssertionError):
        print(f"train_visemes: --hidden must be positive integers separated by commas, got {args.hidden!r}",
              file=sys.stderr)
        return 2
    taps = LIVE_TAPS if args.live else TAPS
    idx = tap_index([len(e) for e in E], taps)
    opts = dict(hidden=hidden, proj=args.proj, pause_weight=args.pause_weight, dropout=args.dropout)

    def network(k):
        """The network of fit seed ``seed + k`` on these data and options (cached: the same
        options give the same network)."""
        skip = ("out", "cache", "teachers", "ensemble")
        key = hashlib.sha256(repr((sorted((a, v) for a, v in vars(args).items() if a not in skip),
                                   taps, k)).encode()).hexdigest()[:12]
        path = Path(args.cache) / f"net-{key}.npz"
        if not path.exists():
            print(f"network {k + 1} (fit seed {args.seed + k})")
            tp = fit(F, idx, Y, args.seed + k, args.epochs, **opts)
            tmp = path.with_suffix(".tmp.npz")
            np.savez(tmp, **tp, taps=np.array(taps), edges=np.array(BAND_EDGES))
            os.replace(tmp, path)
        with np.load(path) as z:
            return {k: z[k] for k in z.files if k not in ("taps", "edges")}

    if args.teachers:
        print(f"{args.teachers} teachers")
        teachers = [VisemeModel(dict(network(k), taps=np.array(taps), edges=np.array(BAND_EDGES)))
                    for k in range(args.teachers)]
        soft = teacher_outputs(teachers, F, idx)
        print(f"the model: fitted on the {args.teachers} teachers' mean outputs ({time.time() - t0:.0f} s)")
        nets = [fit(F, idx, Y, args.seed, args.epochs, soft=soft, **opts)]
    else:
        nets = [network(k) for k in range(ensemble)]
    params = {(f"n{i}_" if i else "") + k: v for i, net in enumerate(nets) for k, v in net.items()}
    out = Path(args.out or ROOT / "models" / ("visemes_live.npz" if args.live else "visemes.npz"))
    tmp = out.with_suffix(".tmp.npz")
    np.savez(tmp, **params, taps=np.array(taps), edges=np.array(BAND_EDGES), seed=np.array(args.seed),
             voices=np.array(voices))
    os.replace(tmp, out)
    print(f"wrote {out} ({out.stat().st_size // 1024} KiB) in {time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
