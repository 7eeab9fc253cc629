"""Auto-rig: synthesise jawOpen, mouthWide, mouthPucker and mouthClose for a head that
lacks them, on the normalised mesh (+Y up, +Z forward).

Three steps, each in its own module:

* :mod:`face3d.mesh.landmarks` finds the nose tip, lip line, mouth width, chin and jaw
  pivot (or takes them from a landmark JSON and the command line);
* :mod:`face3d.mesh.mouth` tells separate lips from fused ones and, when jawOpen is
  synthesised on fused lips, cuts the mouth open and closes it with a dark mouth bag;
* :mod:`face3d.mesh.synth` builds the four shapes from the landmarks.
"""

from __future__ import annotations

import numpy as np

from face3d.mesh.landmarks import detect_landmarks, resolve_landmarks
from face3d.mesh.mouth import RigMesh, fused_strip, lip_sides, open_fused_lips
from face3d.mesh.rig import SHAPES, Rig, build_rig
from face3d.mesh.synth import synthesise

__all__ = ["complete_rig", "detect_landmarks"]


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
        info["lips"] = "separate" if sides is not None else "fused"
        synth = None
        hard = False
        if "jawOpen" in missing and sides is None:
            strip = fused_strip(p, faces, marks)
            if strip.sum() >= 2:
                hard = True
                opened = open_fused_lips(mesh, strip, marks)
                if opened is not None:
                    mesh, weights = opened
                    info["mouth_opened"] = {"removed_triangles": int(strip.sum()),
                                            "bag_vertices": int(len(mesh.positions) - len(p))}
                    synth = synthesise(mesh.positions, marks, parent_weight=weights)
        if synth is None:
            synth = synthesise(mesh.positions, marks, hard_mouth=hard, sides=sides)
        for s in missing:
            mesh.shapes[s] = synth[s]
        info["landmarks"] = {k: (val if k == "given" else
                                 np.round(np.asarray(val, float), 5).tolist())
                             for k, val in marks.items()}
    info["synthesised"] = missing
    info.setdefault("found", {})
    ordered = {s: mesh.shapes[s] for s in SHAPES if s in mesh.shapes}
    return build_rig(mesh.positions, mesh.faces, ordered, weld=mesh.weld, info=info, colors=mesh.colors,
                     gloss=mesh.gloss, uvs=mesh.uvs, texture=texture, double_sided=mesh.double_sided)
