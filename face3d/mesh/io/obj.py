"""A small, strict Wavefront OBJ reader and writer.

Written for face3d rather than going through trimesh so that a neutral mesh and its
target OBJs keep their vertex lists exactly as the file orders them (trimesh may reorder
or duplicate vertices of multi-material or quad files), and so that truncated or corrupt
files are reported instead of loading partially.

Supported: ``v`` (with optional per-vertex colours), ``vt``, polygons (fan-triangulated),
negative indices, ``usemtl``/``mtllib`` with ``Kd`` colours and ``map_Kd`` textures.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from face3d.errors import MeshError
from face3d.mesh.io.raw import RawMesh, check_vertex_count


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise MeshError(f"cannot read head file {path}: {exc.strerror or exc}; check the path and permissions") from None
    if not data.strip():
        raise MeshError(f"head file {path} is empty; export the head mesh again")
    head = data[:65536]
    if b"\0" in head or sum(b < 9 or 13 < b < 32 for b in head[:4096]) > 8:
        raise MeshError(f"head file {path} is binary data, not a text OBJ; export the mesh again as OBJ")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _floats(lines: list[str], width: int, path: Path, what: str) -> np.ndarray:
    """Parse ``lines`` ('v x y z ...') into an (N, >=width) float array."""
    if not lines:
        return np.zeros((0, width), np.float64)
    rows = [ln.split()[1:] for ln in lines]
    lens = {len(r) for r in rows}
    try:
        if len(lens) == 1:
            n = lens.pop()
            if n < width:
                raise ValueError
            return np.array(rows, dtype=np.float64)
        out = np.full((len(rows), max(max(len(r) for r in rows), width)), np.nan)
        for i, r in enumerate(rows):
            if len(r) < width:
                raise ValueError
            out[i, : len(r)] = [float(x) for x in r]
        return out
    except ValueError:
        raise MeshError(
            f"head mesh {path} has a malformed '{what}' line (fewer than {width} numbers, or not numbers); "
            "the file may be truncated or corrupt; export it again"
        ) from None


def _parse_mtl(path: Path, warnings: list) -> dict:
    """{material: {'kd': (3,), 'ks': (3,), 'map': Path | None}}."""
    mats: dict = {}
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        warnings.append(f"material file {path.name} not found; using a plain skin colour")
        return mats
    cur = None
    for line in text.splitlines():
        parts = line.strip().split()
        if not parts:
            continue
        key = parts[0]
        if key == "newmtl":
            cur = mats.setdefault(" ".join(parts[1:]), {"kd": None, "ks": None, "map": None})
        elif cur is None:
            continue
        elif key in ("Kd", "Ks") and len(parts) >= 4:
            try:
                cur[key.lower()] = np.clip([float(x) for x in parts[1:4]], 0, 1)
            except ValueError:
                pass
        elif key == "map_Kd" and len(parts) >= 2:
            cur["map"] = path.parent / parts[-1].replace("\\", "/")
    return mats


def _load_image(path: Path, warnings: list) -> np.ndarray | None:
    try:
        from PIL import Image

        with Image.open(path) as im:
            # colour only: an OBJ material says nothing of cut-outs, and the shader discards
            # texels whose alpha is below one half (glTF MASK materials)
            im = im.convert("RGB")
            return np.asarray(im, np.uint8).copy()
    except Exception as exc:  # noqa: BLE001 - a missing or broken texture is not fatal
        warnings.append(f"texture {path.name} could not be read ({type(exc).__name__}); drawn untextured")
        return None


def read_obj_positions(path: Path, *, allow_large: bool = False) -> np.ndarray:
    """Only the ``v`` list of an OBJ (for blendshape targets): (N, 3) float64."""
    path = Path(path)
    text = _read_text(path)
    vlines = [ln for ln in text.splitlines() if ln[:2] in ("v ", "v\t")]
    check_vertex_count(path, len(vlines), allow_large)
    if not vlines:
        raise MeshError(f"target mesh {path} has no vertices; export it again with the neutral's topology")
    return _floats(vlines, 3, path, "v")[:, :3]


def read_obj(path: Path, *, allow_large: bool = False) -> RawMesh:
    path = Path(path)
    text = _read_text(path)
    check_vertex_count(path, text.count("\nv ") + text.startswith("v "), allow_large)
    vlines: list[str] = []
    vtlines: list[str] = []
    corners_v: list[int] = []
    corners_t: list[int] = []
    tri_mat: list[int] = []
    mat_names: list[str] = [""]
    mat_index = {"": 0}
    mtllibs: list[str] = []
    cur = 0
    nv = nvt = 0
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line:
            continue
        c = line[0]
        if c == "v":
            c1 = line[1:2]
            if c1 in (" ", "\t"):
                vlines.append(line)
                nv += 1
            elif c1 == "t":
                vtlines.append(line)
                nvt += 1
        elif c == "f" and line[1:2] in (" ", "\t"):
            toks = line.split()[1:]
            if len(toks) < 3:
                raise MeshError(
                    f"head mesh {path} line {lineno}: a face with {len(toks)} corner(s); "
                    "the file looks truncated; export it again"
                )
            vs, ts = [], []
            try:
                for t in toks:
                    a, _, rest = t.partition("/")
                    i = int(a)
                    if i == 0:
                        raise ValueError
                    vs.append(i - 1 if i > 0 else nv + i)
                    b = rest.partition("/")[0]
                    if b:
                        j = int(b)
                        ts.append(j - 1 if j > 0 else nvt + j)
                    else:
                        ts.append(-1)
            except ValueError:
                raise MeshError(
                    f"head mesh {path} line {lineno}: malformed face '{line.strip()[:40]}'; "
                    "the file may be truncated or corrupt; export it again"
                ) from None
            for k in range(1, len(vs) - 1):
                corners_v += (vs[0], vs[k], vs[k + 1])
                corners_t += (ts[0], ts[k], ts[k + 1])
                tri_mat.append(cur)
        elif line.startswith("usemtl"):
            name = line[6:].strip()
            if name not in mat_index:
                mat_index[name] = len(mat_names)
                mat_names.append(name)
            cur = mat_index[name]
        elif line.startswith("mtllib"):
            mtllibs.append(line[6:].strip())

    check_vertex_count(path, nv, allow_large)
    vdata = _floats(vlines, 3, path, "v")
    positions = vdata[:, :3]
    if not len(corners_v):
        if nv == 0:
            raise MeshError(f"head file {path} holds no vertices or faces; is it really an OBJ mesh? export it again")
        raise MeshError(
            f"head file {path} has {nv} vertices but no faces (a point cloud?); give a mesh with polygons"
        )
    cv = np.asarray(corners_v, np.int64)
    ct = np.asarray(corners_t, np.int64)
    if cv.min() < 0 or cv.max() >= nv:
        bad = int(cv.max() + 1 if cv.max() >= nv else cv.min() + 1)
        raise MeshError(
            f"head mesh {path} has a face using vertex {bad} but only {nv} vertices exist "
            "(a corrupt or truncated file); export it again"
        )
    tmat = np.asarray(tri_mat, np.int64)
    warnings: list[str] = []

    # Materials: colours and (at most one drawn) texture.
    mats: dict = {}
    for lib in mtllibs:
        mats.update(_parse_mtl(path.parent / lib, warnings))
    kd = np.full((len(mat_names), 3), np.nan)
    tex_of = [None] * len(mat_names)
    images: dict = {}
    for i, name in enumerate(mat_names):
        m = mats.get(name)
        if not m:
            continue
        col = m["kd"]
        if col is not None and max(col) < 0.05 and m["ks"] is not None and max(m["ks"]) > 0.2:
            col = m["ks"] * 0.8  # metallic materials keep their colour in Ks
        if col is not None:
            kd[i] = col
        if m["map"] is not None:
            key = str(m["map"])
            if key not in images:
                images[key] = _load_image(m["map"], warnings)
            if images[key] is not None:
                tex_of[i] = key
    used_mats = np.unique(tmat)
    used_tex = sorted({tex_of[i] for i in used_mats if tex_of[i] is not None})
    has_uv = nvt > 0 and (ct >= 0).any()
    if has_uv and (ct.max() >= nvt or ct[ct >= 0].min() < 0):
        raise MeshError(f"head mesh {path} has a face using a texture coordinate that does not exist; export it again")
    vt = _floats(vtlines, 2, path, "vt")[:, :2] if has_uv else None
    textured = bool(used_tex) and has_uv
    vertex_colours = vdata.shape[1] >= 6 and np.isfinite(vdata[:, 3:6]).all()
    kd_used = kd[used_mats]
    distinct = np.unique(np.nan_to_num(kd_used, nan=-1), axis=0)
    split_mat = len(distinct) > 1 or textured and len(used_tex) == 1 and any(tex_of[i] is None for i in used_mats)

    # Render vertices: one per (vertex, texcoord if textured, material if colours differ).
    nt = nvt + 1 if textured else 1
    nm = len(mat_names) if split_mat else 1
    tcol = (ct + 1) if textured else np.zeros_like(ct)
    mcol = np.repeat(tmat, 3) if split_mat else np.zeros_like(cv)
    key = (cv * nt + tcol) * nm + mcol
    uniq, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    weld = cv[first]
    faces = inverse.reshape(-1, 3).astype(np.int64)
    raw = RawMesh(path=path, positions=positions[weld], faces=faces, weld=weld, n_weld=nv, fmt="obj")
    raw.warnings = warnings
    vmat = mcol[first] if split_mat else np.repeat(tmat, 3)[first]
    raw.face_group = tmat
    raw.groups = mat_names

    colors = None
    if vertex_colours:
        colors = np.clip(vdata[weld, 3:6], 0, 1)
        if colors.max() > 1.0:
            colors = colors / 255.0
    elif np.isfinite(kd_used).any():
        base = np.where(np.isfinite(kd), kd, 0.8)
        colors = base[vmat]
    if textured:
        uvt = (tcol[first] - 1)
        if len(used_tex) == 1:
            img = images[used_tex[0]]
            uv = np.where((uvt >= 0)[:, None], vt[np.maximum(uvt, 0)], 0.5)
            vtex = np.array([tex_of[m] is not None for m in vmat]) & (uvt >= 0)
            if not vtex.all():
                # Untextured parts sample a white strip appended below the image.
                h = img.shape[0]
                pad = 4
                strip = np.full((pad, img.shape[1], img.shape[2]), 255, np.uint8)
                img = np.concatenate([img, strip], axis=0)
                uv = uv.copy()
                uv[:, 1] = (uv[:, 1] * h + pad) / (h + pad)
                uv[~vtex] = (0.5, 0.5 * pad / (h + pad))
            if colors is None:
                colors = np.ones((len(weld), 3))
            else:
                colors = np.where(vtex[:, None] & ~np.isfinite(kd[vmat]).all(1, keepdims=True), 1.0, colors)
            raw.uvs = uv
            raw.texture = img
        else:
            # Several textures: bake each vertex's texel into its colour.
            colors = np.ones((len(weld), 3)) if colors is None else colors.copy()
            for i, m in enumerate(vmat):
                if tex_of[m] is not None and uvt[i] >= 0:
                    img = images[tex_of[m]]
                    u, v = vt[uvt[i]] % 1.0
                    px = img[int((1 - v) * (img.shape[0] - 1)), int(u * (img.shape[1] - 1)), :3]
                    colors[i] = colors[i] * px / 255.0
            warnings.append(f"{len(used_tex)} textures were baked into vertex colours")
    raw.colors = colors
    return raw


def write_obj(path, positions, faces, *, header: str = "", colors=None, normals=None, uvs=None,
              mtllib: str | None = None, material: str | None = None, number: str = "%.7g",
              color_number: str = "%.5g", normal_number: str = "%.5f") -> None:
    """Write a triangle OBJ atomically: face3d's one OBJ writer.

    header   : comment lines (``# ...``) at the top
    colors   : optional (V, 3) per-vertex colours, written as ``v x y z r g b``
    normals  : optional (V, 3) ``vn`` lines, one per vertex
    uvs      : optional (V, 2) ``vt`` lines, one per vertex
    mtllib, material : ``mtllib`` and ``usemtl`` lines
    number, color_number, normal_number : printf formats of coordinates, colours and normals

    Faces use the same index for the vertex, its texture coordinate and its normal.
    """
    from face3d.fileio import atomic_open

    f = (np.asarray(faces, np.int64) + 1).tolist()
    lines = [f"# {h}" for h in header.splitlines()] if header else []
    if mtllib:
        lines.append(f"mtllib {mtllib}")
    pos = np.asarray(positions, np.float64).tolist()
    if colors is None:
        vfmt = "v " + " ".join([number] * 3)
        lines += [vfmt % tuple(p) for p in pos]
    else:
        vfmt = "v " + " ".join([number] * 3 + [color_number] * 3)
        lines += [vfmt % (*p, *c) for p, c in zip(pos, np.asarray(colors, np.float64).tolist())]
    if normals is not None:
        nfmt = "vn " + " ".join([normal_number] * 3)
        lines += [nfmt % tuple(n) for n in np.asarray(normals, np.float64).tolist()]
    if uvs is not None:
        tfmt = "vt " + " ".join([number] * 2)
        lines += [tfmt % tuple(t) for t in np.asarray(uvs, np.float64).tolist()]
    if material:
        lines.append(f"usemtl {material}")
    corner = "%d" + ("/%d" if uvs is not None else "/" if normals is not None else "") \
        + ("/%d" if normals is not None else "")
    per = 1 + (uvs is not None) + (normals is not None)
    ffmt = "f " + " ".join([corner] * 3)
    lines += [ffmt % tuple(i for i in t for _ in range(per)) for t in f]
    with atomic_open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write("\n".join(lines) + "\n")
