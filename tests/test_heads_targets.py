"""Heads that bring their own blendshapes: OBJ target sets, glTF morph targets, name mapping."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import SHARED_HEADS, run_cli


def _snap(rig, weights, ctx, size=(120, 120), **kw):
    from face3d.render.offscreen import render_snapshot

    img = render_snapshot(rig, weights, size=size, ctx=ctx, **kw).astype(int)
    ctx.detect_framebuffer(0).use()  # see tests/test_heads.py::_snap
    return img


def _scale(rig_a, rig_b):
    """Scale between two normalisations of the same mesh."""
    return np.ptp(rig_b.positions, 0).max() / np.ptp(rig_a.positions, 0).max()


def test_target_set_folder_round_trip(tmp_path, default_rig):
    from face3d.mesh.heads import load_head
    from face3d.mesh.io.obj import write_obj

    src = default_rig
    folder = tmp_path / "set"
    folder.mkdir()
    write_obj(folder / "neutral.obj", src.positions, src.faces)
    for i, name in enumerate(src.names):   # the mouth shapes and the blinks and brows
        write_obj(folder / f"{name}.obj", src.positions + src.deltas[i], src.faces)
    rig = load_head(folder, autorig=False)
    assert rig.names == src.names
    s = _scale(src, rig)
    for i, name in enumerate(src.names):
        assert rig.info["found"][name] == [name]
        assert np.allclose(rig.deltas[i], src.deltas[i] * s, atol=2e-5 * s)


def _write_set(folder, src, files: dict):
    """Write a target set of the default head: {file name: shape name, or None for the neutral}."""
    from face3d.mesh.io.obj import write_obj

    folder.mkdir()
    for fname, shape in files.items():
        d = 0 if shape is None else src.deltas[src.shape_index(shape)]
        write_obj(folder / fname, src.positions + d, src.faces)
    return folder


#: folder layouts whose neutral is not literally neutral.obj: {file: shape it holds (None: neutral)}
NEUTRAL_LAYOUTS = {
    "named-neutral": {"base_neutral_mesh.obj": None, "jawOpen.obj": "jawOpen", "mouthClose.obj": "mouthClose"},
    "shape-names": {"head.obj": None, "jawOpen.obj": "jawOpen", "mouthWide.obj": "mouthWide"},
    "unknown-target-name": {"face.obj": None, "jawOpen.obj": "jawOpen", "grin.obj": "mouthWide"},
    "no-shape-names": {"mesh.obj": None, "open.obj": "jawOpen", "grin.obj": "mouthWide"},
    "one-obj": {"only.obj": None},
}


@pytest.mark.parametrize("layout", NEUTRAL_LAYOUTS, ids=list(NEUTRAL_LAYOUTS))
def test_target_set_folder_finds_its_neutral(tmp_path, default_rig, layout):
    """Defect 3: a folder whose neutral is not neutral.obj loads, and says which file was the neutral."""
    from face3d.mesh.heads import load_head

    files = NEUTRAL_LAYOUTS[layout]
    folder = _write_set(tmp_path / "set", default_rig, files)
    neutral = next(f for f, shape in files.items() if shape is None)
    rig = load_head(folder, autorig=False)
    assert rig.info["source"] == str(folder / neutral)
    assert neutral in rig.info["target_set"], rig.info["target_set"]
    targets = {Path(f).stem: shape for f, shape in files.items() if shape is not None}
    assert set(rig.info["file_shapes"]) == set(targets)
    # the files named like face3d shapes are mapped, and hold what was written into them
    named = {stem: shape for stem, shape in targets.items() if stem == shape}
    assert rig.info["found"] == {shape: [shape] for shape in named.values()}
    s = _scale(default_rig, rig)
    for shape in named.values():
        src = default_rig.deltas[default_rig.shape_index(shape)]
        assert np.allclose(rig.deltas[rig.shape_index(shape)], src * s, atol=2e-5 * s)


def test_target_set_folder_neutral_named_in_the_cli_line(tmp_path, default_rig):
    folder = _write_set(tmp_path / "set", default_rig,
                        {"base_neutral_mesh.obj": None, "jawOpen.obj": "jawOpen", "mouthClose.obj": "mouthClose"})
    out = tmp_path / "x.png"
    res = run_cli("snapshot", "--head", folder, "--size", "48x48", "-o", out)
    assert res.returncode == 0, res.stderr
    assert out.is_file()
    line = res.stderr.strip().splitlines()[0]
    assert "base_neutral_mesh.obj" in line and "found jawOpen, mouthClose" in line, res.stderr


@pytest.mark.parametrize("files,needle", [
    ({"neutral_a.obj": None, "neutral_b.obj": None, "jawOpen.obj": "jawOpen"}, "neutral_a.obj, neutral_b.obj"),
    ({"one.obj": None, "two.obj": None, "jawOpen.obj": "jawOpen"}, "one.obj, two.obj"),
], ids=["two-named-neutral", "two-equal-candidates"])
def test_target_set_folder_ambiguous_neutral_fails_cleanly(tmp_path, default_rig, files, needle):
    folder = _write_set(tmp_path / "set", default_rig, files)
    res = run_cli("snapshot", "--head", folder, "--size", "32x32", "-o", tmp_path / "x.png")
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
    err = res.stderr.strip()
    assert len(err.splitlines()) == 1, err
    assert str(folder) in err and needle in err and "neutral.obj" in err and "--head" in err, err
    assert not (tmp_path / "x.png").exists()


def test_target_set_siblings_in_another_convention(tmp_path, default_rig):
    from face3d.mesh.heads import load_head
    from face3d.mesh.io.obj import write_obj

    src = default_rig
    # z up, facing -y (Blender), in millimetres: file = head @ R * 1000
    r = np.array([[1, 0, 0], [0, 0, 1], [0, -1, 0]], float)
    write_obj(tmp_path / "head.obj", src.positions @ r * 1000, src.faces)
    jaw = src.shape_index("jawOpen")
    write_obj(tmp_path / "head_jawOpen.obj", (src.positions + src.deltas[jaw]) @ r * 1000, src.faces)
    rig = load_head(tmp_path, autorig=False)  # the folder: head.obj is the prefix of every other name
    assert rig.info["source"] == str(tmp_path / "head.obj")
    assert (rig.info["up"], rig.info["forward"]) == ("+z", "-y")
    assert rig.names == ("jawOpen",)
    s = _scale(src, rig)
    assert np.allclose(rig.deltas[0], src.deltas[jaw] * s, atol=1e-4 * s)


def test_target_vertex_count_mismatch_fails_cleanly(tmp_path):
    from face3d.mesh.io.obj import write_obj

    pos = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], float)
    faces = np.array([[0, 2, 1], [0, 1, 3], [1, 2, 3], [0, 3, 2]])
    write_obj(tmp_path / "head.obj", pos, faces)
    write_obj(tmp_path / "head_jawOpen.obj", pos[:3], faces[:1])
    res = run_cli("snapshot", "--head", tmp_path, "--size", "32x32", "-o", tmp_path / "x.png")
    assert res.returncode == 2 and "Traceback" not in res.stderr
    err = res.stderr.strip()
    assert len(err.splitlines()) == 1 and "head_jawOpen.obj" in err and "3 vertices" in err and "4" in err, err


def test_glb_morph_targets_through_node_transform(gl, tmp_path, default_rig):
    """A GLB written here (Z-up node matrix, scaled) loads with jawOpen moving the same vertices."""
    from face3d.mesh.io.gltf import write_glb
    from face3d.mesh.heads import load_head

    src = default_rig
    # the mesh is stored Y-up; the node turns it Z-up (facing -Y) and scales it by 100
    m = np.eye(4)
    m[:3, :3] = np.array([[1, 0, 0], [0, 0, -1], [0, 1, 0]], float) * 100
    m[:3, 3] = (5, -3, 40)
    morphs = {n: src.deltas[i] for i, n in enumerate(src.names)}   # mouth, blink and brow shapes
    write_glb(tmp_path / "head.glb", src.positions, src.faces, morphs, node_matrix=m, colors=src.colors)
    rig = load_head(tmp_path / "head.glb", autorig=False)
    assert (rig.info["up"], rig.info["forward"]) == ("+z", "-y")
    assert set(rig.names) == set(src.names)
    s = _scale(src, rig)
    jaw_src = src.deltas[src.shape_index("jawOpen")]
    jaw = rig.deltas[rig.shape_index("jawOpen")]
    moved_src = np.abs(jaw_src).max(1) > 1e-6
    moved = np.abs(jaw).max(1) > 1e-6 * s
    assert moved.sum() > 50 and (moved == moved_src).all()
    assert np.allclose(jaw, jaw_src * s, atol=1e-4 * s)
    # Rendered: jawOpen changes the same pixels as it does on the original head.
    changed_ref = np.abs(_snap(src, {"jawOpen": 1.0}, gl) - _snap(src, None, gl)).max(axis=2) > 30
    changed = np.abs(_snap(rig, {"jawOpen": 1.0}, gl) - _snap(rig, None, gl)).max(axis=2) > 30
    assert changed.sum() > 100
    assert (changed & changed_ref).sum() / (changed | changed_ref).sum() > 0.8


def _tiny_head():
    """An icosphere-ish closed mesh with a nose: enough for name-mapping tests."""
    from face3d.mesh.rig import Rig  # noqa: F401 - imported for side effects of the package

    t = (1 + 5 ** 0.5) / 2
    pos = np.array([[-1, t, 0], [1, t, 0], [-1, -t, 0], [1, -t, 0], [0, -1, t], [0, 1, t],
                    [0, -1, -t], [0, 1, -t], [t, 0, -1], [t, 0, 1], [-t, 0, -1], [-t, 0, 1]], float)
    faces = np.array([[0, 11, 5], [0, 5, 1], [0, 1, 7], [0, 7, 10], [0, 10, 11], [1, 5, 9], [5, 11, 4],
                      [11, 10, 2], [10, 7, 6], [7, 1, 8], [3, 9, 4], [3, 4, 2], [3, 2, 6], [3, 6, 8],
                      [3, 8, 9], [4, 9, 5], [2, 4, 11], [6, 2, 10], [8, 6, 7], [9, 8, 1]])
    return pos, faces


@pytest.mark.parametrize(
    "names,expect",
    [
        (["jawOpen", "mouthStretch_L", "mouthStretch_R", "mouthFunnel", "mouthClose", "eyeBlink_L"],
         {"jawOpen": ["jawOpen"], "mouthWide": ["mouthStretch_L", "mouthStretch_R"],
          "mouthPucker": ["mouthFunnel"], "mouthClose": ["mouthClose"], "eyeBlinkLeft": ["eyeBlink_L"]}),
        (["mouthSmileLeft", "mouthSmileRight", "mouthPucker", "blendShape1.jawOpen"],
         {"jawOpen": ["blendShape1.jawOpen"], "mouthWide": ["mouthSmileLeft", "mouthSmileRight"],
          "mouthPucker": ["mouthPucker"]}),
        (["viseme_sil", "viseme_PP", "viseme_aa", "viseme_E", "viseme_I", "viseme_O", "viseme_U"],
         {"jawOpen": ["viseme_aa"], "mouthWide": ["viseme_E"], "mouthPucker": ["viseme_U"], "mouthClose": ["viseme_PP"]}),
        (["aa", "ih", "ou", "ee", "oh", "blink"],
         {"jawOpen": ["aa"], "mouthWide": ["ih"], "mouthPucker": ["ou"],  # VRM 1.0: ih spreads the lips most
          "eyeBlinkLeft": ["blink*0.5"], "eyeBlinkRight": ["blink*0.5"]}),   # both eyes at half each
        (["A", "I", "U", "E", "O"], {"jawOpen": ["A"], "mouthWide": ["E"], "mouthPucker": ["U"]}),
        (["Fcl_MTH_A", "Fcl_MTH_I", "Fcl_MTH_U", "Fcl_MTH_E", "Fcl_MTH_O"],
         {"jawOpen": ["Fcl_MTH_A"], "mouthWide": ["Fcl_MTH_E"], "mouthPucker": ["Fcl_MTH_U"]}),
    ],
    ids=["arkit", "arkit-long", "oculus", "vrm1", "vrm0", "vroid"],
)
def test_name_mapping(names, expect):
    from face3d.mesh.rig.names import map_shapes

    rng = np.random.default_rng(0)
    deltas = {n: rng.normal(size=(12, 3)) for n in names}
    shapes, report = map_shapes(deltas)
    assert report["found"] == expect
    for shape, src in expect.items():
        parts = [(s.split("*")[0], float(s.split("*")[1]) if "*" in s else 1.0) for s in src]
        assert np.allclose(shapes[shape], sum(w * deltas[s] for s, w in parts), atol=1e-6)


def test_map_json_overrides(tmp_path):
    from face3d.mesh.rig.names import map_shapes

    rng = np.random.default_rng(1)
    deltas = {n: rng.normal(size=(12, 3)) for n in ("JawDrop", "Smile_L", "Smile_R", "OO", "jawOpen")}
    mp = tmp_path / "map.json"
    mp.write_text(json.dumps({"jawOpen": "JawDrop", "mouthWide": ["Smile_L", "Smile_R"],
                              "mouthPucker": {"OO": 0.5}, "mouthClose": None}))
    shapes, report = map_shapes(deltas, mapping=mp)
    assert report["found"]["jawOpen"] == ["JawDrop"]
    assert np.allclose(shapes["mouthWide"], deltas["Smile_L"] + deltas["Smile_R"])
    assert np.allclose(shapes["mouthPucker"], 0.5 * deltas["OO"])
    assert "mouthClose" not in shapes and report["map_synthesise"] == ["mouthClose"]


@pytest.mark.parametrize("content,needle", [
    ("{not json", "not valid JSON"),
    ('{"jawWide": "x"}', "not a face3d shape"),
    ('{"jawOpen": "NoSuchShape"}', "NoSuchShape"),
    ('{"jawOpen": 3}', "must be"),
])
def test_bad_map_fails_cleanly(tmp_path, content, needle):
    from face3d.mesh.io.gltf import write_glb

    pos, faces = _tiny_head()
    write_glb(tmp_path / "h.glb", pos, faces, {"jawOpen": np.full_like(pos, 0.1)})
    (tmp_path / "map.json").write_text(content)
    res = run_cli("snapshot", "--head", tmp_path / "h.glb", "--map", tmp_path / "map.json", "--up=+y", "--forward=+z",
                  "--size", "32x32", "-o", tmp_path / "x.png")
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and needle in res.stderr, res.stderr


@pytest.mark.skipif(not (SHARED_HEADS / "ict_facekit").is_dir(), reason="../shared/heads/ict_facekit not present")
@pytest.mark.parametrize("targets", [False, True], ids=["folder", "neutral-file-and-targets"])
def test_ict_facekit_target_set(targets):
    from face3d.mesh.heads import load_head

    folder = SHARED_HEADS / "ict_facekit"
    if targets:
        rig = load_head(folder / "generic_neutral_mesh.obj", targets=folder, autorig=False)
    else:
        rig = load_head(folder, autorig=False)
    assert rig.info["source"] == str(SHARED_HEADS / "ict_facekit" / "generic_neutral_mesh.obj")
    assert rig.info["found"] == {"jawOpen": ["jawOpen"], "mouthClose": ["mouthClose"]}
    jaw = rig.deltas[rig.shape_index("jawOpen")]
    moved = np.abs(jaw).max(1) > 1e-3
    # the jaw opens downwards: moved vertices go down on average, and they are in the lower face
    assert jaw[moved, 1].mean() < 0
    assert rig.positions[moved, 1].mean() < rig.positions[:, 1].mean() + 0.2


@pytest.mark.skipif(not (SHARED_HEADS / "ict_facekit").is_dir(), reason="../shared/heads/ict_facekit not present")
def test_ict_facekit_folder_snapshot_cli(tmp_path):
    """Defect 3 as reported: ``face3d snapshot --head ict_facekit/`` (neutral generic_neutral_mesh.obj)."""
    out = tmp_path / "ict.png"
    res = run_cli("snapshot", "--head", str(SHARED_HEADS / "ict_facekit") + "/", "--size", "64x64", "-o", out)
    assert res.returncode == 0, res.stderr
    assert out.is_file()
    assert "generic_neutral_mesh.obj" in res.stderr and "found jawOpen, mouthClose" in res.stderr, res.stderr


# ------------------------------------------------------------ a lone OBJ is a head (issue 24, item 9)
def test_other_objs_beside_a_head_are_not_its_shapes(tmp_path, default_rig):
    """head_lowpoly.obj beside head.obj does not break it; head_backup.obj does not become a shape."""
    from face3d.mesh.io.obj import write_obj

    src = default_rig
    write_obj(tmp_path / "head.obj", src.positions, src.faces)
    write_obj(tmp_path / "head_lowpoly.obj", src.positions[:3], np.array([[0, 1, 2]]))
    out = tmp_path / "x.png"
    res = run_cli("snapshot", "--head", tmp_path / "head.obj", "--size", "32x32", "-o", out)
    assert res.returncode == 0, res.stderr
    assert out.is_file()
    (tmp_path / "head_lowpoly.obj").unlink()
    jaw = src.shape_index("jawOpen")
    write_obj(tmp_path / "head_backup.obj", src.positions + src.deltas[jaw], src.faces)
    res = run_cli("rig", tmp_path / "head.obj", "--no-autorig", "-o", tmp_path / "rigged")
    assert res.returncode == 0, res.stderr
    assert "backup" not in res.stderr, res.stderr
    assert not (tmp_path / "rigged" / "backup.obj").exists()
    assert sorted(p.name for p in (tmp_path / "rigged").glob("*.obj")) == ["neutral.obj"]


def test_lone_obj_says_how_to_use_the_shapes_beside_it(tmp_path, default_rig):
    """head_jawOpen.obj beside head.obj: read alone, and the load line says how to read the set."""
    from face3d.mesh.io.obj import write_obj

    src = default_rig
    jaw = src.shape_index("jawOpen")
    write_obj(tmp_path / "head.obj", src.positions, src.faces)
    write_obj(tmp_path / "head_jawOpen.obj", src.positions + src.deltas[jaw], src.faces)
    res = run_cli("snapshot", "--head", tmp_path / "head.obj", "--no-autorig", "--size", "32x32",
                  "-o", tmp_path / "x.png")
    assert res.returncode == 0, res.stderr
    assert "found jawOpen" not in res.stderr
    assert "head_jawOpen.obj" in res.stderr and f"--head {tmp_path}" in res.stderr and "--targets" in res.stderr
    # the folder reads them
    res = run_cli("snapshot", "--head", tmp_path, "--no-autorig", "--size", "32x32", "-o", tmp_path / "y.png")
    assert res.returncode == 0 and "found jawOpen" in res.stderr, res.stderr


def test_targets_option_reads_a_folder_of_shapes(tmp_path, default_rig):
    from face3d.mesh.heads import load_head
    from face3d.mesh.io.obj import write_obj

    src = default_rig
    write_obj(tmp_path / "head.obj", src.positions, src.faces)
    write_obj(tmp_path / "head_backup.obj", src.positions * 1.01, src.faces)  # beside it: ignored
    shapes = tmp_path / "shapes"
    shapes.mkdir()
    for name in ("jawOpen", "mouthClose"):
        write_obj(shapes / f"{name}.obj", src.positions + src.deltas[src.shape_index(name)], src.faces)
    res = run_cli("rig", tmp_path / "head.obj", "--targets", shapes, "--no-autorig", "-o", tmp_path / "rigged")
    assert res.returncode == 0, res.stderr
    assert "found jawOpen, mouthClose" in res.stderr, res.stderr
    assert sorted(p.name for p in (tmp_path / "rigged").glob("*.obj")) == ["jawOpen.obj", "mouthClose.obj", "neutral.obj"]
    rig = load_head(tmp_path / "head.obj", targets=shapes, autorig=False)
    s = _scale(src, rig)
    assert np.allclose(rig.deltas[rig.shape_index("jawOpen")], src.deltas[src.shape_index("jawOpen")] * s, atol=1e-4 * s)
    # bad uses: one line, exit 2
    for args, needle in [(("--targets", tmp_path / "none"), "is not a folder"),
                         (("--targets", tmp_path / "rigged" / "x"), "is not a folder")]:
        res = run_cli("snapshot", "--head", tmp_path / "head.obj", *args, "--size", "32x32", "-o", tmp_path / "z.png")
        assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1 and needle in res.stderr, res.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    res = run_cli("snapshot", "--head", tmp_path / "head.obj", "--targets", empty, "--size", "32x32", "-o", tmp_path / "z.png")
    assert res.returncode == 2 and "holds no OBJ files" in res.stderr, res.stderr
    res = run_cli("snapshot", "--targets", shapes, "--size", "32x32", "-o", tmp_path / "z.png")
    assert res.returncode == 2 and "needs an OBJ head file" in res.stderr, res.stderr
    assert not (tmp_path / "z.png").exists()
