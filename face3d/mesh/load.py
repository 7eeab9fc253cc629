"""Loading user meshes into a Rig: read, validate, normalise, map or synthesise shapes.

Readers: OBJ (face3d's own, see ``obj``), glTF/GLB (``gltf``, with morph targets), and
trimesh for PLY, STL, OFF and the rest. Every failure is one :class:`MeshError` line.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from face3d.errors import MeshError
from face3d.mesh.raw import RawMesh, check_vertex_count, validate, weld_by_position
from face3d.mesh.rig import SHAPES, Rig, vertex_normals

MESH_SUFFIXES = (".obj", ".glb", ".gltf", ".ply", ".stl", ".off")


def read_trimesh(path: Path, *, allow_large: bool = False) -> RawMesh:
    """PLY, STL, OFF, ... through trimesh; scenes are flattened with their node transforms."""
    import trimesh

    try:
        if path.stat().st_size == 0:
            raise MeshError(f"head file {path} is empty; export the head mesh again")
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
        raise MeshError(f"head path {path} is a folder without a neutral.obj; give a mesh file (.obj, .glb, .ply, .stl)")
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


def welded_normals(positions: np.ndarray, faces: np.ndarray, weld: np.ndarray | None = None) -> np.ndarray:
    """Smooth normals shared across seams: vertices with the same ``weld`` index (default:
    the same position) share one normal."""
    if weld is None:
        weld = weld_by_position(positions)
    n_weld = int(weld.max()) + 1
    wpos = np.zeros((n_weld, 3))
    wpos[weld] = positions
    return vertex_normals(wpos, weld[faces])[weld]


def orient_faces(positions: np.ndarray, faces: np.ndarray, weld: np.ndarray) -> tuple[np.ndarray, bool]:
    """(faces, closed): a closed, consistently wound surface is turned outward and may be culled."""
    f = weld[faces]
    e = np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]])
    n = int(f.max()) + 1
    fwd = e[:, 0] * n + e[:, 1]
    rev = e[:, 1] * n + e[:, 0]
    fwd_sorted = np.sort(fwd)
    if len(np.unique(fwd_sorted)) != len(fwd_sorted):
        return faces, False  # an edge used twice in the same direction: inconsistent or non-manifold
    pos = np.searchsorted(fwd_sorted, rev)
    pos = np.minimum(pos, len(fwd_sorted) - 1)
    if not (fwd_sorted[pos] == rev).all():
        return faces, False  # open boundary
    p = positions.astype(np.float64)
    a, b, c = p[faces[:, 0]], p[faces[:, 1]], p[faces[:, 2]]
    volume = np.einsum("ij,ij->i", a, np.cross(b, c)).sum() / 6.0
    if volume < 0:
        return faces[:, [0, 2, 1]].copy(), True
    return faces, True


def load_mesh_head(path: Path, *, up=None, forward=None, mapping=None, allow_large: bool = False,
                   landmarks=None, landmark_overrides=None, autorig: bool = True, **_ignored) -> Rig:
    """Load a mesh file (and its blendshapes) as a normalised, talking Rig."""
    from face3d.mesh.normalize import detect_frame

    path = Path(path)
    raw = read_mesh(path, allow_large=allow_large)
    try:
        from face3d.mesh.targets import attach_target_files

        attach_target_files(raw, allow_large=allow_large)
    except ImportError:
        pass
    from face3d.mesh.normalize import Frame
    from face3d.mesh.targetset import read_sidecar

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
    if "frame_center" in frame.info:
        info["frame_center"] = frame.info["frame_center"]
        info["frame_radius"] = frame.info["frame_radius"]
    if sidecar is not None:
        closed = closed and not sidecar.get("double_sided", False)
        info["rig_folder"] = {k: v for k, v in sidecar.get("info", {}).items() if k in ("source", "found", "synthesised")}
    rig = build_rig(raw, positions, faces, closed, deltas, info, mapping=mapping, landmarks=landmarks,
                    landmark_overrides=landmark_overrides, autorig=autorig, frame=frame)
    if sidecar is not None:
        g = sidecar.get("gloss")
        if isinstance(g, list) and len(g) == rig.n_vertices:
            rig.gloss = np.asarray(g, np.float32)
        elif isinstance(g, (int, float)):
            rig.gloss = np.full(rig.n_vertices, g, np.float32)
        rig.double_sided = bool(sidecar.get("double_sided", rig.double_sided))
    return rig


def build_rig(raw: RawMesh, positions, faces, closed, deltas: dict, info: dict, *, mapping=None,
              landmarks=None, landmark_overrides=None, autorig=True, frame=None) -> Rig:
    """Name-map the file's shapes onto face3d's, synthesise the missing ones, build the Rig."""
    raw.weld = weld_by_position(positions)  # normals are shared by every vertex at one point
    normals = welded_normals(positions, faces, raw.weld)
    colors = raw.colors
    if colors is not None:
        colors = np.nan_to_num(np.asarray(colors, np.float64), nan=0.8)
    from face3d.mesh.names import map_shapes

    shapes, report = map_shapes(deltas, mapping=mapping, source=raw.path)
    info.update(report)
    rig_kwargs = dict(colors=colors, uvs=raw.uvs, texture=raw.texture, double_sided=not closed)
    if autorig:
        from face3d.mesh.autorig import complete_rig

        return complete_rig(positions, faces, normals, raw, shapes, info, landmarks=landmarks,
                            landmark_overrides=landmark_overrides, frame=frame, **rig_kwargs)
    for name in info.get("map_synthesise", []):
        shapes.pop(name, None)
    info["synthesised"] = []
    names = [s for s in SHAPES if s in shapes]
    v = len(positions)
    d = np.array([shapes[n] for n in names], np.float32).reshape(len(names), v, 3)
    nd = np.zeros_like(d)
    for i, name in enumerate(names):
        nd[i] = welded_normals(positions + d[i], faces, raw.weld) - normals
    return Rig(positions=positions, normals=normals, faces=faces, names=tuple(names), deltas=d,
               normal_deltas=nd, info=info, **rig_kwargs)
