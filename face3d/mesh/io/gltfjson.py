"""A fast, read-only view of a glTF document: the JSON parsed with ``json`` and read by
attribute (``g.accessors[3].componentType``), missing properties as None, ``extras`` and
``extensions`` as plain dicts. pygltflib builds a dataclass for every object, which takes
seconds on an avatar's JSON; this takes milliseconds. GLB (and ``.vrm``) binary chunks and
plain ``.gltf`` JSON are both read here."""

from __future__ import annotations

import json
import struct
from pathlib import Path

_RAW = ("extras", "extensions")


class GltfObject:
    """One JSON object read by attribute; nested objects and lists are wrapped on first use."""

    __slots__ = ("_d", "_cache")

    def __init__(self, d: dict):
        self._d = d
        self._cache: dict = {}

    def __getattr__(self, key):
        if key.startswith("__") or key in ("_d", "_cache"):
            raise AttributeError(key)
        cache = self._cache
        if key not in cache:
            v = self._d.get(key)
            cache[key] = v if key in _RAW else wrap(v)
        return cache[key]

    def get(self, key, default=None):
        return getattr(self, key) if key in self._d else default


def wrap(v):
    if isinstance(v, dict):
        return GltfObject(v)
    if isinstance(v, list):
        return [wrap(x) for x in v]
    return v


class GltfDocument(GltfObject):
    """The whole document, with the GLB's binary chunk (None for a .gltf)."""

    __slots__ = ("_blob",)

    def __init__(self, d: dict, blob: bytes | None):
        super().__init__(d)
        self._blob = blob

    def binary_blob(self) -> bytes | None:
        return self._blob


def read_document(path: Path) -> GltfDocument:
    """Parse ``path`` (GLB by its magic bytes, else glTF JSON); raises ValueError (or the
    JSON / struct error) on a malformed file."""
    data = Path(path).read_bytes()
    blob = None
    if data[:4] == b"glTF":
        if len(data) < 20:
            raise ValueError("truncated GLB header")
        _, _, total = struct.unpack_from("<4sII", data, 0)
        off, chunks = 12, {}
        end = min(total, len(data))
        while off + 8 <= end:
            n, kind = struct.unpack_from("<II", data, off)
            chunks.setdefault(kind, data[off + 8: off + 8 + n])
            off += 8 + n  # chunk lengths include their padding
        if 0x4E4F534A not in chunks:
            raise ValueError("no JSON chunk")
        text = chunks[0x4E4F534A]
        blob = chunks.get(0x004E4942)
    else:
        text = data
    doc = json.loads(text.decode("utf-8-sig") if isinstance(text, bytes) else text)
    if not isinstance(doc, dict) or "asset" not in doc:
        raise ValueError("not a glTF document")
    return GltfDocument(doc, blob)
