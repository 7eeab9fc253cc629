"""Speech with exact phone timings for the lip-sync benchmark and the viseme model.

* Voices: espeak-ng voices and variants (``espeak:en-us+f3``) and Flite's ``awb`` and
  ``rms`` (``flite:awb``). Training data come from :data:`TRAIN_ACCENTS` x
  :data:`TRAIN_VARIANTS` and :data:`TRAIN_FLITE`; :data:`HELDOUT_VOICES` (three other
  accents with three other variants, and another Flite voice) never do and are what
  ``bench/lipsync.py`` scores. Festival voices and Flite's ``kal`` and ``slt`` are
  reserved for independent checks: :func:`synthesize` refuses them unless asked.
* Targets: each phone (espeak-ng mnemonics or Flite's CMU phones) has a target openness,
  width and rounding; :func:`targets` turns timed phones into per-frame curves at 100
  frames per second and the segments the scorer needs (p/b/m, vowels, pauses).
* Visemes: :func:`phone_viseme` gives each phone one of the fifteen Oculus visemes
  (issue 21's table, :data:`CMU_VISEME`); :func:`targets` gives them per frame.
* Rooms, noise, devices and breaths are ``bench/_conditions.py``.
"""

from __future__ import annotations

import numpy as np

FPS = 100

#: espeak-ng accents and voice variants the model is trained on (random pairs of them).
TRAIN_ACCENTS = ("en-us", "en-gb", "en-gb-x-rp", "en-gb-x-gbclan", "en-gb-x-gbcwmd")
TRAIN_VARIANTS = (
    "", "Alex", "Alicia", "Andrea", "Andy", "Annie", "AnxiousAndy", "Denis", "Diogo", "Gene", "Gene2",
    "Henrique", "Hugo", "Jacky", "Lee", "Marco", "Mario", "Michael", "Mike", "Nguyen", "RicishayMax",
    "Storm", "Tweaky", "adam", "anika", "announcer", "antonio", "aunty", "belinda", "benjamin", "boris",
    "caleb", "croak", "david", "ed", "edward", "f1", "f2", "f3", "f5", "fast", "grandma", "grandpa",
    "gustave", "iven", "iven2", "iven3", "john", "kaukovalta", "klatt", "klatt3", "klatt4", "klatt5",
    "klatt6", "linda", "m1", "m2", "m3", "m4", "m5", "m7", "m8", "marcelo", "max", "michel", "miguel",
    "norbert", "pablo", "paul", "pedro", "quincy", "rob", "robert", "sandro", "shelby", "steph", "steph2",
    "travis", "victor", "whisper", "zac",
)
#: Flite voices the model is trained on (kal and slt are reserved, rms is held out).
TRAIN_FLITE = ("awb",)
TRAIN_VOICES = tuple(f"espeak:{a}" for a in TRAIN_ACCENTS) + tuple(f"flite:{v}" for v in TRAIN_FLITE)
HELDOUT_VOICES = ("espeak:en-029+f4", "espeak:en-gb-scotland+m6", "espeak:en-us-nyc+klatt2", "flite:rms")
RESERVED = ("flite:kal", "flite:kal16", "flite:slt")

# ------------------------------------------------------------------ phone targets
# (openness, width, rounding)
_ESPEAK_V = {
    "a": (0.9, 0.4, 0.0), "aa": (1.0, 0.1, 0.0), "a#": (0.6, 0.1, 0.0), "A:": (1.0, 0.0, 0.0),
    "A@": (1.0, 0.0, 0.0), "A": (1.0, 0.0, 0.0), "aI": (0.9, 0.3, 0.0), "aI@": (0.9, 0.3, 0.0),
    "aU": (0.9, 0.0, 0.4), "aU@": (0.9, 0.0, 0.4), "V": (0.7, 0.1, 0.0), "0": (0.8, 0.0, 0.4),
    "O": (0.7, 0.0, 0.6), "O:": (0.7, 0.0, 0.7), "O@": (0.6, 0.0, 0.6), "OI": (0.6, 0.2, 0.5),
    "o@": (0.6, 0.0, 0.7), "oU": (0.5, 0.0, 0.8), "@": (0.4, 0.1, 0.0), "@-": (0.3, 0.1, 0.0),
    "@2": (0.35, 0.1, 0.0), "@5": (0.3, 0.0, 0.3), "@L": (0.35, 0.1, 0.0), "3": (0.45, 0.1, 0.2),
    "3:": (0.45, 0.1, 0.2), "@@": (0.45, 0.1, 0.2), "E": (0.6, 0.5, 0.0), "E2": (0.6, 0.5, 0.0),
    "e@": (0.6, 0.4, 0.0), "eI": (0.5, 0.6, 0.0), "I": (0.3, 0.6, 0.0), "I2": (0.3, 0.5, 0.0),
    "I#": (0.3, 0.5, 0.0), "i": (0.25, 0.8, 0.0), "i:": (0.2, 1.0, 0.0), "i@": (0.3, 0.7, 0.0),
    "i@3": (0.3, 0.7, 0.0), "u:": (0.2, 0.0, 1.0), "U": (0.3, 0.0, 0.6), "U@": (0.3, 0.0, 0.6),
    "u@": (0.3, 0.0, 0.7), "e": (0.6, 0.5, 0.0), "o": (0.5, 0.0, 0.8), "u": (0.2, 0.0, 1.0),
}
_CONS = {
    "p": (0.0, 0.0, 0.0), "b": (0.0, 0.0, 0.0), "m": (0.0, 0.0, 0.0),
    "f": (0.1, 0.2, 0.0), "v": (0.1, 0.2, 0.0), "T": (0.15, 0.2, 0.0), "D": (0.15, 0.2, 0.0),
    "s": (0.1, 0.4, 0.0), "z": (0.1, 0.4, 0.0), "S": (0.15, 0.0, 0.5), "Z": (0.15, 0.0, 0.5),
    "tS": (0.15, 0.0, 0.4), "dZ": (0.15, 0.0, 0.4), "t": (0.2, 0.2, 0.0), "d": (0.2, 0.2, 0.0),
    "n": (0.2, 0.2, 0.0), "l": (0.25, 0.2, 0.0), "r": (0.2, 0.0, 0.3), "w": (0.1, 0.0, 1.0),
    "j": (0.15, 0.5, 0.0), "k": (0.25, 0.1, 0.0), "g": (0.25, 0.1, 0.0), "N": (0.25, 0.1, 0.0),
    "h": (0.4, 0.1, 0.0), "x": (0.25, 0.0, 0.0), "?": (0.2, 0.0, 0.0),
}
# Flite / CMU phones -> the espeak-ng symbol with the same mouth shape
_CMU = {
    "aa": "A:", "ae": "a", "ah": "V", "ao": "O:", "aw": "aU", "ax": "@", "axr": "3", "ay": "aI",
    "eh": "E", "er": "3:", "ey": "eI", "ih": "I", "iy": "i:", "ow": "oU", "oy": "OI", "uh": "U",
    "uw": "u:", "p": "p", "b": "b", "m": "m", "f": "f", "v": "v", "th": "T", "dh": "D", "s": "s",
    "z": "z", "sh": "S", "zh": "Z", "ch": "tS", "jh": "dZ", "t": "t", "d": "d", "n": "n", "l": "l",
    "r": "r", "w": "w", "y": "j", "k": "k", "g": "g", "ng": "N", "hh": "h", "dx": "t",
}
PBM = {"p", "b", "m"}
#: the target of "ah" in phone sets that write every schwa as "ah" (between "ah" and the schwa)
SCHWA_AH = (0.55, 0.1, 0.0, "vowel")

# ------------------------------------------------------------------ visemes (issue 21's table)
#: CMU phone -> Oculus viseme (short name), or two for a diphthong (its halves); None: not
#: scored (hh, the schwa).
CMU_VISEME = {
    "p": "PP", "b": "PP", "m": "PP", "f": "FF", "v": "FF", "th": "TH", "dh": "TH", "t": "DD", "d": "DD",
    "dx": "DD", "k": "kk", "g": "kk", "ng": "kk", "ch": "CH", "jh": "CH", "sh": "CH", "zh": "CH", "s": "SS",
    "z": "SS", "n": "nn", "l": "nn", "r": "RR", "er": "RR", "axr": "RR", "aa": "aa", "ae": "aa", "ah": "aa",
    "eh": "E", "ih": "I", "iy": "I", "y": "I", "ao": "O", "uh": "U", "uw": "U", "w": "U",
    "ay": ("aa", "I"), "aw": ("aa", "U"), "ey": ("E", "I"), "ow": ("O", "U"), "oy": ("O", "I"),
    "hh": None, "ax": None,
}
#: espeak-ng mnemonics -> the CMU phone with the same viseme (None: not scored)
_ESPEAK_CMU = {
    "a": "ae", "aa": "ae", "A:": "aa", "A@": "aa", "A": "aa", "V": "ah", "0": "ao", "aI": "ay", "aI@": "ay",
    "aI3": "ay", "aU": "aw", "aU@": "aw", "O": "ao", "O:": "ao", "O@": "ao", "o@": "ao", "OI": "oy",
    "oU": "ow", "o": "ow", "E": "eh", "E2": "eh", "e": "eh", "e@": "eh", "eI": "ey", "I": "ih", "I2": "ih",
    "I#": "ih", "i": "iy", "i:": "iy", "i@": "ih", "i@3": "ih", "u:": "uw", "u": "uw", "U": "uh", "U@": "uh",
    "u@": "uw", "3": "er", "3:": "er", "@@": "er", "@L": "l", "@": "ax", "@-": "ax", "@2": "ax", "@5": "ax",
    "a#": "ax", "p": "p", "b": "b", "m": "m", "f": "f", "v": "v", "T": "th", "D": "dh", "s": "s", "z": "z",
    "S": "sh", "Z": "zh", "tS": "ch", "dZ": "jh", "t": "t", "d": "d", "n": "n", "l": "l", "r": "r", "w": "w",
    "j": "y", "k": "k", "g": "g", "N": "ng", "h": "hh", "x": "k", "?": None,
}


def phone_viseme(ph: str, cmu: bool = False, schwa_ah: bool = False):
    """A phone's viseme: a short name, a (first half, second half) pair, None (not scored),
    "sil" (a pause), or "" (a marker that continues the previous phone). ``schwa_ah``: the
    phone set writes every schwa as ``ah`` (forced-aligned recordings), so ``ah`` is not scored."""
    if cmu:
        if ph in ("pau", "h#", "brth", "sil") or ph.startswith("_"):
            return "sil"
        if schwa_ah and ph == "ah":
            return None
        return CMU_VISEME.get(ph)
    if ph.startswith("_"):
        return "sil"
    base = ph.rstrip(";'/,!-#") or ph
    for sym in (ph, base, ph[:2], ph[:1]):
        if sym in _ESPEAK_CMU:
            c = _ESPEAK_CMU[sym]
            return None if c is None else CMU_VISEME.get(c)
    if phone_target(ph) is None:
        return ""
    return None


def phone_target(ph: str, cmu: bool = False):
    """(openness, width, rounding, kind): kind 'pause', 'pbm', 'vowel', 'cons'; None = marker."""
    if cmu:
        if ph in ("pau", "h#", "brth", "sil"):
            return (0.0, 0.0, 0.0, "pause")
        ph = _CMU.get(ph, ph)
    if ph.startswith("_"):
        return (0.0, 0.0, 0.0, "pause")
    base = ph.rstrip(";'/,!-#") or ph
    for sym in (ph, base):
        if sym in _ESPEAK_V:
            return (*_ESPEAK_V[sym], "vowel")
    for sym in (ph, base, ph[:2], ph[:1]):
        if sym in _CONS:
            return (*_CONS[sym], "pbm" if sym in PBM else "cons")
    if ph[:1] in "aAeEiIoOuUV03@":
        return (0.5, 0.2, 0.2, "vowel")
    return None  # stress / length markers continue the previous phoneme


def targets(events, n_frames: int, cmu: bool = False, schwa_ah: bool = False):
    """Timed phones -> dict: ``tgt`` (n, 3) openness/width/rounding, ``kind`` (n,) str,
    ``segs`` list of (start frame, end frame, kind, openness), ``vis`` (n,) int: each
    frame's viseme (index into ``VISEMES``; -1 not scored; pauses are ``sil``) and
    ``phone`` (n,) str: each frame's phone (CMU symbols where known)."""
    from face3d.analysis.visemes15 import VISEME_INDEX

    tgt = np.zeros((n_frames, 3))
    kind = np.full(n_frames, "pause", dtype=object)
    vis = np.zeros(n_frames, np.int64)  # sil before the first phone and after the last
    phone = np.full(n_frames, "pau", dtype=object)
    items = [(t, v, ph) for t, ph in events if (v := phone_target(ph, cmu)) is not None]
    if schwa_ah:  # "ah" is also every schwa here: between the two
        items = [(t, SCHWA_AH if ph == "ah" else v, ph) for t, v, ph in items]
    segs = []
    for i, (t, v, ph) in enumerate(items):
        t1 = items[i + 1][0] if i + 1 < len(items) else n_frames / FPS
        a, b = (max(0, min(int(round(s * FPS)), n_frames)) for s in (t, t1))
        if b <= a:
            continue
        tgt[a:b] = v[:3]
        kind[a:b] = v[3]
        segs.append((a, b, v[3], v[0]))
        vz = phone_viseme(ph, cmu, schwa_ah)
        phone[a:b] = ph if cmu else (_ESPEAK_CMU.get(ph.rstrip(";'/,!-#") or ph) or ph)
        if vz is None or vz == "":
            vis[a:b] = -1
        elif isinstance(vz, tuple):
            h = (a + b) // 2
            vis[a:h], vis[h:b] = VISEME_INDEX[vz[0]], VISEME_INDEX[vz[1]]
        else:
            vis[a:b] = VISEME_INDEX[vz]
    # leading / trailing silence before the first and after the last phone
    return dict(tgt=tgt, kind=kind, segs=_merge_pauses(segs, kind), vis=vis, phone=phone)


def _merge_pauses(segs, kind):
    """Pause runs as whole segments (adjacent pause phones and edge silence merged)."""
    out = [s for s in segs if s[2] != "pause"]
    p = np.concatenate([[0], (kind == "pause").astype(int), [0]])
    idx = np.flatnonzero(np.diff(p))
    out += [(int(s), int(e), "pause", 0.0) for s, e in zip(idx[::2], idx[1::2])]
    return sorted(out)


# ------------------------------------------------------------------ synthesis

def synthesize(voice: str, text: str, *, speed: int = 170, pitch: int = 50, allow_reserved: bool = False):
    """-> (float32 samples, rate, events, cmu) for a voice name ``espeak:...`` / ``flite:...``."""
    if voice in RESERVED and not allow_reserved:
        raise ValueError(f"{voice} is reserved for independent checks")
    engine, name = voice.split(":", 1)
    if engine == "espeak":
        from _espeak import synthesize as es

        x, rate, ev = es(text, speed=speed, voice=name, pitch=pitch)
        return x.astype(np.float32) / 32768.0, rate, _espeak_closures(x, rate, ev), False
    if engine == "flite":
        from _flite import synthesize as fl

        x, rate, ev = fl(text, voice=name)
        return x.astype(np.float32) / 32768.0, rate, ev, True
    raise ValueError(f"unknown voice {voice!r}")


_VOICELESS_STOPS = ("p", "t", "k", "tS")


def _espeak_closures(x, rate, events, longest_s=0.15):
    """espeak-ng reports a voiceless stop (p, t, k, ch) at its burst and writes the silent
    closure before it into the previous phone; move the stop's start back over that
    digital silence so the closure counts as the stop's (as Flite's timings have it)."""
    out = []
    for t, ph in events:
        if ph.rstrip(";'/,!-#") in _VOICELESS_STOPS:
            i = min(int(round(t * rate)), len(x))
            lo = max(0, i - int(longest_s * rate))
            quiet = np.abs(x[lo:i].astype(np.int32)) <= 1
            loud = np.flatnonzero(~quiet)
            start = lo + (loud[-1] + 1 if loud.size else 0)
            prev = out[-1][0] if out else 0.0
            t = max(float(start) / rate, prev)
        out.append((t, ph))
    return out


def n_frames(n_samples: int, rate: int) -> int:
    return int(np.floor(n_samples / rate * FPS - 1e-9)) + 1
