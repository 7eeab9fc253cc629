"""Heads that bring their own mouth: the inside is drawn in shadow, and see-through helper
surfaces (eyelash cards, eye-occlusion shells, tear lines) are left out so the eyes show.

ICT FaceKit (../shared/heads/ict_facekit) brings its own jawOpen, gums, tongue, teeth and
eyes, plus such helper surfaces; a synthetic OBJ checks the same rules without it."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import SHARED_HEADS


def _ict():
    path = SHARED_HEADS / "ict_facekit"
    if not path.exists():
        pytest.skip(f"{path} not present (the real heads live in ../shared/heads)")
    return path


def test_helper_surfaces_left_out_and_targets_still_line_up(tmp_path):
    """An OBJ target set whose neutral has an eyelash-card group: the cards are dropped,
    the rest keeps its vertices, and the targets still move the right vertices."""
    from face3d.mesh.heads import load_head

    rng = np.random.default_rng(0)
    face = rng.normal(size=(40, 3))
    lash = rng.normal(size=(6, 3)) * 0.1 + [0, 0.5, 1.0]
    verts = np.vstack([lash, face])  # the cards' vertices first: the face's move down when they go
    lines = [f"v {x:.6f} {y:.6f} {z:.6f}" for x, y, z in verts]
    body = ["usemtl M_EyeLashes", "f 1 2 3", "f 4 5 6", "usemtl Skin"]
    body += [f"f {i + 7} {i + 8} {i + 9}" for i in range(0, 36)]
    folder = tmp_path / "set"
    folder.mkdir()
    (folder / "neutral.obj").write_text("\n".join(lines + body) + "\n")
    moved = verts.copy()
    moved[6 + 5] += [0, -0.3, 0]  # the face's sixth vertex
    (folder / "jawOpen.obj").write_text("\n".join(f"v {x:.6f} {y:.6f} {z:.6f}" for x, y, z in moved) + "\n")
    rig = load_head(folder, autorig=False)
    assert rig.info["hidden_surfaces"] == ["M_EyeLashes"]
    assert rig.n_vertices == 38  # the face's 38 used vertices; no lash vertex left
    d = rig.deltas[rig.names.index("jawOpen")]
    moving = np.flatnonzero(np.abs(d).max(1) > 1e-6)
    assert moving.tolist() == [5]  # the face's sixth vertex, and only it
    assert any("see-through" in w for w in rig.info["warnings"])
    from face3d.commands._common import describe_head

    assert "left out see-through surfaces M_EyeLashes" in describe_head(rig)  # the load line says so


def test_helper_names():
    from face3d.mesh.io.overlays import is_overlay

    for name in ("M_EyeLashes", "Std_Eyelash", "Std_Eye_Occlusion", "Std_Tearline", "M_LacrimalFluid",
                 "EyeMoisture", "Cornea_L", "M_EyeBlend"):
        assert is_overlay(name), name
    for name in ("M_Face", "M_Teeth", "M_ScleraLeft", "M_IrisRight", "M_GumsTongue", "skin", "Head/0"):
        assert not is_overlay(name), name


def test_ict_eyes_show_and_its_mouth_is_dark_inside(gl):
    """ICT's helper shells are left out (its eyeballs stay); its own jawOpen opens onto a
    mouth in shadow (not lit red gums), from the front and from 30 degrees, while the
    closed face looks as it does without the shading."""
    from face3d.mesh.heads import load_head
    from face3d.render.offscreen import render_snapshot

    path = _ict()
    rig = load_head(path)
    assert set(rig.info["hidden_surfaces"]) == {"M_EyeLashes", "M_EyeOcclusion", "M_LacrimalFluid", "M_EyeBlend"}
    assert "jawOpen" not in rig.info["synthesised"]
    assert rig.info["mouth_inside_vertices"] > 1000
    plain = load_head(path, autorig=False)  # no synthesis, no shading
    assert plain.n_vertices == rig.n_vertices
    a = render_snapshot(rig, None, size=(512, 512), ctx=gl).astype(int)
    b = render_snapshot(plain, None, size=(512, 512), ctx=gl).astype(int)
    assert (np.abs(a - b).max(axis=2) > 10).sum() < 50
    for yaw in (0.0, 30.0):
        opened = render_snapshot(rig, rig.weight_vector({"jawOpen": 1.0}), yaw=yaw, size=(512, 512), ctx=gl)
        rest = render_snapshot(rig, None, yaw=yaw, size=(512, 512), ctx=gl)
        o = opened.astype(int)
        # the open mouth shows a dark cavity (unshaded, ICT's lit red gums: ~60 dark
        # pixels and over 300 red ones), not lit red gums
        dark_open, dark_rest = int((o.max(axis=2) < 45).sum()), int((rest.max(axis=2) < 45).sum())
        red = int(((o[..., 0] - o[..., 1]) > 60).sum())
        assert dark_open > dark_rest + 700 and red < 50, (yaw, dark_open, dark_rest, red)


def test_ict_rig_command_writes_the_shaded_mouth_once(tmp_path):
    """`face3d rig` on ICT writes what load_head draws (helper shells left out, the mouth
    shaded, its own jaw); loaded back, the mouth is not shaded a second time."""
    from conftest import run_cli
    from face3d.mesh.heads import load_head

    path = _ict()
    res = run_cli("rig", path, "-o", tmp_path / "rigged")
    assert res.returncode == 0, res.stderr
    assert "see-through helper surfaces" in res.stderr
    back = load_head(tmp_path / "rigged")
    direct = load_head(path)
    assert back.n_vertices == direct.n_vertices
    assert np.abs(back.deltas - direct.deltas).max() < 1e-4
    assert np.abs(back.colors - direct.colors).max() < 2e-3
    assert "mouth_inside_vertices" not in back.info


def test_gltf_helper_material_left_out(tmp_path):
    """In a glTF the helper surface is found by its material's name (one mesh, two
    primitives: the skin and an eyelash card)."""
    import pygltflib as G

    from face3d.mesh.heads import load_head

    rng = np.random.default_rng(1)
    skin = rng.normal(size=(30, 3)).astype(np.float32)
    skin_f = np.arange(27, dtype=np.uint32)
    card = (rng.normal(size=(4, 3)) * 0.1 + [0, 0.5, 1.0]).astype(np.float32)
    card_f = np.array([0, 1, 2, 0, 2, 3], np.uint32)
    blobs, views, accs = [], [], []

    def add(arr, kind, ctype, target):
        data = arr.tobytes()
        views.append(G.BufferView(buffer=0, byteOffset=sum(len(b) for b in blobs), byteLength=len(data), target=target))
        blobs.append(data + b"\0" * ((-len(data)) % 4))
        acc = G.Accessor(bufferView=len(views) - 1, componentType=ctype, count=len(arr), type=kind)
        if kind == "VEC3":
            acc.min, acc.max = arr.min(0).tolist(), arr.max(0).tolist()
        accs.append(acc)
        return len(accs) - 1

    prims = []
    for i, (v, f) in enumerate(((skin, skin_f), (card, card_f))):
        prims.append(G.Primitive(attributes=G.Attributes(POSITION=add(v, "VEC3", G.FLOAT, G.ARRAY_BUFFER)),
                                 indices=add(f, "SCALAR", G.UNSIGNED_INT, G.ELEMENT_ARRAY_BUFFER), mode=4, material=i))
    g = G.GLTF2(asset=G.Asset(version="2.0"), scene=0, scenes=[G.Scene(nodes=[0])], nodes=[G.Node(mesh=0)],
                meshes=[G.Mesh(name="Head", primitives=prims)], accessors=accs, bufferViews=views,
                materials=[G.Material(name="Skin"), G.Material(name="Std_Eyelash")])
    blob = b"".join(blobs)
    g.buffers = [G.Buffer(byteLength=len(blob))]
    g.set_binary_blob(blob)
    g.save_binary(str(tmp_path / "head.glb"))
    rig = load_head(tmp_path / "head.glb", autorig=False)
    assert rig.info["hidden_surfaces"] == ["Head/Std_Eyelash"]
    assert rig.n_vertices == 27 and len(rig.faces) == 9


def test_untextured_eyeballs_get_an_iris_that_looks_forward():
    from _busts import ellipsoid
    from face3d.mesh.autorig.eyes import IRIS_COLOR, PUPIL_COLOR, paint_irises

    ball, bf = ellipsoid([0.3, 0.2, 0.5], [0.1, 0.1, 0.1])
    other, of = ellipsoid([0, 0, 0], [0.5, 0.6, 0.5])
    pos = np.vstack([other, ball])
    faces = np.vstack([of, bf + len(other)])
    group = np.r_[np.zeros(len(of), int), np.ones(len(bf), int)]
    colors, eyes = paint_irises(pos, faces, group, ["Skin", "M_ScleraLeft"], None)
    assert eyes == 1
    painted = np.flatnonzero(np.abs(colors - 0.8).max(1) > 1e-6)
    assert painted.min() >= len(other)  # only the eyeball
    d = pos[painted] - [0.3, 0.2, 0.5]
    assert (d[:, 2] > 0.08).all()  # its front cap (+Z, where the face looks)
    assert np.isclose(colors[painted], PUPIL_COLOR).all(1).any() and np.isclose(colors[painted], IRIS_COLOR).all(1).any()
    _, none = paint_irises(pos, faces, group, ["Skin", "Teeth"], None)
    assert none == 0


def test_ict_eyes_have_irises(gl):
    from face3d.mesh.heads import load_head
    from face3d.render.offscreen import render_snapshot

    rig = load_head(_ict(), autorig=False)
    assert rig.info["irises_painted"] == 2
    img = render_snapshot(rig, None, size=(512, 512), ctx=gl).astype(int)
    eyes = img[170:240, 130:380]  # the band across both eyes, from the front
    assert ((eyes.max(axis=2) < 40).sum()) > 60  # two dark pupils
