"""glTF / VRM materials as face3d draws them: one base-colour texture atlas, alpha cut-outs
and toon shading.

* Every base-colour texture goes into one atlas (the images stacked, scaled to one width),
  so a VRoid avatar's face, body, hair and eye textures all stay textures.
* ``alphaMode`` MASK (and BLEND, drawn as a cut-out: hair cards, lashes) keeps the image's
  alpha, rescaled so that the material's ``alphaCutoff`` falls at 0.5 (the shader discards
  below 0.5); OPAQUE parts get alpha 1, whatever their image holds.
* MToon (``VRMC_materials_mtoon``, VRM 0.x ``VRM/MToon``) and ``KHR_materials_unlit``
  materials are toon-shaded: their vertices carry gloss -1, which the fragment shader reads
  as "flat colour with one soft shadow step, no highlight" instead of lit plastic.
"""

from __future__ import annotations

import numpy as np

#: gloss that marks a toon-shaded (MToon / unlit) vertex for the fragment shader
TOON_GLOSS = -1.0
_MAX_WIDTH = 2048
_MAX_HEIGHT = 8192
_PAD = 4


def material_look(g, index, vrm0_materials=None) -> dict:
    """{"toon": bool, "cutoff": float or None (None: opaque)} for material ``index``."""
    if index is None:
        return {"toon": False, "cutoff": None}
    m = g.materials[index]
    ext = m.extensions if isinstance(m.extensions, dict) else {}
    toon = "VRMC_materials_mtoon" in ext or "KHR_materials_unlit" in ext
    if vrm0_materials and index < len(vrm0_materials):
        prop = vrm0_materials[index] if isinstance(vrm0_materials[index], dict) else {}
        toon = toon or "mtoon" in str(prop.get("shader", "")).lower() or "unlit" in str(prop.get("shader", "")).lower()
    mode = (m.alphaMode or "OPAQUE").upper()
    cutoff = None
    if mode == "MASK":
        cutoff = float(m.alphaCutoff) if m.alphaCutoff is not None else 0.5
    elif mode == "BLEND":
        cutoff = 0.5
    return {"toon": toon, "cutoff": cutoff}


def vrm0_material_properties(g) -> list:
    ext = g.extensions if isinstance(g.extensions, dict) else {}
    vrm = ext.get("VRM") if isinstance(ext.get("VRM"), dict) else {}
    props = vrm.get("materialProperties")
    return props if isinstance(props, list) else []


def _fit(img: np.ndarray, width: int, rgba: bool) -> np.ndarray:
    from PIL import Image

    if img.ndim == 2:
        img = np.stack([img] * 3, -1)
    if rgba and img.shape[2] == 3:
        img = np.concatenate([img, np.full(img.shape[:2] + (1,), 255, np.uint8)], 2)
    if not rgba:
        img = img[:, :, :3]
    if img.shape[1] != width:
        h = max(int(round(img.shape[0] * width / img.shape[1])), 1)
        img = np.asarray(Image.fromarray(img).resize((width, h), Image.BILINEAR))
    return img


def build_atlas(parts: list, images: dict):
    """parts: per drawn primitive ``(n, uvs or None, texture key or None, cutoff)``;
    images: key -> (H, W, 3|4) uint8. Returns ``(uvs (V, 2), atlas)`` or ``(None, None)``
    when nothing is textured. Untextured parts sample a white strip at the bottom."""
    keys = sorted({p[2] for p in parts if p[2] is not None and images.get(p[2]) is not None})
    if not keys:
        return None, None
    cut = {}
    for _, _, k, c in parts:
        if k is not None and c is not None:
            cut.setdefault(k, c)
    rgba = bool(cut)
    width = min(max(images[k].shape[1] for k in keys), _MAX_WIDTH)
    tiles = []
    for k in keys:
        t = _fit(images[k], width, rgba).copy()
        if rgba:
            if k in cut:  # the cut-off at 0.5, where the shader discards
                a = t[:, :, 3].astype(np.float64) * (0.5 / max(cut[k], 1e-3))
                t[:, :, 3] = np.clip(np.round(a), 0, 255).astype(np.uint8)
            else:
                t[:, :, 3] = 255
        tiles.append(t)
    total = sum(t.shape[0] for t in tiles) + _PAD
    if total > _MAX_HEIGHT:  # too tall for one GL texture: scale every tile down
        f = (_MAX_HEIGHT - _PAD) / (total - _PAD)
        width = max(int(width * f), 1)
        tiles = [_fit(t, width, rgba) for t in tiles]
        total = sum(t.shape[0] for t in tiles) + _PAD
    white = np.full((_PAD, width, tiles[0].shape[2]), 255, np.uint8)
    atlas = np.concatenate(tiles + [white], 0)
    top = dict(zip(keys, np.cumsum([0] + [t.shape[0] for t in tiles[:-1]])))
    height = {k: t.shape[0] for k, t in zip(keys, tiles)}
    single = len(keys) == 1 and all(p[2] is not None for p in parts)
    out = []
    for n, uv, k, _ in parts:
        if k is None or uv is None or k not in top:
            out.append(np.tile([0.5, 0.5 * _PAD / total], (n, 1)))
            continue
        uv = np.asarray(uv, np.float64)
        if single:  # one texture over everything: GL's repeat still works, no remapping
            out.append(uv)
            continue
        if uv.min() < -1e-3 or uv.max() > 1 + 1e-3:
            uv = uv % 1.0  # wrapped coordinates: each vertex into the tile
        u = uv[:, 0]
        v = (total - top[k] - height[k] + uv[:, 1] * height[k]) / total  # v counts from the bottom row
        out.append(np.stack([u, v], 1))
    if single:
        atlas = atlas[:-_PAD]
    return np.concatenate(out), atlas
