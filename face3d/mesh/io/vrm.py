"""VRM 0.x (``VRM``) and VRM 1.0 (``VRMC_vrm``): expressions, humanoid bones and facing.

A ``.vrm`` file is a GLB; :mod:`face3d.mesh.io.gltf` reads its geometry and hands the parsed
JSON here. Every expression preset is named as in VRM 1.0 (VRM 0.x groups are migrated:
A -> aa, Joy -> happy, Fun -> relaxed, Sorrow -> sad, Blink_L -> blinkLeft ...) and baked as
the weighted sum of its morph-target binds (VRM 0.x weights 0-100, VRM 1.0 0-1). VRM 0.x
binds name a mesh, VRM 1.0 binds a node (its mesh). Binds of other kinds (material colours,
texture transforms) are not drawn; an expression with no morph binds is left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: VRM 1.0 preset names, the order a rig keeps them in
PRESETS = ("aa", "ih", "ou", "ee", "oh", "blink", "blinkLeft", "blinkRight", "lookUp", "lookDown",
           "lookLeft", "lookRight", "happy", "angry", "sad", "relaxed", "surprised")

#: VRM 0.x presetName -> VRM 1.0 preset (as three-vrm migrates them)
PRESETS_0X = {"a": "aa", "i": "ih", "u": "ou", "e": "ee", "o": "oh", "blink": "blink",
              "blink_l": "blinkLeft", "blink_r": "blinkRight", "lookup": "lookUp", "lookdown": "lookDown",
              "lookleft": "lookLeft", "lookright": "lookRight", "joy": "happy", "angry": "angry",
              "sorrow": "sad", "fun": "relaxed", "surprised": "surprised"}


@dataclass
class Expression:
    name: str                 # VRM 1.0 preset name
    label: str                # the file's own name (VRM 0.x group name, or the preset)
    binds: list = field(default_factory=list)   # [(mesh index, target index, weight 0..1)]


@dataclass
class VrmInfo:
    version: str              # "0" or "1"
    expressions: list
    bones: dict               # humanoid bone name -> node index
    forward: str              # the way the model faces by the spec: "-z" (0.x) or "+z" (1.0)
    look: dict = field(default_factory=dict)  # lookAt type and range maps (see look_at)


def read_vrm(g) -> VrmInfo | None:
    """The VRM extension of a parsed glTF (pygltflib ``GLTF2``), or None when it has none."""
    ext = g.extensions if isinstance(g.extensions, dict) else {}
    if isinstance(ext.get("VRMC_vrm"), dict):
        return _read_1(g, ext["VRMC_vrm"])
    if isinstance(ext.get("VRM"), dict):
        return _read_0(ext["VRM"])
    return None


def _num(x, default=0.0) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return default
    return v if np.isfinite(v) else default


def _read_1(g, vrm: dict) -> VrmInfo:
    bones = {}
    for bone, spec in ((vrm.get("humanoid") or {}).get("humanBones") or {}).items():
        if isinstance(spec, dict) and isinstance(spec.get("node"), int):
            bones[bone] = spec["node"]
    exprs = []
    presets = (vrm.get("expressions") or {}).get("preset") or {}
    for name in PRESETS:
        spec = presets.get(name)
        if not isinstance(spec, dict):
            continue
        binds = []
        for b in spec.get("morphTargetBinds") or []:
            node, index = b.get("node"), b.get("index")
            if not isinstance(node, int) or not isinstance(index, int) or not 0 <= node < len(g.nodes or []):
                continue
            mesh = g.nodes[node].mesh
            if mesh is not None:
                binds.append((int(mesh), index, _num(b.get("weight"), 1.0)))
        exprs.append(Expression(name, name, binds))
    look = vrm.get("lookAt") if isinstance(vrm.get("lookAt"), dict) else {}

    def rng(key):
        m = look.get(key) if isinstance(look.get(key), dict) else {}
        return (_num(m.get("inputMaxValue"), 90.0), _num(m.get("outputScale"), 1.0))
    return VrmInfo("1", exprs, bones, "+z", look_at(str(look.get("type", "")), rng("rangeMapHorizontalOuter"),
                                                       rng("rangeMapVerticalDown"), rng("rangeMapVerticalUp")))


def look_at(kind: str, horizontal, down, up) -> dict:
    """{"type": "expression" | "bone", "horizontal" / "down" / "up": (input max degrees,
    output scale)}: how far the eyes look for an expression weight (VRM's range maps)."""
    return {"type": "expression" if kind.lower() in ("expression", "blendshape") else "bone",
            "horizontal": horizontal, "down": down, "up": up}


def _read_0(vrm: dict) -> VrmInfo:
    bones = {}
    for spec in (vrm.get("humanoid") or {}).get("humanBones") or []:
        if isinstance(spec, dict) and isinstance(spec.get("node"), int) and isinstance(spec.get("bone"), str):
            bones[spec["bone"]] = spec["node"]
    exprs: dict = {}
    for group in (vrm.get("blendShapeMaster") or {}).get("blendShapeGroups") or []:
        if not isinstance(group, dict):
            continue
        name = PRESETS_0X.get(str(group.get("presetName") or "").lower())
        if name is None or name in exprs:
            continue
        binds = []
        for b in group.get("binds") or []:
            mesh, index = b.get("mesh"), b.get("index")
            if isinstance(mesh, int) and isinstance(index, int):
                binds.append((mesh, index, _num(b.get("weight"), 100.0) / 100.0))
        exprs[name] = Expression(name, str(group.get("name") or name), binds)
    fp = vrm.get("firstPerson") if isinstance(vrm.get("firstPerson"), dict) else {}

    def rng(key):
        m = fp.get(key) if isinstance(fp.get(key), dict) else {}
        return (_num(m.get("xRange"), 90.0), _num(m.get("yRange"), 1.0))
    return VrmInfo("0", [exprs[n] for n in PRESETS if n in exprs], bones, "-z",
                   look_at(str(fp.get("lookAtTypeName", "")), rng("lookAtHorizontalOuter"),
                           rng("lookAtVerticalDown"), rng("lookAtVerticalUp")))


def expression_deltas(info: VrmInfo, parts: list) -> tuple[dict, dict]:
    """Bake each expression over the flattened mesh.

    ``parts``: per drawn primitive, ``(mesh index, vertex count, target names by index,
    {target name: (n, 3) deltas})`` in the order the vertices were concatenated. Returns
    ``({preset: (V, 3)}, {preset: label})``; the label reads ``A: ah`` (the file's name, then
    the bound targets, with their weights when not 1)."""
    out, labels = {}, {}
    total = sum(p[1] for p in parts)
    for ex in info.expressions:
        delta = np.zeros((total, 3))
        used = []
        off = 0
        for mesh, n, tnames, deltas in parts:
            for m, index, w in ex.binds:
                if m != mesh or index >= len(tnames) or tnames[index] not in deltas or w == 0:
                    continue
                delta[off: off + n] += w * deltas[tnames[index]]
                short = str(tnames[index]).split(".")[-1] or str(tnames[index])
                tag = short if abs(w - 1.0) < 1e-6 else f"{short}*{w:g}"
                if tag not in used:
                    used.append(tag)
            off += n
        if used and np.abs(delta).max() > 0:
            out[ex.name] = delta
            labels[ex.name] = f"{ex.label}: {' + '.join(used)}"
    return out, labels
