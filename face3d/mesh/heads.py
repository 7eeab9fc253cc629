"""Loading heads: the bundled default rig, saved rigs, and user meshes.

``load_head(None)`` gives the bundled default head. ``.npz`` files are face3d rigs; a
folder is an OBJ target set (a neutral plus one OBJ per shape; the neutral is chosen by
:func:`face3d.mesh.io.targets.find_neutral` and named in ``info["target_set"]``); every other
path is a mesh file read by :mod:`face3d.mesh.load`, alone: the OBJs beside it are not its
shapes unless ``targets`` names their folder. Every failure is a :class:`MeshError` naming
the file.

Options (all optional, ignored for the bundled head and .npz rigs):
``up``, ``forward`` ('+y', '-z', ...), ``mapping`` (dict or JSON path: face3d shape ->
file shape names), ``landmarks`` (sidecar JSON path or dict), ``landmark_overrides``
(dict from the CLI), ``autorig`` (synthesise missing shapes, default True),
``allow_large`` (accept more than 2 million vertices), ``targets`` (a folder of target
OBJs for an OBJ head file: every OBJ in it is a shape), ``frame`` ('head' or 'body').
"""

from __future__ import annotations

from pathlib import Path

from face3d.errors import MeshError
from face3d.mesh.rig import Rig


def load_head(path=None, *, targets=None, frame: str = "head", **options) -> Rig:
    """Load a head as a Rig.  ``path=None``: the bundled default head. ``frame="body"``: the
    camera frames the whole mesh rather than the head (``rig.info['camera_frame']``)."""
    if targets is not None:
        rig = _load_with_targets(path, Path(targets), **options)
    else:
        rig = _load(path, **options)
    if frame == "body":
        rig.info["camera_frame"] = "body"
    return rig


def _load(path=None, **options) -> Rig:
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
    if p.suffix.lower() == ".npz" and not p.is_dir():
        return Rig.load(p)
    from face3d.mesh.load import load_mesh_head

    if p.is_dir():
        from face3d.mesh.io.targets import find_neutral

        target_set = find_neutral(p, allow_large=bool(options.get("allow_large", False)))
        return load_mesh_head(target_set.neutral, target_set=target_set, **options)
    return load_mesh_head(p, **options)


def _load_with_targets(path, folder: Path, **options) -> Rig:
    """An OBJ neutral with its targets in ``folder`` (``--targets``)."""
    from face3d.mesh.io.targets import TargetSet
    from face3d.mesh.load import load_mesh_head

    p = Path(path) if path is not None else None
    if p is None or p.is_dir() or p.suffix.lower() != ".obj":
        what = "the bundled head" if p is None else f"{p}"
        raise MeshError(f"--targets {folder} needs an OBJ head file as the neutral, not {what}; "
                        "give --head NEUTRAL.obj (a glTF head brings its shapes as morph targets)")
    if not p.is_file():
        raise MeshError(f"head file {p} does not exist; check the path")
    if not folder.is_dir():
        raise MeshError(f"--targets {folder} is not a folder; give the folder holding one OBJ per shape")
    try:
        objs = [q for q in folder.iterdir() if q.suffix.lower() == ".obj" and q.is_file()
                and not (q.name == p.name and q.resolve() == p.resolve())]
    except OSError as exc:
        raise MeshError(f"cannot read --targets folder {folder}: {exc.strerror}; check the permissions") from None
    if not objs:
        raise MeshError(f"--targets folder {folder} holds no OBJ files; put one OBJ per shape in it (jawOpen.obj, ...)")
    target_set = TargetSet(folder, p, f"shapes from --targets {folder}")
    return load_mesh_head(p, target_set=target_set, **options)
