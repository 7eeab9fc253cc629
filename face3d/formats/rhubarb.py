"""Rhubarb Lip Sync mouth cues (TSV, JSON, XML) from face3d's curves.

Rhubarb's mouth shapes, and what face3d's curves choose each one for:

* ``A`` closed mouth (p, b, m): ``mouthClose`` at least 0.15 and above ``jawOpen``, or
  at least 0.1 with the jaw almost shut (under 0.12); also a short gap inside speech
  (under 0.2 s) next to such a closure;
* ``B`` slightly open, teeth clenched (most consonants, "ee"): a little openness;
* ``C`` open ("eh", "ae"): ``jawOpen`` 0.35 to 0.7;
* ``D`` wide open ("aa"): ``jawOpen`` 0.7 and more;
* ``E`` slightly rounded ("ao", "er"): ``mouthPucker`` 0.25 and more (or 0.5 and more with
  the jaw half open);
* ``F`` puckered ("oo", "ow", "w"): ``mouthPucker`` 0.5 and more, jaw less than half open;
* ``G`` upper teeth on the lower lip (f, v; extended): any other short gap inside speech
  (under 0.2 s, every curve near 0 and no lip closure): the hiss of a fricative, which the
  analysis keeps from closing the lips. face3d does not tell f from s, so this is the
  nearest its curves come to f and v (without G such a gap is B, as Rhubarb's s and t);
* ``H`` tongue raised (a long l; extended): a middling opening (``jawOpen`` 0.2 to 0.5),
  neither spread nor rounded, held for at least 0.15 s;
* ``X`` rest: all curves near 0 (silence).

With the fifteen viseme columns in the track (``face3d export`` analyses with them for
these formats), each centisecond's cue comes from its winning viseme instead
(:data:`FROM_VISEME`, after Rhubarb's own shape descriptions): ``sil`` X, ``PP`` A,
``FF`` G, ``nn`` H (Rhubarb's tongue-up shape: long l, and n), ``RR`` and ``O`` E, ``U``
and ``CH`` F (pushed-out lips), ``I``, ``TH``, ``DD``, ``kk``, ``SS`` B, ``E`` C, and
``aa`` D with the jaw at least 0.55 open, else C; X also where every curve is near 0 and
``sil`` weighs at least 0.1 (the edges of a pause). A short rest between two closures stays A.

As with Rhubarb's ``--extendedShapes``, the extended shapes G, H and X are used only
when listed (default ``GHX``); a shape left out becomes B (for G), C (for H) or A (for X).
Times are whole centiseconds (the analysis runs at 100 frames per second, Rhubarb's own
unit); no cue is shorter than one frame at 24 fps (5 cs) unless the sound itself is; the
first cue starts at 0 and the last is a rest (X, or A without X).

Layouts, as Rhubarb 1.14 writes them: TSV ``<start>\\t<shape>`` per line, with a last
line for the final rest; JSON ``{"metadata": {"soundFile", "duration"}, "mouthCues":
[{"start", "end", "value"}, ...]}``; XML ``<rhubarbResult>`` with ``<metadata>`` and
``<mouthCues>`` of ``<mouthCue start=".." end="..">SHAPE</mouthCue>``; numbers with two
decimals.
"""

from __future__ import annotations

import json
from xml.sax.saxutils import escape, quoteattr

import numpy as np

SHAPES = "ABCDEFGHX"
EXTENDED = "GHX"
MIN_CS = 5                     # one frame at 24 fps is 4.17 cs
PAUSE_AS_CLOSED_CS = 20        # a pause shorter than this inside speech closes the lips (A)
LONG_L_CS = 15
#: how open each shape is (for comparing cues with jawOpen)
OPENNESS = {"A": 0.0, "B": 0.25, "C": 0.55, "D": 1.0, "E": 0.45, "F": 0.25, "G": 0.15, "H": 0.4, "X": 0.0}
_FALLBACK = {"G": "B", "H": "C", "X": "A"}


def parse_extended(text: str | None) -> str:
    """The --extended-shapes value: any of G, H, X (case-insensitive), '' for none."""
    from face3d.errors import UsageError

    text = (text if text is not None else EXTENDED).strip().upper()
    bad = sorted(set(text) - set(EXTENDED))
    if bad:
        raise UsageError(f"--extended-shapes '{text}' has {', '.join(bad)}; give any of G, H, X (e.g. GHX, or '' for none)")
    return "".join(s for s in EXTENDED if s in text)


#: Rhubarb shape of each winning viseme (``aa`` is C or D by the jaw: see the module text)
FROM_VISEME = {"sil": "X", "PP": "A", "FF": "G", "TH": "B", "DD": "B", "kk": "B", "CH": "F", "SS": "B",
               "nn": "H", "RR": "E", "aa": "D", "E": "C", "I": "B", "O": "E", "U": "F"}
WIDE_JAW = 0.55
REST_SIL = 0.1
KEEP = ("PP",)   # visemes that keep their cue where the mouth is still


def viseme_shapes(track, n_cs: int) -> list[str] | None:
    """One shape per centisecond from the viseme columns; None when the track has none."""
    from face3d.track import VISEME_NAMES, VISEMES

    if not all(n in track.names for n in VISEME_NAMES):
        return None
    values = track.sample(np.arange(n_cs) * 0.01).astype(np.float64)
    v = values[:, [track.names.index(n) for n in VISEME_NAMES]]
    jaw = values[:, track.names.index("jawOpen")] if "jawOpen" in track.names else np.ones(n_cs)
    win = np.argmax(v, axis=1)
    out = [FROM_VISEME[VISEMES[k]] for k in win]
    curves = [values[:, track.names.index(n)] if n in track.names else np.zeros(n_cs)
              for n in ("mouthWide", "mouthPucker", "mouthClose")]
    # at rest: the curves all near 0 and the rest shape weighing something (a pause's edges)
    still = (jaw < 0.06) & (curves[0] < 0.1) & (curves[1] < 0.1) & (curves[2] < 0.1) & (v[:, 0] >= REST_SIL)
    for i, k in enumerate(win):
        if VISEMES[k] == "aa" and jaw[i] < WIDE_JAW:
            out[i] = "C"
        elif still[i] and VISEMES[k] not in KEEP:
            out[i] = "X"
    return out


def frame_shapes(track, n_cs: int) -> list[str]:
    """One shape per centisecond (before the extended shapes are filtered)."""
    vs = viseme_shapes(track, n_cs)
    if vs is not None:
        return vs
    values = track.sample(np.arange(n_cs) * 0.01).astype(np.float64)   # the frame at each cue start

    def col(name):
        return values[:, track.names.index(name)] if name in track.names else np.zeros(n_cs)

    jaw, wide, puck, close = (col(k) for k in ("jawOpen", "mouthWide", "mouthPucker", "mouthClose"))
    out = []
    for j, w, p, c in zip(jaw, wide, puck, close):
        if (c >= 0.15 and c >= j) or (c >= 0.1 and j < 0.12):
            s = "A"
        elif j < 0.06 and w < 0.1 and p < 0.1 and c < 0.1:
            s = "X"
        elif p >= 0.5 and p > w:
            s = "F" if j < 0.5 else "E"
        elif p >= 0.25 and p > w:
            s = "E"
        elif j >= 0.7:
            s = "D"
        elif j >= 0.35:
            s = "C" if not (j < 0.5 and w < 0.15 and p < 0.15) else "h"   # h: H if held long enough
        elif 0.2 <= j and w < 0.15 and p < 0.15:
            s = "h"
        else:
            s = "B"
        out.append(s)
    return out


def _runs(shapes: list[str]) -> list[list]:
    runs: list[list] = []
    for i, s in enumerate(shapes):
        if runs and runs[-1][0] == s:
            runs[-1][2] = i + 1
        else:
            runs.append([s, i, i + 1])
    return runs


def _merge_equal(runs):
    out = []
    for r in runs:
        if out and out[-1][0] == r[0]:
            out[-1][2] = r[2]
        else:
            out.append(list(r))
    return out


def _enforce_minimum(runs):
    """No run shorter than MIN_CS: a short run takes time from a neighbour with some to
    spare, else joins its longer neighbour."""
    changed = True
    while changed and len(runs) > 1:
        changed = False
        for i, (s, a, b) in enumerate(runs):
            need = MIN_CS - (b - a)
            if need <= 0:
                continue
            nxt = runs[i + 1] if i + 1 < len(runs) else None
            prv = runs[i - 1] if i > 0 else None
            if nxt is not None and nxt[2] - nxt[1] - need >= MIN_CS:
                runs[i][2] += need
                nxt[1] += need
            elif prv is not None and prv[2] - prv[1] - need >= MIN_CS:
                runs[i][1] -= need
                prv[2] -= need
            else:
                longer = prv if nxt is None or (prv is not None and prv[2] - prv[1] >= nxt[2] - nxt[1]) else nxt
                longer[1], longer[2] = min(longer[1], a), max(longer[2], b)
                del runs[i]
                runs[:] = _merge_equal(runs)
            changed = True
            break
    return runs


def cues(track, duration: float, extended: str = EXTENDED) -> list[tuple[float, float, str]]:
    """(start, end, shape) cues covering [0, duration], times in seconds (whole centiseconds)."""
    n_cs = max(1, int(round(duration * 100)))
    shapes = frame_shapes(track, n_cs)
    from_visemes = viseme_shapes(track, 1) is not None
    runs = _runs(shapes)
    for i, r in enumerate(runs):   # long-l candidates become H only when held
        if from_visemes:
            if r[0] == "X" and 0 < i < len(runs) - 1 and r[2] - r[1] < PAUSE_AS_CLOSED_CS \
                    and runs[i - 1][0] == "A" and runs[i + 1][0] == "A":
                r[0] = "A"
            continue
        if r[0] == "h":
            r[0] = "H" if r[2] - r[1] >= LONG_L_CS else "C"
        elif r[0] == "X" and 0 < i < len(runs) - 1 and r[2] - r[1] < PAUSE_AS_CLOSED_CS:
            # a short gap inside speech: part of a lip closure next to one, else hiss (f, v, s)
            r[0] = "A" if "A" in (runs[i - 1][0], runs[i + 1][0]) else "G"
    for r in runs:
        if r[0] in EXTENDED and r[0] not in extended:
            r[0] = _FALLBACK[r[0]]
    runs = _enforce_minimum(_merge_equal(runs))
    rest = "X" if "X" in extended else "A"
    if runs[-1][0] != rest:        # the last cue is a rest, as in Rhubarb's output
        last = runs[-1]
        if last[2] - last[1] >= 2 * MIN_CS:
            runs.append([rest, last[2] - MIN_CS, last[2]])
            last[2] -= MIN_CS
        else:
            last[0] = rest
        runs = _enforce_minimum(_merge_equal(runs))
    return [(a / 100.0, b / 100.0, s) for s, a, b in runs]


def write(track, stream, info, variant: str = "rhubarb-tsv") -> None:
    extended = parse_extended(info.options.get("extended_shapes"))
    cs = cues(track, info.duration, extended)
    duration = cs[-1][1]          # the sound's length in whole centiseconds, as the cues end
    if variant == "rhubarb-tsv":
        for start, _, shape in cs:
            stream.write(f"{start:.2f}\t{shape}\n")
    elif variant == "rhubarb-json":
        stream.write("{\n  \"metadata\": {\n")
        stream.write(f"    \"soundFile\": {json.dumps(info.sound_file, ensure_ascii=False)},\n")
        stream.write(f"    \"duration\": {duration:.2f}\n  }},\n  \"mouthCues\": [\n")
        stream.write(",\n".join(f"    {{ \"start\": {a:.2f}, \"end\": {b:.2f}, \"value\": \"{s}\" }}" for a, b, s in cs))
        stream.write("\n  ]\n}\n")
    elif variant == "rhubarb-xml":
        stream.write("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rhubarbResult>\n  <metadata>\n")
        stream.write(f"    <soundFile>{escape(info.sound_file)}</soundFile>\n")
        stream.write(f"    <duration>{duration:.2f}</duration>\n  </metadata>\n  <mouthCues>\n")
        for a, b, s in cs:
            stream.write(f"    <mouthCue start={quoteattr(f'{a:.2f}')} end={quoteattr(f'{b:.2f}')}>{s}</mouthCue>\n")
        stream.write("  </mouthCues>\n</rhubarbResult>\n")
    else:
        raise ValueError(f"unknown Rhubarb variant {variant}")
