"""Auto-rig: synthesise jawOpen, mouthWide, mouthPucker and mouthClose for a head that
lacks them, on the normalised mesh (+Y up, +Z forward).

Three steps, each in its own module:

* :mod:`face3d.mesh.autorig.landmarks` finds the nose tip, lip line, mouth width, chin and jaw
  pivot (or takes them from a landmark JSON and the command line);
* :mod:`face3d.mesh.autorig.mouth` tells separate lips from fused ones and, when jawOpen is
  synthesised on fused lips, cuts the mouth open and closes it with a dark mouth bag;
* :mod:`face3d.mesh.autorig.synth` builds the four shapes from the landmarks.
"""

from __future__ import annotations

import numpy as np

from face3d.mesh.autorig.landmarks import detect_landmarks, resolve_landmarks
from face3d.mesh.autorig.mouth import RigMesh, darken_inside, lip_sides, open_fused_lips, shade_cavity
from face3d.mesh.autorig.synth import synthesise
from face3d.mesh.rig import FACE_SHAPES, SHAPES, Rig, build_rig
from face3d.mesh.rig.visemes import VISEME_NAMES
from face3d.mesh.rig.jaw import geometric_jaw_weights, inside_mouth, jaw_weights, mouth_cavity

__all__ = ["complete_rig", "detect_landmarks"]


def match_scale(mesh: RigMesh, synth: dict, marks: dict, missing: list) -> float:
    """How much larger the head's own shapes move the mouth than face3d's synthesised ones
    would (its own jawOpen if it has one, else its own mouth shapes), clipped to 0.6-1.6: the
    shapes synthesised for a head that brings some of its own are matched to their scale."""
    own = [s for s in SHAPES if s in mesh.shapes and s not in missing and s != "mouthClose"]
    if not own:
        return 1.0
    ref = ["jawOpen"] if "jawOpen" in own else own
    p = mesh.positions
    mw = marks["mouth_width"]
    near = np.linalg.norm(p - np.asarray(marks["mouth"]), axis=1) < 0.8 * mw
    if near.sum() < 10:
        return 1.0
    # face3d's own versions of the head's shapes (the jaw with its geometric weights)
    mine = synthesise(p, marks, jaw=geometric_jaw_weights(p, marks))
    ratios = []
    for s in ref:
        a = np.percentile(np.linalg.norm(np.asarray(mesh.shapes[s])[near], axis=1), 95)
        b = np.percentile(np.linalg.norm(mine[s][near], axis=1), 95)
        if a > 0 and b > 0:
            ratios.append(a / b)
    return float(np.clip(np.median(ratios), 0.6, 1.6)) if ratios else 1.0


def _shade_own_mouth(mesh: RigMesh, marks: dict, info: dict) -> RigMesh:
    """The inside of a mouth the head opens with its own jawOpen, shaded as a cavity."""
    inside, depth = mouth_cavity(mesh.positions, mesh.faces, marks)
    info["mouth_inside_vertices"] = int(inside.sum())
    return shade_cavity(mesh, inside, depth, marks["mouth_width"])


def complete_rig(positions, faces, raw, shapes: dict, info: dict, *, landmarks=None,
                 landmark_overrides=None, frame=None, colors=None, uvs=None, texture=None,
                 double_sided=True, gloss=None) -> Rig:
    """Fill in face3d's missing shapes (and open fused lips when jawOpen is synthesised)."""
    mesh = RigMesh(positions=np.asarray(positions, np.float64), faces=np.asarray(faces, np.int64),
                   weld=np.asarray(raw.weld, np.int64), shapes=shapes, colors=colors, uvs=uvs, gloss=gloss,
                   double_sided=double_sided)
    skip = set(info.get("map_synthesise", []))
    missing = [s for s in SHAPES if s not in shapes or s in skip]
    if missing:
        p, faces = mesh.positions, mesh.faces
        marks = resolve_landmarks(p, faces, frame=frame, source=raw.path, landmarks=landmarks,
                                  overrides=landmark_overrides)
        sides = lip_sides(p, faces, marks) if "jawOpen" in missing else None
        if "jawOpen" in missing:
            info["lips"] = "separate" if sides is not None else "fused"
        weights = None
        if "jawOpen" in missing and sides is not None:
            # Separate lips: they part along their own seam; the mouth bag behind goes dark.
            inside = inside_mouth(p, faces, marks)
            weights = jaw_weights(p, faces, marks, mesh.weld, inside=inside)
            mesh = darken_inside(mesh, inside)
            info["mouth_inside_vertices"] = int(inside.sum())
        if "jawOpen" in missing and sides is None:
            opened = open_fused_lips(mesh, marks)
            if opened is not None:
                mesh, weights, cut = opened
                info["mouth_opened"] = {"seam_vertices": int(len(cut["path"])),
                                        "bag_vertices": int(cut["bag"].sum()),
                                        "lip_curve": [round(float(c), 5) for c in cut["curve"]]}
        if "jawOpen" not in missing:
            weights = np.zeros(len(mesh.positions))  # the head's own jaw: no weights needed
            mesh = _shade_own_mouth(mesh, marks, info)
        synth = synthesise(mesh.positions, marks, faces=mesh.faces, weld=mesh.weld, jaw=weights)
        scale = match_scale(mesh, synth, marks, missing)
        if scale != 1.0:
            info["synthesised_scale"] = round(scale, 3)
        for s in missing:
            mesh.shapes[s] = synth[s] if s == "jawOpen" else synth[s] * scale
        info["landmarks"] = {k: (val if k == "given" else
                                 np.round(np.asarray(val, float), 5).tolist())
                             for k, val in marks.items()}
    elif "jawOpen" in shapes and "rig_folder" not in info:
        # Every shape is the head's own: its mouth is still drawn in shadow (a folder
        # written by 'face3d rig' already has it in its colours).
        try:
            marks = resolve_landmarks(mesh.positions, mesh.faces, frame=frame, source=raw.path,
                                      landmarks=landmarks, overrides=landmark_overrides)
        except Exception:  # noqa: BLE001 - only the shading needs them: a head that cannot be read for it loads unshaded
            marks = None
        if marks is not None:
            mesh = _shade_own_mouth(mesh, marks, info)
    info["synthesised"] = missing
    info.setdefault("found", {})
    kept = tuple(info.get("expressions", ()))  # a VRM's own expressions, kept by name
    ordered = {s: mesh.shapes[s] for s in SHAPES + FACE_SHAPES + VISEME_NAMES + kept if s in mesh.shapes}
    return build_rig(mesh.positions, mesh.faces, ordered, weld=mesh.weld, info=info, colors=mesh.colors,
                     gloss=mesh.gloss, uvs=mesh.uvs, texture=texture, double_sided=mesh.double_sided)
