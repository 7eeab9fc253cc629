"""Loading user meshes into a Rig: read, validate, normalise, map or synthesise shapes.

Readers: OBJ (face3d's own, see ``obj``), glTF/GLB (``gltf``, with morph targets), and
trimesh for PLY, STL, OFF and the rest. Every failure is one :class:`MeshError` line.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from face3d.errors import MeshError
from face3d.mesh.eyes import paint_irises
from face3d.mesh.geometry import orient_faces, weld_by_position
from face3d.mesh.names import map_shapes
from face3d.mesh.normalize import Frame, detect_frame
from face3d.mesh.overlays import hide_overlays
from face3d.mesh.ply import has_strips, read_ply_with_strips
from face3d.mesh.raw import RawMesh, check_vertex_count, validate
from face3d.mesh.rig import FACE_SHAPES, SHAPES, Rig, build_rig
from face3d.mesh.targets import attach_target_files
from face3d.mesh.targetset import read_sidecar

MESH_SUFFIXES = (".obj", ".glb", ".gltf", ".ply", ".stl", ".off")


def read_trimesh(path: Path, *, allow_large: bool = False) -> RawMesh:
    """PLY, STL, OFF, ... through trimesh; scenes are flattened with their node transforms."""
    import trimesh

    try:
        if path.stat().st_size == 0:
            raise MeshError(f"head file {path} is empty; export the head mesh again")
        if path.suffix.lower() == ".ply" and has_strips(path):
            # trimesh ignores triangle strips (Stanford / Cyberware scans): read them here.
            pos, tri = read_ply_with_strips(path)
            loaded = trimesh.Trimesh(vertices=pos, faces=tri, process=False) if len(tri) else trimesh.PointCloud(pos)
        else:
            loaded = trimesh.load(str(path), process=False, maintain_order=True)
    except MeshError:
        raise
    except Exception as exc:  # noqa: BLE001 - any parser failure is a bad file
        msg = str(exc).splitlines()[0][:80] if str(exc) else type(exc).__name__
        raise MeshError(f"cannot read head mesh {path} ({msg}); check the file is a valid, complete mesh") from None
    geoms = []
    if isinstance(loaded, trimesh.Scene):
        for node in loaded.graph.nodes_geometry:
            transform, name = loaded.graph[node]
            g = loaded.geometry[name]
            if isinstance(g, trimesh.Trimesh):
                geoms.append((g, np.asarray(transform, np.float64)))
            elif isinstance(g, trimesh.PointCloud) and len(g.vertices):
                geoms.append((g, None))
    else:
        geoms.append((loaded, None))
    tris = [(g, t) for g, t in geoms if isinstance(g, trimesh.Trimesh) and len(g.faces)]
    if not tris:
        n = sum(len(getattr(g, "vertices", ())) for g, _ in geoms)
        if n:
            raise MeshError(f"head file {path} has {n} points but no faces (a point cloud?); give a mesh with triangles")
        raise MeshError(f"head file {path} holds no mesh (no vertices or faces); export the head mesh again")
    check_vertex_count(path, sum(len(g.vertices) for g, _ in tris), allow_large)
    pos, faces, cols = [], [], []
    off = 0
    for g, t in tris:
        v = np.asarray(g.vertices, np.float64)
        if t is not None:
            v = v @ t[:3, :3].T + t[:3, 3]
        f = np.asarray(g.faces, np.int64)
        if len(f) and (f.min() < 0 or f.max() >= len(v)):
            raise MeshError(f"head mesh {path} has faces indexing past its {len(v)} vertices (a corrupt file); export it again")
        if t is not None and np.linalg.det(t[:3, :3]) < 0:
            f = f[:, [0, 2, 1]]
        c = None
        vis = getattr(g, "visual", None)
        try:
            if vis is not None and vis.kind == "vertex":
                c = np.asarray(vis.vertex_colors, np.float64)[:, :3] / 255.0
            elif vis is not None and vis.kind == "face":
                fc = np.asarray(vis.face_colors, np.float64)[:, :3] / 255.0
                c = np.zeros((len(v), 3))
                for k in range(3):
                    c[f[:, k]] = fc
        except Exception:  # noqa: BLE001 - colours are optional
            c = None
        pos.append(v)
        faces.append(f + off)
        cols.append(c if c is not None else np.full((len(v), 3), np.nan))
        off += len(v)
    positions = np.concatenate(pos)
    faces = np.concatenate(faces)
    colors = np.concatenate(cols)
    # Triangle soups (STL) weld into a connected surface.
    weld = weld_by_position(positions) if len(positions) else np.zeros(0, np.int64)
    raw = RawMesh(path=path, positions=positions, faces=faces, fmt=path.suffix.lower().lstrip("."))
    if len(positions) and np.isfinite(colors).all() and not np.isnan(colors).any():
        raw.colors = colors
    if len(positions) and len(np.unique(weld)) < len(positions) and raw.colors is None:
        uniq, first = np.unique(weld, return_index=True)
        raw.positions = positions[first]
        raw.faces = weld[faces]  # weld ids are 0..n-1 in order of unique positions
        raw.weld = np.arange(len(first))
        raw.n_weld = len(first)
    return raw


def read_mesh(path, *, allow_large: bool = False) -> RawMesh:
    """Read and validate one mesh file in its own units and axes."""
    path = Path(path)
    if not path.exists():
        raise MeshError(f"head file {path} does not exist; check the path")
    if path.is_dir():
        raise MeshError(f"head path {path} is a folder; give a mesh file (.obj, .glb, .ply, .stl), "
                        "or load the folder with load_head as a target set")
    suffix = path.suffix.lower()
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise MeshError(f"cannot read head file {path}: {exc.strerror}; check the permissions") from None
    if size == 0:
        raise MeshError(f"head file {path} is empty; export the head mesh again")
    if suffix == ".obj":
        from face3d.mesh.obj import read_obj

        raw = read_obj(path, allow_large=allow_large)
    elif suffix in (".glb", ".gltf"):
        from face3d.mesh.gltf import read_gltf

        raw = read_gltf(path, allow_large=allow_large)
    elif suffix in (".ply", ".stl", ".off"):
        raw = read_trimesh(path, allow_large=allow_large)
    else:
        raise MeshError(
            f"head file {path} has an unsupported type '{suffix or '(none)'}'; "
            "give an .obj, .glb, .gltf, .ply, .stl or .off mesh, or a face3d .npz rig"
        )
    return validate(raw, allow_large)


def load_mesh_head(path: Path, *, up=None, forward=None, mapping=None, allow_large: bool = False,
                   landmarks=None, landmark_overrides=None, autorig: bool = True, target_set=None,
                   **_ignored) -> Rig:
    """Load a mesh file (and its blendshapes) as a normalised, talking Rig.

    ``target_set``: the :class:`~face3d.mesh.targets.TargetSet` the neutral was chosen from
    when a folder was given (every other OBJ in it is a shape)."""
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
        frame = detect_frame(raw.positions, raw.faces, up=up, forward=forward)
    positions = frame.apply(raw.positions).astype(np.float32)
    deltas = {k: frame.apply_vectors(d).astype(np.float32) for k, d in raw.targets.items()}
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
    if target_set is not None:
        info["target_set"] = target_set.describe()
    if sidecar is not None:
        closed = closed and not sidecar.get("double_sided", False)
        info["rig_folder"] = {k: v for k, v in sidecar.get("info", {}).items() if k in ("source", "found", "synthesised")}
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
    shapes, report = map_shapes(deltas, mapping=mapping, source=raw.path)
    info.update(report)
    attributes = dict(colors=colors, uvs=raw.uvs, texture=raw.texture, double_sided=not closed)
    if autorig:
        from face3d.mesh.autorig import complete_rig

        return complete_rig(positions, faces, raw, shapes, info, landmarks=landmarks,
                            landmark_overrides=landmark_overrides, frame=frame, **attributes)
    for name in info.get("map_synthesise", []):
        shapes.pop(name, None)
    info["synthesised"] = []
    ordered = {s: shapes[s] for s in SHAPES + FACE_SHAPES if s in shapes}
    return build_rig(positions, faces, ordered, weld=raw.weld, info=info, **attributes)
