"""An animated glTF 2.0 binary (GLB): the head with its shapes as morph targets and one
animation of their weights over the whole speech.

The mesh is the head as face3d draws it (positions in face3d's frame: +Y up, +Z forward,
radius about 1), with normals and vertex colours; each shape is a morph target (position
and normal offsets) named in ``mesh.extras.targetNames``, which Blender's importer turns
into shape-key names and three.js into ``morphTargetDictionary``. The animation
``speech`` has one sampler: input the frame times ``i / fps`` from 0 to the end of the
sound, output the head's shape weights at each frame (LINEAR), on the node's
``weights`` path. A track column the head has no shape for is left out; a shape no
column drives stays 0.
"""

from __future__ import annotations

import numpy as np


def _weights(track, names) -> np.ndarray:
    out = np.zeros((len(track), len(names)), np.float32)
    for k, n in enumerate(names):
        if n in track.names:
            out[:, k] = track.column(n)
    return np.clip(out, 0.0, 1.0)


def build(track, rig, info):
    """The pygltflib document (with its binary blob set) for ``track`` on ``rig``."""
    import pygltflib
    from pygltflib import (GLTF2, Accessor, Animation, AnimationChannel, AnimationChannelTarget,
                           AnimationSampler, Asset, Attributes, Buffer, BufferView, Mesh, Node,
                           Primitive, Scene)

    from face3d.formats import frames

    tr = frames(track, info)
    blobs: list[bytes] = []
    views, accessors = [], []

    def add(arr, kind: str, ctype: int, target=None, minmax: bool = False) -> int:
        arr = np.ascontiguousarray(arr)
        offset = sum(len(b) for b in blobs)
        data = arr.tobytes()
        blobs.append(data + b"\0" * ((-len(data)) % 4))
        views.append(BufferView(buffer=0, byteOffset=offset, byteLength=len(data), target=target))
        acc = Accessor(bufferView=len(views) - 1, componentType=ctype, count=len(arr), type=kind)
        if minmax:
            m = arr.reshape(len(arr), -1)
            acc.min = m.min(0).astype(float).tolist()
            acc.max = m.max(0).astype(float).tolist()
        accessors.append(acc)
        return len(accessors) - 1

    F, AB, EAB = pygltflib.FLOAT, pygltflib.ARRAY_BUFFER, pygltflib.ELEMENT_ARRAY_BUFFER
    attrs = Attributes(
        POSITION=add(rig.positions.astype(np.float32), "VEC3", F, AB, minmax=True),
        NORMAL=add(rig.normals.astype(np.float32), "VEC3", F, AB),
        COLOR_0=add(np.power(np.clip(rig.colors, 0, 1), 2.2).astype(np.float32), "VEC3", F, AB),
    )
    indices = add(rig.faces.astype(np.uint32).reshape(-1), "SCALAR", pygltflib.UNSIGNED_INT, EAB)
    targets = [
        {"POSITION": add(rig.deltas[k], "VEC3", F, AB, minmax=True), "NORMAL": add(rig.normal_deltas[k], "VEC3", F, AB)}
        for k in range(rig.n_shapes)
    ]
    material = pygltflib.Material(
        name="skin", doubleSided=bool(rig.double_sided),
        pbrMetallicRoughness=pygltflib.PbrMetallicRoughness(baseColorFactor=[1, 1, 1, 1], metallicFactor=0.0,
                                                            roughnessFactor=0.7))
    prim = Primitive(attributes=attrs, indices=indices, mode=pygltflib.TRIANGLES, material=0,
                     targets=targets or None)
    mesh = Mesh(name="head", primitives=[prim], weights=[0.0] * rig.n_shapes or None,
                extras={"targetNames": list(rig.names)} if rig.n_shapes else {})
    g = GLTF2(asset=Asset(version="2.0", generator="face3d export"), scene=0, scenes=[Scene(nodes=[0])],
              nodes=[Node(name="head", mesh=0)], meshes=[mesh], materials=[material])
    if rig.n_shapes and len(tr):
        times = tr.times.astype(np.float32)
        a_in = add(times, "SCALAR", F, minmax=True)
        a_out = add(_weights(tr, rig.names).reshape(-1), "SCALAR", F)
        g.animations = [Animation(
            name="speech",
            samplers=[AnimationSampler(input=a_in, output=a_out, interpolation="LINEAR")],
            channels=[AnimationChannel(sampler=0, target=AnimationChannelTarget(node=0, path="weights"))],
        )]
    g.accessors, g.bufferViews = accessors, views
    blob = b"".join(blobs)
    g.buffers = [Buffer(byteLength=len(blob))]
    g.set_binary_blob(blob)
    return g


def write(track, stream, info, variant: str = "glb") -> None:
    if info.rig is None:
        raise ValueError("glb export needs the head (info.rig)")
    for part in build(track, info.rig, info).save_to_bytes():
        stream.write(part)
