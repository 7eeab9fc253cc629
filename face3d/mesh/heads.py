"""Loading heads: the bundled default rig, saved rigs, and user meshes.

``load_head(None)`` gives the bundled default head. ``.npz`` files are face3d rigs; a
folder holding ``neutral.obj`` (plus one OBJ per shape) is a target set; every other path
is a mesh file read by :mod:`face3d.mesh.load`. Every failure is a :class:`MeshError`
naming the file.

Options (all optional, ignored for the bundled head and .npz rigs):
``up``, ``forward`` ('+y', '-z', ...), ``mapping`` (dict or JSON path: face3d shape ->
file shape names), ``landmarks`` (sidecar JSON path or dict), ``landmark_overrides``
(dict from the CLI), ``autorig`` (synthesise missing shapes, default True),
``allow_large`` (accept more than 2 million vertices).
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
        neutral = next((c for c in (p / "neutral.obj", p / "Neutral.obj", p / "NEUTRAL.obj") if c.is_file()), None)
        if neutral is None:
            raise MeshError(
                f"head path {p} is a folder without a neutral.obj; give a mesh file (.obj, .glb, .ply, .stl) "
                "or a folder of neutral.obj plus one OBJ per shape"
            )
        p = neutral
    if p.suffix.lower() == ".npz":
        return Rig.load(p)
    from face3d.mesh.load import load_mesh_head

    return load_mesh_head(p, **options)
