"""VRM Animation (``.vrma``): the ``VRMC_vrm_animation`` glTF extension, which VRM tools
(three-vrm's VRMAnimationLoaderPlugin, UniVRM, VRoid Hub's player) play on any VRM avatar.

What the file holds (VRMC_vrm_animation 1.0):

* a humanoid skeleton of plain nodes in the VRM T-pose (translations only), mapped in
  ``humanoid.humanBones``; only the ``head`` bone is animated (rotation: the track's
  headPitch/headYaw/headRoll, turned as face3d turns the head: ``Ry(yaw) Rx(-pitch) Rz(roll)``
  in the VRM 1.0 model frame, +Y up, facing +Z, +X the avatar's left);
* one node per expression (``expressions.preset``): ``aa ih ou ee oh blink blinkLeft
  blinkRight``; the weight is the X of the node's animated translation, in [0, 1];
* a ``lookAt`` node under the head whose rotation is the gaze (eyeYaw toward the avatar's
  left, eyePitch up), as three-vrm reads it;
* one glTF animation, linear, at ``--fps``.

The expression weights come from the track's own ``aa ih ou ee oh`` columns when it has them
(curves driven from visemes); otherwise from face3d's four mouth curves, split so that the
expressions do not add up to more mouth than the curves say: ``oh`` = min(jawOpen,
mouthPucker), ``ou`` = the pucker left over, ``ee`` = min(the jaw left over, mouthWide),
``aa`` = the jaw left over after that, ``ih`` = the width left over. Blinks: ``blink`` =
min(left, right), ``blinkLeft``/``blinkRight`` the rest of each eye.
"""

from __future__ import annotations

import numpy as np

EXPRESSIONS = ("aa", "ih", "ou", "ee", "oh", "blink", "blinkLeft", "blinkRight")

#: VRM 1.0 required humanoid bones (and neck, chest) in a rough T-pose, metres:
#: (bone, parent, local translation)
SKELETON = (
    ("hips", None, (0.0, 0.95, 0.0)), ("spine", "hips", (0.0, 0.1, 0.0)), ("chest", "spine", (0.0, 0.15, 0.0)),
    ("neck", "chest", (0.0, 0.25, 0.0)), ("head", "neck", (0.0, 0.1, 0.0)),
    ("leftUpperArm", "chest", (0.18, 0.2, 0.0)), ("leftLowerArm", "leftUpperArm", (0.28, 0.0, 0.0)),
    ("leftHand", "leftLowerArm", (0.25, 0.0, 0.0)),
    ("rightUpperArm", "chest", (-0.18, 0.2, 0.0)), ("rightLowerArm", "rightUpperArm", (-0.28, 0.0, 0.0)),
    ("rightHand", "rightLowerArm", (-0.25, 0.0, 0.0)),
    ("leftUpperLeg", "hips", (0.09, -0.05, 0.0)), ("leftLowerLeg", "leftUpperLeg", (0.0, -0.42, 0.0)),
    ("leftFoot", "leftLowerLeg", (0.0, -0.4, 0.0)),
    ("rightUpperLeg", "hips", (-0.09, -0.05, 0.0)), ("rightLowerLeg", "rightUpperLeg", (0.0, -0.42, 0.0)),
    ("rightFoot", "rightLowerLeg", (0.0, -0.4, 0.0)),
)
LOOKAT_OFFSET = (0.0, 0.06, 0.06)  # from the head bone: between the eyes


def _col(track, name) -> np.ndarray:
    return np.clip(track.column(name), 0.0, 1.0) if name in track.names else np.zeros(len(track))


def expression_weights(track) -> dict:
    """{expression: (T,) weights in [0, 1]} for :data:`EXPRESSIONS` (see the module's text)."""
    out = {}
    if any(n in track.names for n in ("aa", "ih", "ou", "ee", "oh")):
        out.update({n: _col(track, n) for n in ("aa", "ih", "ou", "ee", "oh")})
    else:
        jaw, wide, pucker = _col(track, "jawOpen"), _col(track, "mouthWide"), _col(track, "mouthPucker")
        out["oh"] = np.minimum(jaw, pucker)
        out["ou"] = pucker - out["oh"]
        rest = jaw - out["oh"]
        out["ee"] = np.minimum(rest, wide)
        out["aa"] = rest - out["ee"]
        out["ih"] = wide - out["ee"]
    left, right = _col(track, "eyeBlinkLeft"), _col(track, "eyeBlinkRight")
    if "blink" in track.names:
        out["blink"] = _col(track, "blink")
    else:
        out["blink"] = np.minimum(left, right)
    out["blinkLeft"] = np.clip(left - out["blink"], 0.0, 1.0)
    out["blinkRight"] = np.clip(right - out["blink"], 0.0, 1.0)
    return {n: out[n].astype(np.float32) for n in EXPRESSIONS}


def rotations(track) -> tuple[np.ndarray, np.ndarray]:
    """(head, lookAt) (T, 4) x, y, z, w quaternions from the track's angles (degrees), as the
    animated glTF turns its head and eyes (identity where the track has no angles)."""
    from face3d.formats.gltf import gaze_rotations, head_rotations

    rest = np.tile(np.array([0.0, 0.0, 0.0, 1.0], np.float32), (len(track), 1))
    head, look = head_rotations(track), gaze_rotations(track)
    return (rest if head is None else head), (rest if look is None else look)


def build(track, info):
    """The pygltflib document (binary blob set) of ``track`` as a VRM Animation."""
    import pygltflib as G

    from face3d.formats import frames

    fr = frames(track, info)
    times = np.asarray(fr.times, np.float32)
    if len(times) == 0:
        times = np.zeros(1, np.float32)
        fr = track.resample(info.fps, duration=0.0)
    blobs: list[bytes] = []
    views, accessors = [], []

    def add(arr, kind, minmax=False) -> int:
        arr = np.ascontiguousarray(arr, np.float32)
        off = sum(len(b) for b in blobs)
        data = arr.tobytes()
        blobs.append(data + b"\0" * ((-len(data)) % 4))
        views.append(G.BufferView(buffer=0, byteOffset=off, byteLength=len(data)))
        acc = G.Accessor(bufferView=len(views) - 1, componentType=G.FLOAT, count=len(arr), type=kind)
        if minmax:
            acc.min, acc.max = [float(arr.min())], [float(arr.max())]
        accessors.append(acc)
        return len(accessors) - 1

    nodes: list = []
    index: dict = {}
    for bone, parent, t in SKELETON:
        index[bone] = len(nodes)
        nodes.append(G.Node(name=bone, translation=list(t), children=[]))
        if parent is not None:
            nodes[index[parent]].children.append(index[bone])
    look = len(nodes)
    nodes.append(G.Node(name="lookAt", translation=list(LOOKAT_OFFSET)))
    nodes[index["head"]].children.append(look)
    expr_nodes = {}
    for name in EXPRESSIONS:
        expr_nodes[name] = len(nodes)
        nodes.append(G.Node(name=f"expression_{name}", translation=[0.0, 0.0, 0.0]))
    for n in nodes:
        n.children = n.children or None

    t_acc = add(times[:, None], "SCALAR", minmax=True)
    samplers, channels = [], []

    def channel(node: int, path: str, values: np.ndarray, kind: str):
        samplers.append(G.AnimationSampler(input=t_acc, output=add(values, kind), interpolation="LINEAR"))
        channels.append(G.AnimationChannel(sampler=len(samplers) - 1, target=G.AnimationChannelTarget(node=node, path=path)))

    weights = expression_weights(fr)
    for name in EXPRESSIONS:
        w = weights[name]
        channel(expr_nodes[name], "translation", np.stack([w, np.zeros_like(w), np.zeros_like(w)], 1), "VEC3")
    head_q, look_q = rotations(fr)
    channel(index["head"], "rotation", head_q, "VEC4")
    channel(look, "rotation", look_q, "VEC4")

    g = G.GLTF2(asset=G.Asset(version="2.0", generator="face3d"), scene=0,
                scenes=[G.Scene(nodes=[index["hips"]] + list(expr_nodes.values()))],
                nodes=nodes, accessors=accessors, bufferViews=views,
                animations=[G.Animation(name="face3d", samplers=samplers, channels=channels)])
    g.extensionsUsed = ["VRMC_vrm_animation"]
    g.extensions = {"VRMC_vrm_animation": {
        "specVersion": "1.0",
        "humanoid": {"humanBones": {bone: {"node": index[bone]} for bone, _, _ in SKELETON}},
        "expressions": {"preset": {name: {"node": expr_nodes[name]} for name in EXPRESSIONS}},
        "lookAt": {"node": look},
    }}
    blob = b"".join(blobs)
    g.buffers = [G.Buffer(byteLength=len(blob))]
    g.set_binary_blob(blob)
    return g


def write(track, stream, info, variant: str = "vrma") -> None:
    """Write ``track`` as a binary VRM Animation to ``stream``."""
    for part in build(track, info).save_to_bytes():
        stream.write(part)
