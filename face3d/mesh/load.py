"""Loading user meshes with trimesh into a Rig (validated; no blendshapes yet)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from face3d.errors import MeshError
from face3d.mesh.rig import Rig, vertex_normals


def load_mesh_head(path: Path, **options) -> Rig:
    import trimesh

    try:
        loaded = trimesh.load(str(path), process=False, maintain_order=True)
    except Exception as exc:  # noqa: BLE001 - any parser failure is a bad file
        raise MeshError(f"cannot read head mesh {path}: {exc}; check the file is a valid mesh") from None
    if isinstance(loaded, trimesh.Scene):
        loaded = loaded.to_geometry() if hasattr(loaded, "to_geometry") else loaded.dump(concatenate=True)
    if not isinstance(loaded, trimesh.Trimesh) or len(loaded.faces) == 0:
        raise MeshError(f"head file {path} holds no triangles; give a mesh with faces")
    positions = np.asarray(loaded.vertices, np.float32)
    faces = np.asarray(loaded.faces, np.int64)
    if not np.isfinite(positions).all():
        raise MeshError(f"head mesh {path} has NaN or infinite coordinates; repair it")
    if faces.min() < 0 or faces.max() >= len(positions):
        raise MeshError(f"head mesh {path} has faces indexing past its {len(positions)} vertices")
    return Rig(
        positions=positions,
        normals=vertex_normals(positions, faces),
        faces=faces,
        names=(),
        deltas=np.zeros((0, len(positions), 3), np.float32),
        normal_deltas=np.zeros((0, len(positions), 3), np.float32),
        double_sided=True,
    )
