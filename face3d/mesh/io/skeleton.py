"""What a glTF skeleton says about a character: where its head is, which way it faces, and
its jaw joint.

The head is the VRM humanoid ``head`` bone, else a joint named like ``Head``,
``mixamorig:Head``, ``CC_Base_Head``, ``J_Bip_C_Head``. Up is +Y (glTF). The facing is the
VRM spec's (0.x -Z, 1.0 +Z), else the way the eyes sit in front of the head joint, else the
way the toes point from the feet, else the side the left hand is on. Every position is the
rest pose the vertices are drawn in (the nodes' own transforms), in file coordinates.
"""

from __future__ import annotations

import re

import numpy as np

_JAW = re.compile(r"(^|[^a-z])(jaw|jawroot|jaw_?bone|lowerjaw|jaw_?m|jaw_?c)$")


def _key(name) -> str:
    n = str(name or "").lower().split(":")[-1].split("|")[-1]
    return re.sub(r"[\s.\-]+", "_", n)


def _is_head(name) -> bool:
    k = _key(name)
    return k.endswith("head") and not k.endswith(("forehead", "overhead"))


def _is_jaw(name) -> bool:
    k = _key(name)
    return bool(_JAW.search(k)) or k in ("jaw", "cc_base_jawroot", "jawroot") or k.endswith("_jawroot")


def _side(name) -> str | None:
    """'l' or 'r' for names like LeftEye, Eye_L, eye.L, L_Eye, J_Adj_L_FaceEye, 'Left wrist'."""
    k = _key(name)
    if k.startswith("left") or "_left" in k or k.endswith("_l") or k.startswith("l_") or "_l_" in k:
        return "l"
    if k.startswith("right") or "_right" in k or k.endswith("_r") or k.startswith("r_") or "_r_" in k:
        return "r"
    return None


def _find(names: dict, word: str, side: str) -> int | None:
    for i, n in names.items():
        k = re.sub(r"_", "", _key(n))
        if word in k and _side(n) == side and "end" not in k[k.index(word):]:
            return i
    return None


def skeleton_hints(g, world: dict, vrm=None) -> dict:
    """{"head", "up", "forward", "jaw", "jaw_name", "jaw_pivot", "eyes", "eye_joints"}: head
    and eyes as (3,) positions, up and forward as unit vectors (file axes), the jaw joint's
    node index, the eye joints (node -> position); absent keys are unknown. ``world``: node index -> 4x4 world matrix of the rest pose."""
    joints = sorted({j for s in (g.skins or []) for j in (s.joints or [])})
    names = {i: g.nodes[i].name for i in (joints or range(len(g.nodes or []))) if i in world}
    bones = dict(vrm.bones) if vrm is not None else {}
    pos = {i: world[i][:3, 3].astype(np.float64) for i in world}
    out: dict = {}
    head = bones.get("head")
    if head is None or head not in pos:
        cands = [i for i, n in names.items() if _is_head(n)]
        head = cands[0] if cands else None
    if head is None or head not in pos:
        return out
    out["head"] = pos[head]
    out["up"] = np.array([0.0, 1.0, 0.0])
    jaw = bones.get("jaw")
    if jaw is None:
        cands = [i for i, n in names.items() if _is_jaw(n)]
        jaw = cands[0] if cands else None
    if jaw is not None and jaw in pos:
        out["jaw"], out["jaw_name"] = int(jaw), str(g.nodes[jaw].name or f"node {jaw}")
        out["jaw_pivot"] = pos[jaw]
    le, re_ = bones.get("leftEye", _find(names, "eye", "l")), bones.get("rightEye", _find(names, "eye", "r"))
    eyes = {int(n): pos[n] for n in (le, re_) if n is not None and n in pos}
    if eyes:
        out["eye_joints"] = eyes  # node -> where the eyeball turns about
    if vrm is not None:
        out["forward"] = np.array([0.0, 0.0, -1.0 if vrm.forward == "-z" else 1.0])
        return out
    up = out["up"]

    def horiz(v):
        v = np.asarray(v, np.float64) - np.dot(v, up) * up
        n = np.linalg.norm(v)
        return v / n if n > 1e-9 else None

    if le in pos and re_ in pos:
        mid = (pos[le] + pos[re_]) / 2
        out["eyes"] = mid
        f = horiz(mid - out["head"])
        if f is not None and np.linalg.norm(np.cross(pos[le] - pos[re_], up)) > 0:
            # the eyes' own left-right agrees: forward = right-to-left x up
            f2 = horiz(np.cross(pos[le] - pos[re_], up))
            out["forward"] = f2 if f2 is not None and np.dot(f2, f) > 0 else f
            return out
    for foot_w, toe_w in (("foot", "toe"), ("ankle", "toe")):
        for s in ("l", "r"):
            a, b = _find(names, foot_w, s), _find(names, toe_w, s)
            if a in pos and b in pos:
                f = horiz(pos[b] - pos[a])
                if f is not None:
                    out["forward"] = f
                    return out
    for word in ("hand", "wrist"):
        a, b = _find(names, word, "l"), _find(names, word, "r")
        if a in pos and b in pos:
            f = horiz(np.cross(pos[a] - pos[b], up))
            if f is not None:
                out["forward"] = f
                return out
    return out


def jaw_nodes(g, jaw) -> set:
    """The jaw joint's node and every node below it (teeth, tongue): what turns with it."""
    if jaw is None:
        return set()
    out, stack = set(), [jaw]
    while stack:
        i = stack.pop()
        if i in out or not 0 <= i < len(g.nodes or []):
            continue
        out.add(i)
        stack += list(g.nodes[i].children or [])
    return out
