"""Map a file's blendshape names onto face3d's shapes: the four mouth shapes and the
blink and brow shapes the alive curves drive (:data:`~face3d.mesh.rig.FACE_SHAPES`).

Built-in recipes cover ARKit (jawOpen, mouthClose, mouthPucker, mouthFunnel,
mouthStretch_L/R or mouthStretchLeft/Right, mouthSmile_*), Oculus/Meta visemes
(viseme_aa, viseme_PP, viseme_E, viseme_I, viseme_O, viseme_U), VRM 1.0 (aa, ih, ou, ee,
oh), VRM 0.x (A, I, U, E, O), VRoid (Fcl_MTH_A ...) and Adobe Fuse / VALID (AE_AA_h with
its teeth twin t_AE_AA_h, UW_U_h, LeyeClose_h ...); for the eyes and brows ARKit
(eyeBlinkLeft, browInnerUp, browOuterUpLeft ...), ICT FaceKit and other _L/_R spellings
(eyeBlink_L, browInnerUp_L + browInnerUp_R), Oculus/Meta face expressions (Eyes_Closed_L,
Inner_Brow_Raiser_L, Outer_Brow_Raiser_L), VRM (blinkLeft, Blink_L; a single both-eyes
``blink`` drives each eye at half) and VRoid (Fcl_EYE_Close_L, Fcl_BRW_Surprised). Left is
the head's own left, as in ARKit. A head without such shapes gets no blinks or brow raises
(nothing is synthesised for them). Names are compared without case,
without separators and without a leading ``something.`` (Maya's ``blendShape1.jawOpen``).

A ``--map`` JSON overrides the recipes, per face3d shape::

    {"jawOpen": "JawDrop",                               # one source shape
     "mouthWide": ["Smile_L", "Smile_R"],                 # the sum of several
     "mouthPucker": {"viseme_U": 0.7, "viseme_O": 0.3},   # a weighted sum
     "mouthClose": null,                                  # synthesise it instead
     "eyeBlinkLeft": "Blink_L"}                           # blinks and brows too (null: none)
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from face3d.fileio import read_json
from face3d.errors import FormatError
from face3d.mesh.rig.rig import FACE_SHAPES, SHAPES

#: face3d shape -> recipes, best first; each recipe is a list of normalised source names
#: whose deltas are summed.
RECIPES = {
    "jawOpen": [["jawopen"], ["mouthopen"], ["aa"], ["a"], ["jawdrop"],
                ["aeaah", "taeaah"], ["aeaah"]],  # Adobe Fuse / VALID: the face and its teeth twin
    "mouthWide": [
        ["mouthstretchl", "mouthstretchr"],
        ["mouthstretchleft", "mouthstretchright"],
        ["mouthsmilel", "mouthsmiler"],
        ["mouthsmileleft", "mouthsmileright"],
        # VRM 1.0's ih spreads the lips more than its ee (which opens the jaw); Oculus / VRM 0.x
        # morphs named E and I keep E first
        ["mouthwide"], ["mouthstretch"], ["mouthsmile"], ["ih"], ["ee"], ["e"], ["i"],
        ["tdih", "ttdih"], ["tdih"],  # Adobe Fuse / VALID: the I viseme spreads the lips
    ],
    "mouthPucker": [["mouthpucker"], ["mouthfunnel"], ["ou"], ["u"], ["oh"], ["o"],
                    ["uwuh", "tuwuh"], ["uwuh"], ["kissh"]],
    "mouthClose": [
        ["mouthclose"], ["pp"],
        ["mouthpressl", "mouthpressr"], ["mouthpressleft", "mouthpressright"],
    ],
    # the shapes the alive curves drive; (name, weight) scales one source
    "eyeBlinkLeft": [["eyeblinkleft"], ["eyeblinkl"], ["blinkleft"], ["blinkl"], ["eyesclosedl"],
                     ["eyeclosedl"], ["fcleyeclosel"], ["fcleyecloseleft"], ["leyecloseh"], [("blink", 0.5)],
                     [("eyesclosed", 0.5)], [("fcleyeclose", 0.5)]],
    "eyeBlinkRight": [["eyeblinkright"], ["eyeblinkr"], ["blinkright"], ["blinkr"], ["eyesclosedr"],
                      ["eyeclosedr"], ["fcleyecloser"], ["fcleyecloseright"], ["reyecloseh"], [("blink", 0.5)],
                      [("eyesclosed", 0.5)], [("fcleyeclose", 0.5)]],
    "browInnerUp": [["browinnerup"], ["browinnerupl", "browinnerupr"], ["browinnerupleft", "browinnerupright"],
                    ["innerbrowraiserl", "innerbrowraiserr"], ["browsinnerup"], ["fclbrwsurprised"],
                    ["lbrowuph", "rbrowuph"]],
    "browOuterUpLeft": [["browouterupleft"], ["browouterupl"], ["outerbrowraiserl"], ["llbrowuph"]],
    "browOuterUpRight": [["browouterupright"], ["browouterupr"], ["outerbrowraiserr"], ["rrbrowuph"]],
}

#: every shape a loaded head can keep, in the order the rig stores them
ALL_SHAPES = SHAPES + FACE_SHAPES

_PREFIXES = ("fclmth", "viseme", "vrcv", "mth", "v")


def name_has_word(name, words) -> bool:
    """Whether a material / object name contains one of ``words`` (lower-case letters),
    ignoring case, digits and punctuation: 'M_EyeLashes' has 'lash'."""
    key = re.sub(r"[^a-z]", "", str(name).lower())
    return any(w in key for w in words)


def normalise_name(name: str) -> str:
    """'blendShape1.mouthStretch_L' -> 'mouthstretchl'; 'viseme_aa' -> 'aa'; 'Fcl_MTH_A' -> 'a'."""
    n = str(name).split(".")[-1] if "." in str(name) and not str(name).startswith("vrc.") else str(name)
    n = re.sub(r"[^0-9a-z]", "", n.lower())
    for p in _PREFIXES:
        if n.startswith(p) and len(n) > len(p) and (p != "v" or str(name).lower().startswith(("v_", "vrc.v_"))):
            n = n[len(p):]
            break
    return n


def is_shape_name(name: str) -> bool:
    """True for a name the recipes know (``jawOpen``, ``viseme_aa``, ``mouthSmile_L`` ...)."""
    n = normalise_name(name)
    return any(n == _source(r)[0] for recipes in RECIPES.values() for recipe in recipes for r in recipe)


def _source(item) -> tuple[str, float]:
    """A recipe item: a normalised name, or (name, weight)."""
    return (item, 1.0) if isinstance(item, str) else (item[0], float(item[1]))


def read_mapping(mapping, source=None) -> dict | None:
    """A --map value (dict, or a JSON file path) -> {face3d shape: {source name: weight} | None}."""
    if mapping is None:
        return None
    where = "--map"
    if not isinstance(mapping, dict):
        p = Path(mapping)
        where = f"shape map {p}"
        mapping = read_json(p, "shape map", "--map")
    if not isinstance(mapping, dict):
        raise FormatError(f"{where} must be a JSON object like {{\"jawOpen\": \"JawDrop\"}}")
    out = {}
    for key, value in mapping.items():
        if key not in ALL_SHAPES:
            raise FormatError(f"{where}: '{key}' is not a face3d shape; use {', '.join(ALL_SHAPES)}")
        if value is None or value == "" or value == []:
            out[key] = None
        elif isinstance(value, str):
            out[key] = {value: 1.0}
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            out[key] = {v: 1.0 for v in value}
        elif isinstance(value, dict) and all(isinstance(w, (int, float)) for w in value.values()):
            out[key] = {str(k): float(w) for k, w in value.items()}
        else:
            raise FormatError(
                f"{where}: the value for '{key}' must be a shape name, a list of names, "
                "a {name: weight} object, or null"
            )
    return out


def map_shapes(deltas: dict, mapping=None, source=None, labels=None, keep=()) -> tuple[dict, dict]:
    """deltas: {file shape name: (V, 3)} -> ({face3d shape: (V, 3)}, report for rig.info).

    ``labels``: how the report names a source shape (a VRM expression: ``A: ah``);
    ``keep``: source shapes the rig keeps under their own names as well (a VRM's
    expressions, by their VRM 1.0 preset names), listed in the report's ``expressions``."""
    labels = labels or {}
    names = list(deltas)
    by_norm: dict[str, str] = {}
    for n in names:
        by_norm.setdefault(normalise_name(n), n)
    user = read_mapping(mapping, source)
    shapes: dict = {}
    found: dict = {}
    found_src: set = set()
    skip = set()
    for shape in ALL_SHAPES:
        if user is not None and shape in user:
            spec = user[shape]
            if spec is None:
                skip.add(shape)
                continue
            missing = [n for n in spec if n not in deltas]
            if missing:
                avail = ", ".join(names[:20]) + (" ..." if len(names) > 20 else "") if names else "(none)"
                where = f"{source}" if source else "the head"
                raise FormatError(
                    f"--map: {where} has no blendshape {', '.join(repr(m) for m in missing)} (for {shape}); "
                    f"it has: {avail}"
                )
            shapes[shape] = sum(w * np.asarray(deltas[n], np.float32) for n, w in spec.items())
            found[shape] = [n if w == 1.0 else f"{n}*{w:g}" for n, w in spec.items()]
            continue
        for recipe in RECIPES[shape]:
            items = [_source(r) for r in recipe]
            if all(r in by_norm for r, _ in items):
                shapes[shape] = sum(w * np.asarray(deltas[by_norm[r]], np.float32) for r, w in items)
                found[shape] = [labels.get(by_norm[r], by_norm[r]) if w == 1.0 else f"{by_norm[r]}*{w:g}"
                                for r, w in items]
                used_names = [by_norm[r] for r, _ in items]
                found_src.update(used_names)
                break
    for name in keep:
        if name in deltas and name not in shapes:
            shapes[name] = np.asarray(deltas[name], np.float32)
    used = {s for v in found.values() for s in (x.split("*")[0] for x in v)} | found_src | set(keep)
    report = {"file_shapes": names, "found": found, "unused_shapes": [n for n in names if n not in used]}
    if keep:
        report["expressions"] = [n for n in keep if n in deltas]
        report["expression_binds"] = {n: labels[n] for n in keep if n in labels}
    if skip & set(SHAPES):
        report["map_synthesise"] = sorted(skip & set(SHAPES))
    return shapes, report
