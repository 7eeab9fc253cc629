"""Loading user meshes into a Rig: read, validate, normalise, map or synthesise shapes.

The pipeline over the mesh packages: :func:`face3d.mesh.io.read.read_mesh` reads the file,
:mod:`face3d.mesh.orient` puts it in face3d's frame, :mod:`face3d.mesh.rig.names` maps its
shapes and :mod:`face3d.mesh.autorig` synthesises the missing ones. Every failure is one
:class:`MeshError` line.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from face3d.mesh.autorig.eyes import paint_irises
from face3d.mesh.autorig.synth import JAW_ANGLE_DEG
from face3d.mesh.geometry import orient_faces, weld_by_position
from face3d.mesh.io.overlays import hide_overlays
from face3d.mesh.io.raw import RawMesh
from face3d.mesh.io.read import read_mesh
from face3d.mesh.io.targets import attach_target_files, unread_shapes_note
from face3d.mesh.io.targetset import read_sidecar
from face3d.mesh.orient.head import head_frame, with_axes
from face3d.mesh.orient.normalize import Frame, detect_frame
from face3d.mesh.rig import FACE_SHAPES, SHAPES, Rig, build_rig
from face3d.mesh.rig.jaw import bone_jaw_delta
from face3d.mesh.rig.names import map_shapes, normalise_name
from face3d.mesh.rig.visemes import VISEME_NAMES, viseme_shapes


def load_mesh_head(path: Path, *, up=None, forward=None, mapping=None, allow_large: bool = False,
                   landmarks=None, landmark_overrides=None, autorig: bool = True, target_set=None,
                   **_ignored) -> Rig:
    """Load a mesh file (and its blendshapes) as a normalised, talking Rig.

    ``target_set``: the :class:`~face3d.mesh.io.targets.TargetSet` the neutral was chosen from
    when a folder was given, or the ``--targets`` folder (every other OBJ in it is a shape);
    without one an OBJ is read alone."""
    path = Path(path)
    raw = read_mesh(path, allow_large=allow_large)
    hidden = hide_overlays(raw)
    if hidden:
        raw.warnings.append(f"left out see-through helper surfaces ({', '.join(hidden)}): "
                            "drawn opaque they would hide the eyes")
    attach_target_files(raw, allow_large=allow_large, target_set=target_set)
    sidecar = read_sidecar(path) if raw.fmt == "obj" else None
    if sidecar is not None and up is None and forward is None:
        # Written by 'face3d rig': already in face3d's frame.
        frame = Frame(rotation=np.eye(3), centre=np.zeros(3), scale=1.0,
                      info={"up": "+y", "forward": "+z", "scale": 1.0, "full_body": False})
        for k in ("frame_center", "frame_radius"):
            if k in sidecar.get("info", {}):
                frame.info[k] = sidecar["info"][k]
    else:
        frame = None
        if raw.skeleton.get("head") is not None:
            # a character with a head joint: framed on it, facing as its skeleton (or
            # --up / --forward) says
            frame = head_frame(raw.positions, raw.faces, with_axes(raw.skeleton, up, forward))
        if frame is None:
            frame = detect_frame(raw.positions, raw.faces, up=up, forward=forward)
    positions = frame.apply(raw.positions).astype(np.float32)
    deltas = {k: frame.apply_vectors(d).astype(np.float32) for k, d in raw.targets.items()}
    jaw_w = raw.skeleton.get("jaw_weights")
    if jaw_w is not None and jaw_w.max() > 0 and "jawopen" not in {normalise_name(k) for k in deltas}:
        # the skeleton's own jaw joint turns the jaw (baked as the blendshape it is)
        pivot = frame.apply(np.asarray(raw.skeleton["jaw_pivot"])[None])[0]
        deltas = {"jawOpen": bone_jaw_delta(positions, jaw_w, pivot, JAW_ANGLE_DEG).astype(np.float32), **deltas}
        raw.labels = {**raw.labels, "jawOpen": f"jaw joint {raw.skeleton.get('jaw_name', '')}".strip()}
    faces, closed = orient_faces(positions, raw.faces, raw.weld)
    info = {
        "source": str(path),
        "format": raw.fmt,
        "up": frame.info["up"],
        "forward": frame.info["forward"],
        "scale": frame.info["scale"],
        "full_body": frame.info["full_body"],
        "warnings": list(raw.warnings),
    }
    if hidden:
        info["hidden_surfaces"] = hidden
    if frame.info.get("note"):
        info["orientation_note"] = frame.info["note"]
    if "frame_center" in frame.info:
        info["frame_center"] = frame.info["frame_center"]
        info["frame_radius"] = frame.info["frame_radius"]
    if "head_joint" in frame.info:
        info["head_joint"] = frame.info["head_joint"]
    if raw.skeleton.get("eyeballs"):
        # eyeballs on the skeleton's eye joints: gaze turns them about the joints
        info["eyes"] = [{"center": [float(x) for x in frame.apply(np.asarray(c)[None])[0]], "range": [a, b]}
                        for c, a, b in raw.skeleton["eyeballs"]]
    if raw.vrm is not None:
        info["vrm"] = raw.vrm
    looks = [n for n in ("lookLeft", "lookRight", "lookUp", "lookDown") if n in raw.expressions]
    if raw.look.get("type") == "expression" and looks and not raw.skeleton.get("eyeballs"):
        # gaze drives the file's look expressions (VRM lookAt of type expression)
        info["look_expressions"] = {k: list(v) for k, v in raw.look.items() if k != "type"}
    if raw.cutout_groups:
        info["alpha_cutout"] = True  # the texture's alpha cuts out hair cards and lashes
    if target_set is not None:
        info["target_set"] = target_set.describe()
    elif raw.fmt == "obj" and (note := unread_shapes_note(path)):
        info["targets_note"] = note
    if sidecar is not None:
        closed = closed and not sidecar.get("double_sided", False)
        info["rig_folder"] = {k: v for k, v in sidecar.get("info", {}).items() if k in ("source", "found", "synthesised")}
        info["visemes_given"] = sidecar.get("info", {}).get("visemes")   # what its viseme shapes replace
    rig = rig_from_raw(raw, positions, faces, closed, deltas, info, mapping=mapping, landmarks=landmarks,
                    landmark_overrides=landmark_overrides, autorig=autorig, frame=frame)
    if sidecar is not None:
        g = sidecar.get("gloss")
        if isinstance(g, list) and len(g) == rig.n_vertices:
            rig.gloss = np.asarray(g, np.float32)
        elif isinstance(g, (int, float)):
            rig.gloss = np.full(rig.n_vertices, g, np.float32)
        rig.double_sided = bool(sidecar.get("double_sided", rig.double_sided))
    return rig


def rig_from_raw(raw: RawMesh, positions, faces, closed, deltas: dict, info: dict, *, mapping=None,
                 landmarks=None, landmark_overrides=None, autorig=True, frame=None) -> Rig:
    """Name-map the file's shapes onto face3d's, synthesise the missing ones, build the Rig."""
    raw.weld = weld_by_position(positions)  # normals are shared by every vertex at one point
    colors = raw.colors
    if colors is not None:
        colors = np.nan_to_num(np.asarray(colors, np.float64), nan=0.8)
    if raw.texture is None and "rig_folder" not in info:
        colors, eyes = paint_irises(positions, faces, raw.face_group, raw.groups, colors)
        if eyes:
            info["irises_painted"] = eyes
    shapes, report = map_shapes(deltas, mapping=mapping, source=raw.path, labels=raw.labels,
                                keep=raw.expressions)
    visemes, note = viseme_shapes(deltas, report["found"], given=info.pop("visemes_given", None))
    if note is not None:          # the head's own viseme targets, or its ARKit / VRM mouths
        shapes.update(visemes)
        used = {s.split("*")[0] for v in note["sources"].values() for s in v}
        report["unused_shapes"] = [n for n in report["unused_shapes"] if n not in used]
        report["visemes"] = note
    info.update(report)
    attributes = dict(colors=colors, uvs=raw.uvs, texture=raw.texture, double_sided=not closed)
    if raw.gloss is not None:
        attributes["gloss"] = raw.gloss
    if autorig:
        from face3d.mesh.autorig.complete import complete_rig

        return complete_rig(positions, faces, raw, shapes, info, landmarks=landmarks,
                            landmark_overrides=landmark_overrides, frame=frame, **attributes)
    for name in info.get("map_synthesise", []):
        shapes.pop(name, None)
    info["synthesised"] = []
    kept = tuple(info.get("expressions", ()))  # a VRM's own expressions, kept by name
    ordered = {s: shapes[s] for s in SHAPES + FACE_SHAPES + VISEME_NAMES + kept if s in shapes}
    return build_rig(positions, faces, ordered, weld=raw.weld, info=info, **attributes)
