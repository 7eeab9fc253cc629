"""Assemble the default head: skin, mouth bag, teeth, tongue, eyes and ears into one Rig.

``python -m face3d.mesh.default_head [FOLDER]`` rewrites ``default_head.npz`` and
``default_head.obj`` (in ``models/`` by default).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from face3d.mesh.default_head.blendshapes import blendshapes, mouth_coordinates
from face3d.mesh.default_head.colors import skin_colors
from face3d.mesh.default_head.grid import SkinGrid, skin_grid
from face3d.mesh.default_head.hair import hair
from face3d.mesh.default_head.layout import BAG_LIP, EYE, SKIN
from face3d.mesh.default_head.lids import face_shapes
from face3d.mesh.default_head.mouth_bag import bag_colors, mouth_bag
from face3d.mesh.default_head.parts import collar, ear, eyeball, teeth, tongue
from face3d.mesh.default_head.visemes import viseme_targets
from face3d.mesh.geometry import vertex_normals
from face3d.mesh.io.obj import write_obj as write_obj_file
from face3d.mesh.rig import FACE_SHAPES, SHAPES, Rig, build_rig
from face3d.mesh.rig.visemes import MOUTH_CURVES, VISEME_NAMES

MIRROR = np.array([-1, 1, 1])


def _parts(grid: SkinGrid):
    """[(name, positions, faces, colours, gloss)] in mesh order; colours and gloss are None
    for the skin and the bag (painted later). The bag's faces already index skin + bag."""
    bag_pts, bag_faces, bag_s = mouth_bag(grid)
    lip_centre = grid.positions[grid.index(grid.k_lip, grid.c_mid)]
    y_lip_c, z_lip_c = lip_centre[1], lip_centre[2]
    z_teeth = z_lip_c - BAG_LIP - 0.0016
    up_t, up_tf, up_tc = teeth(z_teeth, y_lip_c - 0.0011, True, 44.0)
    lo_t, lo_tf, lo_tc = teeth(z_teeth - 0.0019, y_lip_c - 0.0026, False, 50.0)
    tg, tgf, tg_col = tongue(y_lip_c, z_teeth)
    eye_p, eye_f, eye_c = eyeball()
    ear_p, ear_f = ear()
    ear_col = SKIN * np.array([0.99, 0.93, 0.92])
    col_p, col_f = collar()
    hair_p, hair_f, hair_c = hair()
    return [
        ("skin", grid.positions, grid.faces, None, None),
        ("mouth_bag", bag_pts, bag_faces, bag_colors(bag_s), 0.0),
        ("teeth_upper", up_t, up_tf, up_tc, 0.55),
        ("teeth_lower", lo_t, lo_tf, lo_tc, 0.55),
        ("tongue", tg, tgf, tg_col, 0.15),
        ("eye_left", eye_p + EYE, eye_f, eye_c, 1.0),
        ("eye_right", eye_p * MIRROR + EYE * MIRROR, eye_f[:, ::-1], eye_c, 1.0),
        ("ear_left", ear_p, ear_f, ear_col, 0.25),
        ("ear_right", ear_p * MIRROR, ear_f[:, ::-1], ear_col, 0.25),
        ("collar", col_p, col_f, np.array([0.20, 0.25, 0.33]), 0.12),
        ("hair", hair_p, hair_f, hair_c, 0.06),
    ], bag_s


def _join(parts):
    """One mesh from the parts: (positions rounded to 1e-6, faces, {name: [start, end)},
    (V,) part number of each vertex)."""
    positions, all_faces, ranges = [], [], {}
    off = 0
    for name, p, f, _, _ in parts:
        positions.append(p)
        # skin comes first and the bag's faces are already global
        all_faces.append(f if name in ("skin", "mouth_bag") else f + off)
        ranges[name] = [off, off + len(p)]
        off += len(p)
    pos = np.round(np.concatenate(positions), 6)
    part = np.zeros(len(pos), np.int64)
    for pid, (name, *_) in enumerate(parts):
        a, b = ranges[name]
        part[a:b] = pid
    return pos, np.concatenate(all_faces).astype(np.int64), ranges, part


def _colors(parts, ranges, grid: SkinGrid):
    """(V, 3) colours and (V,) gloss over the whole mesh."""
    v = max(b for _, b in ranges.values())
    colors = np.zeros((v, 3))
    gloss = np.zeros(v)
    for name, _, _, col, gl in parts:
        a, b = ranges[name]
        if name == "skin":
            nrm = vertex_normals(grid.positions, grid.faces)
            colors[a:b], gloss[a:b] = skin_colors(grid.positions, grid.phi, grid.theta, grid.phi_lip,
                                                  grid.theta_c, nrm)
        else:
            colors[a:b] = col
            gloss[a:b] = gl
    return colors, gloss


def _landmarks(grid: SkinGrid, pos, part) -> dict:
    """Vertex indices of the lip centres, mouth corners, chin and nose tip."""
    # chin: the lowest front point on the mid-line of the skin
    chin = np.where((part == 0) & (pos[:, 2] > 0.03), pos[:, 1] - 0.5 * pos[:, 2] + 5.0 * np.abs(pos[:, 0]), 9.0)
    return {
        "upper_lip_center": int(grid.index(grid.k_lip, grid.c_mid)),
        "lower_lip_center": int(grid.lower_copy[grid.c_mid]),
        "mouth_corner_left": int(grid.index(grid.k_lip, grid.c_r)),     # +X is the head's left
        "mouth_corner_right": int(grid.index(grid.k_lip, grid.c_l)),
        "chin": int(np.argmin(chin)),
        "nose_tip": int(np.argmax(np.where(part == 0, pos[:, 2], -9))),
    }


def build_default_head() -> Rig:
    """The procedural default head as a Rig (deterministic: the same bytes on every run)."""
    grid = skin_grid()
    parts, bag_s = _parts(grid)
    pos, faces, ranges, part = _join(parts)
    colors, gloss = _colors(parts, ranges, grid)
    targets = blendshapes(pos, ranges, grid.phi, grid.theta, grid.side, grid.phi_lip, grid.theta_c, bag_s)
    targets.update(face_shapes(pos, ranges["skin"]))
    coords = mouth_coordinates(pos, ranges, grid.phi, grid.theta, grid.side, grid.phi_lip, grid.theta_c, bag_s)
    targets.update(viseme_targets(pos, ranges, coords, grid.phi_lip, grid.theta_c,
                                  int(grid.lower_copy[grid.c_mid]), targets))
    targets = {k: np.round(targets[k], 6) for k in SHAPES + FACE_SHAPES + VISEME_NAMES}
    info = {
        "description": "face3d procedural default head: skin with a lip slit and closed mouth bag, "
                       "teeth, tongue, eyeballs (sclera/iris/pupil), ears; +Y up, +Z forward, metres",
        "generator": "face3d.mesh.default_head",
        "parts": ranges,
        "landmarks": _landmarks(grid, pos, part),
        # head motion turns everything about the top of the neck; gaze turns each eyeball
        "neck_pivot": [0.0, -0.11, -0.045],
        # its fifteen viseme shapes are whole mouths: a track's visemes replace the curves
        "visemes": {"kind": "default", "mutes": list(MOUTH_CURVES)},
        "eyes": [{"center": [float(x) for x in EYE], "range": ranges["eye_left"]},
                 {"center": [float(x) for x in EYE * MIRROR], "range": ranges["eye_right"]}],
    }
    return build_rig(pos.astype(np.float32), faces.astype(np.uint32), targets, as_targets=True,
                     normals=vertex_normals(pos, faces),
                     colors=np.round(np.clip(colors, 0, 1), 5).astype(np.float32),
                     gloss=np.round(gloss, 5).astype(np.float32), info=info)


def write_obj(rig: Rig, path) -> None:
    """Neutral mesh as OBJ with ``v x y z r g b`` colours and normals (deterministic)."""
    write_obj_file(path, rig.positions, rig.faces, normals=rig.normals, colors=rig.colors,
                   header=("face3d default head (neutral); generated by python -m face3d.mesh.default_head\n"
                           f"{rig.n_vertices} vertices, {len(rig.faces)} triangles"),
                   number="%.6f", color_number="%.4f", normal_number="%.5f")


def main(argv=None) -> int:
    import time

    from face3d.assets import model_dir

    argv = sys.argv[1:] if argv is None else argv
    out = Path(argv[0]) if argv else model_dir()
    t0 = time.perf_counter()
    rig = build_default_head()
    rig.save(out / "default_head.npz")
    write_obj(rig, out / "default_head.obj")
    for name in ("default_head.npz", "default_head.obj"):
        (out / name).chmod(0o644)
    print(f"wrote {out / 'default_head.npz'} and .obj: {rig.n_vertices} vertices, "
          f"{len(rig.faces)} triangles, {rig.n_shapes} shapes in {time.perf_counter() - t0:.1f} s")
    return 0
