"""A minimal GLB writer (one mesh, morph targets, vertex colours): for tests and examples."""

from __future__ import annotations

import numpy as np


def write_glb(path, positions, faces, morphs: dict | None = None, *, colors=None, node_matrix=None,
              mesh_name: str = "head") -> None:
    """Write a minimal GLB: one mesh, optional morph targets (named in extras.targetNames),
    optional vertex colours (sRGB in [0, 1]) and a node matrix (4x4, row-major). For tests
    and examples; written atomically."""
    import pygltflib
    from pygltflib import GLTF2, Accessor, Asset, Attributes, Buffer, BufferView, Mesh, Node, Primitive, Scene

    from face3d.fileio import atomic_path

    pos = np.ascontiguousarray(positions, np.float32)
    idx = np.ascontiguousarray(faces, np.uint32).reshape(-1)
    blobs: list[bytes] = []
    views, accessors = [], []

    def add(arr: np.ndarray, kind: str, ctype: int, target: int | None, minmax: bool = False) -> int:
        offset = sum(len(b) for b in blobs)
        data = arr.tobytes()
        pad = (-len(data)) % 4
        blobs.append(data + b"\0" * pad)
        views.append(BufferView(buffer=0, byteOffset=offset, byteLength=len(data), target=target))
        acc = Accessor(bufferView=len(views) - 1, componentType=ctype, count=len(arr), type=kind)
        if minmax:
            acc.min = arr.min(0).astype(float).tolist()
            acc.max = arr.max(0).astype(float).tolist()
        accessors.append(acc)
        return len(accessors) - 1

    a_idx = add(idx, "SCALAR", pygltflib.UNSIGNED_INT, pygltflib.ELEMENT_ARRAY_BUFFER)
    a_pos = add(pos, "VEC3", pygltflib.FLOAT, pygltflib.ARRAY_BUFFER, minmax=True)
    attrs = Attributes(POSITION=a_pos)
    if colors is not None:
        lin = np.power(np.clip(np.asarray(colors, np.float32), 0, 1), 2.2).astype(np.float32)
        attrs.COLOR_0 = add(np.ascontiguousarray(lin), "VEC3", pygltflib.FLOAT, pygltflib.ARRAY_BUFFER)
    targets, names = [], []
    for name, d in (morphs or {}).items():
        d = np.ascontiguousarray(d, np.float32)
        targets.append({"POSITION": add(d, "VEC3", pygltflib.FLOAT, pygltflib.ARRAY_BUFFER, minmax=True)})
        names.append(name)
    prim = Primitive(attributes=attrs, indices=a_idx, mode=4, targets=targets or None)
    mesh = Mesh(name=mesh_name, primitives=[prim], extras={"targetNames": names} if names else {})
    node = Node(mesh=0)
    if node_matrix is not None:
        node.matrix = np.asarray(node_matrix, np.float64).T.reshape(-1).tolist()
    g = GLTF2(asset=Asset(version="2.0", generator="face3d"), scene=0, scenes=[Scene(nodes=[0])],
              nodes=[node], meshes=[mesh], accessors=accessors, bufferViews=views)
    blob = b"".join(blobs)
    g.buffers = [Buffer(byteLength=len(blob))]
    g.set_binary_blob(blob)
    with atomic_path(path, suffix=".glb") as tmp:
        g.save_binary(str(tmp))
