"""Viseme and Rhubarb-cue scores for ``bench/lipsync.py`` (issue 21's definitions).

* Fifteen visemes: per frame, the winning viseme against the phone's viseme (the table of
  ``bench/_corpus.py``: diphthongs by halves, hh and the schwa not scored, pauses of 150 ms
  or more ``sil``, shorter pauses not scored). *frame accuracy*: share of scored frames
  right; *balanced accuracy*: the mean recall over the visemes that occur.
* Rhubarb cues, scored against the shapes Rhubarb 1.14's own animation rules allow for
  each phone (:data:`ALLOWED`), on frames 20 ms in from each phone edge: *cue allowed*
  (all scored frames), *vowels* (recall per expected shape B C D E F, balanced), *p/b/m
  as A* (segments of 30 ms or more showing A within 20 ms of them), *f/v as G* (frames),
  *pauses at rest* (frames of pauses of 150 ms or more, 50 ms in, showing X).
"""

from __future__ import annotations

import numpy as np

from face3d.analysis.visemes15 import VISEMES

ANY = set("ABCDEFGHX")
OPEN = set("BCDEFGH")


def allowed(phone: str, dur_cs: int):
    """The Rhubarb shapes its rules allow for a CMU phone of ``dur_cs`` centiseconds:
    a set, or a (first 60 %, rest) pair for a diphthong; None: not scored."""
    short = {"ah": 20, "ay": 20, "aw": 30}
    table = {
        "ao": "E", "aa": "D", "iy": "B", "uw": "F", "eh": "C", "ih": "B", "uh": "F", "ae": "C",
        "ax": "BC", "m": "A", "p": "A", "b": "A", "t": OPEN, "d": OPEN, "dx": OPEN, "k": OPEN, "g": OPEN,
        "ch": "BF", "jh": "BF", "f": "G", "v": "G", "th": "BF", "dh": "BF", "s": "BF", "z": "BF", "sh": "BF",
        "zh": "BF", "n": "BCFH", "ng": "BCEF", "r": "BEF", "y": "BCF", "w": "F",
    }
    if phone == "ah":
        return set("C" if dur_cs < short["ah"] else "D")
    if phone == "ey":
        return (set("C"), set("B"))
    if phone == "ay":
        return (set("C" if dur_cs < short["ay"] else "D"), set("B"))
    if phone == "ow":
        return (set("E"), set("F"))
    if phone == "aw":
        return (set("C" if dur_cs < short["aw"] else "D"), set("E"))
    if phone == "oy":
        return (set("E"), set("B"))
    if phone == "er":
        return set("BC") if dur_cs < 7 else set("E")
    if phone == "axr":
        return set("BC")
    if phone == "l":
        return set("BEFH") if dur_cs < 20 else set("H")
    if phone in table:
        return set(table[phone])
    return None


def _segments(phone):
    """Runs of the same phone label: (start, end, phone)."""
    out, a = [], 0
    for i in range(1, len(phone) + 1):
        if i == len(phone) or phone[i] != phone[a]:
            out.append((a, i, str(phone[a])))
            a = i
    return out


def viseme_refs(ref):
    """The frames' reference viseme (-1 not scored): pauses under 150 ms not scored."""
    vis = np.array(ref["vis"], np.int64)
    for a, b, kind, _ in ref["segs"]:
        if kind == "pause" and b - a < 15:
            vis[a:b] = -1
    return vis


def viseme_scores(vis_curves, refs):
    """vis_curves: per utterance (n, 15) weights -> dict acc, bal, recall per viseme, n."""
    right = np.zeros(len(VISEMES))
    total = np.zeros(len(VISEMES))
    for w, r in zip(vis_curves, refs):
        v = viseme_refs(r)
        n = min(len(v), len(w))
        v, win = v[:n], np.argmax(w[:n], axis=1)
        ok = v >= 0
        np.add.at(total, v[ok], 1)
        np.add.at(right, v[ok], (win[ok] == v[ok]).astype(float))
    seen = total > 0
    rec = np.where(seen, right / np.maximum(total, 1), np.nan)
    return dict(acc=right.sum() / max(total.sum(), 1), bal=float(np.nanmean(rec[seen])), recall=rec,
                n=int(total.sum()))


def cue_scores(cues_cs, refs):
    """cues_cs: per utterance a sequence of shape letters, one per centisecond (frame)."""
    ok = n_all = 0
    vow_right, vow_total = {s: 0 for s in "BCDEF"}, {s: 0 for s in "BCDEF"}
    pbm = n_pbm = fv = n_fv = rest = n_rest = 0
    for cues, r in zip(cues_cs, refs):
        cues = np.array(list(cues))
        n = len(cues)
        for a, b, ph in _segments(r["phone"]):
            b = min(b, n)
            if ph in ("pau", "_") or ph.startswith("_") or r["kind"][a] == "pause":
                if b - a >= 15:
                    rest += int((cues[a + 5 : b - 5] == "X").sum())
                    n_rest += b - a - 10
                continue
            al = allowed(ph, b - a)
            if al is None:
                continue
            if ph in ("p", "b", "m") and b - a >= 3:
                n_pbm += 1
                pbm += bool((cues[max(0, a - 2) : min(n, b + 2)] == "A").any())
            inner = np.arange(a + 2, b - 2)
            if not len(inner):
                continue
            if isinstance(al, tuple):
                cut = a + int(round(0.6 * (b - a)))
                sets = [al[0] if i < cut else al[1] for i in inner]
            else:
                sets = [al] * len(inner)
            hit = np.array([cues[i] in s for i, s in zip(inner, sets)])
            ok += int(hit.sum())
            n_all += len(inner)
            if ph in ("f", "v"):
                fv += int((cues[inner] == "G").sum())
                n_fv += len(inner)
            if r["kind"][a] == "vowel" and not isinstance(al, tuple) and len(al) == 1:
                s = next(iter(al))
                if s in vow_total:
                    vow_total[s] += len(inner)
                    vow_right[s] += int(hit.sum())
    recs = [vow_right[s] / vow_total[s] for s in vow_total if vow_total[s]]
    return dict(allowed=ok / max(n_all, 1), vowels=float(np.mean(recs)) if recs else float("nan"),
                pbm=pbm / max(n_pbm, 1), fv=fv / max(n_fv, 1), rest=rest / max(n_rest, 1))


def cues_per_cs(cues, n):
    """[(start s, end s, shape)] -> one shape per centisecond for ``n`` frames."""
    out = np.full(n, "X", dtype="<U1")
    for a, b, s in cues:
        out[int(round(a * 100)) : int(round(b * 100))] = s
    return out


def read_rhubarb_tsv(path, n):
    """Rhubarb's TSV (``start<TAB>shape`` per line) -> one shape per centisecond."""
    rows = []
    with open(path) as fh:
        for line in fh:
            parts = line.split()
            if len(parts) == 2:
                rows.append((float(parts[0]), parts[1]))
    cues = [(t, rows[i + 1][0] if i + 1 < len(rows) else n / 100, s) for i, (t, s) in enumerate(rows)]
    return cues_per_cs(cues, n)
