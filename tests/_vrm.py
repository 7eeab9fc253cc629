"""Small avatars built for the tests (no files from ../shared needed): a ball head with a
nose, eyes and morph targets on a box body, with a humanoid skeleton, as VRM 1.0, VRM 0.x
(turned to face -Z, binds by mesh, weights 0-100) or plain glTF; optionally sparse morph
targets, a skin with a jaw joint, required extensions.

Head (VRM 1.0 / glTF frame: +Y up, faces +Z, the avatar's left is +X): centre (0, 1.6, 0),
radius 0.1; the nose tip is the vertex furthest forward. Targets: ``ah`` (jaw down),
``ee`` (mouth wider), ``ou`` (mouth narrower), ``eyeL`` / ``eyeR`` (lids down, at +X / -X).
"""

from __future__ import annotations

import numpy as np

HEAD_C = np.array([0.0, 1.6, 0.0])
HEAD_JOINT = np.array([0.0, 1.52, 0.0])
TARGETS = ("ah", "ee", "ou", "eyeL", "eyeR")
JAW_JOINT = np.array([0.0, 1.59, 0.02])


def ball(n_lat=40, n_lon=48):
    th = np.linspace(0, np.pi, n_lat)
    ph = np.linspace(0, 2 * np.pi, n_lon, endpoint=False)
    t, p = np.meshgrid(th, ph, indexing="ij")
    d = np.stack([np.sin(t) * np.sin(p), np.cos(t), np.sin(t) * np.cos(p)], -1).reshape(-1, 3)
    faces = []
    for i in range(n_lat - 1):
        for j in range(n_lon):
            a, b = i * n_lon + j, i * n_lon + (j + 1) % n_lon
            c, e = a + n_lon, b + n_lon
            faces += [(a, c, b), (b, c, e)]
    pos = 0.1 * d
    # a nose: a narrow ridge on the mid-line just below the centre, standing forward
    ridge = np.exp(-(d[:, 0] / 0.12) ** 2 - ((d[:, 1] + 0.1) / 0.25) ** 2) * (d[:, 2] > 0)
    pos[:, 2] += 0.03 * ridge
    # a slightly longer chin side: the head is wider above the nose than below it
    pos[:, 0] *= np.where(d[:, 1] < -0.3, 0.8, 1.0)
    return pos + HEAD_C, np.array(faces, np.int64)


def head_targets(pos):
    q = pos - HEAD_C
    front = q[:, 2] > 0.02
    mouth = front & (np.abs(q[:, 1] + 0.045) < 0.03)
    low = front & (q[:, 1] < -0.03)
    t = {k: np.zeros_like(pos) for k in TARGETS}
    t["ah"][low, 1] = -0.02
    t["ee"][mouth, 0] = 0.25 * q[mouth, 0]
    t["ou"][mouth, 0] = -0.3 * q[mouth, 0]
    for name, sx in (("eyeL", 1.0), ("eyeR", -1.0)):
        eye = front & (np.linalg.norm(q[:, :2] - (0.035 * sx, 0.03), axis=1) < 0.02)
        t[name][eye, 1] = -0.006
    return t


def box(lo, hi):
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    c = np.array([[x, y, z] for x in (0, 1) for y in (0, 1) for z in (0, 1)], float)
    pos = lo + c * (hi - lo)
    f = [(0, 1, 3), (0, 3, 2), (4, 6, 7), (4, 7, 5), (0, 4, 5), (0, 5, 1),
         (2, 3, 7), (2, 7, 6), (0, 2, 6), (0, 6, 4), (1, 5, 7), (1, 7, 3)]
    return pos, np.array(f, np.int64)


def make_avatar(path, version="1", body=True, sparse=False, required=None, skin_jaw=False,
                eyes=True, names=None, extra_presets=True, turned=False, jaw_deg=0.0, ball_res=(40, 48),
                eyeballs=False, head_mesh=None, look_range=None):
    """Write the test avatar. version: "1" (VRMC_vrm), "0" (VRM) or None (plain glTF);
    VRM 0.x (and ``turned``) files face -Z. ``head_mesh``: (positions, faces) of a real head
    in face3d's frame (+Y up, +Z forward, unit radius) to use instead of the ball, without
    morph targets (plain glTF only). ``look_range``: degrees at which the look expressions
    (lookLeft bound to ``ee``, lookUp to ``eyeL``) reach weight 1, with a lookAt of type
    expression."""
    import pygltflib as G

    if head_mesh is not None:
        hpos = np.asarray(head_mesh[0], np.float64) * 0.11 + HEAD_C  # a head 22 cm across
        hfaces = np.asarray(head_mesh[1], np.int64)
        targets = {}
    else:
        hpos, hfaces = ball(*ball_res)
        targets = head_targets(hpos)
    bpos, bfaces = box((-0.2, 0.0, -0.1), (0.2, 1.30, 0.1))
    flip = np.array([-1.0, 1.0, -1.0]) if version == "0" or turned else np.ones(3)
    hpos, bpos = hpos * flip, bpos * flip
    targets = {k: v * flip for k, v in targets.items()}

    blobs, views, accs = [], [], []

    def view(data: bytes, target=None):
        off = sum(len(b) for b in blobs)
        blobs.append(data + b"\0" * ((-len(data)) % 4))
        views.append(G.BufferView(buffer=0, byteOffset=off, byteLength=len(data), target=target))
        return len(views) - 1

    def acc(arr, kind, ctype, target=None, minmax=False):
        arr = np.ascontiguousarray(arr)
        a = G.Accessor(bufferView=view(arr.tobytes(), target), componentType=ctype, count=len(arr), type=kind)
        if minmax:
            a.min, a.max = arr.min(0).astype(float).tolist(), arr.max(0).astype(float).tolist()
        accs.append(a)
        return len(accs) - 1

    def sparse_acc(d):
        d = np.asarray(d, np.float32)
        idx = np.flatnonzero(np.abs(d).max(1) > 0).astype(np.uint32)
        a = G.Accessor(componentType=G.FLOAT, count=len(d), type="VEC3",
                       min=d.min(0).astype(float).tolist(), max=d.max(0).astype(float).tolist(),
                       sparse=G.Sparse(count=len(idx),
                                       indices=G.AccessorSparseIndices(bufferView=view(idx.tobytes()), componentType=G.UNSIGNED_INT),
                                       values=G.AccessorSparseValues(bufferView=view(np.ascontiguousarray(d[idx]).tobytes()))))
        accs.append(a)
        return len(accs) - 1

    nodes = []

    def node(**kw):
        nodes.append(G.Node(**kw))
        return len(nodes) - 1

    # skeleton (rest pose: translations only)
    hips = node(name="Hips", translation=[0.0, 1.0, 0.0])
    neck = node(name="Neck", translation=(np.array([0.0, 0.45, 0.0]) * flip).tolist())
    head = node(name=names.get("head", "Head") if names else "Head",
                translation=((HEAD_JOINT - [0, 1.45, 0]) * flip).tolist())
    nodes[hips].children, nodes[neck].children = [neck], [head]
    kids = []
    if eyes:
        le = node(name="LeftEye", translation=(np.array([0.035, 0.11, 0.08]) * flip).tolist())
        re_ = node(name="RightEye", translation=(np.array([-0.035, 0.11, 0.08]) * flip).tolist())
        kids += [le, re_]
    jaw = None
    if skin_jaw:
        jaw = node(name=names.get("jaw", "Jaw") if names else "Jaw",
                   translation=((JAW_JOINT - HEAD_JOINT) * flip).tolist())
        if jaw_deg:  # the jaw posed open (chin down: about the avatar's left-right axis)
            a = np.radians(jaw_deg) / 2
            nodes[jaw].rotation = [float(np.sin(a)) * float(flip[0]), 0.0, 0.0, float(np.cos(a))]
        kids.append(jaw)
    nodes[head].children = kids

    meshes = []
    attrs = G.Attributes(POSITION=acc(hpos.astype(np.float32), "VEC3", G.FLOAT, G.ARRAY_BUFFER, True))
    if skin_jaw:
        # every head vertex on the Head joint, the lower front on the Jaw joint (weight 0.8)
        q = (hpos - HEAD_C * flip) * flip
        on_jaw = (q[:, 2] > 0.0) & (q[:, 1] < -0.03)
        j = np.zeros((len(hpos), 4), np.uint16)
        w = np.zeros((len(hpos), 4), np.float32)
        j[:, 0], w[:, 0] = 0, 1.0
        j[on_jaw, 1], w[on_jaw, 0], w[on_jaw, 1] = 1, 0.2, 0.8
        attrs.JOINTS_0 = acc(j, "VEC4", G.UNSIGNED_SHORT, G.ARRAY_BUFFER)
        attrs.WEIGHTS_0 = acc(w, "VEC4", G.FLOAT, G.ARRAY_BUFFER)
    tlist = [{"POSITION": (sparse_acc(targets[k]) if sparse else
                           acc(targets[k].astype(np.float32), "VEC3", G.FLOAT, G.ARRAY_BUFFER, True))}
             for k in TARGETS if k in targets] or None
    prim = G.Primitive(attributes=attrs, indices=acc(hfaces.astype(np.uint32).reshape(-1), "SCALAR", G.UNSIGNED_INT),
                       targets=tlist)
    meshes.append(G.Mesh(name="Face", primitives=[prim], extras={"targetNames": [k for k in TARGETS if k in targets]}))
    skins = []
    if skin_jaw:
        worlds = [HEAD_JOINT * flip, JAW_JOINT * flip]
        ibm = np.stack([np.eye(4) for _ in worlds]).astype(np.float32)
        for k, wpos in enumerate(worlds):
            ibm[k][:3, 3] = -wpos
        ibm_acc = acc(np.ascontiguousarray(ibm.transpose(0, 2, 1)).reshape(-1, 16), "MAT4", G.FLOAT)
        skins.append(G.Skin(joints=[head, jaw], inverseBindMatrices=ibm_acc))
    face_node = node(name="Face", mesh=0, skin=0 if skin_jaw else None)
    roots = [hips, face_node]
    if body:
        meshes.append(G.Mesh(name="Body", primitives=[G.Primitive(
            attributes=G.Attributes(POSITION=acc(bpos.astype(np.float32), "VEC3", G.FLOAT, G.ARRAY_BUFFER, True)),
            indices=acc(bfaces.astype(np.uint32).reshape(-1), "SCALAR", G.UNSIGNED_INT))]))
        roots.append(node(name="Body", mesh=1))

    if eyeballs and eyes:  # a small ball on each eye joint (a child node: it turns with the joint)
        epos, efaces = ball(12, 16)
        epos = (epos - HEAD_C) * 0.12
        meshes.append(G.Mesh(name="Eye", primitives=[G.Primitive(
            attributes=G.Attributes(POSITION=acc(epos.astype(np.float32), "VEC3", G.FLOAT, G.ARRAY_BUFFER, True)),
            indices=acc(efaces.astype(np.uint32).reshape(-1), "SCALAR", G.UNSIGNED_INT))]))
        for joint in (le, re_):
            nodes[joint].children = [node(name=f"{nodes[joint].name}Ball", mesh=len(meshes) - 1)]
    g = G.GLTF2(asset=G.Asset(version="2.0", generator="face3d tests"), scene=0,
                scenes=[G.Scene(nodes=roots)], nodes=nodes, meshes=meshes, accessors=accs,
                bufferViews=views, skins=skins)
    ti = {k: i for i, k in enumerate(TARGETS)}
    if version == "1":
        def binds(*pairs):
            return {"morphTargetBinds": [{"node": face_node, "index": ti[k], "weight": w} for k, w in pairs]}
        presets = {"aa": binds(("ah", 1.0)), "ee": binds(("ee", 1.0)), "ou": binds(("ou", 1.0)),
                   "oh": binds(("ah", 0.5), ("ou", 1.0)), "blink": binds(("eyeL", 1.0), ("eyeR", 1.0)),
                   "blinkLeft": binds(("eyeL", 1.0)), "blinkRight": binds(("eyeR", 1.0))}
        if extra_presets:
            presets["happy"] = binds(("ee", 0.5))
        look = {"type": "bone"}
        if look_range:
            presets["lookLeft"], presets["lookUp"] = binds(("ee", 1.0)), binds(("eyeL", 1.0))
            look = {"type": "expression", **{k: {"inputMaxValue": float(look_range), "outputScale": 1.0}
                                             for k in ("rangeMapHorizontalOuter", "rangeMapVerticalUp",
                                                       "rangeMapVerticalDown")}}
        g.extensions = {"VRMC_vrm": {
            "specVersion": "1.0",
            "meta": {"name": "test", "authors": ["face3d tests"], "licenseUrl": "https://vrm.dev/licenses/1.0/"},
            "humanoid": {"humanBones": {"hips": {"node": hips}, "neck": {"node": neck}, "head": {"node": head}}},
            "expressions": {"preset": presets}, "lookAt": look}}
        g.extensionsUsed = ["VRMC_vrm"]
    elif version == "0":
        def group(name, preset, *pairs):
            return {"name": name, "presetName": preset,
                    "binds": [{"mesh": 0, "index": ti[k], "weight": w} for k, w in pairs]}
        groups = [group("A", "a", ("ah", 100)), group("E", "e", ("ee", 100)), group("U", "u", ("ou", 100)),
                  group("O", "o", ("ah", 50), ("ou", 100)), group("Blink", "blink", ("eyeL", 100), ("eyeR", 100)),
                  group("Blink_L", "blink_l", ("eyeL", 100)), group("Blink_R", "blink_r", ("eyeR", 100)),
                  group("Neutral", "neutral")]
        if extra_presets:
            groups.append(group("Joy", "joy", ("ee", 50)))
        first_person = {"lookAtTypeName": "Bone"}
        if look_range:
            groups += [group("LookLeft", "lookleft", ("ee", 100)), group("LookUp", "lookup", ("eyeL", 100))]
            first_person = {"lookAtTypeName": "BlendShape",
                            **{k: {"curve": [0, 0, 0, 1, 1, 1, 1, 0], "xRange": float(look_range), "yRange": 1.0}
                               for k in ("lookAtHorizontalOuter", "lookAtVerticalUp", "lookAtVerticalDown")}}
        g.extensions = {"VRM": {
            "exporterVersion": "face3d tests", "specVersion": "0.0", "meta": {"title": "test"},
            "humanoid": {"humanBones": [{"bone": "hips", "node": hips}, {"bone": "neck", "node": neck},
                                        {"bone": "head", "node": head}]},
            "blendShapeMaster": {"blendShapeGroups": groups}, "firstPerson": first_person}}
        g.extensionsUsed = ["VRM"]
    if required:
        g.extensionsRequired = list(required)
        g.extensionsUsed = list(g.extensionsUsed or []) + list(required)
    blob = b"".join(blobs)
    g.buffers = [G.Buffer(byteLength=len(blob))]
    g.set_binary_blob(blob)
    g.save_binary(str(path))
    return path


def make_textured_ball(path, alpha_mode="OPAQUE", unlit=False, textured=True):
    """A ball (no skeleton) whose left half (x < 0) samples a transparent texel of a 2x1 RGBA
    texture; ``unlit``: KHR_materials_unlit on its one material."""
    import io

    import pygltflib as G
    from PIL import Image

    pos, faces = ball()
    pos = pos - HEAD_C
    uv = np.stack([np.where(pos[:, 0] < 0, 0.25, 0.75), np.full(len(pos), 0.5)], 1).astype(np.float32)
    blobs, views, accs = [], [], []

    def view(data: bytes):
        off = sum(len(b) for b in blobs)
        blobs.append(data + b"\0" * ((-len(data)) % 4))
        views.append(G.BufferView(buffer=0, byteOffset=off, byteLength=len(data)))
        return len(views) - 1

    def acc(arr, kind, ctype, minmax=False):
        arr = np.ascontiguousarray(arr)
        a = G.Accessor(bufferView=view(arr.tobytes()), componentType=ctype, count=len(arr), type=kind)
        if minmax:
            a.min, a.max = arr.min(0).astype(float).tolist(), arr.max(0).astype(float).tolist()
        accs.append(a)
        return len(accs) - 1

    attrs = G.Attributes(POSITION=acc(pos.astype(np.float32), "VEC3", G.FLOAT, True))
    mat = G.Material(name="M", alphaMode=alpha_mode, doubleSided=True,
                     pbrMetallicRoughness=G.PbrMetallicRoughness(baseColorFactor=[0.5, 0.5, 0.5, 1.0]))
    images, textures = [], []
    if textured:
        attrs.TEXCOORD_0 = acc(uv, "VEC2", G.FLOAT)
        png = io.BytesIO()
        Image.fromarray(np.array([[[200, 60, 60, 0], [200, 60, 60, 255]]], np.uint8), "RGBA").save(png, "PNG")
        images = [G.Image(bufferView=view(png.getvalue()), mimeType="image/png")]
        textures = [G.Texture(source=0)]
        mat.pbrMetallicRoughness.baseColorTexture = G.TextureInfo(index=0)
    if unlit:
        mat.extensions = {"KHR_materials_unlit": {}}
    prim = G.Primitive(attributes=attrs, indices=acc(faces.astype(np.uint32).reshape(-1), "SCALAR", G.UNSIGNED_INT),
                       material=0)
    g = G.GLTF2(asset=G.Asset(version="2.0"), scene=0, scenes=[G.Scene(nodes=[0])], nodes=[G.Node(mesh=0)],
                meshes=[G.Mesh(primitives=[prim])], accessors=accs, bufferViews=views, materials=[mat],
                images=images, textures=textures, extensionsUsed=["KHR_materials_unlit"] if unlit else [])
    blob = b"".join(blobs)
    g.buffers = [G.Buffer(byteLength=len(blob))]
    g.set_binary_blob(blob)
    g.save_binary(str(path))
    return path
