"""Lip-sync accuracy on held-out voices with exact phone timings, beside two PyPI peers.

Synthesises 30 varied sentences with each held-out voice of ``bench/_corpus.py``
(espeak-ng accents and variants and a Flite voice that the viseme model never saw in
training; ``--voices`` picks others), takes the synthesiser's own phone timings, turns
each phone into target openness, width and rounding, and compares every system's curves
at 100 frames per second (the issue 10 definitions):

* ``jaw r``: Pearson r of ``jawOpen`` against the target openness per utterance, then the
  mean, at the lag (``lag``, positive = system late; one lag per system, searched over
  -150..150 ms) that maximises that mean; ``worst voice``: the lowest per-voice mean.
* ``p/b/m closed``: share of p/b/m segments of 30 ms or longer in which the lip aperture
  ``jawOpen - mouthClose`` reaches 0.15 or less within 20 ms of the segment.
* ``open vowels shut``: share of frames inside open vowels (target openness >= 0.5,
  20 ms in from each edge) with that aperture at 0.15 or less.
* ``pauses at rest``: share of frames inside pauses of 150 ms or more (50 ms in from each
  edge) with ``jawOpen`` <= 0.1.
* ``width r``, ``round r``: Pearson r of ``mouthWide`` and ``mouthPucker`` against the
  per-phone targets on vowel frames (all utterances pooled), at the system's lag.

The shares are taken at zero lag (what a viewer shows). Peers (installed in their own
virtualenv, default /tmp/peers; not face3d dependencies): ``openfacefx energy --retarget
arkit`` (opening = jawOpen, width = mouthStretch L/R, rounding = max(mouthPucker,
mouthFunnel), mouthClose when it has one) and ``pylipsync`` (uLipSync's MFCC template
method; opening = aa + 0.6 oh + 0.4 ee + 0.3 ih + 0.2 ou, width = ee + 0.6 ih, rounding =
ou + 0.5 oh; no closure channel). A peer that cannot be found or run gets a row saying
so. ``--live`` adds face3d's streaming path (10 ms blocks through ``StreamAnalyzer``).

``--reserved`` adds a second, separate table on the same sentences spoken by voices that
were never used for training or for choosing anything (Flite's ``kal`` and ``slt``, and
Festival's voices when its ``text2wave`` is installed; see :data:`RESERVED_CHECK`): an
independent check, run once, never to tune on.

Issue 20/21 additions: ``--realspeech`` scores the held-out recorded speakers of
../shared/data/realspeech (``bench/_realspeech.py``); ``--conditions room,babble,noise,
telephone,level,codec`` scores each corpus again through those degradations
(``bench/_conditions.py``), per voice; every face3d row also gets the fifteen-viseme table
(frame and balanced accuracy, recall per viseme) and the Rhubarb cue table of its Rhubarb
export (``bench/_viseme_scores.py``); ``--rhubarb PATH`` adds a Rhubarb Lip Sync binary's
own cues (speech recogniser and phonetic); ``--models DIR`` scores other model files.

    .venv/bin/python bench/lipsync.py [--peers /tmp/peers] [--voices V,V] [--reserved] [--keep DIR]
        [--live] [--realspeech] [--conditions C,C] [--rhubarb PATH] [--models DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import soundfile as sf  # noqa: E402

import face3d  # noqa: E402
import _realspeech as realspeech  # noqa: E402
from _conditions import CONDITIONS, degrade  # noqa: E402
from _corpus import FPS, HELDOUT_VOICES, RESERVED, n_frames, synthesize, targets  # noqa: E402
import _peers  # noqa: E402
from _peers import run_openfacefx, run_pylipsync, run_rhubarb  # noqa: E402
from _viseme_scores import cue_scores, cues_per_cs, viseme_scores  # noqa: E402

#: The independent check's voices (``--reserved``): never used for training or tuning.
RESERVED_CHECK = ("flite:kal", "flite:slt")

SENTENCES = [
    "Father saw a large dark barn on the far farm.",
    "We see three green trees, and she keeps the key.",
    "Do you choose the blue shoes, or the new boots?",
    "Bob made me a map, but my mom bought a bumpy bike.",
    "Open the window. Look at the moon! It is so cool.",
    "Peter Piper picked a peck of pickled peppers.",
    "How now, brown cow? The mouse found a house.",
    "Sit still; little Tim will fix it with his ship kit.",
    "A warm wind was blowing over the water, while we waited.",
    "Please, beam me up. Maybe by May, maybe by June.",
    "The cat sat on a hat. Pass the jam, Sam.",
    "Who knew you would move to the zoo, too?",
    "My brother parked the boat by the harbour at noon.",
    "Eat your peas, please, and leave the cheese for me.",
    "The old man rode home across the open moor.",
    "Put the box on top of the piano, Paul.",
    "I am going to buy a pair of warm boots.",
    "Palm trees sway above the calm blue bay.",
    "Mary made a bowl of plum jam for the baby.",
    "Go slowly; the road is wet and the light is low.",
    "Ample maple syrup was poured upon the pancakes.",
    "Her father thinks the garden is far too dark.",
    "Be quiet, Mabel. The puppy is asleep at last.",
    "Few people knew what the ruby was worth.",
    "Mind the gap between the platform and the train.",
    "Apples and bananas are my favourite things.",
    "Bring me the map. We must leave before dawn.",
    "Who put the moose in my room?",
    "The rain in Spain stays mainly in the plain.",
    "Ah, what a marvellous bottle of wine, Bob!",
]

# ---------------------------------------------------------------- systems

def _has_head(live=False):
    from face3d.analysis.model import load_model

    return load_model(live=live).n_out > 4


def run_face3d(paths):
    """(n, 19) per file: the four curves (open, wide, round, close), then the fifteen visemes
    ((n, 4) with a model that has no viseme head)."""
    out = []
    for p in paths:
        tr = face3d.analyze(p, fps=FPS, visemes=_has_head())
        out.append(_fit(tr.values.astype(np.float64), _n_frames(p)))
    return out


def run_face3d_live(paths):
    """The microphone path: 10 ms blocks at the file's rate through StreamAnalyzer."""
    from face3d.analysis import StreamAnalyzer

    out = []
    for p in paths:
        x, rate = sf.read(str(p), dtype="float32")
        sa = StreamAnalyzer(rate, live=True, visemes=_has_head(live=True))
        hop = rate // 100
        parts = [sa.feed(x[i : i + hop]) for i in range(0, len(x), hop)] + [sa.flush()]
        out.append(_fit(np.concatenate(parts).astype(np.float64), _n_frames(p)))
    return out


def face3d_cues(curves):
    """face3d's Rhubarb export (the cues it writes) of each file's 100 Hz curves and visemes,
    one shape per centisecond."""
    from face3d.analysis import NAMES, VISEME_NAMES
    from face3d.formats.rhubarb import cues
    from face3d.track import WeightTrack

    out = []
    for c in curves:
        n = len(c)
        tr = WeightTrack(np.arange(n) / FPS, NAMES + VISEME_NAMES, c.astype(np.float32))
        out.append(cues_per_cs(cues(tr, n / FPS), n))
    return out


def _fit(v, n):
    """Curves cut or padded (the last frame repeated) to ``n`` frames."""
    if len(v) >= n:
        return v[:n]
    return np.concatenate([v, np.repeat(v[-1:], n - len(v), axis=0)])


_NFRAMES: dict = {}


def _n_frames(p):
    if p not in _NFRAMES:
        info = sf.info(str(p))
        _NFRAMES[p] = n_frames(info.frames, info.samplerate)
    return _NFRAMES[p]


_peers._n_frames, _peers._fit = _n_frames, _fit  # the peers count frames as the scorer does

# ---------------------------------------------------------------- metrics

def _pearson(a, b):
    if len(a) < 2 or np.std(a) < 1e-9 or np.std(b) < 1e-9:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def _shift(v, lag):
    """Curves moved earlier by ``lag`` frames (a late system is advanced), edge-padded."""
    if lag == 0:
        return v
    if lag > 0:
        return np.concatenate([v[lag:], np.repeat(v[-1:], lag, axis=0)])
    return np.concatenate([np.repeat(v[:1], -lag, axis=0), v[:lag]])


def score(curves, refs, voices, max_lag=15):
    """Issue 10 metrics for one system: curves and refs per utterance, voices per utterance."""
    def jaw_rs(lag):
        return np.array([_pearson(_shift(c, lag)[:, 0], r["tgt"][:, 0]) for c, r in zip(curves, refs)])

    best = max(range(-max_lag, max_lag + 1), key=lambda g: np.nanmean(jaw_rs(g)))
    rs = jaw_rs(best)
    vo = np.array(voices)
    per_voice = {v: float(np.nanmean(rs[vo == v])) for v in dict.fromkeys(voices)}
    closed = n_pbm = shut = n_open = rest = n_rest = 0
    wide_c, wide_t, round_c, round_t = [], [], [], []
    for c, r in zip(curves, refs):
        ap = c[:, 0] - c[:, 3]
        n = len(ap)
        cl = _shift(c, best)
        for a, b, kind, op in r["segs"]:
            if kind == "pbm" and b - a >= 3:
                n_pbm += 1
                closed += bool(ap[max(0, a - 2) : min(n, b + 2)].min() <= 0.15)
            elif kind == "vowel" and op >= 0.5 and b - a > 4:
                shut += int((ap[a + 2 : b - 2] <= 0.15).sum())
                n_open += b - a - 4
            elif kind == "pause" and b - a >= 15:
                rest += int((c[a + 5 : b - 5, 0] <= 0.1).sum())
                n_rest += b - a - 10
            if kind == "vowel":
                wide_c.append(cl[a:b, 1]); wide_t.append(r["tgt"][a:b, 1])
                round_c.append(cl[a:b, 2]); round_t.append(r["tgt"][a:b, 2])
    return dict(
        jaw_r=float(np.nanmean(rs)), worst=min(per_voice.values()), per_voice=per_voice,
        lag_ms=best * 1000 // FPS,
        pbm=closed / max(n_pbm, 1), n_pbm=n_pbm, shut=shut / max(n_open, 1), n_open=n_open,
        rest=rest / max(n_rest, 1), n_rest=n_rest,
        r_wide=_pearson(np.concatenate(wide_c), np.concatenate(wide_t)),
        r_round=_pearson(np.concatenate(round_c), np.concatenate(round_t)),
    )


def corpus(voices, tmp, allow_reserved=False):
    paths, refs, vo = [], [], []
    for voice in voices:
        for i, text in enumerate(SENTENCES):
            x, rate, events, cmu = synthesize(voice, text, speed=150 + (i * 7) % 50, allow_reserved=allow_reserved)
            p = tmp / f"{voice.replace(':', '_').replace('+', '_')}_{i:02d}.wav"
            sf.write(str(p), x, rate, subtype="PCM_16")
            paths.append(p)
            refs.append(targets(events, _n_frames(p), cmu))
            vo.append(voice)
    return paths, refs, vo


def real_corpus(tmp):
    """The held-out recorded speakers (``bench/_realspeech.py``), as 16 kHz WAVs."""
    paths, refs, vo = [], [], []
    for name, spk, _sex in realspeech.utterances(held_out=True):
        x, ev = realspeech.load(name)
        p = tmp / f"real_{name}.wav"
        sf.write(str(p), x, 16000, subtype="PCM_16")
        paths.append(p)
        refs.append(targets(ev, _n_frames(p), cmu=True, schwa_ah=True))
        vo.append(spk)
    return paths, refs, vo


def degraded(paths, condition, tmp):
    """Each file through ``condition`` (``bench/_conditions.py``; the same seed per file;
    babble from the corpus's other files)."""
    out = []
    sub = tmp / condition
    sub.mkdir(exist_ok=True)
    audio = [sf.read(str(p), dtype="float32") for p in paths]
    for i, (p, (x, rate)) in enumerate(zip(paths, audio)):
        import soxr

        y = soxr.resample(x, rate, 16000) if rate != 16000 else x
        others = [soxr.resample(a, r, 16000) if r != 16000 else a for j, (a, r) in enumerate(audio)
                  if j != i and (j * 7 + i) % 5 == 0][:12]
        z = degrade(y, condition, np.random.default_rng(1000 + i), others=others)
        q = sub / Path(p).name
        sf.write(str(q), np.clip(z, -1, 1), 16000, subtype="PCM_16")
        _NFRAMES[q] = _n_frames(p)
        out.append(q)
    return out


def run_systems(paths, refs, vo, tmp, args, peers=True):
    """Every system on these files -> [(name, curve scores or None, viseme scores, cue scores, note)]."""
    systems = [("face3d (file)", lambda: run_face3d(paths))]
    if args.live:
        systems.append(("face3d (live, 10 ms blocks)", lambda: run_face3d_live(paths)))
    if peers and not args.no_peers:
        systems += [("openfacefx energy (arkit)", lambda: run_openfacefx(paths, args.peers, tmp)),
                    ("pylipsync (uLipSync)", lambda: run_pylipsync(paths, args.peers, tmp))]
    rows = []
    for name, fn in systems:
        t0 = time.perf_counter()
        try:
            curves = fn()
        except Exception as exc:  # a peer that cannot run gets a row saying so
            rows.append((name, None, None, None, f"not run: {exc}"))
            continue
        wall = f"{time.perf_counter() - t0:.1f} s"
        vs = cs = None
        if name.startswith("face3d") and curves[0].shape[1] >= 19:
            vs = viseme_scores([c[:, 4:19] for c in curves], refs)
            cs = cue_scores(face3d_cues(curves), refs)
        rows.append((name, score([c[:, :4] for c in curves], refs, vo), vs, cs, wall))
    if peers and args.rhubarb:
        for rec in ("pocketSphinx", "phonetic"):
            t0 = time.perf_counter()
            try:
                cs = cue_scores(run_rhubarb(paths, args.rhubarb, tmp, rec), refs)
                rows.append((f"Rhubarb ({rec})", None, None, cs, f"{time.perf_counter() - t0:.1f} s"))
            except Exception as exc:
                rows.append((f"Rhubarb ({rec})", None, None, None, f"not run: {exc}"))
    return rows


def print_curves(rows, voices):
    print("| system | jaw r (mean) | worst voice | lag | p/b/m closed | open vowels shut | pauses at rest "
          "| width r | round r | wall |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, m, _, _, note in rows:
        if m is None:
            if note.startswith("not run"):
                print(f"| {name} | {note} | | | | | | | | |")
            continue
        print(f"| {name} | {m['jaw_r']:.3f} | {m['worst']:.3f} | {m['lag_ms']:+d} ms | {m['pbm']:.1%} | "
              f"{m['shut']:.1%} | {m['rest']:.1%} | {m['r_wide']:.2f} | {m['r_round']:.2f} | {note} |")
    print("\njaw r per voice:")
    print("| system | " + " | ".join(voices) + " |")
    print("|---|" + "---|" * len(voices))
    for name, m, _, _, _ in rows:
        if m is not None:
            print(f"| {name} | " + " | ".join(f"{m['per_voice'][v]:.2f}" for v in voices) + " |")


def print_visemes(rows):
    from face3d.analysis.visemes15 import VISEMES

    print("\nFifteen visemes (winning viseme per frame against the phone's; balanced = mean recall):")
    print("| system | frame accuracy | balanced accuracy | frames | " + " | ".join(VISEMES) + " |")
    print("|---|---|---|---|" + "---|" * len(VISEMES))
    for name, _, v, _, _ in rows:
        if v is not None:
            print(f"| {name} | {v['acc']:.1%} | {v['bal']:.1%} | {v['n']} | "
                  + " | ".join("" if np.isnan(r) else f"{r:.0%}" for r in v["recall"]) + " |")
    print("\nRhubarb cues (against the shapes Rhubarb 1.14's rules allow per phone; 20 ms in from phone edges):")
    print("| system | cue allowed | vowels (balanced B-F) | p/b/m as A | f/v as G | pauses at rest |")
    print("|---|---|---|---|---|---|")
    for name, _, _, c, note in rows:
        if c is not None:
            print(f"| {name} | {c['allowed']:.1%} | {c['vowels']:.1%} | {c['pbm']:.1%} | {c['fv']:.1%} | {c['rest']:.1%} |")
        elif name.startswith("Rhubarb"):
            print(f"| {name} | {note} | | | | |")


def tables(voices, tmp, args, allow_reserved=False, real=False):
    """Score every system on a corpus (voices, or the held-out recorded speakers), print the
    tables; with ``args.conditions``, the same corpus through each condition."""
    if real:
        paths, refs, vo = real_corpus(tmp)
        voices = list(dict.fromkeys(vo))
        what = f"held-out recorded speakers: {', '.join(voices)}"
    else:
        paths, refs, vo = corpus(voices, tmp, allow_reserved)
        what = f"{len(SENTENCES)} sentences x {len(voices)} voices: {', '.join(voices)}"
    total_s = sum(sf.info(str(p)).duration for p in paths)
    n_pbm = sum(1 for r in refs for s in r["segs"] if s[2] == "pbm" and s[1] - s[0] >= 3)
    print(f"{len(paths)} utterances ({what}), "
          f"{total_s:.0f} s of speech, {n_pbm} p/b/m segments >= 30 ms, targets at {FPS} frames/s\n")
    rows = run_systems(paths, refs, vo, tmp, args)
    print_curves(rows, voices)
    print_visemes(rows)
    conds = [c for c in (args.conditions or "").split(",") if c]
    if not conds:
        return
    print(f"\nConditions (bench/_conditions.py; the same files degraded): {', '.join(conds)}\n")
    print("| condition | system | jaw r | worst voice | lag | p/b/m closed | pauses at rest | width r | round r "
          "| viseme acc | balanced | cue allowed | f/v as G |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    per_voice = []
    for cond in ["clean"] + conds:
        cp = paths if cond == "clean" else degraded(paths, cond, tmp)
        cargs = argparse.Namespace(**{**vars(args), "live": args.live and args.live_conditions})
        crows = rows if cond == "clean" else run_systems(cp, refs, vo, tmp, cargs, peers=args.peers_conditions)
        for name, m, v, c, note in crows:
            if m is None:
                continue
            vv = f"{v['acc']:.1%} | {v['bal']:.1%}" if v else " | "
            cc = f"{c['allowed']:.1%} | {c['fv']:.1%}" if c else " | "
            print(f"| {cond} | {name} | {m['jaw_r']:.3f} | {m['worst']:.3f} | {m['lag_ms']:+d} ms | {m['pbm']:.1%} | "
                  f"{m['rest']:.1%} | {m['r_wide']:.2f} | {m['r_round']:.2f} | {vv} | {cc} |", flush=True)
            per_voice.append((cond, name, m["per_voice"]))
    print("\njaw r per voice and condition:")
    print("| condition | system | " + " | ".join(voices) + " |")
    print("|---|---|" + "---|" * len(voices))
    for cond, name, pv in per_voice:
        print(f"| {cond} | {name} | " + " | ".join(f"{pv[v]:.2f}" for v in voices) + " |")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--peers", default=os.environ.get("FACE3D_PEERS", "/tmp/peers"),
                    help="virtualenv holding openfacefx and pylipsync")
    ap.add_argument("--voices", default=",".join(HELDOUT_VOICES), help="comma-separated voices (bench/_corpus.py)")
    ap.add_argument("--no-peers", action="store_true", help="score face3d only")
    ap.add_argument("--live", action="store_true", help="also score the streaming (microphone) path")
    ap.add_argument("--reserved", action="store_true",
                    help="also score the reserved voices (Flite kal, slt) in a separate table: an independent check")
    ap.add_argument("--keep", default=None, help="keep the synthesised WAVs and peer outputs in this folder")
    ap.add_argument("--conditions", default="",
                    help=f"also score each corpus degraded by these conditions (comma-separated: {','.join(CONDITIONS)})")
    ap.add_argument("--peers-conditions", action="store_true", help="run the peers on the degraded files too")
    ap.add_argument("--live-conditions", action="store_true", help="with --live, score the live path on the degraded files too")
    ap.add_argument("--realspeech", action="store_true",
                    help="also score the held-out recorded speakers of ../shared/data/realspeech")
    ap.add_argument("--no-voices", action="store_true", help="skip the synthetic voices (with --realspeech)")
    ap.add_argument("--rhubarb", default=None, metavar="PATH",
                    help="a Rhubarb Lip Sync binary: its cues (speech recogniser and phonetic) join the cue table")
    ap.add_argument("--models", default=None, metavar="DIR",
                    help="score the viseme models in DIR (visemes.npz, visemes_live.npz) instead of the shipped ones")
    args = ap.parse_args(argv)
    if args.models:
        from face3d.analysis import model as model_mod

        for name in (model_mod.MODEL_FILE, model_mod.LIVE_MODEL_FILE):
            model_mod._CACHE[name] = model_mod.load_model(Path(args.models) / name)
    bad_c = [c for c in args.conditions.split(",") if c and c not in CONDITIONS]
    if bad_c:
        print(f"lipsync: unknown condition {bad_c[0]!r}; use any of {','.join(CONDITIONS)}", file=sys.stderr)
        return 2
    if args.rhubarb and not Path(args.rhubarb).is_file():
        print(f"lipsync: --rhubarb {args.rhubarb} is not a file; give the path of the rhubarb binary", file=sys.stderr)
        return 2
    if args.realspeech and realspeech.root() is None:
        print("lipsync: --realspeech needs ../shared/data/realspeech (or $FACE3D_REALSPEECH)", file=sys.stderr)
        return 2

    tmp = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="lipsync"))
    tmp.mkdir(parents=True, exist_ok=True)
    voices = [v for v in args.voices.split(",") if v]
    bad = [v for v in voices if not v.startswith(("espeak:", "flite:"))]
    if bad or not voices:
        print(f"lipsync: voices look like espeak:NAME[+VARIANT] or flite:NAME, got {args.voices!r}", file=sys.stderr)
        return 2
    if any(v in RESERVED for v in voices):
        print(f"lipsync: {', '.join(RESERVED)} are kept for --reserved, the independent check", file=sys.stderr)
        return 2
    if not args.no_voices:
        print("## Held-out synthetic voices\n")
        tables(voices, tmp, args)
    if args.realspeech:
        print("\n## Held-out recorded speakers (../shared/data/realspeech; ah not scored as a viseme: it is every schwa)\n")
        sub = tmp / "real"
        sub.mkdir(exist_ok=True)
        tables(None, sub, args, real=True)
    if args.reserved:
        print("\n## Independent check: reserved voices, never used for training or for choosing anything\n")
        if shutil.which("text2wave") is None:
            print("(Festival's text2wave is not installed: no Festival voice scored)\n")
        sub = tmp / "reserved"
        sub.mkdir(exist_ok=True)
        args.conditions = ""
        tables(list(RESERVED_CHECK), sub, args, allow_reserved=True)
    if not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
