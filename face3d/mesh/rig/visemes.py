"""The fifteen Oculus visemes on a head: which of its shapes each one drives.

A track with the fifteen ``viseme_*`` columns (``face3d.analyze(..., visemes=True)``)
reaches a head through shapes named ``viseme_sil`` ... ``viseme_U`` on its :class:`Rig`.
How those shapes are made depends on what the head carries (``rig.info["visemes"]``):

* ``oculus``: the head's own ``viseme_*`` morph targets (Ready Player Me, OVRLipSync),
  each taken as it is. Its mouth is then the visemes' alone: while a track has viseme
  columns, the four mouth curves (``jawOpen`` ... ``mouthClose``) are not applied to it
  (they would open the jaw a second time on top of ``viseme_aa``).
* ``arkit``: each viseme is a weighted sum of the ARKit mouth shapes it calls for
  (:data:`ARKIT_FROM_VISEMES`), added on top of the four curves (which keep driving
  ``jawOpen``, ``mouthClose``, ``mouthPucker`` and the stretch).
* ``vrm``: each viseme is a weighted sum of the five VRM vowels ``aa ih ou ee oh``
  (:data:`VRM_FROM_VISEMES`); the curves that the recipes put onto those vowels are not
  applied while visemes are present (the vowels come from the visemes instead), the
  others (a synthesised ``mouthClose``) stay.
* ``default``: face3d's own head, whose fifteen shapes are built with it (teeth, lip tuck,
  tongue); like ``oculus``, the visemes replace the four curves.

A track with no viseme column drives every head exactly as before. Explicit weights
(``face3d snapshot --weights``) are applied as given.
"""

from __future__ import annotations

import re

import numpy as np

#: The fifteen visemes, Oculus order (the same list as ``face3d.analysis.VISEME_NAMES``;
#: mesh may not import analysis, a test keeps the two equal).
VISEMES = ("sil", "PP", "FF", "TH", "DD", "kk", "CH", "SS", "nn", "RR", "aa", "E", "I", "O", "U")
VISEME_NAMES = tuple(f"viseme_{v}" for v in VISEMES)

#: The four mouth curves (``face3d.mesh.rig.SHAPES``).
MOUTH_CURVES = ("jawOpen", "mouthWide", "mouthPucker", "mouthClose")

#: ARKit shape <- {viseme: factor}. One table for the renderer (ARKit heads) and the ARKit
#: Live Link CSV export. The phonetics:
#:   mouthFunnel      the lips round into a funnel: "oh" (O), "oo" (U), sh/ch/j (CH), r (RR)
#:   mouthRollLower   f/v (FF): the lower lip rolls in under the upper teeth
#:   mouthShrugUpper  the upper lip lifts off the teeth: sh/ch (CH) and f/v (FF)
#:   mouthPress*      p/b/m (PP): the closed lips press together
#:   mouthSmile*      spread lips: "ee" (I), "eh" (E), s/z (SS)
#:   tongueOut        th/dh (TH): the tongue tip shows between the teeth
ARKIT_FROM_VISEMES = {
    "mouthFunnel": {"viseme_O": 0.6, "viseme_U": 0.5, "viseme_CH": 0.6, "viseme_RR": 0.3},
    "mouthRollLower": {"viseme_FF": 0.9},
    "mouthShrugUpper": {"viseme_CH": 0.4, "viseme_FF": 0.3},
    "mouthPressLeft": {"viseme_PP": 0.6},
    "mouthPressRight": {"viseme_PP": 0.6},
    "mouthSmileLeft": {"viseme_I": 0.4, "viseme_E": 0.3, "viseme_SS": 0.3},
    "mouthSmileRight": {"viseme_I": 0.4, "viseme_E": 0.3, "viseme_SS": 0.3},
    "tongueOut": {"viseme_TH": 0.5},
}

#: VRM vowel <- {viseme: factor}: a VRM head has only its five vowel mouths, so each
#: viseme becomes the vowel mouth nearest it. The phonetics:
#:   aa  the open jaw: "ah" (aa) wholly; the half-open consonants t/d (DD), k/g (kk),
#:       th (TH), n/l (nn) a little; "eh" (E) a little
#:   ih  the near-closed spread mouth: "ee"/"ih" (I); s/z (SS) and f/v (FF) with the teeth
#:       nearly together; t/d, k/g, th, n/l a little
#:   ou  rounded and pushed out: "oo" (U); sh/ch (CH) and r (RR) in part
#:   ee  the half-open spread mouth: "eh" (E)
#:   oh  rounded and open: "aw" (O); r (RR) a little
#: p/b/m (PP) and silence (sil) are the closed mouth: no vowel at all.
VRM_FROM_VISEMES = {
    "aa": {"viseme_aa": 1.0, "viseme_E": 0.2, "viseme_DD": 0.3, "viseme_kk": 0.35, "viseme_TH": 0.2,
           "viseme_nn": 0.25},
    "ih": {"viseme_I": 0.9, "viseme_SS": 0.5, "viseme_FF": 0.3, "viseme_DD": 0.2, "viseme_kk": 0.15,
           "viseme_TH": 0.2, "viseme_nn": 0.3, "viseme_CH": 0.2},
    "ou": {"viseme_U": 1.0, "viseme_CH": 0.6, "viseme_RR": 0.4},
    "ee": {"viseme_E": 0.8},
    "oh": {"viseme_O": 0.9, "viseme_RR": 0.2},
}

#: normalised spellings a head may give each ARKit / VRM shape (see :func:`_key`)
_ARKIT_SPELLINGS = {
    "mouthFunnel": ("mouthfunnel",),
    "mouthRollLower": ("mouthrolllower",),
    "mouthShrugUpper": ("mouthshrugupper",),
    "mouthPressLeft": ("mouthpressleft", "mouthpressl"),
    "mouthPressRight": ("mouthpressright", "mouthpressr"),
    "mouthSmileLeft": ("mouthsmileleft", "mouthsmilel"),
    "mouthSmileRight": ("mouthsmileright", "mouthsmiler"),
    "tongueOut": ("tongueout",),
}
_VRM_SPELLINGS = {   # VRM 1.0, VRM 0.x presets, VRoid's Fcl_MTH_*
    "aa": ("aa", "a", "fclmtha"), "ih": ("ih", "i", "fclmthi"), "ou": ("ou", "u", "fclmthu"),
    "ee": ("ee", "e", "fclmthe"), "oh": ("oh", "o", "fclmtho"),
}
#: a head needs this many of its own viseme_* targets to count as an Oculus head
_OCULUS_MIN = 8


def _key(name: str) -> str:
    """'blendShape1.viseme_FF' -> 'visemeff'; 'mouthPress_L' -> 'mouthpressl'."""
    n = str(name).split(".")[-1]
    return re.sub(r"[^0-9a-z]", "", n.lower())


def viseme_shapes(deltas: dict, found: dict | None = None, given: dict | None = None) -> tuple[dict, dict | None]:
    """{file shape: (V, 3) delta} -> ({viseme_X: (V, 3) delta}, the ``info["visemes"]`` note).

    ``found``: the name recipes' report (face3d curve -> the file shapes summed for it),
    to tell which curves a VRM head's vowels already carry. ``given``: the note of a folder
    written by ``face3d rig`` (its viseme shapes are taken as they are, with that note). Returns ({}, None) for a head
    with nothing to show visemes with.
    """
    by_key: dict[str, str] = {}
    for n in deltas:
        by_key.setdefault(_key(n), n)
    own = {v: by_key[_key(v)] for v in VISEME_NAMES if _key(v) in by_key}
    if own and isinstance(given, dict) and given.get("kind"):
        # a folder written by 'face3d rig': its viseme shapes are already made; its note
        # says what they replace
        shapes = {v: np.asarray(deltas[own[v]], np.float32) for v in own}
        return shapes, {"kind": str(given["kind"]), "sources": {v: [own[v]] for v in own},
                        "mutes": [c for c in given.get("mutes", []) if c in MOUTH_CURVES]}
    if len(own) >= _OCULUS_MIN:
        shapes = {v: np.asarray(deltas[own[v]], np.float32) for v in own}
        note = {"kind": "oculus", "sources": {v: [own[v]] for v in own}, "mutes": list(MOUTH_CURVES)}
        return shapes, note
    for kind, table, spellings in (("arkit", ARKIT_FROM_VISEMES, _ARKIT_SPELLINGS),
                                   ("vrm", VRM_FROM_VISEMES, _VRM_SPELLINGS)):
        have = {s: by_key[k] for s, keys in spellings.items() for k in keys[::-1] if k in by_key}
        if not have:
            continue
        shapes, sources = {}, {}
        for v in VISEME_NAMES:
            parts = [(have[s], f[v]) for s, f in table.items() if s in have and v in f]
            if parts:
                shapes[v] = sum(w * np.asarray(deltas[n], np.float32) for n, w in parts)
                sources[v] = [n if w == 1.0 else f"{n}*{w:g}" for n, w in parts]
        if not shapes:
            continue
        used = set(have.values())
        mutes = [] if kind == "arkit" else [
            c for c in MOUTH_CURVES
            if any(src.split("*")[0] in used for src in (found or {}).get(c, []))]
        return shapes, {"kind": kind, "sources": sources, "mutes": mutes}
    return {}, None


def has_visemes(names) -> bool:
    """Whether a track's columns carry visemes (any ``viseme_*`` column of the fifteen)."""
    return any(n in VISEME_NAMES for n in names)


def shape_columns(rig, names) -> list[tuple[int, int]]:
    """(track column, rig shape) pairs that drive ``rig`` from a track whose columns are
    ``names``: every column with a shape of the same name, except the mouth curves the
    head's visemes replace while the track has viseme columns (``info["visemes"]["mutes"]``)."""
    note = (rig.info or {}).get("visemes") or {}
    mutes = set(note.get("mutes", ())) if has_visemes(names) else set()
    return [(j, rig.names.index(n)) for j, n in enumerate(names) if n in rig.names and n not in mutes]


def muted_curves(rig, names) -> list[str]:
    """The mouth curves of ``names`` that :func:`shape_columns` leaves out on ``rig``."""
    note = (rig.info or {}).get("visemes") or {}
    if not has_visemes(names):
        return []
    return [n for n in names if n in note.get("mutes", ()) and n in rig.names]
