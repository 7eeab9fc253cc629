"""Reading one mesh file into a RawMesh: the io package's front door.

Readers: OBJ (face3d's own, see ``obj``), glTF/GLB (``gltf``, with morph targets), and
trimesh for PLY, STL, OFF and the rest. Every failure is one :class:`MeshError` line.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from face3d.errors import MeshError
from face3d.mesh.geometry import weld_by_position
from face3d.mesh.io.ply import has_strips, read_ply_with_strips
from face3d.mesh.io.raw import RawMesh, check_vertex_count, validate

MESH_SUFFIXES = (".obj", ".glb", ".gltf", ".vrm", ".ply", ".stl", ".off")


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
        from face3d.mesh.io.obj import read_obj

        raw = read_obj(path, allow_large=allow_large)
    elif suffix in (".glb", ".gltf", ".vrm"):
        from face3d.mesh.io.gltf import read_gltf

        raw = read_gltf(path, allow_large=allow_large)
    elif suffix in (".ply", ".stl", ".off"):
        raw = read_trimesh(path, allow_large=allow_large)
    else:
        raise MeshError(
            f"head file {path} has an unsupported type '{suffix or '(none)'}'; "
            "give an .obj, .glb, .gltf, .vrm, .ply, .stl or .off mesh, or a face3d .npz rig"
        )
    return validate(raw, allow_large)
