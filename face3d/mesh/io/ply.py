"""PLY files whose faces are triangle strips (``element tristrips``), as many Stanford and
Cyberware scans store them. trimesh reads only ``element face`` and would take such a scan
for a point cloud; this reader reads the vertices, any faces and the strips itself.

Strips are lists of vertex indices; -1 starts a new strip; every three consecutive indices
make a triangle, with the winding flipped on every other one; repeated indices (the usual
way to join strips) make degenerate triangles, which are dropped.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from face3d.errors import MeshError

_TYPES = {
    "char": "i1", "int8": "i1", "uchar": "u1", "uint8": "u1", "short": "i2", "int16": "i2",
    "ushort": "u2", "uint16": "u2", "int": "i4", "int32": "i4", "uint": "u4", "uint32": "u4",
    "float": "f4", "float32": "f4", "double": "f8", "float64": "f8",
}


def has_strips(path: Path) -> bool:
    """True when a PLY file's header declares an ``element tristrips``."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    end = head.find(b"end_header")
    return head.startswith(b"ply") and b"element tristrips" in (head[:end] if end >= 0 else head)


def strips_to_triangles(indices: np.ndarray) -> np.ndarray:
    """(N,) strip indices with -1 separators -> (F, 3) triangles, consistently wound."""
    out = []
    idx = np.asarray(indices, np.int64)
    cuts = np.flatnonzero(idx < 0)
    start = 0
    for stop in list(cuts) + [len(idx)]:
        s = idx[start:stop]
        start = stop + 1
        if len(s) < 3:
            continue
        a, b, c = s[:-2], s[1:-1], s[2:]
        odd = (np.arange(len(a)) % 2) == 1
        tri = np.stack([a, np.where(odd, c, b), np.where(odd, b, c)], 1)
        out.append(tri)
    if not out:
        return np.zeros((0, 3), np.int64)
    tri = np.concatenate(out)
    ok = (tri[:, 0] != tri[:, 1]) & (tri[:, 1] != tri[:, 2]) & (tri[:, 0] != tri[:, 2])
    return tri[ok]


def _header(fh, path):
    first = fh.readline().strip()
    if first != b"ply":
        raise MeshError(f"head file {path} is not a PLY file (no 'ply' line); export it again")
    fmt, elements = None, []
    while True:
        line = fh.readline()
        if not line:
            raise MeshError(f"head file {path} has a PLY header without 'end_header' (a truncated file?); export it again")
        words = line.decode("ascii", "replace").split()
        if not words or words[0] in ("comment", "obj_info"):
            continue
        if words[0] == "format":
            fmt = words[1]
        elif words[0] == "element":
            elements.append((words[1], int(words[2]), []))
        elif words[0] == "property" and elements:
            if words[1] == "list":
                elements[-1][2].append((words[4], _TYPES[words[2]], _TYPES[words[3]]))
            else:
                elements[-1][2].append((words[2], _TYPES[words[1]], None))
        elif words[0] == "end_header":
            return fmt, elements


def read_ply_with_strips(path) -> tuple[np.ndarray, np.ndarray]:
    """(positions (V, 3) float64, faces (F, 3) int64) from a PLY with faces and/or strips."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            fmt, elements = _header(fh, path)
            data = {}
            if fmt == "ascii":
                tokens = iter(fh.read().split())
                for name, count, props in elements:
                    rows = {p[0]: [] for p in props}
                    for _ in range(count):
                        for pname, t, it in props:
                            if it is None:
                                rows[pname].append(float(next(tokens)))
                            else:
                                n = int(next(tokens))
                                rows[pname].append([int(next(tokens)) for _ in range(n)])
                    data[name] = rows
            else:
                order = "<" if fmt == "binary_little_endian" else ">"
                buf = fh.read()
                off = 0
                for name, count, props in elements:
                    rows = {p[0]: [] for p in props}
                    if all(it is None for _, _, it in props):
                        dt = np.dtype([(p, order + t) for p, t, _ in props])
                        arr = np.frombuffer(buf, dt, count, off)
                        off += dt.itemsize * count
                        rows = {p: arr[p].astype(np.float64) for p, _, _ in props}
                    else:
                        for _ in range(count):
                            for pname, t, it in props:
                                if it is None:
                                    rows[pname].append(float(np.frombuffer(buf, order + t, 1, off)[0]))
                                    off += np.dtype(t).itemsize
                                else:
                                    n = int(np.frombuffer(buf, order + t, 1, off)[0])
                                    off += np.dtype(t).itemsize
                                    rows[pname].append(np.frombuffer(buf, order + it, n, off).astype(np.int64))
                                    off += np.dtype(it).itemsize * n
                    data[name] = rows
    except MeshError:
        raise
    except (StopIteration, ValueError, KeyError, IndexError, OSError) as exc:
        raise MeshError(f"cannot read head mesh {path} ({type(exc).__name__}: a corrupt or truncated PLY); export it again") from None
    vert = data.get("vertex")
    if not vert or not all(k in vert for k in "xyz"):
        raise MeshError(f"head file {path} has no vertex x, y, z in its PLY header; export it again")
    pos = np.stack([np.asarray(vert[k], np.float64) for k in "xyz"], 1)
    faces = []
    for name, key in (("face", ("vertex_indices", "vertex_index")), ("tristrips", ("vertex_indices", "vertex_index"))):
        rows = data.get(name, {})
        lists = next((rows[k] for k in key if k in rows), None)
        if lists is None:
            continue
        if name == "tristrips":
            faces.append(strips_to_triangles(np.concatenate([np.asarray(s, np.int64) for s in lists]) if lists else []))
        else:
            for poly in lists:  # polygons as fans
                poly = np.asarray(poly, np.int64)
                if len(poly) >= 3:
                    faces.append(np.stack([np.full(len(poly) - 2, poly[0]), poly[1:-1], poly[2:]], 1))
    f = np.concatenate(faces) if faces else np.zeros((0, 3), np.int64)
    if len(f) and (f.min() < 0 or f.max() >= len(pos)):
        raise MeshError(f"head mesh {path} has faces indexing past its {len(pos)} vertices (a corrupt file); export it again")
    return pos, f
