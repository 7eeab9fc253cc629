"""glTF 2.0 / GLB / VRM reader with morph targets (trimesh drops them).

Every mesh node of the default scene is flattened into one RawMesh with its world
transform (skinned meshes are posed at their bind pose); morph target deltas are carried
through the same transforms and gathered by name across meshes (a head and its teeth
often both have ``jawOpen``). Base colours, COLOR_0 and the base-colour textures (one atlas,
alpha cut-outs, toon shading for MToon: see ``materials``) are kept.
"""

from __future__ import annotations

import base64
from pathlib import Path

import numpy as np

from face3d.errors import MeshError
from face3d.mesh.geometry import weld_by_position
from face3d.mesh.io.gltfjson import read_document
from face3d.mesh.io.materials import TOON_GLOSS, build_atlas, material_look, vrm0_material_properties
from face3d.mesh.io.raw import RawMesh, check_vertex_count
from face3d.mesh.io.skeleton import jaw_nodes, skeleton_hints
from face3d.mesh.io.vrm import expression_deltas, read_vrm

_COMPONENT = {5120: np.int8, 5121: np.uint8, 5122: np.int16, 5123: np.uint16, 5125: np.uint32, 5126: np.float32}
_NORM = {5120: 127.0, 5121: 255.0, 5122: 32767.0, 5123: 65535.0, 5125: 4294967295.0}
_WIDTH = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT2": 4, "MAT3": 9, "MAT4": 16}
_UNREADABLE = {
    "KHR_draco_mesh_compression": "Draco-compressed",
    "EXT_meshopt_compression": "meshopt-compressed",
    "KHR_meshopt_compression": "meshopt-compressed",
    "KHR_mesh_quantization": "quantized",
    "EXT_texture_webp": "WebP-textured",
}
#: required extensions that change nothing face3d reads (or that it reads itself)
_DECODABLE = {"KHR_materials_unlit", "KHR_materials_emissive_strength",
              "KHR_materials_ior", "KHR_materials_specular", "VRMC_vrm", "VRMC_materials_mtoon",
              "VRMC_springBone", "VRMC_node_constraint", "VRM"}


def _srgb(linear):
    return np.power(np.clip(linear, 0, 1), 1 / 2.2)


class _Reader:
    def __init__(self, path: Path):
        self.path = path
        try:
            self.g = read_document(path)  # a GLB (or a .vrm) by its magic bytes, else JSON
        except Exception as exc:  # noqa: BLE001 - any parse failure is a broken file
            raise MeshError(
                f"cannot read glTF file {path} ({type(exc).__name__}: {str(exc).splitlines()[0][:80] if str(exc) else 'corrupt'}); "
                "the file is corrupt or truncated; export it again"
            ) from None
        if self.g is None:
            raise MeshError(f"cannot read glTF file {path}: not a glTF/GLB file; export it again")
        required = [e for e in (self.g.extensionsRequired or []) if e not in _DECODABLE]
        if required:
            what = next((w for e, w in _UNREADABLE.items() if e in required), "encoded with extensions")
            raise MeshError(
                f"glTF file {path} is {what} (it requires {', '.join(required)}), which face3d cannot decode; "
                "export it again without compression (e.g. gltf-transform copy, or untick compression in Blender)"
            )
        self._buffers: dict = {}

    def buffer(self, index: int) -> bytes:
        if index not in self._buffers:
            b = self.g.buffers[index]
            if b.uri is None:
                data = self.g.binary_blob()
            elif b.uri.startswith("data:"):
                data = base64.b64decode(b.uri.split(",", 1)[1])
            else:
                try:
                    data = (self.path.parent / b.uri).read_bytes()
                except OSError:
                    raise MeshError(
                        f"glTF file {self.path} refers to buffer '{b.uri}', which is missing; "
                        "keep the .bin next to the .gltf, or export a single .glb"
                    ) from None
            if data is None:
                raise MeshError(f"glTF file {self.path} has no binary data (truncated GLB?); export it again")
            self._buffers[index] = data
        return self._buffers[index]

    def view_bytes(self, index: int) -> tuple[bytes, int, int | None]:
        bv = self.g.bufferViews[index]
        return self.buffer(bv.buffer), (bv.byteOffset or 0), bv.byteStride

    def accessor(self, index: int) -> np.ndarray:
        a = self.g.accessors[index]
        dtype = np.dtype(_COMPONENT[a.componentType]).newbyteorder("<")
        width = _WIDTH[a.type]
        count = a.count
        if a.bufferView is not None:
            data, off, stride = self.view_bytes(a.bufferView)
            off += a.byteOffset or 0
            item = dtype.itemsize * width
            stride = stride or item
            need = off + stride * (count - 1) + item if count else off
            if need > len(data):
                raise MeshError(
                    f"glTF file {self.path} is truncated (accessor {index} needs {need} bytes, the buffer has {len(data)}); "
                    "export it again"
                )
            if stride == item:
                out = np.frombuffer(data, dtype, count * width, off).reshape(count, width)
            else:
                raw = np.frombuffer(data, np.uint8, stride * (count - 1) + item, off)
                rows = np.lib.stride_tricks.as_strided(raw, (count, item), (stride, 1))
                out = np.ascontiguousarray(rows).view(dtype).reshape(count, width)
        else:
            out = np.zeros((count, width), dtype)
        out = out.astype(np.float64) if dtype.kind == "f" or a.normalized else out.astype(np.int64)
        if a.normalized and a.componentType in _NORM:
            out = np.maximum(out / _NORM[a.componentType], -1.0)
        if a.sparse is not None and a.sparse.count:
            sp = a.sparse
            idt = np.dtype(_COMPONENT[sp.indices.componentType]).newbyteorder("<")
            data, off, _ = self.view_bytes(sp.indices.bufferView)
            idx = np.frombuffer(data, idt, sp.count, off + (sp.indices.byteOffset or 0)).astype(np.int64)
            data, off, _ = self.view_bytes(sp.values.bufferView)
            vals = np.frombuffer(data, dtype, sp.count * width, off + (sp.values.byteOffset or 0)).reshape(sp.count, width)
            vals = vals.astype(np.float64)
            if a.normalized and a.componentType in _NORM:
                vals = vals / _NORM[a.componentType]
            out = out.astype(np.float64)
            out[idx] = vals
        return out

    def image(self, tex_index: int, warnings: list) -> np.ndarray | None:
        try:
            tex = self.g.textures[tex_index]
            img = self.g.images[tex.source]
            if img.bufferView is not None:
                data, off, _ = self.view_bytes(img.bufferView)
                blob = data[off: off + self.g.bufferViews[img.bufferView].byteLength]
            elif img.uri and img.uri.startswith("data:"):
                blob = base64.b64decode(img.uri.split(",", 1)[1])
            else:
                blob = (self.path.parent / img.uri).read_bytes()
            import io

            from PIL import Image

            with Image.open(io.BytesIO(blob)) as im:
                im = im.convert("RGBA" if "A" in im.mode or im.mode == "P" else "RGB")
                return np.asarray(im, np.uint8).copy()
        except Exception as exc:  # noqa: BLE001 - a broken texture is not fatal
            warnings.append(f"a texture could not be read ({type(exc).__name__}); drawn untextured")
            return None


def _node_matrix(node) -> np.ndarray:
    if node.matrix is not None and len(node.matrix) == 16:
        return np.asarray(node.matrix, np.float64).reshape(4, 4).T  # column-major
    m = np.eye(4)
    s = np.asarray(node.scale if node.scale is not None else (1, 1, 1), np.float64)
    x, y, z, w = node.rotation if node.rotation is not None else (0, 0, 0, 1)
    r = np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )
    m[:3, :3] = r * s[None, :]
    m[:3, 3] = node.translation if node.translation is not None else (0, 0, 0)
    return m


def _triangles(mode: int, idx: np.ndarray) -> np.ndarray | None:
    if mode == 4:
        return idx[: len(idx) // 3 * 3].reshape(-1, 3)
    if mode == 5:  # strip
        t = np.stack([idx[:-2], idx[1:-1], idx[2:]], 1)
        t[1::2] = t[1::2][:, [1, 0, 2]]
        return t
    if mode == 6:  # fan
        return np.stack([np.full(len(idx) - 2, idx[0]), idx[1:-1], idx[2:]], 1)
    return None  # points and lines are not surfaces


def read_gltf(path: Path, *, allow_large: bool = False) -> RawMesh:
    path = Path(path)
    rd = _Reader(path)
    g = rd.g
    warnings: list[str] = []
    if not g.meshes:
        raise MeshError(f"glTF file {path} holds no meshes; export the head as a mesh")

    # World matrices of every node reachable from the scene.
    world: dict[int, np.ndarray] = {}
    parents = {c: i for i, n in enumerate(g.nodes) for c in (n.children or [])}
    if g.scenes:
        roots = list(g.scenes[g.scene or 0].nodes or [])
    else:
        roots = [i for i in range(len(g.nodes)) if i not in parents]
    stack = [(r, np.eye(4)) for r in roots]
    while stack:
        i, parent = stack.pop()
        if i in world:
            continue
        world[i] = parent @ _node_matrix(g.nodes[i])
        stack += [(c, world[i]) for c in (g.nodes[i].children or [])]

    parts = []  # (positions, faces, deltas{name: (n,3)}, colors, uvs, texkey, group, look)
    metas = []  # (mesh index, n, target names by index, deltas): what VRM binds refer to
    images: dict = {}
    names_used: list[str] = []
    vrm = read_vrm(g)
    vrm0_props = vrm0_material_properties(g)
    hints = skeleton_hints(g, world, vrm)
    on_jaw = jaw_nodes(g, hints.get("jaw"))  # the jaw joint and everything under it
    eye_of = {m: e for e in hints.get("eye_joints", {}) for m in jaw_nodes(g, e)}  # node -> its eye joint
    eye_parts: dict = {}  # eye joint -> indices of the parts that turn with it (eyeballs)
    jaw_w = []  # per part: (n,) how much each vertex follows the jaw joint
    for ni, mat in sorted(world.items()):
        node = g.nodes[ni]
        if node.mesh is None:
            continue
        mesh = g.meshes[node.mesh]
        extras = mesh.extras if isinstance(mesh.extras, dict) else {}
        tnames = list(extras.get("targetNames") or [])
        for pi, prim in enumerate(mesh.primitives):
            compressed = [e for e in (prim.extensions or {}) if e in _UNREADABLE]
            if compressed and (prim.attributes.POSITION is None
                               or g.accessors[prim.attributes.POSITION].bufferView is None):
                ext = compressed[0]
                raise MeshError(
                    f"glTF file {path} is {_UNREADABLE[ext]} ({ext}), which face3d cannot read; "
                    "export it again without mesh compression"
                )
            attrs = prim.attributes
            if attrs.POSITION is None:
                continue
            pos = rd.accessor(attrs.POSITION)[:, :3].astype(np.float64)
            n = len(pos)
            check_vertex_count(path, sum(len(p[0]) for p in parts) + n, allow_large)
            idx = rd.accessor(prim.indices).reshape(-1) if prim.indices is not None else np.arange(n)
            tris = _triangles(prim.mode if prim.mode is not None else 4, idx.astype(np.int64))
            if tris is None or not len(tris):
                continue
            if tris.min() < 0 or tris.max() >= n:
                raise MeshError(
                    f"glTF file {path} has triangles indexing past their {n} vertices (corrupt file); export it again"
                )
            # Transform: node world matrix, or the skin's bind pose for skinned meshes.
            if node.skin is not None and attrs.JOINTS_0 is not None and attrs.WEIGHTS_0 is not None:
                skin = g.skins[node.skin]
                ibm = (
                    rd.accessor(skin.inverseBindMatrices).reshape(-1, 4, 4).transpose(0, 2, 1)
                    if skin.inverseBindMatrices is not None else np.tile(np.eye(4), (len(skin.joints), 1, 1))
                )
                jm = np.array([world.get(j, np.eye(4)) for j in skin.joints]) @ ibm
                joints = rd.accessor(attrs.JOINTS_0).astype(np.int64)
                wts = rd.accessor(attrs.WEIGHTS_0).astype(np.float64)
                wsum = wts.sum(1, keepdims=True)
                wts = np.where(wsum > 0, wts / np.maximum(wsum, 1e-12), np.array([[1.0, 0, 0, 0]]))
                jidx = np.clip(joints, 0, len(jm) - 1)
                mats = np.einsum("vk,vkij->vij", wts, jm[jidx])
                if eye_of:  # an eyeball: (nearly) all its vertices on one eye joint
                    dom = np.asarray(skin.joints)[jidx[np.arange(n), np.argmax(wts, 1)]]
                    for e in hints["eye_joints"]:
                        if n < 20000 and np.isin(dom, [m for m, x in eye_of.items() if x == e]).mean() > 0.9:
                            eye_parts.setdefault(e, []).append(len(parts))
                if on_jaw:
                    follows = np.array([j in on_jaw for j in skin.joints], np.float64)
                    jaw_w.append((wts * follows[jidx]).sum(1))
                else:
                    jaw_w.append(np.zeros(n))
            else:
                mats = np.broadcast_to(mat, (n, 4, 4))
                jaw_w.append(np.full(n, 1.0 if ni in on_jaw else 0.0))
                if ni in eye_of:
                    eye_parts.setdefault(eye_of[ni], []).append(len(parts))
            lin = mats[:, :3, :3]
            wpos = np.einsum("vij,vj->vi", lin, pos) + mats[:, :3, 3]
            if np.linalg.det(mat[:3, :3]) < 0:
                tris = tris[:, [0, 2, 1]]
            deltas = {}
            index_names: list = []
            for ti, target in enumerate(prim.targets or []):
                tp = target.get("POSITION") if isinstance(target, dict) else getattr(target, "POSITION", None)
                if tp is None:
                    continue
                pextras = prim.extras if isinstance(prim.extras, dict) else {}
                name = (tnames[ti] if ti < len(tnames) else
                        (pextras.get("targetNames") or [None] * (ti + 1))[ti] if ti < len(pextras.get("targetNames") or []) else f"target{ti}")
                index_names += [None] * (ti + 1 - len(index_names))
                index_names[ti] = name
                d = rd.accessor(tp)[:, :3].astype(np.float64)
                if len(d) != n:
                    raise MeshError(f"glTF file {path}: morph target '{name}' has {len(d)} vertices, its mesh {n}; export it again")
                deltas[name] = np.einsum("vij,vj->vi", lin, d)
                if name not in names_used:
                    names_used.append(name)
            # Appearance.
            color = np.full((n, 3), 0.8)
            texkey = None
            uvs = None
            if prim.material is not None:
                m = g.materials[prim.material]
                pbr = m.pbrMetallicRoughness
                if pbr is not None:
                    if pbr.baseColorFactor is not None:
                        color[:] = _srgb(np.asarray(pbr.baseColorFactor[:3], np.float64))
                    if pbr.baseColorTexture is not None:
                        ti = pbr.baseColorTexture.index
                        tc = pbr.baseColorTexture.texCoord or 0
                        acc = getattr(attrs, f"TEXCOORD_{tc}", None)
                        if acc is not None:
                            if ti not in images:
                                images[ti] = rd.image(ti, warnings)
                            if images[ti] is not None:
                                texkey = ti
                                uv = rd.accessor(acc)[:, :2].astype(np.float64)
                                uvs = np.stack([uv[:, 0], 1.0 - uv[:, 1]], 1)
            if attrs.COLOR_0 is not None:
                c0 = rd.accessor(attrs.COLOR_0).astype(np.float64)
                if c0.max() > 1.0:
                    c0 = c0 / 255.0
                color = color * _srgb(c0[:, :3])
            group = mesh.name or f"mesh{node.mesh}"
            mname = g.materials[prim.material].name if prim.material is not None else None
            look = material_look(g, prim.material, vrm0_props)
            parts.append((wpos, tris, deltas, color, uvs, texkey, f"{group}/{mname or pi}", look))
            metas.append((node.mesh, n, index_names, deltas))

    if not parts:
        raise MeshError(f"glTF file {path} has no triangle meshes in its scene; export the head as a mesh")
    offsets = np.cumsum([0] + [len(p[0]) for p in parts])
    positions = np.concatenate([p[0] for p in parts])
    faces = np.concatenate([p[1] + o for p, o in zip(parts, offsets)])
    colors = np.concatenate([p[3] for p in parts])
    face_group = np.concatenate([np.full(len(p[1]), i) for i, p in enumerate(parts)])
    targets = {}
    for name in names_used:
        targets[name] = np.concatenate([p[2].get(name, np.zeros((len(p[0]), 3))) for p in parts])
    raw = RawMesh(path=path, positions=positions, faces=faces, fmt="gltf")
    raw.colors, raw.face_group, raw.groups = colors, face_group, [p[6] for p in parts]
    raw.targets = targets
    raw.warnings = warnings
    if vrm is not None:
        # the file's expressions come first: a morph of the same name is what they bind anyway
        exprs, raw.labels = expression_deltas(vrm, metas)
        raw.targets = {**exprs, **{k: v for k, v in targets.items() if k not in exprs}}
        raw.expressions = list(exprs)
        raw.vrm = vrm.version
        raw.look = vrm.look
    raw.skeleton = hints
    if on_jaw:
        hints["jaw_weights"] = np.concatenate(jaw_w)
    eyeballs = []
    for e, idx in eye_parts.items():
        if idx == list(range(idx[0], idx[-1] + 1)):  # one run of vertices per eye
            eyeballs.append((hints["eye_joints"][e], int(offsets[idx[0]]), int(offsets[idx[-1] + 1])))
    if eyeballs:
        hints["eyeballs"] = eyeballs[:2]  # (centre, first vertex, end)
    raw.cutout_groups = {i for i, p in enumerate(parts) if p[7]["cutoff"] is not None and p[5] is not None}
    raw.uvs, raw.texture = build_atlas([(len(p[0]), p[4], p[5], p[7]["cutoff"]) for p in parts], images)
    if any(p[7]["toon"] for p in parts):
        raw.gloss = np.concatenate([np.full(len(p[0]), TOON_GLOSS if p[7]["toon"] else 0.3) for p in parts])
    raw.weld = weld_by_position(positions)
    raw.n_weld = int(raw.weld.max()) + 1
    return raw


from face3d.mesh.io.glbwrite import write_glb  # noqa: E402,F401 - the writer's old home
