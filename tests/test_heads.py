"""Custom heads: loading, validation and normalisation (up / forward / scale detection)."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

from conftest import SHARED_HEADS, run_cli


def _snap(rig, weights, ctx, size=(96, 96), **kw):
    """A small snapshot as int pixels, for differences."""
    from face3d.render.offscreen import render_snapshot

    return render_snapshot(rig, weights, size=size, ctx=ctx, **kw).astype(int)


def _write_obj(path, positions, faces):
    from face3d.mesh.io.obj import write_obj

    write_obj(path, positions, faces)
    return path


#: head frame (x left, y up, z forward) -> file axes, as rows of a rotation matrix
CONVENTIONS = {
    "z-up, facing -y (Blender)": ([[1, 0, 0], [0, 0, 1], [0, -1, 0]], 1.0),
    "z-down, facing +y": ([[1, 0, 0], [0, 0, -1], [0, 1, 0]], 1.0),
    "y-up, facing -z": ([[-1, 0, 0], [0, 1, 0], [0, 0, -1]], 1.0),
    "y-up, facing -x, millimetres": ([[0, 0, -1], [0, 1, 0], [1, 0, 0]], 1000.0),
    "z-up, facing +x, off-centre": ([[0, 1, 0], [0, 0, 1], [1, 0, 0]], 3.0),
    "upside down, facing +z": ([[-1, 0, 0], [0, -1, 0], [0, 0, 1]], 0.01),
}


def _head_sources():
    out = [pytest.param("default", id="default-head")]
    for name in ("derived_LeePerrySmith.obj", "mediapipe_canonical_face_model.obj"):
        out.append(pytest.param(name, id=name.split(".")[0]))
    return out


def _source_mesh(name, request):
    """(positions, faces) of a head in the +Y up, +Z forward convention."""
    if name == "default":
        rig = request.getfixturevalue("default_rig")
        return rig.positions.astype(np.float64), rig.faces.astype(np.int64)
    path = SHARED_HEADS / name
    if not path.is_file():
        pytest.skip(f"{path} not present")
    from face3d.mesh.io.obj import read_obj

    raw = read_obj(path)
    return raw.positions, raw.faces


@pytest.mark.parametrize("source", _head_sources())
def test_conventions_detected_and_framed_alike(gl, tmp_path, source, request):
    from face3d.mesh.heads import load_head
    from face3d.mesh.orient.normalize import axis_name
    pos, faces = _source_mesh(source, request)
    ref = load_head(_write_obj(tmp_path / "ref.obj", pos, faces))
    assert (ref.info["up"], ref.info["forward"]) == ("+y", "+z")
    ref_img = _snap(ref, None, gl)
    for i, (label, (rows, scale)) in enumerate(CONVENTIONS.items()):
        r = np.asarray(rows, float)
        moved = (pos @ r) * scale + np.array([0.3, -7.0, 2.0]) * scale * (i == 3)
        rig = load_head(_write_obj(tmp_path / f"c{i}.obj", moved, faces))
        assert rig.info["up"] == axis_name(r[1]), (label, rig.info)
        assert rig.info["forward"] == axis_name(r[2]), (label, rig.info)
        assert np.allclose(rig.positions, ref.positions, atol=1e-4), label
        img = _snap(rig, None, gl)
        assert np.abs(img - ref_img).mean() < 1.0, label


def test_up_forward_override(tmp_path):
    from face3d.mesh.heads import load_head

    pos, faces = _tetra_head()
    path = _write_obj(tmp_path / "h.obj", pos, faces)
    rig = load_head(path, up="+z", forward="-y")
    assert (rig.info["up"], rig.info["forward"]) == ("+z", "-y")
    # the file's +z becomes the rig's +y
    src_top = pos[:, 2].argmax()
    assert rig.positions[:, 1].argmax() == src_top


def _tetra_head():
    """A small closed, asymmetric mesh (an octahedron stretched along z)."""
    pos = np.array([[1, 0, 0], [-1, 0, 0], [0, 1.5, 0], [0, -1, 0], [0, 0, 2], [0, 0, -1]], float)
    faces = np.array([[0, 2, 4], [2, 1, 4], [1, 3, 4], [3, 0, 4], [2, 0, 5], [1, 2, 5], [3, 1, 5], [0, 3, 5]])
    return pos, faces


def test_normalised_centre_and_scale(tmp_path):
    from face3d.mesh.heads import load_head

    pos, faces = _tetra_head()
    rig = load_head(_write_obj(tmp_path / "h.obj", pos * 250 + 40, faces), up="+y", forward="+z")
    lo, hi = rig.positions.min(0), rig.positions.max(0)
    assert np.allclose((lo + hi) / 2, 0, atol=1e-5)
    r = np.linalg.norm(rig.positions - (lo + hi) / 2, axis=1).max()
    assert abs(r - 1.0) < 1e-4
    assert not rig.double_sided  # closed and consistently wound: culled


def test_obj_quads_materials_and_colours(tmp_path):
    from face3d.mesh.heads import load_head

    (tmp_path / "m.mtl").write_text("newmtl red\nKd 1 0 0\nnewmtl blue\nKd 0 0 1\n")
    (tmp_path / "q.obj").write_text(
        "mtllib m.mtl\nv 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nv 0 0 1\nv 1 0 1\n"
        "usemtl red\nf 1 2 3 4\nusemtl blue\nf 1 2 6 5\n"
    )
    rig = load_head(tmp_path / "q.obj", up="+y", forward="+z", autorig=False)
    assert len(rig.faces) == 4  # two quads, fan-triangulated
    assert rig.double_sided  # open surface
    reds = (rig.colors[:, 0] > 0.9) & (rig.colors[:, 2] < 0.1)
    blues = (rig.colors[:, 2] > 0.9) & (rig.colors[:, 0] < 0.1)
    assert reds.sum() == 4 and blues.sum() == 4  # shared edge split per material
    # split vertices share one smooth normal
    same = np.all(np.isclose(rig.positions[:, None], rig.positions[None]), -1)
    i, j = np.nonzero(same & ~np.eye(len(rig.positions), dtype=bool))
    assert len(i) and np.allclose(rig.normals[i], rig.normals[j])


def test_obj_texture_drawn(gl, tmp_path):
    from PIL import Image

    from face3d.mesh.heads import load_head
    img = np.zeros((8, 8, 3), np.uint8)
    img[:, :4] = (255, 0, 0)
    img[:, 4:] = (0, 255, 0)
    Image.fromarray(img).save(tmp_path / "t.png")
    (tmp_path / "m.mtl").write_text("newmtl skin\nKd 1 1 1\nmap_Kd t.png\n")
    (tmp_path / "t.obj").write_text(
        "mtllib m.mtl\nv -1 -1 0\nv 1 -1 0\nv 1 1 0\nv -1 1 0\nvt 0 0\nvt 1 0\nvt 1 1\nvt 0 1\n"
        "usemtl skin\nf 1/1 2/2 3/3 4/4\n"
    )
    rig = load_head(tmp_path / "t.obj", up="+y", forward="+z", autorig=False)
    assert rig.texture is not None and rig.uvs is not None
    out = _snap(rig, None, gl, size=(64, 64))
    left, right = out[32, 22], out[32, 42]
    assert left[0] > left[1] + 40 and right[1] > right[0] + 40


# --------------------------------------------------------------- bad meshes, via the CLI
def _one_line_error(res, *needles):
    assert res.returncode == 2, (res.returncode, res.stdout, res.stderr)
    assert "Traceback" not in res.stderr
    err = res.stderr.strip()
    assert len(err.splitlines()) == 1, err
    for n in needles:
        assert n.lower() in err.lower(), err
    return err


def _glb_json(path, doc: dict):
    body = json.dumps(doc).encode()
    body += b" " * ((-len(body)) % 4)
    path.write_bytes(struct.pack("<III", 0x46546C67, 2, 12 + 8 + len(body)) + struct.pack("<II", len(body), 0x4E4F534A) + body)
    return path


def _bad_cases(tmp):
    rng = np.random.default_rng(1)
    cube = "v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nv 0 0 1\nv 1 0 1\nv 1 1 1\nv 0 1 1\n" \
           "f 1 4 3 2\nf 5 6 7 8\nf 1 2 6 5\nf 2 3 7 6\nf 3 4 8 7\nf 4 1 5 8\n"
    cases = {}

    def w(name, data, *needles):
        p = tmp / name
        p.write_bytes(data if isinstance(data, bytes) else data.encode())
        cases[name] = (p, needles)

    cases["missing.obj"] = (tmp / "missing.obj", ("does not exist",))
    w("empty.obj", b"", "empty")
    w("blank.ply", b"", "empty")
    w("notamesh.obj", "hello, this is a shopping list\nmilk\n", "no vertices")
    w("garbage.obj", rng.integers(0, 256, 4096, dtype=np.uint8).tobytes(), "binary")
    w("garbage.glb", rng.integers(0, 256, 4096, dtype=np.uint8).tobytes(), "cannot read")
    w("garbage.ply", b"ply\nformat ascii 1.0\n" + rng.integers(0, 256, 512, dtype=np.uint8).tobytes(), "cannot read")
    w("truncated.obj", cube[: cube.rindex("f 4 1") + 3], "truncated")
    w("past_end.obj", cube + "f 1 2 42\n", "vertex 42", "8 vertices")
    w("nan.obj", cube.replace("v 1 1 1", "v 1 nan 1"), "nan")
    w("points.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\n", "point cloud")
    w("points.ply", "ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\nproperty float z\n"
      "end_header\n0 0 0\n1 0 0\n0 1 0\n", "point cloud")
    w("flat.obj", "v 0 0 0\nv 1 0 0\nv 2 0 0\nf 1 2 3\n", "line")
    w("model.fbx", b"Kaydara FBX Binary  \0", "unsupported")
    for ext, label in (("KHR_draco_mesh_compression", "Draco"), ("EXT_meshopt_compression", "meshopt")):
        doc = {"asset": {"version": "2.0"}, "extensionsUsed": [ext], "extensionsRequired": [ext],
               "meshes": [{"primitives": [{"attributes": {"POSITION": 0}}]}],
               "accessors": [{"componentType": 5126, "count": 3, "type": "VEC3"}]}
        p = _glb_json(tmp / f"{label.lower()}.glb", doc)
        cases[p.name] = (p, (label, "without"))
    (tmp / "folder").mkdir()
    cases["folder"] = (tmp / "folder", ("neutral.obj",))
    return cases


BAD = ["missing.obj", "empty.obj", "blank.ply", "notamesh.obj", "garbage.obj", "garbage.glb", "garbage.ply",
       "truncated.obj", "past_end.obj", "nan.obj", "points.obj", "points.ply", "flat.obj", "model.fbx",
       "draco.glb", "meshopt.glb", "folder"]


@pytest.mark.parametrize("name", BAD)
def test_bad_mesh_fails_cleanly(tmp_path, name):
    path, needles = _bad_cases(tmp_path)[name]
    out = tmp_path / "x.png"
    _one_line_error(run_cli("snapshot", "--head", path, "--size", "32x32", "-o", out), path.name, *needles)
    assert not out.exists()


def test_truncated_glb_fails_cleanly(tmp_path):
    from face3d.mesh.io.gltf import write_glb

    pos, faces = _tetra_head()
    write_glb(tmp_path / "ok.glb", pos, faces, {"jawOpen": np.ones_like(pos) * 0.1})
    data = (tmp_path / "ok.glb").read_bytes()
    (tmp_path / "cut.glb").write_bytes(data[: len(data) - 40])
    out = tmp_path / "x.png"
    _one_line_error(run_cli("snapshot", "--head", tmp_path / "cut.glb", "--size", "32x32", "-o", out), "cut.glb")


def test_too_many_vertices_needs_allow_large(tmp_path):
    path = tmp_path / "huge.obj"
    with open(path, "w") as fh:
        fh.write("v 0 0 0\n" * 2_000_001)
    out = tmp_path / "x.png"
    _one_line_error(run_cli("snapshot", "--head", path, "--size", "32x32", "-o", out), "huge.obj", "--allow-large")


@pytest.mark.parametrize("opts,needle", [(["--up", "sideways"], "--up"), (["--up=+y", "--forward=-y"], "perpendicular"),
                                         (["--mouth", "1,2"], "--mouth")])
def test_bad_head_options(tmp_path, opts, needle):
    pos, faces = _tetra_head()
    path = _write_obj(tmp_path / "h.obj", pos, faces)
    _one_line_error(run_cli("snapshot", "--head", path, *opts, "--size", "32x32", "-o", tmp_path / "x.png"), needle)


@pytest.mark.skipif(not (SHARED_HEADS / "bad").is_dir(), reason="../shared/heads not present")
@pytest.mark.parametrize("name", ["binary_garbage.obj", "empty.obj", "face_index_out_of_range.obj", "truncated_suzanne.obj"])
def test_shared_bad_files_fail_cleanly(tmp_path, name):
    res = run_cli("snapshot", "--head", SHARED_HEADS / "bad" / name, "--size", "32x32", "-o", tmp_path / "x.png")
    _one_line_error(res, name)


def _cylinder(p0, p1, r, n=16, rings=8):
    """A closed cylinder from p0 to p1 (points), as (positions, faces)."""
    p0, p1 = np.asarray(p0, float), np.asarray(p1, float)
    axis = p1 - p0
    a = axis / np.linalg.norm(axis)
    u = np.cross(a, [1, 0, 0] if abs(a[0]) < 0.9 else [0, 1, 0])
    u /= np.linalg.norm(u)
    v = np.cross(a, u)
    ang = np.linspace(0, 2 * np.pi, n, endpoint=False)
    ring = np.cos(ang)[:, None] * u + np.sin(ang)[:, None] * v
    pos = np.concatenate([p0 + t * axis + r * ring for t in np.linspace(0, 1, rings)] + [[p0], [p1]])
    faces = []
    for i in range(rings - 1):
        for j in range(n):
            a0, b0 = i * n + j, i * n + (j + 1) % n
            faces += [(a0, b0, a0 + n), (b0, b0 + n, a0 + n)]
    c0, c1 = rings * n, rings * n + 1
    for j in range(n):
        faces += [(c0, (j + 1) % n, j), (c1, (rings - 1) * n + j, (rings - 1) * n + (j + 1) % n)]
    return pos, np.asarray(faces)


def _full_body(head_pos, head_faces):
    """A T-posed figure 1.75 m tall (Y up, facing +Z) with the given head and long shoes."""
    lo, hi = head_pos.min(0), head_pos.max(0)
    s = 0.24 / (hi - lo)[1]
    head = (head_pos - (lo + hi) / 2) * s + [0, 1.63, 0]
    parts = [(head, head_faces)]
    parts.append(_cylinder([0, 1.50, 0], [0, 1.43, 0], 0.055))            # neck
    parts.append(_cylinder([0, 1.45, 0], [0, 0.95, 0], 0.17))             # torso
    parts.append(_cylinder([-0.16, 1.40, 0], [-0.85, 1.40, 0], 0.045))    # arms
    parts.append(_cylinder([0.16, 1.40, 0], [0.85, 1.40, 0], 0.045))
    for x in (-0.1, 0.1):
        parts.append(_cylinder([x, 0.97, 0], [x, 0.08, 0], 0.07))        # legs
        parts.append(_cylinder([x, 0.04, -0.06], [x, 0.04, 0.24], 0.05))  # shoes, reaching forward
    pos, faces, off = [], [], 0
    for p, f in parts:
        pos.append(p)
        faces.append(np.asarray(f) + off)
        off += len(p)
    return np.concatenate(pos), np.concatenate(faces), head


def test_full_body_avatar_frames_the_head(tmp_path, default_rig):
    from face3d.mesh.heads import load_head

    src = default_rig
    pos, faces, head = _full_body(src.positions.astype(float), src.faces)
    r = np.array([[1, 0, 0], [0, 0, 1], [0, -1, 0]], float)  # Z up, facing -Y, centimetres
    rig = load_head(_write_obj(tmp_path / "body.obj", pos @ r * 100, faces))
    assert (rig.info["up"], rig.info["forward"]) == ("+z", "-y"), rig.info
    assert rig.info["full_body"]
    c, rad = np.asarray(rig.info["frame_center"]), rig.info["frame_radius"]
    head_rig = rig.positions[: len(head)]
    # the framed sphere holds the head and is about its size, not the body's
    assert np.linalg.norm(head_rig - c, axis=1).max() <= rad * 1.05
    assert np.ptp(rig.positions[:, 1]) > 5 * rad
    # the head still talks: jawOpen moves the head's chin, not the body below the neck
    jaw = rig.deltas[rig.shape_index("jawOpen")]
    assert np.abs(jaw[: len(head)]).max() > 0.02 * rad
    neck = 16 * 8 + 2
    assert np.abs(jaw[len(head) + neck: len(pos)]).max() < 1e-6


def test_ply_colours_and_stl_soup(tmp_path):
    from face3d.mesh.heads import load_head

    pos, faces = _tetra_head()
    cols = (np.arange(len(pos))[:, None] * [40, 20, 10] % 256).astype(int)
    lines = ["ply", "format ascii 1.0", f"element vertex {len(pos)}", "property float x", "property float y",
             "property float z", "property uchar red", "property uchar green", "property uchar blue",
             f"element face {len(faces)}", "property list uchar int vertex_indices", "end_header"]
    lines += [f"{p[0]} {p[1]} {p[2]} {c[0]} {c[1]} {c[2]}" for p, c in zip(pos, cols)]
    lines += [f"3 {a} {b} {c}" for a, b, c in faces]
    (tmp_path / "h.ply").write_text("\n".join(lines) + "\n")
    rig = load_head(tmp_path / "h.ply", up="+y", forward="+z", autorig=False)
    assert rig.n_vertices == len(pos) and not rig.double_sided
    assert np.allclose(rig.colors, cols / 255.0, atol=1e-6)
    # binary STL: a triangle soup, welded back into 6 shared vertices
    tri = pos[faces].astype(np.float32)
    n = np.zeros((len(faces), 3), np.float32)
    rec = np.zeros(len(faces), dtype=[("n", "<f4", 3), ("v", "<f4", (3, 3)), ("a", "<u2")])
    rec["n"], rec["v"] = n, tri
    (tmp_path / "h.stl").write_bytes(b"\0" * 80 + np.uint32(len(faces)).tobytes() + rec.tobytes())
    rig = load_head(tmp_path / "h.stl", up="+y", forward="+z", autorig=False)
    assert rig.n_vertices == len(pos) and len(rig.faces) == len(faces) and not rig.double_sided


def test_obj_textured_and_plain_materials(gl, tmp_path):
    """One textured material and one plain colour: both drawn (the plain part samples white)."""
    from PIL import Image

    from face3d.mesh.heads import load_head

    Image.fromarray(np.full((4, 4, 3), (0, 200, 0), np.uint8)).save(tmp_path / "g.png")
    (tmp_path / "m.mtl").write_text("newmtl tex\nKd 1 1 1\nmap_Kd g.png\nnewmtl blue\nKd 0 0 1\n")
    (tmp_path / "t.obj").write_text(
        "mtllib m.mtl\nv -1 -1 0\nv 0 -1 0\nv 0 1 0\nv -1 1 0\nv 1 -1 0\nv 1 1 0\n"
        "vt 0 0\nvt 1 0\nvt 1 1\nvt 0 1\nusemtl tex\nf 1/1 2/2 3/3 4/4\nusemtl blue\nf 2 5 6 3\n"
    )
    rig = load_head(tmp_path / "t.obj", up="+y", forward="+z", autorig=False)
    assert rig.texture is not None
    out = _snap(rig, None, gl, size=(64, 64))
    left, right = out[32, 22], out[32, 42]
    assert left[1] > left[0] + 40 and left[1] > left[2] + 40  # green texture
    assert right[2] > right[0] + 40 and right[2] > right[1] + 40  # blue material
