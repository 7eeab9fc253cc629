"""Custom heads keep their own blink and brow shapes (ARKit, ICT FaceKit, Oculus, VRM names),
so the alive curves drive them; a head without them gets none, and the load line says which."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import SHARED_HEADS, run_cli

FACE = ("eyeBlinkLeft", "eyeBlinkRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight")


def _write_gltf(path, positions, faces, morphs: dict, scale=100.0):
    """A GLB written with pygltflib directly (not face3d's writer), in centimetres, with its
    morph targets named in mesh.extras.targetNames as Blender and most exporters do."""
    import pygltflib as G

    blobs, views, accessors = [], [], []

    def add(arr, kind, ctype, target, minmax=False):
        data = arr.tobytes()
        offset = sum(len(b) for b in blobs)
        blobs.append(data + b"\0" * ((-len(data)) % 4))
        views.append(G.BufferView(buffer=0, byteOffset=offset, byteLength=len(data), target=target))
        acc = G.Accessor(bufferView=len(views) - 1, componentType=ctype, count=len(arr), type=kind)
        if minmax:
            acc.min, acc.max = arr.min(0).tolist(), arr.max(0).tolist()
        accessors.append(acc)
        return len(accessors) - 1

    a_idx = add(np.ascontiguousarray(faces, np.uint32).reshape(-1), "SCALAR", G.UNSIGNED_INT, G.ELEMENT_ARRAY_BUFFER)
    a_pos = add(np.ascontiguousarray(positions * scale, np.float32), "VEC3", G.FLOAT, G.ARRAY_BUFFER, True)
    targets = [{"POSITION": add(np.ascontiguousarray(d * scale, np.float32), "VEC3", G.FLOAT, G.ARRAY_BUFFER, True)}
               for d in morphs.values()]
    prim = G.Primitive(attributes=G.Attributes(POSITION=a_pos), indices=a_idx, mode=4, targets=targets)
    mesh = G.Mesh(name="Face", primitives=[prim], weights=[0.0] * len(morphs),
                  extras={"targetNames": list(morphs)})
    g = G.GLTF2(asset=G.Asset(version="2.0"), scene=0, scenes=[G.Scene(nodes=[0])], nodes=[G.Node(mesh=0)],
                meshes=[mesh], accessors=accessors, bufferViews=views)
    blob = b"".join(blobs)
    g.buffers = [G.Buffer(byteLength=len(blob))]
    g.set_binary_blob(blob)
    g.save_binary(str(path))


def _delta(rig, name):
    return rig.deltas[rig.shape_index(name)].astype(np.float64)


def _scale(a, b):
    return np.ptp(b.positions, 0).max() / np.ptp(a.positions, 0).max()


def _changed(rig, weights, ctx, size=(256, 256)):
    """Pixels a shape changes in a front snapshot: (H, W) bool."""
    from face3d.render.offscreen import render_snapshot

    rest = render_snapshot(rig, None, size=size, ctx=ctx).astype(int)
    moved = render_snapshot(rig, weights, size=size, ctx=ctx).astype(int)
    ctx.detect_framebuffer(0).use()
    return np.abs(moved - rest).max(axis=2) > 24


@pytest.fixture(scope="module")
def arkit_glb(tmp_path_factory, default_rig):
    """The default head's geometry as a GLB with ARKit-named blink and brow morph targets only."""
    src = default_rig
    path = tmp_path_factory.mktemp("arkit") / "face.glb"
    morphs = {n: _delta(src, n) for n in ("eyeBlinkLeft", "eyeBlinkRight", "browInnerUp")}
    _write_gltf(path, src.positions, src.faces, morphs)
    return path


def test_gltf_arkit_blink_and_brow_targets_are_kept(arkit_glb, default_rig):
    from face3d.mesh.heads import load_head

    rig = load_head(arkit_glb)
    # the head's own blinks and inner brows are kept; the mouth is synthesised; no outer brows
    assert set(FACE[:3]) <= set(rig.names) and not set(FACE[3:]) & set(rig.names), rig.names
    assert rig.info["synthesised"] == ["jawOpen", "mouthWide", "mouthPucker", "mouthClose"]
    assert rig.info["found"] == {n: [n] for n in FACE[:3]}
    s = _scale(default_rig, rig)
    for n in FACE[:3]:
        src = _delta(default_rig, n)
        got = _delta(rig, n)
        assert np.allclose(got, src * s, atol=3e-5 * s), n
        assert np.abs(got).max() > 0.01   # a real shape (the head is unit size), not an empty one


def test_gltf_blink_changes_pixels_at_its_eye(gl, arkit_glb):
    from face3d.mesh.heads import load_head

    rig = load_head(arkit_glb)
    h, w = 256, 256
    for name, side in (("eyeBlinkLeft", 1), ("eyeBlinkRight", -1)):
        mask = _changed(rig, {name: 1.0}, gl, (w, h))
        ys, xs = np.nonzero(mask)
        assert len(xs) > 40, f"{name} changed only {len(xs)} pixels"
        # the head's left (+X) is the image's right seen from the front; the eyes are in the upper half
        on_side = (xs - w / 2) * side > 0
        assert on_side.mean() > 0.98, (name, on_side.mean())
        assert np.median(ys) < 0.55 * h, (name, np.median(ys))


def test_obj_target_set_with_ict_names(tmp_path, default_rig):
    """ICT FaceKit spells them eyeBlink_L, browInnerUp_L + browInnerUp_R, browOuterUp_L ..."""
    from face3d.mesh.heads import load_head
    from face3d.mesh.io.obj import write_obj

    src = default_rig
    folder = tmp_path / "ict"
    folder.mkdir()
    pos, faces = src.positions.astype(np.float64), src.faces
    inner = _delta(src, "browInnerUp")
    left = (pos[:, 0] >= 0)[:, None]
    files = {"eyeBlink_L": _delta(src, "eyeBlinkLeft"), "eyeBlink_R": _delta(src, "eyeBlinkRight"),
             "browInnerUp_L": inner * left, "browInnerUp_R": inner * ~left,
             "browOuterUp_L": _delta(src, "browOuterUpLeft"), "browOuterUp_R": _delta(src, "browOuterUpRight"),
             "jawOpen": _delta(src, "jawOpen")}
    write_obj(folder / "generic_neutral_mesh.obj", pos, faces)
    for name, d in files.items():
        write_obj(folder / f"{name}.obj", pos + d, faces)
    rig = load_head(folder)
    assert set(FACE) <= set(rig.names), rig.names
    assert rig.info["found"]["eyeBlinkLeft"] == ["eyeBlink_L"]
    assert rig.info["found"]["browInnerUp"] == ["browInnerUp_L", "browInnerUp_R"]
    s = _scale(src, rig)
    for n in FACE:
        assert np.allclose(_delta(rig, n), _delta(src, n) * s, atol=3e-5 * s), n


def test_other_conventions_and_map():
    from face3d.errors import FormatError
    from face3d.mesh.rig.names import map_shapes

    rng = np.random.default_rng(1)
    d = {n: rng.normal(size=(5, 3)) for n in ("Eyes_Closed_L", "Eyes_Closed_R", "Inner_Brow_Raiser_L",
                                              "Inner_Brow_Raiser_R", "Outer_Brow_Raiser_R", "viseme_aa")}
    shapes, report = map_shapes(d)
    assert set(shapes) == {"jawOpen", "eyeBlinkLeft", "eyeBlinkRight", "browInnerUp", "browOuterUpRight"}
    assert np.allclose(shapes["browInnerUp"], d["Inner_Brow_Raiser_L"] + d["Inner_Brow_Raiser_R"], atol=1e-5)
    assert np.allclose(shapes["eyeBlinkLeft"], d["Eyes_Closed_L"], atol=1e-6)
    # VRM: one both-eyes blink drives each eye at half, so both at 1 close the eyes once
    b = rng.normal(size=(5, 3))
    shapes, report = map_shapes({"blink": b, "Blink_R": 2 * b})
    assert np.allclose(shapes["eyeBlinkLeft"], 0.5 * b, atol=1e-6)
    assert np.allclose(shapes["eyeBlinkRight"], 2 * b, atol=1e-6)
    assert report["found"]["eyeBlinkLeft"] == ["blink*0.5"]
    # --map names them, or turns them off
    shapes, report = map_shapes({"LidL": b, "eyeBlink_R": b}, {"eyeBlinkLeft": "LidL", "eyeBlinkRight": None})
    assert set(shapes) == {"eyeBlinkLeft"} and "map_synthesise" not in report
    with pytest.raises(FormatError, match="eyeBlinkLeft"):
        map_shapes({"x": b}, {"eyeBlinkLeft": "nope"})


def test_load_line_says_what_moves(tmp_path, arkit_glb):
    out = tmp_path / "blink.png"
    r = run_cli("snapshot", "--head", arkit_glb, "--weights", "eyeBlinkLeft=1", "--size", "160x160", "-o", out)
    assert r.returncode == 0, r.stderr
    assert "found eyeBlinkLeft, eyeBlinkRight, browInnerUp" in r.stderr, r.stderr
    assert "alive: head motion, blinks, brows" in r.stderr and "no blinks" not in r.stderr, r.stderr
    assert out.is_file()


def test_ict_facekit_blinks_if_it_has_them():
    folder = SHARED_HEADS / "ict_facekit"
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent")
    from face3d.commands._common import alive_note
    from face3d.mesh.heads import load_head

    files = {p.stem.lower() for p in folder.glob("*.obj")}
    rig = load_head(folder)
    has = {"eyeblink_l", "eyeblink_r"} <= files
    assert ({"eyeBlinkLeft", "eyeBlinkRight"} <= set(rig.names)) == has, (rig.names, sorted(files))
    if has:
        assert np.abs(_delta(rig, "eyeBlinkLeft")).max() > 1e-4
        assert "blinks" in alive_note(rig) and "no blinks" not in alive_note(rig)
    else:   # this copy brings only mouth shapes: no blinks, and the load line says so
        assert "no blinks" in alive_note(rig)
