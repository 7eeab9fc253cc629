"""``face3d export --format``: Rhubarb cues, ARKit CSV and the animated GLB, read back
with strict readers of each format and compared with face3d's own CSV."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import soundfile as sf

from face3d.track import read_csv

from _audio_helpers import corr, run_cli, speak

SHAPES = set("ABCDEFGHX")
OPEN = {"A": 0.0, "B": 0.25, "C": 0.55, "D": 1.0, "E": 0.45, "F": 0.25, "G": 0.15, "H": 0.4, "X": 0.0}
NUM = r"\d+\.\d{2}"



@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    """A sentence, and words with a lip closure between two vowels (m, p, b)."""
    d = tmp_path_factory.mktemp("fmt")
    speak("The quick brown fox jumps over the lazy dog. Peter Piper picked a peck of pickled peppers, "
          "and my mother made marmalade.", d / "speech.wav")
    for word in CLOSURES:
        speak(word, d / f"{word}.wav")
    return d


#: words whose one lip closure lies between two vowels
CLOSURES = ("ama", "apa", "baba")


def closure_time(path) -> float:
    """From the sound alone: the middle of the quietest 10 ms between the first and last
    loud frames (the closure)."""
    x, rate = sf.read(str(path), dtype="float64")
    h = rate // 100
    db = np.array([10 * np.log10(np.mean(x[i * h:(i + 1) * h] ** 2) + 1e-12) for i in range(len(x) // h)])
    loud = np.flatnonzero(db > db.max() - 12)
    m = loud[0] + int(np.argmin(db[loud[0]: loud[-1] + 1]))
    return m / 100 + 0.005


def _csv(d, name="speech.wav", fps=60):
    out = d / f"{name}.{fps}.csv"
    if not out.exists():
        r = run_cli("export", d / name, "-o", out, "--fps", fps)
        assert r.returncode == 0, r.stderr
    return read_csv(out)


def read_tsv(text: str):
    """Rhubarb's TSV: '<start>\\t<shape>' lines; the last one is the final rest."""
    lines = text.split("\n")
    assert lines[-1] == "" and all(lines[:-1]), "one cue a line, newline-terminated, no blank lines"
    out = []
    for ln in lines[:-1]:
        m = re.fullmatch(rf"({NUM})\t([A-HX])", ln)
        assert m, f"not a Rhubarb TSV line: {ln!r}"
        out.append((float(m.group(1)), m.group(2)))
    return out


def read_json(text: str):
    data = json.loads(text)
    assert list(data) == ["metadata", "mouthCues"]
    assert list(data["metadata"]) == ["soundFile", "duration"]
    assert isinstance(data["metadata"]["soundFile"], str)
    for m in re.finditer(r'"(start|end|duration)": ([^,\s}]+)', text):
        assert re.fullmatch(NUM, m.group(2)), f"{m.group(1)} {m.group(2)} is not written with two decimals"
    cues = []
    for c in data["mouthCues"]:
        assert list(c) == ["start", "end", "value"] and c["value"] in SHAPES
        cues.append((c["start"], c["end"], c["value"]))
    return data["metadata"]["duration"], cues


def read_xml(text: str):
    assert text.startswith('<?xml version="1.0" encoding="utf-8"?>\n<rhubarbResult>')
    root = ET.fromstring(text.encode("utf-8"))
    assert root.tag == "rhubarbResult" and [c.tag for c in root] == ["metadata", "mouthCues"]
    meta, mc = root
    assert [c.tag for c in meta] == ["soundFile", "duration"]
    assert re.fullmatch(NUM, meta.find("duration").text)
    cues = []
    for c in mc:
        assert c.tag == "mouthCue" and sorted(c.attrib) == ["end", "start"] and c.text in SHAPES
        assert re.fullmatch(NUM, c.get("start")) and re.fullmatch(NUM, c.get("end"))
        cues.append((float(c.get("start")), float(c.get("end")), c.text))
    return float(meta.find("duration").text), cues


def _check_cues(cues, duration, rest="X"):
    assert cues[0][0] == 0.0, "the first cue starts at 0"
    assert cues[-1][2] == rest and abs(cues[-1][1] - duration) < 0.006
    for (a, b, s), nxt in zip(cues, cues[1:] + [None]):
        assert b - a >= 1 / 24 - 0.005, f"cue {s} at {a} lasts {b - a:.2f} s, under one frame at 24 fps"
        if nxt is not None:
            assert nxt[0] == b and nxt[2] != s, "cues are contiguous and change shape"


@pytest.fixture(scope="module")
def rhubarb(speech):
    d = speech
    out = {}
    for ext in ("tsv", "json", "xml"):
        r = run_cli("export", d / "speech.wav", "-o", d / f"cues.{ext}")
        assert r.returncode == 0, r.stderr
        out[ext] = (d / f"cues.{ext}").read_text(encoding="utf-8")
    return out


def test_rhubarb_formats_parse_strictly_and_agree(speech, rhubarb):
    d = speech
    duration = sf.info(str(d / "speech.wav")).duration
    jd, jcues = read_json(rhubarb["json"])
    xd, xcues = read_xml(rhubarb["xml"])
    tsv = read_tsv(rhubarb["tsv"])
    assert jd == xd == round(duration, 2)
    assert jcues == xcues
    _check_cues(jcues, duration)
    assert tsv == [(a, s) for a, _, s in jcues]
    assert json.loads(rhubarb["json"])["metadata"]["soundFile"] == str(d / "speech.wav")


def test_rhubarb_openness_follows_the_jaw(speech, rhubarb):
    _, cues = read_json(rhubarb["json"])
    tr = _csv(speech)
    opened = np.zeros(len(tr))
    for a, b, s in cues:
        opened[(tr.times >= a) & (tr.times < b)] = OPEN[s]
    r = corr(opened, tr.column("jawOpen"))
    assert r > 0.7, f"cue openness vs face3d's jawOpen: r = {r:.2f}"
    assert {"A", "C", "D"} <= {s for _, _, s in cues}


@pytest.mark.parametrize("word", CLOSURES)
def test_lip_closures_give_A(speech, tmp_path, word):
    wav = speech / f"{word}.wav"
    closure = closure_time(wav)
    r = run_cli("export", wav, "-o", tmp_path / "s.json")
    assert r.returncode == 0, r.stderr
    _, cues = read_json((tmp_path / "s.json").read_text())
    _check_cues(cues, sf.info(str(wav)).duration)
    near = [c for c in cues if c[0] <= closure + 0.04 and c[1] >= closure - 0.04]
    assert "A" in [s for _, _, s in near], f"{word}: no A cue at the lip closure at {closure:.2f} s: {cues}"
    around = [s for a, b, s in cues if closure - 0.25 < a and b < closure + 0.25 and not a <= closure < b]
    assert set(around) & set("CDE"), f"{word}: no open vowel around the closure at {closure:.2f} s: {cues}"


def test_extended_shapes_option(speech, tmp_path):
    d = speech
    r = run_cli("export", d / "speech.wav", "-o", tmp_path / "basic.tsv", "--extended-shapes", "")
    assert r.returncode == 0, r.stderr
    cues = read_tsv((tmp_path / "basic.tsv").read_text())
    assert {s for _, s in cues} <= set("ABCDEF") and cues[-1][1] == "A"
    r = run_cli("export", d / "speech.wav", "-o", tmp_path / "x.tsv", "--extended-shapes", "GQ")
    assert r.returncode == 2 and "G, H, X" in r.stderr and len(r.stderr.strip().splitlines()) == 1


ARKIT = ("EyeBlinkLeft EyeLookDownLeft EyeLookInLeft EyeLookOutLeft EyeLookUpLeft EyeSquintLeft EyeWideLeft "
         "EyeBlinkRight EyeLookDownRight EyeLookInRight EyeLookOutRight EyeLookUpRight EyeSquintRight EyeWideRight "
         "JawForward JawRight JawLeft JawOpen MouthClose MouthFunnel MouthPucker MouthRight MouthLeft "
         "MouthSmileLeft MouthSmileRight MouthFrownLeft MouthFrownRight MouthDimpleLeft MouthDimpleRight "
         "MouthStretchLeft MouthStretchRight MouthRollLower MouthRollUpper MouthShrugLower MouthShrugUpper "
         "MouthPressLeft MouthPressRight MouthLowerDownLeft MouthLowerDownRight MouthUpperUpLeft MouthUpperUpRight "
         "BrowDownLeft BrowDownRight BrowInnerUp BrowOuterUpLeft BrowOuterUpRight CheekPuff CheekSquintLeft "
         "CheekSquintRight NoseSneerLeft NoseSneerRight TongueOut HeadYaw HeadPitch HeadRoll LeftEyeYaw "
         "LeftEyePitch LeftEyeRoll RightEyeYaw RightEyePitch RightEyeRoll").split()


@pytest.mark.parametrize("fps", [60, 30])
def test_arkit_csv(speech, tmp_path, fps):
    d = speech
    out = tmp_path / "take.csv"
    r = run_cli("export", d / "speech.wav", "-o", out, "--format", "arkit-csv", "--fps", fps)
    assert r.returncode == 0, r.stderr
    lines = out.read_text().splitlines()
    header = lines[0].split(",")
    assert len(header) == 63 and header[:2] == ["Timecode", "BlendShapeCount"] and header[2:] == ARKIT
    ref = _csv(d, fps=fps)
    assert len(lines) - 1 == len(ref)
    vals = []
    for i, ln in enumerate(lines[1:]):
        row = ln.split(",")
        assert len(row) == 63 and row[1] == "61"
        m = re.fullmatch(r"(\d\d):(\d\d):(\d\d):(\d\d)\.(\d\d\d)", row[0])
        assert m, row[0]
        h, mi, s, ff, sub = map(int, m.groups())
        assert ff < fps and (h * 3600 + mi * 60 + s) * fps + ff + sub / 1000 == pytest.approx(i, abs=1e-3)
        vals.append([float(v) for v in row[2:]])
    vals = np.array(vals)
    assert vals.shape[1] == 61 and np.all(vals[:, :52] >= 0) and np.all(vals[:, :52] <= 1)
    col = {n: vals[:, k] for k, n in enumerate(ARKIT)}
    np.testing.assert_allclose(col["JawOpen"], ref.column("jawOpen"), atol=1e-4)
    np.testing.assert_allclose(col["MouthClose"], ref.column("mouthClose"), atol=1e-4)
    np.testing.assert_allclose(col["MouthPucker"], ref.column("mouthPucker"), atol=1e-4)
    assert corr(col["MouthStretchLeft"], ref.column("mouthWide")) > 0.99
    np.testing.assert_allclose(col["EyeBlinkLeft"], ref.column("eyeBlinkLeft"), atol=1e-4)   # the alive curves
    assert not col["CheekPuff"].any()
    # from the visemes: the tongue shows only on th (at most half out), the lower lip rolls in on f/v
    assert col["TongueOut"].max() <= 0.5 and col["MouthRollLower"].max() <= 0.9


@pytest.fixture(scope="module")
def glb(speech):
    d = speech
    out = d / "talk.glb"
    r = run_cli("export", d / "speech.wav", "-o", out, "--fps", 30)
    assert r.returncode == 0, r.stderr
    return out


def test_glb_has_named_morph_targets_and_a_weights_animation(speech, glb):
    import pygltflib

    from face3d.mesh.heads import load_head

    d = speech
    rig = load_head(None)
    g = pygltflib.GLTF2().load(str(glb))
    mesh = g.meshes[g.nodes[0].mesh]
    names = mesh.extras["targetNames"]
    assert names == list(rig.names) and len(mesh.primitives[0].targets) == len(names)
    assert len(g.animations) == 1
    anim = g.animations[0]
    # + the head's turns, and the eyeballs' (child nodes 1 and 2)
    assert [(c.target.node, c.target.path) for c in anim.channels] == [
        (0, "weights"), (0, "rotation"), (0, "translation"), (1, "rotation"), (2, "rotation")]
    blob = g.binary_blob()

    def acc(i):
        a = g.accessors[i]
        v = g.bufferViews[a.bufferView]
        n = {"SCALAR": 1, "VEC3": 3}[a.type]
        return np.frombuffer(blob, np.float32, a.count * n, v.byteOffset + (a.byteOffset or 0)).reshape(a.count, n)

    sampler = anim.samplers[anim.channels[0].sampler]
    times = acc(sampler.input)[:, 0]
    w = acc(sampler.output).reshape(len(times), len(names))
    duration = sf.info(str(d / "speech.wav")).duration
    assert times[0] == 0.0 and duration - 1 / 30 <= times[-1] <= duration
    assert np.all(np.diff(times) > 0) and np.all((w >= 0) & (w <= 1))
    from face3d.commands._common import head_wants_visemes
    from face3d.mesh.rig.visemes import muted_curves

    # the export analyses with the visemes when the head shows them (the default head
    # does): they drive its viseme targets, and the mouth curves they replace stay at 0
    if head_wants_visemes(rig):
        ref = d / "speech.visemes.csv"
        r = run_cli("export", d / "speech.wav", "-o", ref, "--fps", 30, "--visemes")
        assert r.returncode == 0, r.stderr
        ref = read_csv(ref)
        assert w[:, names.index("viseme_aa")].max() > 0.3, "the visemes open the mouth"
    else:
        ref = _csv(d, fps=30)
    muted = set(muted_curves(rig, ref.names))
    driven = [n for n in names if n in ref.names]
    assert "jawOpen" in driven
    for n in driven:   # CSV: 4 decimals
        np.testing.assert_allclose(w[:, names.index(n)], 0.0 if n in muted else ref.column(n), atol=5.1e-5, err_msg=n)
    delta = acc(mesh.primitives[0].targets[names.index("jawOpen")]["POSITION"])
    assert np.abs(delta).max() > 0.01, "the jawOpen target moves the jaw"


def test_glb_loads_with_trimesh(glb):
    import trimesh

    from face3d.mesh.heads import load_head

    scene = trimesh.load(str(glb))
    rig = load_head(None)
    sizes = {k: len(v.vertices) for k, v in scene.geometry.items()}
    eyes = [b - a for a, b in (e["range"] for e in rig.info["eyes"])]
    assert sizes == {"head": rig.n_vertices, "eye0": eyes[0], "eye1": eyes[1]}   # the eyeballs turn on their own
    assert sorted(scene.graph.nodes_geometry) == ["eyeLeft", "eyeRight", "head"]


def test_glb_imports_into_blender_with_animated_shape_keys(glb):
    bpy = pytest.importorskip("bpy", reason="bpy (Blender as a Python module) is not installed")
    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.ops.import_scene.gltf(filepath=str(glb))
    meshes = [o for o in bpy.context.scene.objects if o.type == "MESH"]
    assert len(meshes) == 1
    keys = meshes[0].data.shape_keys
    assert keys is not None and "jawOpen" in keys.key_blocks
    assert keys.animation_data is not None and keys.animation_data.action is not None
    curves = keys.animation_data.action.fcurves
    assert any("jawOpen" in fc.data_path for fc in curves)


def test_format_by_extension_and_errors(speech, tmp_path):
    d = speech
    r = run_cli("export", d / "speech.wav", "-o", tmp_path / "x", "--format", "rhubarb-tsv")
    assert r.returncode == 0 and (tmp_path / "x").read_text().startswith("0.00\t")
    # never one format under another's name (see test_outputs.py)
    r = run_cli("export", d / "speech.wav", "-o", tmp_path / "x.tsv", "--format", "csv")
    assert r.returncode == 2 and "--format csv writes .csv" in r.stderr and not (tmp_path / "x.tsv").exists()
    r = run_cli("export", d / "speech.wav", "-o", tmp_path / "x.out", "--format", "nope")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "rhubarb-tsv" in r.stderr
    r = run_cli("export", d / "speech.wav", d / "ama.wav", "-o", f"{tmp_path / 'cues'}/", "--format", "rhubarb-json")
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in (tmp_path / "cues").iterdir()) == ["ama.json", "face3d-report.jsonl", "speech.json"]
    r = run_cli("export", d / "speech.wav", "-o", tmp_path / "nohead.glb", "--head", tmp_path / "missing.obj")
    assert r.returncode == 2 and "missing.obj" in r.stderr and not (tmp_path / "nohead.glb").exists()


def test_living_face_curves_map_by_name():
    """Curves beyond the mouth (eye blinks, brows, head turns) reach the ARKit and VRM names
    they share, wherever a track has them."""
    from face3d.formats.arkit import COLUMNS, arkit_values
    from face3d.formats.vmc import blend_values
    from face3d.track import WeightTrack

    names = ("jawOpen", "mouthWide", "mouthPucker", "mouthClose", "eyeBlinkLeft", "eyeBlinkRight", "browInnerUp", "headYaw")
    values = np.array([[0.5, 0.0, 0.0, 0.0, 0.9, 0.7, 0.3, -0.2]], np.float32)
    row = arkit_values(WeightTrack([0.0], names, values))[0]
    got = dict(zip(COLUMNS, row))
    assert got["EyeBlinkLeft"] == pytest.approx(0.9) and got["EyeBlinkRight"] == pytest.approx(0.7)
    assert got["BrowInnerUp"] == pytest.approx(0.3) and got["HeadYaw"] == pytest.approx(np.radians(-0.2))
    assert got["JawOpen"] == pytest.approx(0.5) and got["CheekPuff"] == 0
    vrm = dict(blend_values(names, values[0], "vrm0"))
    assert vrm["Blink"] == pytest.approx(0.7) and vrm["Blink_L"] == pytest.approx(0.2) and vrm["Blink_R"] == 0
    assert vrm["A"] == pytest.approx(0.5)
    assert "blink" in dict(blend_values(names, values[0], "vrm1"))
    assert "Blink" not in dict(blend_values(names[:4], values[0, :4], "vrm0"))


def test_head_angles_turn_the_glb_node_and_fill_the_arkit_rotations(tmp_path):
    import pygltflib

    from face3d.formats import ExportInfo, FORMATS, save
    from face3d.formats.arkit import COLUMNS, arkit_values
    from face3d.mesh.heads import load_head
    from face3d.track import WeightTrack

    t = np.arange(101) / 100
    names = ("jawOpen", "headYaw", "headPitch")
    values = np.stack([0.5 + 0.5 * np.sin(6 * t), 30 * t, np.zeros_like(t)], axis=1)
    track = WeightTrack(t, names, values)
    row = dict(zip(COLUMNS, arkit_values(track)[-1]))
    assert row["HeadYaw"] == pytest.approx(np.radians(30)) and row["HeadPitch"] == 0
    save(FORMATS["glb"], track, tmp_path / "turn.glb", ExportInfo(duration=1.0, fps=25, rig=load_head(None)))
    g = pygltflib.GLTF2().load(str(tmp_path / "turn.glb"))
    (anim,) = g.animations
    paths = {c.target.path: c.sampler for c in anim.channels}
    assert set(paths) == {"weights", "rotation", "translation"}   # turning about the neck pivot
    acc = g.accessors[anim.samplers[paths["rotation"]].output]
    v = g.bufferViews[acc.bufferView]
    q = np.frombuffer(g.binary_blob(), np.float32, acc.count * 4, v.byteOffset).reshape(-1, 4)
    assert acc.type == "VEC4" and acc.count == 25       # frames 0 .. 0.96 s (inside the sound)
    np.testing.assert_allclose(q[-1], [0, np.sin(np.radians(14.4)), 0, np.cos(np.radians(14.4))], atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(q, axis=1), 1, atol=1e-5)
