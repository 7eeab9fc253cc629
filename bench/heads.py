"""Custom heads: load + rig time and drawing speed at 1280x720, by head size.

For procedural heads of about 10k, 30k and 100k vertices (written as plain OBJ files with
no blendshapes, so every shape is synthesised and the fused lips are cut open) and, when
present, the real heads in ../shared/heads: the time ``load_head`` takes (read, validate,
normalise, auto-rig), split into read and rig, and frames per second drawing the head with
all four weights animated into a 1280x720 offscreen framebuffer (the viewer's path).

    .venv/bin/python bench/heads.py [--size 1280x720] [--seconds 2] [--samples 0] [--no-real]

Avatars too: a procedural VRM 1.0 avatar of about 50k vertices (tests/_vrm.py: a ball head
with expressions on a body) and, when present, the VALID avatars of ../shared/heads/avatars.

Targets: load and rig a 30k-vertex head, or a 50k-vertex avatar, in under 2 s; 30 fps or
more at 30k vertices.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from face3d.commands._common import parse_size  # noqa: E402
from face3d.mesh.heads import load_head  # noqa: E402
from face3d.mesh.io.read import read_mesh  # noqa: E402
from face3d.mesh.io.obj import write_obj  # noqa: E402
from face3d.render.camera import OrbitCamera  # noqa: E402
from face3d.render.offscreen import Offscreen, create_context  # noqa: E402
from face3d.render.renderer import HeadRenderer  # noqa: E402

SHARED = ROOT.parent / "shared" / "heads"


def procedural_head(rows: int, cols: int):
    """An egg-shaped head, +Y up and +Z forward, with a nose, fused lips, chin and eye sockets."""
    t = np.linspace(0.02, np.pi - 0.02, rows)
    ph = np.linspace(0, 2 * np.pi, cols, endpoint=False)
    tt, pp = np.meshgrid(t, ph, indexing="ij")
    n = np.stack([np.sin(tt) * np.sin(pp), np.cos(tt), np.sin(tt) * np.cos(pp)], -1).reshape(-1, 3)
    x, y, z = n.T
    front = np.clip(z, 0, None)

    def bump(cx, cy, sx, sy, amp):
        return amp * np.exp(-(((x - cx) / sx) ** 2 + ((y - cy) / sy) ** 2)) * front

    r = (1 + bump(0, -0.05, 0.09, 0.16, 0.3) + bump(0, -0.36, 0.22, 0.06, 0.08) + bump(0, -0.5, 0.2, 0.06, 0.08)
         + bump(0, -0.78, 0.22, 0.1, 0.05) - bump(0.33, 0.28, 0.12, 0.08, 0.08) - bump(-0.33, 0.28, 0.12, 0.08, 0.08))
    pos = n * r[:, None] * np.array([0.8, 1.15, 0.95]) * 0.1  # metres
    pos[:, 0] *= 1 - 0.2 * np.clip(-y, 0, None)
    i, j = np.meshgrid(np.arange(rows - 1), np.arange(cols), indexing="ij")
    a = (i * cols + j).ravel()
    b = (i * cols + (j + 1) % cols).ravel()
    faces = np.concatenate([np.stack([a, a + cols, b], 1), np.stack([b, a + cols, b + cols], 1)])
    top, bot = len(pos), len(pos) + 1
    pos = np.vstack([pos, [[0, 0.115, 0]], [[0, -0.092, 0]]])
    jj = np.arange(cols)
    last = (rows - 1) * cols
    faces = np.concatenate([faces, np.stack([np.full(cols, top), jj, (jj + 1) % cols], 1),
                            np.stack([np.full(cols, bot), last + (jj + 1) % cols, last + jj], 1)])
    return pos, faces


def time_load(path: Path, repeats: int) -> tuple[float, float, object]:
    """(median seconds for load_head, median seconds for reading alone, rig)."""
    loads, reads = [], []
    rig = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        read_mesh(path)
        reads.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        rig = load_head(path)
        loads.append(time.perf_counter() - t0)
    return float(np.median(loads)), float(np.median(reads)), rig


def time_frames(ctx, rig, size, samples, seconds) -> tuple[float, float]:
    renderer = HeadRenderer(ctx, rig)
    target = Offscreen(ctx, size, samples=samples)
    camera = OrbitCamera.for_rig(rig, yaw=25.0)
    k = rig.n_shapes

    def run(duration):
        times = []
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < duration:
            f0 = time.perf_counter()
            renderer.set_weights((0.5 + 0.5 * np.sin(f0 * 7.0 + np.arange(k) * 1.3)).astype(np.float32))
            target.fbo.use()
            target.fbo.clear(0.1, 0.1, 0.1, 1.0, depth=1.0)
            renderer.draw_camera(camera, target.aspect)
            ctx.finish()
            times.append(time.perf_counter() - f0)
        return len(times) / (time.perf_counter() - t0), float(np.median(times) * 1000)

    run(0.3)  # warm up
    fps, med = run(seconds)
    ctx.detect_framebuffer(0).use()
    target.release()
    renderer.release()
    return fps, med


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="1280x720")
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--samples", type=int, default=0, help="MSAA samples (the viewer default is 0)")
    ap.add_argument("--repeats", type=int, default=3, help="loads per head (the median is shown)")
    ap.add_argument("--no-real", action="store_true", help="skip the heads in ../shared/heads")
    args = ap.parse_args()
    size = parse_size(args.size)
    ctx = create_context()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        heads = []
        for label, (r, c) in (("procedural ~10k", (100, 100)), ("procedural ~30k", (174, 174)),
                              ("procedural ~100k", (317, 317))):
            pos, faces = procedural_head(r, c)
            path = Path(tmp) / f"head_{r}.obj"
            write_obj(path, pos, faces)
            heads.append((label, path))
        from _vrm import make_avatar

        heads.append(("procedural VRM avatar ~50k", make_avatar(Path(tmp) / "avatar.vrm", ball_res=(200, 250))))
        if not args.no_real:
            for name in ("LeePerrySmith.glb", "ict_facekit",  # the folder: neutral plus its target OBJs
                         "avatars/derived_VALID_White_M_1_Casual_vrm1.vrm", "avatars/derived_VALID_Asian_F_1_Casual.glb"):
                if (SHARED / name).exists():
                    heads.append((name.split("/")[-1], SHARED / name))
        for label, path in heads:
            load_s, read_s, rig = time_load(path, args.repeats)
            fps, med = time_frames(ctx, rig, size, args.samples, args.seconds)
            synth = f"{len(rig.info.get('synthesised', []))} of {rig.n_shapes}"
            rows.append((label, rig.n_vertices, len(rig.faces), read_s, load_s, fps, med, synth))
            print(f"  {label}: done", file=sys.stderr)
    print(f"GL: {ctx.info['GL_RENDERER']}   size {size[0]}x{size[1]}  MSAA {args.samples}")
    print()
    print(f"| {'head':<30} | {'vertices':>8} | {'triangles':>9} | {'read s':>6} | {'load+rig s':>10} "
          f"| {'fps':>6} | {'ms/frame':>8} | shapes synthesised |")
    print(f"|{'-' * 32}|{'-' * 10}|{'-' * 11}|{'-' * 8}|{'-' * 12}|{'-' * 8}|{'-' * 10}|{'-' * 20}|")
    for label, v, f, read_s, load_s, fps, med, synth in rows:
        print(f"| {label:<30} | {v:>8} | {f:>9} | {read_s:6.2f} | {load_s:10.2f} | {fps:6.1f} | {med:8.2f} | {synth:<18} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
