"""RawMesh: what a format reader hands over before normalisation and rigging.

Readers (``obj``, ``gltf``, ``trimesh`` for the rest) produce a :class:`RawMesh` in the
file's own units and axes. :func:`validate` turns every kind of broken input into one
:class:`MeshError` line that names the file, the problem and what to do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from face3d.errors import MeshError
from face3d.mesh.geometry import weld_by_position

#: More vertices than this need ``--allow-large`` (memory and upload time grow with it).
MAX_VERTICES = 2_000_000


@dataclass
class RawMesh:
    """A triangle mesh as read from a file.

    positions : (V, 3) float64 render vertices (split at UV seams / material borders)
    faces     : (F, 3) int64 triangles
    weld      : (V,) int64 index of the source vertex each render vertex came from;
                vertices sharing a weld index sit at the same point (normals are shared,
                OBJ targets are indexed by it)
    n_weld    : number of source vertices
    colors    : optional (V, 3) sRGB in [0, 1]
    uvs       : optional (V, 2) texture coordinates (v up, OpenGL convention)
    texture   : optional (H, W, 3|4) uint8 image, top row first
    face_group: optional (F,) int index into ``groups`` (material or object names)
    targets   : {name: (V, 3) float64 position deltas in file units}
    labels, expressions, vrm, skeleton: what a VRM / skinned glTF adds (see the fields)
    """

    path: Path
    positions: np.ndarray
    faces: np.ndarray
    weld: np.ndarray | None = None
    n_weld: int = 0
    colors: np.ndarray | None = None
    uvs: np.ndarray | None = None
    texture: np.ndarray | None = None
    face_group: np.ndarray | None = None
    groups: list = field(default_factory=list)
    targets: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)
    fmt: str = ""
    labels: dict = field(default_factory=dict)       # target name -> how the load line names it
    expressions: list = field(default_factory=list)  # VRM expression presets among the targets
    vrm: str | None = None                           # "0" or "1" for VRM files
    skeleton: dict = field(default_factory=dict)     # head / up / forward / jaw (io.skeleton)
    gloss: np.ndarray | None = None                  # (V,) per-vertex gloss; -1: toon-shaded (MToon)
    cutout_groups: set = field(default_factory=set)  # groups drawn with their texture's alpha cut-out
    look: dict = field(default_factory=dict)         # VRM lookAt type and range maps (io.vrm.look_at)

    def __post_init__(self):
        if self.weld is None:
            self.weld = weld_by_position(self.positions)
            self.n_weld = int(self.weld.max()) + 1 if len(self.weld) else 0


def check_vertex_count(path, n: int, allow_large: bool) -> None:
    if n > MAX_VERTICES and not allow_large:
        raise MeshError(
            f"head mesh {path} has {n:,} vertices, more than {MAX_VERTICES:,}; "
            "decimate it, or pass --allow-large to load it anyway"
        )


def validate(raw: RawMesh, allow_large: bool = False) -> RawMesh:
    """Check a freshly read mesh; raise one-line MeshErrors for anything unusable."""
    path = raw.path
    pos = np.asarray(raw.positions)
    faces = np.asarray(raw.faces)
    if len(pos) == 0:
        raise MeshError(f"head file {path} holds no vertices; export the head mesh again")
    if faces.size == 0:
        raise MeshError(
            f"head file {path} has {len(pos)} vertices but no faces (a point cloud?); "
            "give a mesh with triangles or polygons"
        )
    check_vertex_count(path, len(pos), allow_large)
    if faces.ndim != 2 or faces.shape[1] != 3:
        raise MeshError(f"head mesh {path} has malformed faces; export it again with triangles or polygons")
    if faces.min() < 0 or faces.max() >= len(pos):
        raise MeshError(
            f"head mesh {path} has faces indexing past its {len(pos)} vertices "
            "(a corrupt or truncated file); export it again"
        )
    if not np.isfinite(pos).all():
        bad = int((~np.isfinite(pos)).any(axis=1).sum())
        raise MeshError(f"head mesh {path} has {bad} vertices with NaN or infinite coordinates; repair or re-export it")
    mask = np.zeros(len(pos), bool)
    mask[faces.ravel()] = True
    used = pos[mask]
    extent = used.max(axis=0) - used.min(axis=0)
    if not (extent.max() > 0):
        raise MeshError(f"head mesh {path} has zero size (all vertices at one point); export it again")
    nondegenerate = (extent > extent.max() * 1e-6).sum()
    if nondegenerate < 2:
        raise MeshError(f"head mesh {path} is a line, not a surface; export the head mesh again")
    for name, d in raw.targets.items():
        if not np.isfinite(d).all():
            raise MeshError(f"blendshape '{name}' of {path} has NaN or infinite coordinates; repair or re-export it")
    return raw
