"""OBJ target sets: a neutral OBJ plus one same-topology OBJ per blendshape.

Two layouts are found automatically:

* ``head.obj`` with siblings ``head_jawOpen.obj``, ``head_mouthWide.obj`` ... (also
  ``head-jawOpen.obj`` and ``head.jawOpen.obj``);
* a neutral whose name contains "neutral" (``neutral.obj``, ``generic_neutral_mesh.obj``)
  with every other OBJ in its folder as a target (``jawOpen.obj``, ``viseme_aa.obj`` ...).

Targets are read with the same reader as the neutral and must have exactly as many
vertices (``v`` lines) in the same order; each becomes a per-vertex delta.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from face3d.errors import MeshError
from face3d.mesh.raw import RawMesh


def find_target_files(path: Path) -> dict[str, Path]:
    """{shape name: target OBJ} for the neutral OBJ at ``path`` (may be empty)."""
    path = Path(path)
    folder = path.parent
    stem = path.stem
    out: dict[str, Path] = {}
    try:
        siblings = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".obj" and p != path and p.is_file())
    except OSError:
        return out
    for p in siblings:
        for sep in ("_", "-", "."):
            prefix = stem + sep
            if p.stem.startswith(prefix) and len(p.stem) > len(prefix):
                out.setdefault(p.stem[len(prefix):], p)
                break
    if "neutral" in stem.lower() and not out:
        for p in siblings:
            out.setdefault(p.stem, p)
    return out


def attach_target_files(raw: RawMesh, *, allow_large: bool = False) -> None:
    """Read the target OBJs next to an OBJ neutral into ``raw.targets`` (file units)."""
    if raw.fmt != "obj":
        return
    from face3d.mesh.obj import read_obj_positions

    files = find_target_files(raw.path)
    if not files:
        return
    src = np.zeros((raw.n_weld, 3))
    src[raw.weld] = raw.positions
    for name, p in files.items():
        pos = read_obj_positions(p, allow_large=allow_large)
        if len(pos) != raw.n_weld:
            raise MeshError(
                f"target mesh {p} has {len(pos)} vertices but the neutral {raw.path.name} has {raw.n_weld}; "
                "export every target with the neutral's topology and vertex order (or move it out of the folder)"
            )
        if not np.isfinite(pos).all():
            raise MeshError(f"target mesh {p} has NaN or infinite coordinates; repair or re-export it")
        raw.targets[name] = (pos - src)[raw.weld]
    raw.target_files = {k: str(v) for k, v in files.items()}
