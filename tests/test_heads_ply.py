"""PLY scans that store their faces as triangle strips (``element tristrips``) load as meshes."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from conftest import run_cli
from test_heads_autorig import _fused_head


def _strip_ply(path, binary: bool, rows=60, cols=48):
    """The procedural fused head written with one triangle strip per grid row (and the two
    pole fans as ordinary faces), as a Cyberware-style scan would be."""
    pos, faces = _fused_head(rows, cols)
    strips = []
    for i in range(rows - 1):
        for j in list(range(cols)) + [0]:
            strips += [i * cols + j, (i + 1) * cols + j]
        strips.append(-1)
    strips = strips[:-1]
    poles = faces[2 * (rows - 1) * cols:]
    head = ["ply", f"format {'binary_little_endian' if binary else 'ascii'} 1.0", "comment strips test",
            f"element vertex {len(pos)}", "property float x", "property float y", "property float z",
            f"element face {len(poles)}", "property list uchar int vertex_indices",
            "element tristrips 1", "property list int int vertex_indices", "end_header"]
    with open(path, "wb") as fh:
        fh.write(("\n".join(head) + "\n").encode())
        if binary:
            fh.write(np.asarray(pos, "<f4").tobytes())
            for f in poles:
                fh.write(struct.pack("<B3i", 3, *map(int, f)))
            fh.write(struct.pack("<i", len(strips)) + np.asarray(strips, "<i4").tobytes())
        else:
            fh.write("".join(f"{x:.6f} {y:.6f} {z:.6f}\n" for x, y, z in pos).encode())
            fh.write("".join(f"3 {a} {b} {c}\n" for a, b, c in poles).encode())
            fh.write((f"{len(strips)} " + " ".join(map(str, strips)) + "\n").encode())
    return pos, faces


def test_strips_to_triangles_alternate_winding():
    from face3d.mesh.io.ply import strips_to_triangles

    tri = strips_to_triangles(np.array([0, 1, 2, 3, -1, 4, 5, 6, 6, 7]))
    assert tri.tolist() == [[0, 1, 2], [1, 3, 2], [4, 5, 6]]  # repeated 6: degenerate, dropped


@pytest.mark.parametrize("binary", [False, True])
def test_ply_triangle_strips_load_as_a_mesh(tmp_path, binary):
    import trimesh

    from face3d.mesh.heads import load_head
    from face3d.mesh.io.read import read_mesh

    path = tmp_path / "scan.ply"
    pos, faces = _strip_ply(path, binary)
    # trimesh alone sees only the pole fans: it ignores the strips
    assert len(trimesh.load(str(path), process=False).faces) < 0.05 * len(faces)
    raw = read_mesh(path)
    assert len(raw.faces) == len(faces)
    # the same triangles, wound the same way, as the grid the strips were made from
    norm = {tuple(np.roll(f, -int(np.argmin(f)))) for f in np.asarray(raw.faces)}
    assert norm == {tuple(np.roll(f, -int(np.argmin(f)))) for f in faces}
    rig = load_head(path)
    assert (rig.info["up"], rig.info["forward"]) == ("+y", "+z")
    assert "jawOpen" in rig.names


def test_ply_strips_cli_and_truncated(tmp_path):
    path = tmp_path / "scan.ply"
    _strip_ply(path, True)
    res = run_cli("snapshot", "--head", path, "--size", "64x64", "-o", tmp_path / "s.png")
    assert res.returncode == 0, res.stderr
    data = path.read_bytes()
    bad = tmp_path / "cut.ply"
    bad.write_bytes(data[: len(data) - 200])
    res = run_cli("snapshot", "--head", bad, "--size", "64x64", "-o", tmp_path / "b.png")
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert str(bad) in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "b.png").exists()
