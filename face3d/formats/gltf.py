"""An animated glTF 2.0 binary (GLB): the head with its shapes as morph targets and one
animation of their weights over the whole speech.

The mesh is the head as face3d draws it (positions in face3d's frame: +Y up, +Z forward,
radius about 1), with normals and vertex colours; each shape is a morph target (position
and normal offsets) named in ``mesh.extras.targetNames``, which Blender's importer turns
into shape-key names and three.js into ``morphTargetDictionary``. The animation
``speech`` has one sampler: input the frame times ``i / fps`` from 0 to the end of the
sound, output the head's shape weights at each frame (LINEAR), on the node's
``weights`` path. A track column the head has no shape for is left out; a shape no
column drives stays 0: the alive curves' ``eyeBlinkLeft``/``Right`` and ``browInnerUp``/
``browOuterUp*`` drive the head's blink and brow targets like the mouth's. When the track
has head angles (``headYaw``, ``headPitch``, ``headRoll`` in degrees) the animation also
turns the node about the neck (``info.pivot``, else the rig's ``neck_pivot``, else the
origin) as face3d draws it: a ``rotation`` channel ``Ry(yaw) Rx(-pitch) Rz(roll)`` and a
``translation`` channel ``pivot - R pivot`` (glTF turns a node about its own origin).
With gaze angles (``eyeYaw``, ``eyePitch``) and a head whose eyeballs are known
(``rig.info['eyes']``), each eyeball is a child node of the head (``eyeLeft``,
``eyeRight``, at its centre) with a ``rotation`` channel ``Ry(eyeYaw) Rx(-eyePitch)``.
"""

from __future__ import annotations

import numpy as np


def _weights(track, rig) -> np.ndarray:
    """(T, K) weights of the rig's shapes (the head's viseme targets take the viseme columns;
    the mouth curves they replace are left at 0 while the track has them)."""
    from face3d.mesh.rig.visemes import shape_columns

    out = np.zeros((len(track), rig.n_shapes), np.float32)
    for j, k in shape_columns(rig, track.names):
        out[:, k] = track.values[:, j]
    return np.clip(out, 0.0, 1.0)


HEAD_ANGLES = ("headYaw", "headPitch", "headRoll")
GAZE_ANGLES = ("eyeYaw", "eyePitch")


def _quat(axis: int, deg) -> np.ndarray:
    """(T, 4) x, y, z, w quaternions turning ``deg`` degrees about axis 0, 1 or 2."""
    half = np.radians(np.asarray(deg, np.float64)) / 2
    q = np.zeros((half.shape[0], 4))
    q[:, axis], q[:, 3] = np.sin(half), np.cos(half)
    return q


def _qmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ax, ay, az, aw = a.T
    bx, by, bz, bw = b.T
    return np.stack([aw * bx + ax * bw + ay * bz - az * by, aw * by - ax * bz + ay * bw + az * bx,
                     aw * bz + ax * by - ay * bx + az * bw, aw * bw - ax * bx - ay * by - az * bz], axis=1)


def head_rotations(track) -> np.ndarray | None:
    """(T, 4) node rotations from the head angles, or None when the track has none."""
    if not any(n in track.names for n in HEAD_ANGLES):
        return None
    yaw, pitch, roll = (track.column(n) if n in track.names else np.zeros(len(track)) for n in HEAD_ANGLES)
    return _qmul(_qmul(_quat(1, yaw), _quat(0, -np.asarray(pitch))), _quat(2, roll)).astype(np.float32)


def gaze_rotations(track) -> np.ndarray | None:
    """(T, 4) eyeball rotations ``Ry(eyeYaw) Rx(-eyePitch)``, or None when the track has no gaze."""
    if not any(n in track.names for n in GAZE_ANGLES):
        return None
    yaw, pitch = (track.column(n) if n in track.names else np.zeros(len(track)) for n in GAZE_ANGLES)
    return _qmul(_quat(1, yaw), _quat(0, -np.asarray(pitch))).astype(np.float32)


def eyeballs(rig) -> list:
    """[(centre (3,), (first, end) vertex range)] of the eyeballs the rig knows whose faces
    are their own (at most two)."""
    out = []
    for e in ((getattr(rig, "info", None) or {}).get("eyes") or [])[:2]:
        a, b = (int(v) for v in e["range"])
        touch = ((rig.faces >= a) & (rig.faces < b))
        if 0 <= a < b <= rig.n_vertices and not (touch.any(axis=1) & ~touch.all(axis=1)).any():
            out.append((np.asarray(e["center"], np.float64), (a, b)))
    return out


def _rotate(q: np.ndarray, p: np.ndarray) -> np.ndarray:
    """(T, 3): the point ``p`` turned by each of the (T, 4) x, y, z, w quaternions ``q``."""
    u, w = q[:, :3].astype(np.float64), q[:, 3:4].astype(np.float64)
    t = 2.0 * np.cross(u, p)
    return p + w * t + np.cross(u, t)


def pivot_of(rig, info) -> np.ndarray:
    """The point the head turns about: ``info.pivot``, else the rig's ``neck_pivot``, else the origin."""
    p = getattr(info, "pivot", None)
    if p is None:
        p = (getattr(rig, "info", None) or {}).get("neck_pivot")
    return np.zeros(3) if p is None else np.asarray(p, np.float64).reshape(3)


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
    colours = np.power(np.clip(rig.colors, 0, 1), 2.2).astype(np.float32)
    attrs = Attributes(
        POSITION=add(rig.positions.astype(np.float32), "VEC3", F, AB, minmax=True),
        NORMAL=add(rig.normals.astype(np.float32), "VEC3", F, AB),
        COLOR_0=add(colours, "VEC3", F, AB),
    )
    gaze = gaze_rotations(tr) if len(tr) else None
    eyes = eyeballs(rig) if gaze is not None else []
    faces = rig.faces
    if eyes:            # the eyeballs become nodes of their own (turning about their centres)
        inside = np.zeros(rig.n_vertices, bool)
        for _, (a, b) in eyes:
            inside[a:b] = True
        faces = faces[~inside[faces].all(axis=1)]
    indices = add(faces.astype(np.uint32).reshape(-1), "SCALAR", pygltflib.UNSIGNED_INT, EAB)
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
    for k, (centre, (a, b)) in enumerate(eyes):
        f = rig.faces[((rig.faces >= a) & (rig.faces < b)).all(axis=1)] - a
        eye_attrs = Attributes(
            POSITION=add((rig.positions[a:b] - centre).astype(np.float32), "VEC3", F, AB, minmax=True),
            NORMAL=add(rig.normals[a:b].astype(np.float32), "VEC3", F, AB), COLOR_0=add(colours[a:b], "VEC3", F, AB))
        g.meshes.append(Mesh(name=f"eye{k}", primitives=[Primitive(
            attributes=eye_attrs, indices=add(f.astype(np.uint32).reshape(-1), "SCALAR", pygltflib.UNSIGNED_INT, EAB),
            mode=pygltflib.TRIANGLES, material=0)]))
        side = "Left" if centre[0] > 0 else "Right"     # +X is the head's left
        g.nodes.append(Node(name=f"eye{side}", mesh=len(g.meshes) - 1, translation=[float(c) for c in centre]))
        g.nodes[0].children.append(len(g.nodes) - 1)
    rot = head_rotations(tr) if len(tr) else None
    if (rig.n_shapes or rot is not None) and len(tr):
        a_in = add(tr.times.astype(np.float32), "SCALAR", F, minmax=True)
        samplers, channels = [], []
        if rig.n_shapes:
            samplers.append(AnimationSampler(input=a_in, output=add(_weights(tr, rig).reshape(-1), "SCALAR", F),
                                             interpolation="LINEAR"))
            channels.append(AnimationChannel(sampler=len(samplers) - 1,
                                             target=AnimationChannelTarget(node=0, path="weights")))
        if rot is not None:
            samplers.append(AnimationSampler(input=a_in, output=add(rot, "VEC4", F), interpolation="LINEAR"))
            channels.append(AnimationChannel(sampler=len(samplers) - 1,
                                             target=AnimationChannelTarget(node=0, path="rotation")))
            pivot = pivot_of(rig, info)
            if np.any(pivot):
                move = (pivot - _rotate(rot, pivot)).astype(np.float32)
                samplers.append(AnimationSampler(input=a_in, output=add(move, "VEC3", F), interpolation="LINEAR"))
                channels.append(AnimationChannel(sampler=len(samplers) - 1,
                                                 target=AnimationChannelTarget(node=0, path="translation")))
        if eyes:
            samplers.append(AnimationSampler(input=a_in, output=add(gaze, "VEC4", F), interpolation="LINEAR"))
            for node in range(1, 1 + len(eyes)):
                channels.append(AnimationChannel(sampler=len(samplers) - 1,
                                                 target=AnimationChannelTarget(node=node, path="rotation")))
        g.animations = [Animation(name="speech", samplers=samplers, channels=channels)]
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
