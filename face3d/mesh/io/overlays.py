"""See-through helper surfaces of production heads, left out of what face3d draws.

Heads made for real-time engines (ICT FaceKit, MetaHuman, Character Creator, Daz) carry
thin helper meshes in front of the eyes that their engine draws with alpha textures or
blending: eyelash cards, an eye-occlusion shell that shadows the eyeball, a tear line or
lacrimal-fluid strip, a cornea or eye shell. face3d draws every surface opaque, so these
would hide the eyes behind solid grey shells and black bands (the eyes read as hollow
sockets, to us and to a face tracker). They are recognised by their material or object
name and left out; the load info names them (``info['hidden_surfaces']``).
"""

from __future__ import annotations

import numpy as np

from face3d.mesh.io.raw import RawMesh
from face3d.mesh.rig.names import name_has_word

#: Words in a material / object name that mark a see-through helper surface.
OVERLAY_WORDS = ("lash", "occlusion", "tearline", "lacrimal", "moisture", "cornea", "eyeblend",
                 "eyeshell", "eyewet")

#: Never hide more than this share of a head's triangles (a name that matches by accident).
MAX_HIDDEN_SHARE = 0.2


def is_overlay(name: str) -> bool:
    return name_has_word(name, OVERLAY_WORDS)


def hide_overlays(raw: RawMesh) -> list[str]:
    """Drop the triangles (and the vertices only they use) of ``raw``'s see-through helper
    groups, in place. Returns the group names hidden (empty when none, or when they would
    be more than :data:`MAX_HIDDEN_SHARE` of the triangles)."""
    if raw.face_group is None or not raw.groups or len(raw.face_group) != len(raw.faces):
        return []
    # groups drawn with their own alpha cut-out (a textured MASK/BLEND material) stay
    bad = [i for i, g in enumerate(raw.groups) if is_overlay(g) and i not in raw.cutout_groups]
    hide = np.isin(raw.face_group, bad)
    if not hide.any() or hide.mean() > MAX_HIDDEN_SHARE:
        return []
    names = [raw.groups[i] for i in bad if (raw.face_group == i).any()]
    keep_f = ~hide
    faces = raw.faces[keep_f]
    used = np.unique(faces)
    remap = np.full(len(raw.positions), -1, np.int64)
    remap[used] = np.arange(len(used))
    raw.faces = remap[faces]
    raw.face_group = raw.face_group[keep_f]
    raw.positions = raw.positions[used]
    raw.weld = raw.weld[used]  # still the source vertex: OBJ targets are read through it
    for attr in ("colors", "uvs"):
        val = getattr(raw, attr)
        if val is not None:
            setattr(raw, attr, np.asarray(val)[used])
    raw.targets = {k: np.asarray(d)[used] for k, d in raw.targets.items()}
    if raw.gloss is not None:
        raw.gloss = np.asarray(raw.gloss)[used]
    sk = raw.skeleton
    if sk.get("jaw_weights") is not None:
        sk["jaw_weights"] = np.asarray(sk["jaw_weights"])[used]
    if sk.get("eyeballs"):
        sk["eyeballs"] = [(c, int(np.searchsorted(used, a)), int(np.searchsorted(used, b))) for c, a, b in sk["eyeballs"]]
    return names


__all__ = ["hide_overlays", "is_overlay", "OVERLAY_WORDS"]
