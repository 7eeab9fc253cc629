"""``face3d export --format vrma``: a VRM Animation read back with pygltflib, checked against
the VRMC_vrm_animation 1.0 rules, and played back (weights read as a player reads them)
against face3d's own CSV of the same speech."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import ROOT, run_cli

SPEECH = ROOT / "models" / "demo_speech.wav"
#: VRM 1.0's required humanoid bones
REQUIRED_BONES = {"hips", "spine", "head", "leftUpperArm", "leftLowerArm", "leftHand", "rightUpperArm",
                  "rightLowerArm", "rightHand", "leftUpperLeg", "leftLowerLeg", "leftFoot", "rightUpperLeg",
                  "rightLowerLeg", "rightFoot"}
EXPRESSIONS = ("aa", "ih", "ou", "ee", "oh", "blink", "blinkLeft", "blinkRight")


def _accessor(g, i):
    import pygltflib

    a = g.accessors[i]
    assert a.componentType == pygltflib.FLOAT and a.sparse is None
    v = g.bufferViews[a.bufferView]
    blob = g.binary_blob()
    width = {"SCALAR": 1, "VEC3": 3, "VEC4": 4}[a.type]
    return np.frombuffer(blob, "<f4", a.count * width, (v.byteOffset or 0) + (a.byteOffset or 0)).reshape(a.count, width)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    d = tmp_path_factory.mktemp("vrma")
    r = run_cli("export", str(SPEECH), "-o", str(d / "a.vrma"), "--fps", "30")
    assert r.returncode == 0, r.stderr
    r = run_cli("export", str(SPEECH), "-o", str(d / "a.csv"), "--fps", "30")
    assert r.returncode == 0, r.stderr
    import pygltflib

    from face3d.track import read_csv

    return pygltflib.GLTF2().load_binary(str(d / "a.vrma")), read_csv(d / "a.csv")


def test_vrma_follows_the_vrmc_vrm_animation_rules(exported):
    g, _ = exported
    assert g.asset.version == "2.0"
    assert "VRMC_vrm_animation" in (g.extensionsUsed or [])  # three-vrm reads nothing otherwise
    ext = g.extensions["VRMC_vrm_animation"]
    assert set(ext) <= {"specVersion", "humanoid", "expressions", "lookAt", "extensions", "extras"}
    assert ext["specVersion"] == "1.0" and "humanoid" in ext
    bones = ext["humanoid"]["humanBones"]
    assert REQUIRED_BONES <= set(bones) and not {"leftEye", "rightEye"} & set(bones)
    preset = ext["expressions"]["preset"]
    assert tuple(preset) == EXPRESSIONS  # lookUp/Down/Left/Right may not be animated
    nodes = {b["node"] for b in bones.values()} | {e["node"] for e in preset.values()} | {ext["lookAt"]["node"]}
    assert len(nodes) == len(bones) + len(preset) + 1 and all(0 <= n < len(g.nodes) for n in nodes)
    for b in bones.values():  # the rest pose: VRM T-pose, no rotations or scales
        n = g.nodes[b["node"]]
        assert n.rotation in (None, [0, 0, 0, 1]) and n.scale in (None, [1, 1, 1]) and n.matrix is None
    assert len(g.animations) == 1
    anim = g.animations[0]
    by_node = {}
    for ch in anim.channels:
        by_node.setdefault(ch.target.node, []).append(ch.target.path)
        s = anim.samplers[ch.sampler]
        t = _accessor(g, s.input)[:, 0]
        assert s.interpolation == "LINEAR" and np.all(np.diff(t) > 0)
        assert g.accessors[s.input].min == [float(t.min())] and g.accessors[s.input].max == [float(t.max())]
        assert g.accessors[s.output].count == len(t)
    bone_of = {b["node"]: name for name, b in bones.items()}
    for node, paths in by_node.items():
        if node in bone_of:  # humanoid: rotations; translation only on hips; never scale
            assert set(paths) <= ({"rotation", "translation"} if bone_of[node] == "hips" else {"rotation"})
    for name, e in preset.items():
        assert by_node[e["node"]] == ["translation"], name
    assert by_node[ext["lookAt"]["node"]] == ["rotation"]
    assert by_node[bones["head"]["node"]] == ["rotation"]


def _play(g):
    """{expression: (times, weights)} and the head and gaze quaternions, as a player reads them."""
    ext = g.extensions["VRMC_vrm_animation"]
    node_expr = {e["node"]: n for n, e in ext["expressions"]["preset"].items()}
    out, quats = {}, {}
    anim = g.animations[0]
    for ch in anim.channels:
        s = anim.samplers[ch.sampler]
        t, v = _accessor(g, s.input)[:, 0], _accessor(g, s.output)
        if ch.target.node in node_expr:
            assert np.all(v[:, 1:] == 0)
            out[node_expr[ch.target.node]] = (t, v[:, 0])
        else:
            quats[ch.target.node] = v
    return out, quats


def test_vrma_plays_face3ds_curves(exported):
    g, csv = exported
    weights, quats = _play(g)
    t = weights["aa"][0]
    assert len(t) == len(csv) and np.allclose(t, csv.times, atol=1e-4)
    for name, (_, w) in weights.items():
        assert w.min() >= 0 and w.max() <= 1, name
    col = {n: np.clip(csv.column(n), 0, 1) for n in csv.names}
    # the mouth expressions split face3d's curves without adding mouth
    np.testing.assert_allclose(weights["aa"][1] + weights["ee"][1] + weights["oh"][1], col["jawOpen"], atol=1.2e-4)
    np.testing.assert_allclose(weights["ou"][1] + weights["oh"][1], col["mouthPucker"], atol=1.2e-4)
    np.testing.assert_allclose(weights["ih"][1] + weights["ee"][1], col["mouthWide"], atol=1.2e-4)
    assert weights["aa"][1].max() > 0.3  # speech opens the mouth
    np.testing.assert_allclose(weights["blink"][1] + weights["blinkLeft"][1], col["eyeBlinkLeft"], atol=1.2e-4)
    assert weights["blink"][1].max() > 0.5  # blinks reach both eyes
    ext = g.extensions["VRMC_vrm_animation"]
    head = quats[ext["humanoid"]["humanBones"]["head"]["node"]]
    look = quats[ext["lookAt"]["node"]]
    assert np.allclose(np.linalg.norm(head, axis=1), 1, atol=1e-5) and np.allclose(np.linalg.norm(look, axis=1), 1, atol=1.2e-4)
    # the head turns as face3d turns it: small-angle yaw about +Y is 2 * q.y (radians)
    yaw = np.degrees(2 * np.arcsin(np.clip(head[:, 1], -1, 1)))
    assert "headYaw" in csv.names
    assert np.abs(yaw - csv.column("headYaw")).max() < 0.2 + 0.05 * np.abs(yaw).max()
    assert np.abs(head[:, :3]).max() > 0.005  # it moves


def test_vrma_chosen_by_extension_and_mouth_only(tmp_path):
    r = run_cli("export", str(SPEECH), "-o", str(tmp_path / "b.vrma"), "--mouth-only")
    assert r.returncode == 0, r.stderr
    import pygltflib

    g = pygltflib.GLTF2().load_binary(str(tmp_path / "b.vrma"))
    weights, quats = _play(g)
    assert weights["blink"][1].max() == 0  # a still head: no blinks
    assert all(np.allclose(q, [0, 0, 0, 1]) for q in quats.values())


def test_expression_split_from_face3d_curves():
    from face3d.formats.vrma import expression_weights
    from face3d.track import WeightTrack

    names = ("jawOpen", "mouthWide", "mouthPucker", "eyeBlinkLeft", "eyeBlinkRight")
    rows = np.array([[1.0, 0, 0, 1, 0], [0.6, 0, 0.4, 0.3, 0.8], [0.5, 0.8, 0, 0, 0]])
    w = expression_weights(WeightTrack(np.arange(3) / 100, names, rows))
    np.testing.assert_allclose(w["aa"], [1.0, 0.2, 0.0], atol=1e-6)
    np.testing.assert_allclose(w["oh"], [0.0, 0.4, 0.0], atol=1e-6)
    np.testing.assert_allclose(w["ee"], [0.0, 0.0, 0.5], atol=1e-6)
    np.testing.assert_allclose(w["ih"], [0.0, 0.0, 0.3], atol=1e-6)
    np.testing.assert_allclose(w["blink"], [0.0, 0.3, 0.0], atol=1e-6)
    np.testing.assert_allclose(w["blinkRight"], [0.0, 0.5, 0.0], atol=1e-6)
    # curves driven from visemes, when the track has them, are written as they are
    v = expression_weights(WeightTrack(np.arange(2) / 100, ("aa", "oh"), np.array([[0.7, 0.1], [0.2, 0.0]])))
    np.testing.assert_allclose(v["aa"], [0.7, 0.2], atol=1e-6)
    assert v["ih"].max() == 0
