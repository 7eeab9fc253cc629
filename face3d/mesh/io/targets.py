"""OBJ target sets: a neutral OBJ plus one same-topology OBJ per blendshape.

A lone OBJ is a head: the OBJs beside it are never read as its shapes (``head_backup.obj``
or ``head_lowpoly.obj`` next to ``head.obj`` are other files, not blendshapes). A target
set is given explicitly, one of two ways:

* a folder of OBJs: one neutral and every other OBJ in it a target (``jawOpen.obj``,
  ``viseme_aa.obj`` ..., or ``head_jawOpen.obj`` beside ``head.obj``: the neutral's name
  and a separator are taken off); :func:`find_neutral` picks the neutral (see there);
* a neutral OBJ and a folder of targets (``--targets DIR``): every OBJ in the folder is a
  target.

Targets are read with the same reader as the neutral and must have exactly as many
vertices (``v`` lines) in the same order; each becomes a per-vertex delta.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from face3d.errors import MeshError
from face3d.mesh.io.obj import read_obj_positions
from face3d.mesh.io.raw import RawMesh
from face3d.mesh.rig.names import is_shape_name

_SEPARATORS = ("_", "-", ".")


@dataclass
class TargetSet:
    """A target-set folder and the neutral OBJ: chosen in the folder given as a head, or
    given beside ``--targets`` (and why)."""

    folder: Path
    neutral: Path
    reason: str

    def describe(self) -> str:
        return f"neutral {self.neutral.name} ({self.reason})"


def _obj_files(folder: Path) -> list[Path]:
    try:
        return sorted(p for p in folder.iterdir() if p.suffix.lower() == ".obj" and p.is_file())
    except OSError as exc:
        raise MeshError(f"cannot read head folder {folder}: {exc.strerror}; check the permissions") from None


def _ambiguous(folder: Path, candidates: list[Path]) -> MeshError:
    names = ", ".join(p.name for p in candidates[:4]) + (", ..." if len(candidates) > 4 else "")
    return MeshError(
        f"head folder {folder} has {len(candidates)} OBJs that could be the neutral ({names}); "
        f"name the neutral neutral.obj (or *neutral*.obj), or give its file, e.g. --head {candidates[0]}"
    )


def find_neutral(folder, *, allow_large: bool = False) -> TargetSet:
    """Choose the neutral OBJ of a target-set folder.

    In order: the only OBJ; ``neutral.obj``; the one OBJ whose name contains "neutral";
    the one OBJ whose name prefixes every other (``head.obj``, ``head_jawOpen.obj``); else
    among the OBJs with the most common vertex count, the one not named like a blendshape
    (``jawOpen``, ``viseme_aa`` ...), or failing that the one the others differ from at the
    fewest vertices (a target moves only part of the face). Two equally good candidates are
    a :class:`MeshError` naming the folder and what to do.
    """
    folder = Path(folder)
    objs = _obj_files(folder)
    if not objs:
        raise MeshError(
            f"head folder {folder} holds no OBJ files; give a mesh file (.obj, .glb, .ply, .stl) "
            "or a folder of a neutral.obj plus one OBJ per shape"
        )
    if len(objs) == 1:
        return TargetSet(folder, objs[0], "the only OBJ in the folder")
    for rule, reason in ((lambda s: s == "neutral", "named neutral"),
                         (lambda s: "neutral" in s, "its name contains 'neutral'")):
        named = [p for p in objs if rule(p.stem.lower())]
        if len(named) == 1:
            return TargetSet(folder, named[0], reason)
        if named:
            raise _ambiguous(folder, named)
    prefixed = [p for p in objs if all(q == p or q.stem.startswith(tuple(p.stem + s for s in _SEPARATORS))
                                       for q in objs)]
    if len(prefixed) == 1:
        return TargetSet(folder, prefixed[0], f"every other OBJ is named {prefixed[0].stem}_<shape>")
    return _neutral_by_topology(folder, objs, allow_large)


def _neutral_by_topology(folder: Path, objs: list[Path], allow_large: bool) -> TargetSet:
    positions = {p: read_obj_positions(p, allow_large=allow_large) for p in objs}
    counts = [len(v) for v in positions.values()]
    n = max(set(counts), key=lambda c: (counts.count(c), c))
    group = [p for p in objs if len(positions[p]) == n]
    shaped = [p for p in group if is_shape_name(p.stem)]
    candidates = [p for p in group if p not in shaped] or group
    if len(candidates) == 1:
        return TargetSet(folder, candidates[0], f"the one OBJ with the targets' {n} vertices not named like a shape")
    refs = shaped or group
    size = max(float(np.ptp(np.concatenate([positions[p] for p in group]), axis=0).max()), 1e-12)

    def moved(c):
        return sum(int((np.abs(positions[r] - positions[c]).max(axis=1) > 1e-6 * size).sum())
                   for r in refs if r != c)

    scores = sorted((moved(c), c) for c in candidates)
    if scores[0][0] < scores[1][0]:
        return TargetSet(folder, scores[0][1], "the OBJ the targets differ from at the fewest vertices")
    raise _ambiguous(folder, [c for s, c in scores if s == scores[0][0]])


def find_target_files(path: Path, folder: Path) -> dict[str, Path]:
    """{shape name: target OBJ} in ``folder`` for the neutral OBJ at ``path`` (may be empty).

    Every OBJ in the folder but the neutral is a target; where some are named
    ``<neutral>_<shape>`` (also ``-`` or ``.``), only those are, named by what follows."""
    path = Path(path)
    stem = path.stem
    out: dict[str, Path] = {}
    try:
        others = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() == ".obj" and p.is_file()
                        and not (p.name == path.name and p.resolve() == path.resolve()))
    except OSError:
        return out
    for p in others:
        for sep in _SEPARATORS:
            prefix = stem + sep
            if p.stem.startswith(prefix) and len(p.stem) > len(prefix):
                out.setdefault(p.stem[len(prefix):], p)
                break
    if not out:
        for p in others:
            out.setdefault(p.stem, p)
    return out


def unread_shapes_note(path: Path) -> str | None:
    """A hint for a lone OBJ whose folder looks like a target set (``head_jawOpen.obj`` beside
    ``head.obj``, or other OBJs beside a ``*neutral*.obj``), else None."""
    path = Path(path)
    try:
        others = sorted(p.name for p in path.parent.iterdir()
                        if p.suffix.lower() == ".obj" and p.name != path.name and p.is_file())
    except OSError:
        return None
    shaped = [n for n in others if any(n.startswith(path.stem + sep) and is_shape_name(n[len(path.stem) + 1:-4])
                                       for sep in _SEPARATORS)]
    if not shaped and not ("neutral" in path.stem.lower() and others):
        return None
    names = ", ".join((shaped or others)[:3]) + (", ..." if len(shaped or others) > 3 else "")
    return (f"{path.name} read alone, without the OBJs beside it ({names}); to use them as its "
            f"shapes give the folder (--head {path.parent}) or --targets FOLDER")


def attach_target_files(raw: RawMesh, *, allow_large: bool = False, target_set: TargetSet | None = None) -> None:
    """Read the target OBJs of an OBJ neutral's target set into ``raw.targets`` (file units).

    Without a ``target_set`` (a lone OBJ) nothing is read."""
    if raw.fmt != "obj" or target_set is None:
        return
    files = find_target_files(raw.path, target_set.folder)
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
