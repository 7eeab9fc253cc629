"""Loading heads: the bundled default rig, saved rigs, and user meshes.

``load_head(None)`` gives the bundled default head. Other formats are read by the
loaders in this package; every failure is a :class:`MeshError` naming the file.
"""

from __future__ import annotations

from pathlib import Path

from face3d.errors import MeshError
from face3d.mesh.rig import Rig


def load_head(path=None, **options) -> Rig:
    """Load a head as a Rig.  ``path=None``: the bundled default head."""
    if path is None:
        from face3d.assets import default_head_path

        path = default_head_path()
        if not path.is_file():
            raise MeshError(
                f"the bundled default head {path} is missing; regenerate it with "
                "'python -m face3d.mesh.default_head' or reinstall face3d"
            )
        return Rig.load(path)
    p = Path(path)
    if not p.exists():
        raise MeshError(f"head file {p} does not exist; check the path")
    if p.is_dir():
        raise MeshError(f"head path {p} is a folder; give a mesh file (.obj, .glb, .ply, .stl)")
    if p.suffix.lower() == ".npz":
        return Rig.load(p)
    from face3d.mesh.load import load_mesh_head

    return load_mesh_head(p, **options)
