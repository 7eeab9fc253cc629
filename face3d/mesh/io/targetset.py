"""Write a Rig as an OBJ target set (``face3d rig``): ``neutral.obj`` plus one OBJ per shape.

The folder opens in Blender (import the OBJs, join the targets as shape keys) and loads
back into face3d unchanged: ``face3d_rig.json`` beside them records that the meshes are
already in face3d's frame (+Y up, +Z forward, centred, unit radius), the per-vertex gloss,
whether to draw both sides, and where each shape came from.

Vertex colours are written as ``v x y z r g b`` (read by Blender 4 and face3d); a texture
is written as ``texture.png`` with ``neutral.mtl``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from face3d.errors import OutputError
from face3d.mesh.io.obj import write_obj
from face3d.mesh.rig import Rig

SIDECAR = "face3d_rig.json"
FORMAT = 1


def _write_obj(path: Path, rig: Rig, positions: np.ndarray, header: str, mtllib: str | None) -> None:
    cols = rig.colors
    uniform = np.allclose(cols, cols[0], atol=1e-6)
    write_obj(path, positions, rig.faces, header=header, colors=None if uniform else cols, uvs=rig.uvs,
              mtllib=mtllib, material="skin" if mtllib else None)


def write_target_set(rig: Rig, folder, *, source: str = "") -> list[Path]:
    """Write ``rig`` into ``folder`` (created if missing). Returns the files written."""
    from face3d.fileio import atomic_open

    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"output {folder} is a file; give a folder name for the OBJ target set, e.g. rigged/")
    if not folder.parent.is_dir() and str(folder.parent):
        raise OutputError(f"cannot write {folder}: folder {folder.parent} does not exist; create it first")
    try:
        folder.mkdir(exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create folder {folder}: {exc.strerror}; choose another path") from None
    written = []
    mtllib = None
    cols = rig.colors
    if rig.texture is not None and rig.uvs is not None:
        from PIL import Image

        from face3d.fileio import atomic_path

        with atomic_path(folder / "texture.png", suffix=".png") as tmp:
            Image.fromarray(np.asarray(rig.texture, np.uint8)).save(tmp, format="PNG")
        written.append(folder / "texture.png")
        mtllib = "neutral.mtl"
        kd = cols[0] if np.allclose(cols, cols[0], atol=1e-6) else np.ones(3)
        with atomic_open(folder / mtllib, "w", encoding="utf-8", newline="\n") as fh:
            fh.write("newmtl skin\nKd %.5g %.5g %.5g\nmap_Kd texture.png\n" % tuple(kd))
        written.append(folder / mtllib)
    header = (f"face3d rig{' of ' + source if source else ''}: neutral mesh, +Y up, +Z forward\n"
              f"shapes in this folder: {', '.join(rig.names) or '(none)'}")
    _write_obj(folder / "neutral.obj", rig, rig.positions, header, mtllib)
    written.append(folder / "neutral.obj")
    for i, name in enumerate(rig.names):
        _write_obj(folder / f"{name}.obj", rig, rig.positions + rig.deltas[i],
                   f"face3d rig: shape {name} (same topology as neutral.obj)", mtllib)
        written.append(folder / f"{name}.obj")
    info = {k: v for k, v in rig.info.items() if k in (
        "source", "found", "synthesised", "landmarks", "lips", "mouth_opened", "frame_center", "frame_radius",
        "up", "forward", "scale", "full_body", "visemes")}
    meta = {
        "format": FORMAT,
        "frame": "face3d",
        "shapes": list(rig.names),
        "double_sided": bool(rig.double_sided),
        "gloss": np.round(rig.gloss.astype(float), 4).tolist()
        if not np.allclose(rig.gloss, rig.gloss[0]) else float(rig.gloss[0]),
        "info": info,
    }
    with atomic_open(folder / SIDECAR, "w", encoding="utf-8", newline="\n") as fh:
        json.dump(meta, fh, indent=1, sort_keys=True)
        fh.write("\n")
    written.append(folder / SIDECAR)
    return written


def read_sidecar(neutral: Path) -> dict | None:
    """The face3d_rig.json beside a neutral.obj written by :func:`write_target_set`, or None."""
    p = Path(neutral).parent / SIDECAR
    if Path(neutral).name.lower() != "neutral.obj" or not p.is_file():
        return None
    try:
        meta = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or meta.get("frame") != "face3d":
        return None
    return meta


__all__ = ["write_target_set", "read_sidecar", "SIDECAR"]
