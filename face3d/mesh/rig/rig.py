"""The rig: a neutral head mesh plus per-shape position and normal deltas.

``Rig.apply`` is the numpy reference for blendshape math; the vertex shader in
``shaders/head.vert`` is tested against it. :func:`build_rig` is the one place a Rig is
assembled from geometry (smooth normals, normal deltas); the loaders, the auto-rig and the
default head all go through it. ``Rig.save`` / ``Rig.load`` write and read ``.npz`` rigs.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from face3d.errors import MeshError, UsageError
from face3d.mesh.geometry import unit as _unit
from face3d.mesh.geometry import accumulate, face_normals, vertex_normals, welded_normals  # noqa: F401

#: face3d's own shapes, in the order the CSV and analysis use.
SHAPES = ("jawOpen", "mouthWide", "mouthPucker", "mouthClose")

#: the blink and brow shapes the alive curves drive (ARKit names); a loaded head keeps its
#: own (see :mod:`face3d.mesh.rig.names`), nothing synthesises them for custom heads.
FACE_SHAPES = ("eyeBlinkLeft", "eyeBlinkRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight")

_RIG_FORMAT = 1


@dataclass
class Rig:
    """A head ready to draw and deform.

    positions : (V, 3) float32, neutral vertex positions (head frame: +Y up, +Z forward)
    normals   : (V, 3) float32, unit neutral normals
    faces     : (F, 3) uint32, triangles, counter-clockwise seen from outside
    names     : tuple of K shape names
    deltas    : (K, V, 3) float32, position offset of each shape at weight 1
    normal_deltas : (K, V, 3) float32, normal offset of each shape at weight 1
                (the deformed normal is renormalised after summing)
    colors    : (V, 3) float32 sRGB base colour in [0, 1]
    gloss     : (V,) float32 specular strength in [0, 1] (skin ~0.3, eyes 1, mouth 0)
    uvs       : optional (V, 2) float32 texture coordinates
    texture   : optional (H, W, 3 or 4) uint8 base-colour image (sRGB)
    double_sided : draw both sides of every triangle (open meshes, inconsistent winding);
                False lets the renderer cull back faces, which halves fragment work
    info      : free-form notes (e.g. which shapes were found or synthesised)
    """

    positions: np.ndarray
    normals: np.ndarray
    faces: np.ndarray
    names: tuple
    deltas: np.ndarray
    normal_deltas: np.ndarray
    colors: np.ndarray | None = None
    gloss: np.ndarray | None = None
    uvs: np.ndarray | None = None
    texture: np.ndarray | None = None
    double_sided: bool = False
    info: dict = field(default_factory=dict)

    def __post_init__(self):
        self.positions = np.ascontiguousarray(self.positions, dtype=np.float32)
        self.normals = np.ascontiguousarray(self.normals, dtype=np.float32)
        self.faces = np.ascontiguousarray(self.faces, dtype=np.uint32)
        self.names = tuple(str(n) for n in self.names)
        v = len(self.positions)
        k = len(self.names)
        self.deltas = np.ascontiguousarray(self.deltas, dtype=np.float32).reshape(k, v, 3)
        self.normal_deltas = np.ascontiguousarray(self.normal_deltas, dtype=np.float32).reshape(k, v, 3)
        if self.colors is None:
            self.colors = np.full((v, 3), 0.8, np.float32)
        self.colors = np.ascontiguousarray(self.colors, dtype=np.float32).reshape(v, 3)
        if self.gloss is None:
            self.gloss = np.full(v, 0.3, np.float32)
        self.gloss = np.ascontiguousarray(self.gloss, dtype=np.float32).reshape(v)
        if self.uvs is not None:
            self.uvs = np.ascontiguousarray(self.uvs, dtype=np.float32).reshape(v, 2)

    # ------------------------------------------------------------------ basics
    @property
    def n_vertices(self) -> int:
        return len(self.positions)

    @property
    def n_shapes(self) -> int:
        return len(self.names)

    def shape_index(self, name: str) -> int:
        try:
            return self.names.index(name)
        except ValueError:
            raise UsageError(
                f"unknown shape '{name}'; this head has: {', '.join(self.names) or '(none)'}"
            ) from None

    def weight_vector(self, weights) -> np.ndarray:
        """Turn a ``{name: weight}`` mapping (or a (K,) sequence) into a (K,) float32 array.

        Names the head does not have raise :class:`UsageError` listing the available ones.
        """
        if isinstance(weights, dict):
            w = np.zeros(self.n_shapes, np.float32)
            for name, value in weights.items():
                w[self.shape_index(name)] = value
            return w
        w = np.asarray(weights, dtype=np.float32).reshape(-1)
        if len(w) != self.n_shapes:
            raise ValueError(f"expected {self.n_shapes} weights, got {len(w)}")
        return w

    def moved_mask(self, eps: float = 1e-7) -> np.ndarray:
        """(V,) bool: vertices that at least one shape moves (position or normal)."""
        if self.n_shapes == 0:
            return np.zeros(self.n_vertices, bool)
        m = np.abs(self.deltas).max(axis=(0, 2)) > eps
        m |= np.abs(self.normal_deltas).max(axis=(0, 2)) > eps
        return m

    # ------------------------------------------------------------ the oracle
    def apply(self, weights) -> tuple[np.ndarray, np.ndarray]:
        """Deform the neutral mesh: the numpy reference for the vertex shader.

        weights : (K,) array or {name: weight}
        returns (positions (V, 3) float32, normals (V, 3) float32, unit length)

        position = neutral + sum_k w_k * delta_k;
        normal   = normalize(neutral_normal + sum_k w_k * normal_delta_k).
        """
        w = self.weight_vector(weights).astype(np.float32)
        if self.n_shapes == 0:
            return self.positions.copy(), self.normals.copy()
        pos = self.positions + np.tensordot(w, self.deltas, axes=(0, 0))
        nrm = self.normals + np.tensordot(w, self.normal_deltas, axes=(0, 0))
        return pos.astype(np.float32), _unit(nrm)

    # ----------------------------------------------------------- building
    @classmethod
    def from_targets(cls, positions, faces, targets: dict, **kwargs) -> "Rig":
        """Build a rig from full target meshes ``{name: (V, 3) positions}`` of the same
        topology (see :func:`build_rig`)."""
        return build_rig(positions, faces, targets, as_targets=True, **kwargs)

    # ------------------------------------------------------- file format
    def save(self, path: str | Path) -> None:
        """Write a deterministic .npz (fixed zip timestamps, sorted members, deflate).

        The same rig gives the same bytes every time.
        """
        arrays = {
            "positions": self.positions,
            "normals": self.normals,
            "faces": self.faces,
            "deltas": self.deltas,
            "normal_deltas": self.normal_deltas,
            "colors": self.colors,
            "gloss": self.gloss,
        }
        if self.uvs is not None:
            arrays["uvs"] = self.uvs
        if self.texture is not None:
            arrays["texture"] = np.asarray(self.texture, np.uint8)
        meta = {"format": _RIG_FORMAT, "names": list(self.names), "info": self.info}
        if self.double_sided:
            meta["double_sided"] = True
        from face3d.fileio import atomic_path

        with atomic_path(path, suffix=".npz") as tmp:
            with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
                zi = zipfile.ZipInfo("meta.json", date_time=(1980, 1, 1, 0, 0, 0))
                zi.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(zi, json.dumps(meta, sort_keys=True, indent=1))
                for name in sorted(arrays):
                    buf = io.BytesIO()
                    np.lib.format.write_array(buf, np.ascontiguousarray(arrays[name]), allow_pickle=False)
                    zi = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
                    zi.compress_type = zipfile.ZIP_DEFLATED
                    zf.writestr(zi, buf.getvalue())

    @classmethod
    def load(cls, path: str | Path) -> "Rig":
        """Read a rig written by :meth:`save`."""
        path = Path(path)
        try:
            with zipfile.ZipFile(path) as zf:
                meta = json.loads(zf.read("meta.json"))
                arrays = {}
                for member in zf.namelist():
                    if member.endswith(".npy"):
                        arrays[member[:-4]] = np.lib.format.read_array(
                            io.BytesIO(zf.read(member)), allow_pickle=False
                        )
        except (OSError, zipfile.BadZipFile, KeyError, ValueError) as exc:
            raise MeshError(f"cannot read rig file {path}: {exc}; regenerate it") from None
        return cls(
            names=tuple(meta["names"]),
            info=meta.get("info", {}),
            double_sided=bool(meta.get("double_sided", False)),
            **arrays,
        )


def build_rig(positions, faces, shapes: dict, *, as_targets: bool = False, weld=None, normals=None,
              info: dict | None = None, **attributes) -> Rig:
    """The one place a :class:`Rig` is assembled from geometry (``Rig.load`` restores saved ones).

    shapes     : {name: (V, 3)} position deltas at weight 1, in the order the rig keeps them;
                 with ``as_targets`` full target positions instead
    weld       : optional (V,) index; vertices sharing one (seams, split corners) share one
                 normal. Without it every vertex has its own smooth normal.
    normals    : optional (V, 3) neutral normals to store instead of the computed ones (the
                 normal deltas are always relative to the computed ones)
    attributes : colors, gloss, uvs, texture, double_sided (see :class:`Rig`)

    Normal deltas are the change of the smooth normals between the neutral and each shape;
    they are exactly zero wherever no triangle touching the vertex moved, so the renderer
    can skip vertices no shape moves.
    """
    positions = np.asarray(positions, np.float32)
    faces = np.asarray(faces, np.uint32) if weld is None else np.asarray(faces, np.int64)
    weld = None if weld is None else np.asarray(weld, np.int64)

    v = len(positions)
    if weld is None:  # the bundled head's path, kept byte for byte
        return _build_full(positions, faces, shapes, as_targets, normals, info, attributes)
    # Smooth normals on the welded mesh (vertices sharing a weld index share one normal),
    # kept as unnormalised sums so that each shape recomputes only the triangles it moves
    # (a loaded avatar's dozens of shapes each touch a small part of it).
    wid, wf = weld, weld[faces]
    nw = int(wid.max()) + 1 if v else 0
    wpos = np.zeros((nw, 3))
    wpos[wid] = positions
    fn0 = face_normals(wpos, wf)
    acc0 = accumulate(wf, fn0, nw)
    base_w = _unit(acc0)
    base = base_w[wid]
    names = tuple(shapes)
    deltas = np.zeros((len(names), v, 3), np.float32)
    ndeltas = np.zeros((len(names), v, 3), np.float32)
    for i, name in enumerate(names):
        target, deltas[i] = _target_and_delta(name, shapes[name], positions, as_targets)
        if np.any(deltas[i] != 0):
            dw = np.zeros((nw, 3))
            dw[wid] = target.astype(np.float64) - positions  # the welded positions move as they would
            touched_f = np.any(dw != 0, axis=1)[wf].any(1)
            if touched_f.any():
                ff = wf[touched_f]
                acc = acc0 + accumulate(ff, face_normals(wpos + dw, ff) - fn0[touched_f], nw)
                near = np.zeros(nw, bool)
                near[ff.ravel()] = True
                nd = np.zeros((nw, 3), np.float32)
                nd[near] = _unit(acc[near]) - base_w[near]
                ndeltas[i] = nd[wid]
    return Rig(positions=positions, normals=base if normals is None else normals, faces=faces, names=names,
               deltas=deltas, normal_deltas=ndeltas, info={} if info is None else info, **attributes)


def _target_and_delta(name, shape, positions, as_targets: bool):
    """(the shape's target positions, its delta from ``positions``); MeshError on another topology."""
    s = np.asarray(shape, np.float32)
    if s.shape != positions.shape:
        raise MeshError(
            f"shape '{name}' has {len(s)} vertices but the neutral mesh has "
            f"{len(positions)}; blendshape targets must share the neutral topology"
        )
    return (s, s - positions) if as_targets else (positions + s, s)


def _build_full(positions, faces, shapes, as_targets, normals, info, attributes) -> Rig:
    """build_rig without a weld: every shape's normals from the whole mesh."""
    base = vertex_normals(positions, faces)
    v = len(positions)
    names = tuple(shapes)
    deltas = np.zeros((len(names), v, 3), np.float32)
    ndeltas = np.zeros((len(names), v, 3), np.float32)
    for i, name in enumerate(names):
        target, deltas[i] = _target_and_delta(name, shapes[name], positions, as_targets)
        if np.any(deltas[i] != 0):
            ndeltas[i] = vertex_normals(target, faces) - base
    return Rig(positions=positions, normals=base if normals is None else normals, faces=faces, names=names,
               deltas=deltas, normal_deltas=ndeltas, info={} if info is None else info, **attributes)
