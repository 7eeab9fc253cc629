"""The alive curves (blinks, brows, gaze, head motion) in every export with a place for
them: the GLB's blink and brow targets and a head-rotation channel, the ARKit CSV's eye
blinks, brows and rotation columns; ``--seed`` and ``--mouth-only`` act on them; Rhubarb's
mouth cues have no place for them, and ``--seed`` there is refused (docs/alive.md)."""

from __future__ import annotations

import numpy as np
import pytest

from face3d.track import read_csv

from _audio_helpers import corr, run_cli, speak

TEXT = ("The quick brown fox jumps over the lazy dog. Then it sat down, looked around, "
        "and asked whether anyone had seen the moon tonight. Nobody answered.")


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    d = tmp_path_factory.mktemp("alive_fmt")
    speak(TEXT, d / "speech.wav")
    r = run_cli("export", d / "speech.wav", "-o", d / "ref.csv", "--fps", 30)
    assert r.returncode == 0, r.stderr
    return d


def _export(d, name, *extra):
    out = d / name
    r = run_cli("export", d / "speech.wav", "-o", out, "--fps", 30, *extra)
    assert r.returncode == 0, r.stderr
    return out


def _glb(path):
    """(target names, {channel path: (T, n) output}, times) of a GLB's one animation."""
    import pygltflib

    g = pygltflib.GLTF2().load(str(path))
    names = g.meshes[g.nodes[0].mesh].extras["targetNames"]
    (anim,) = g.animations
    blob = g.binary_blob()

    def acc(i):
        a = g.accessors[i]
        n = {"SCALAR": 1, "VEC3": 3, "VEC4": 4}[a.type]
        v = g.bufferViews[a.bufferView]
        return np.frombuffer(blob, np.float32, a.count * n, v.byteOffset + (a.byteOffset or 0)).reshape(a.count, n)

    out, times = {}, None
    for c in anim.channels:
        s = anim.samplers[c.sampler]
        times = acc(s.input)[:, 0]
        key = c.target.path if c.target.node == 0 else f"{g.nodes[c.target.node].name}.{c.target.path}"
        out[key] = acc(s.output).reshape(len(times), -1)
    return names, out, times


def test_glb_carries_blinks_brows_and_head_rotation(speech):
    from face3d.mesh.heads import load_head
    from face3d.render.pose import head_rotation, neck_pivot

    d = speech
    names, ch, times = _glb(_export(d, "talk.glb"))
    ref = read_csv(d / "ref.csv")
    assert set(ch) == {"weights", "rotation", "translation", "eyeLeft.rotation", "eyeRight.rotation"}
    w = ch["weights"]
    blink = w[:, names.index("eyeBlinkLeft")]
    assert blink.max() > 0.9 and (blink > 0.5).sum() >= 2, "the eyes close in a blink"
    np.testing.assert_allclose(blink, ref.column("eyeBlinkLeft"), atol=1e-4)
    np.testing.assert_allclose(w[:, names.index("browInnerUp")], ref.column("browInnerUp"), atol=1e-4)
    assert w[:, names.index("browInnerUp")].max() > 0.05, "the brows rise on accents"
    # the node turns as face3d draws the head: R about the neck pivot (rotation + translation)
    rig = load_head(None)
    pivot = neck_pivot(rig)
    k = int(np.argmax(np.abs(ref.column("headYaw")) + np.abs(ref.column("headPitch"))))
    pose = {n: ref.column(n)[k] for n in ("headPitch", "headYaw", "headRoll")}
    r_want = head_rotation(pose["headPitch"], pose["headYaw"], pose["headRoll"])
    x, y, z, qw = ch["rotation"][k].astype(np.float64)
    r_got = np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * qw), 2 * (x * z + y * qw)],
                      [2 * (x * y + z * qw), 1 - 2 * (x * x + z * z), 2 * (y * z - x * qw)],
                      [2 * (x * z - y * qw), 2 * (y * z + x * qw), 1 - 2 * (x * x + y * y)]])
    np.testing.assert_allclose(r_got, r_want, atol=2e-4)
    assert np.degrees(np.arccos(min(1.0, abs(qw)))) * 2 > 1.0, "the head turns by more than a degree"
    np.testing.assert_allclose(ch["translation"][k], pivot - r_want @ pivot, atol=1e-5)


def test_glb_seed_and_mouth_only(speech):
    d = speech
    names, ch0, _ = _glb(_export(d, "s0.glb"))
    _, ch1, _ = _glb(_export(d, "s1.glb", "--seed", 1))
    b = names.index("eyeBlinkLeft")
    assert not np.allclose(ch0["weights"][:, b], ch1["weights"][:, b]), "--seed changes the blinks"
    assert not np.allclose(ch0["rotation"], ch1["rotation"]), "--seed changes the head motion"
    # the mouth: the head's viseme targets when it shows them (the default head does; they
    # replace jawOpen there), else jawOpen
    from face3d.commands._common import head_wants_visemes
    from face3d.mesh.heads import load_head

    j = names.index("viseme_aa" if head_wants_visemes(load_head(None)) else "jawOpen")
    np.testing.assert_allclose(ch0["weights"][:, j], ch1["weights"][:, j], atol=1e-6)
    _, still, _ = _glb(_export(d, "mouth.glb", "--mouth-only"))
    assert set(still) == {"weights"}, "--mouth-only: no head or eye rotation"
    assert not still["weights"][:, b].any() and still["weights"][:, j].max() > 0.3


def _arkit(path):
    lines = path.read_text().splitlines()
    header = lines[0].split(",")[2:]
    vals = np.array([[float(v) for v in ln.split(",")[2:]] for ln in lines[1:]])
    return {n: vals[:, k] for k, n in enumerate(header)}


def test_arkit_csv_carries_blinks_brows_and_rotations(speech):
    d = speech
    ref = read_csv(d / "ref.csv")
    col = _arkit(_export(d, "take.csv", "--format", "arkit-csv"))
    assert col["EyeBlinkLeft"].max() > 0.9 and col["EyeBlinkRight"].max() > 0.9
    np.testing.assert_allclose(col["EyeBlinkLeft"], ref.column("eyeBlinkLeft"), atol=1e-4)
    np.testing.assert_allclose(col["BrowInnerUp"], ref.column("browInnerUp"), atol=1e-4)
    np.testing.assert_allclose(col["BrowOuterUpLeft"], ref.column("browOuterUpLeft"), atol=1e-4)
    for arkit, mine in (("HeadYaw", "headYaw"), ("HeadPitch", "headPitch"), ("HeadRoll", "headRoll"),
                        ("LeftEyeYaw", "eyeYaw"), ("RightEyePitch", "eyePitch")):
        np.testing.assert_allclose(col[arkit], np.radians(ref.column(mine)), atol=2e-5)
        assert np.abs(col[arkit]).max() > np.radians(0.3), f"{arkit} moves"
    other = _arkit(_export(d, "take1.csv", "--format", "arkit-csv", "--seed", 7))
    assert corr(other["JawOpen"], col["JawOpen"]) > 0.999
    assert not np.allclose(other["EyeBlinkLeft"], col["EyeBlinkLeft"]) and not np.allclose(other["HeadYaw"], col["HeadYaw"])
    still = _arkit(_export(d, "take2.csv", "--format", "arkit-csv", "--mouth-only"))
    assert not any(still[n].any() for n in ("EyeBlinkLeft", "BrowInnerUp", "HeadYaw", "LeftEyeYaw"))
    assert still["JawOpen"].max() > 0.3


def test_rhubarb_refuses_seed_it_has_no_place_for(speech, tmp_path):
    d = speech
    r = run_cli("export", d / "speech.wav", "-o", tmp_path / "cues.tsv", "--seed", 3)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "--seed" in r.stderr and "rhubarb-tsv" in r.stderr and not (tmp_path / "cues.tsv").exists()
    r = run_cli("export", d / "speech.wav", "-o", tmp_path / "cues.json", "--mouth-only")
    assert r.returncode == 0, r.stderr


def _quat_matrix(q):
    x, y, z, w = (float(v) for v in q)
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                     [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                     [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])


def _glb_frame(path, k):
    """(weights {name: w}, world positions of every vertex (V, 3), vertices the head mesh
    draws) at frame ``k`` of a GLB, composing its nodes' TRS and morph targets."""
    import pygltflib

    g = pygltflib.GLTF2().load(str(path))
    blob = g.binary_blob()

    def acc(i):
        a = g.accessors[i]
        n = {"SCALAR": 1, "VEC3": 3, "VEC4": 4}[a.type]
        v = g.bufferViews[a.bufferView]
        dt = np.uint32 if a.componentType == pygltflib.UNSIGNED_INT else np.float32
        return np.frombuffer(blob, dt, a.count * n, v.byteOffset + (a.byteOffset or 0)).reshape(a.count, n)

    (anim,) = g.animations
    out = {(c.target.node, c.target.path): acc(anim.samplers[c.sampler].output) for c in anim.channels}
    names = g.meshes[0].extras["targetNames"]
    assert [n.name for n in g.nodes] == ["head", "eyeLeft", "eyeRight"] and g.nodes[0].children == [1, 2]
    w = out[(0, "weights")].reshape(-1, len(names))[k]
    r_head, t_head = _quat_matrix(out[(0, "rotation")][k]), out[(0, "translation")][k]
    prim = g.meshes[0].primitives[0]
    pos = acc(prim.attributes.POSITION).astype(np.float64)
    pos = pos + sum(w[j] * acc(t["POSITION"]) for j, t in enumerate(prim.targets))
    world = pos @ r_head.T + t_head
    used = np.unique(acc(prim.indices))
    eyes = []
    for node in (1, 2):
        local = acc(g.meshes[g.nodes[node].mesh].primitives[0].attributes.POSITION).astype(np.float64)
        r_eye = _quat_matrix(out[(node, "rotation")][k])
        eyes.append((local @ r_eye.T + np.asarray(g.nodes[node].translation)) @ r_head.T + t_head)
    return dict(zip(names, w)), world, used, eyes


def _check_frame(path, k, pose, atol=2e-5):
    from face3d.mesh.heads import load_head
    from face3d.render.pose import apply_pose

    rig = load_head(None)
    w, world, used, eyes = _glb_frame(path, k)
    want = apply_pose(rig, rig.apply(w)[0], pose)
    np.testing.assert_allclose(world[used], want[used], atol=atol)
    for got, eye in zip(eyes, rig.info["eyes"]):
        a, b = eye["range"]
        assert not np.isin(np.arange(a, b), used).any(), "the eyeball is in its own node, not the head's mesh"
        np.testing.assert_allclose(got, want[a:b], atol=atol)


def test_glb_frame_puts_every_vertex_where_face3d_draws_it(speech, tmp_path):
    """The GLB's nodes (the head turned about its neck, the eyeballs child nodes turned about
    their centres) and morph weights give the vertices face3d draws (render.pose.apply_pose):
    at the speech's most turned frame, and at large angles."""
    from face3d.formats import ExportInfo, FORMATS, save
    from face3d.mesh.heads import load_head
    from face3d.track import WeightTrack

    d = speech
    path = d / "talk.glb" if (d / "talk.glb").exists() else _export(d, "talk.glb")
    ref = read_csv(d / "ref.csv")
    k = int(np.argmax(np.abs(ref.column("eyeYaw")) + np.abs(ref.column("headYaw"))))
    pose = {n: float(ref.column(n)[k]) for n in ("eyeYaw", "eyePitch", "headPitch", "headYaw", "headRoll")}
    assert abs(pose["eyeYaw"]) > 1.0, pose
    _check_frame(path, k, pose)
    pose = {"eyeYaw": 25.0, "eyePitch": 15.0, "headPitch": -12.0, "headYaw": 30.0, "headRoll": 8.0}
    names = ("jawOpen", "eyeBlinkLeft", *pose)
    track = WeightTrack(np.array([0.0, 1.0]), names, np.array([[0.7, 0.4, *pose.values()]] * 2, np.float32))
    save(FORMATS["glb"], track, tmp_path / "big.glb", ExportInfo(duration=1.0, fps=10, rig=load_head(None)))
    _check_frame(tmp_path / "big.glb", 3, pose)
