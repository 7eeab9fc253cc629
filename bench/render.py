"""Render speed of the default head at 1280x720 with every weight animated.

Prints a table: frames per second with the blendshape vertex shader, the same mesh with
no blendshapes (so the difference is the cost of the blendshape pass), and the vertex
pass alone through transform feedback (no rasterisation).

    .venv/bin/python bench/render.py [--head PATH] [--size 1280x720] [--seconds 3] [--samples 0]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from face3d.commands._common import parse_size  # noqa: E402
from face3d.mesh.heads import load_head  # noqa: E402
from face3d.mesh.rig import Rig  # noqa: E402
from face3d.render.camera import OrbitCamera  # noqa: E402
from face3d.render.offscreen import Offscreen, create_context  # noqa: E402
from face3d.render.renderer import HeadRenderer  # noqa: E402


def animated_weights(k: int, t: float) -> np.ndarray:
    return (0.5 + 0.5 * np.sin(t * 7.0 + np.arange(k) * 1.3)).astype(np.float32)


def time_frames(ctx, renderer, target, camera, seconds):
    aspect = target.aspect
    k = renderer.rig.n_shapes
    frames, t0 = 0, time.perf_counter()
    times = []
    while time.perf_counter() - t0 < seconds:
        f0 = time.perf_counter()
        renderer.set_weights(animated_weights(k, f0))
        target.fbo.use()
        target.fbo.clear(0.1, 0.1, 0.1, 1.0, depth=1.0)
        renderer.draw_camera(camera, aspect)
        ctx.finish()
        times.append(time.perf_counter() - f0)
        frames += 1
    times = np.array(times) * 1000
    return frames / (time.perf_counter() - t0), float(np.median(times)), float(np.percentile(times, 99))


def time_transform(ctx, renderer, seconds):
    """The vertex pass alone: transform feedback of every vertex, no rasterisation."""
    import moderngl

    prog = renderer.make_program(varyings=["v_position", "v_normal"])
    from face3d.render.renderer import _ATTRIBUTES, _VERTEX_FORMAT

    vao = ctx.vertex_array(prog, [(renderer.vbo, _VERTEX_FORMAT, *_ATTRIBUTES)], skip_errors=True)
    out = ctx.buffer(reserve=renderer.rig.n_vertices * 24)
    fbo = ctx.simple_framebuffer((1, 1))
    fbo.use()
    eye = np.eye(4, dtype=np.float32)
    times = []
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        f0 = time.perf_counter()
        renderer.set_weights(animated_weights(renderer.rig.n_shapes, f0))
        renderer._bind(prog, eye, eye)
        vao.transform(out, moderngl.POINTS, vertices=renderer.rig.n_vertices)
        ctx.finish()
        times.append(time.perf_counter() - f0)
    return float(np.median(times) * 1000)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--head", default=None)
    ap.add_argument("--size", default="1280x720")
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--samples", type=int, default=0, help="MSAA samples (the viewer default is 0)")
    args = ap.parse_args()
    size = parse_size(args.size)
    rig = load_head(args.head)
    ctx = create_context()
    target = Offscreen(ctx, size, samples=args.samples)
    camera = OrbitCamera.for_rig(rig, yaw=25.0)

    still = Rig(positions=rig.positions, normals=rig.normals, faces=rig.faces, names=(),
                deltas=np.zeros((0, rig.n_vertices, 3)), normal_deltas=np.zeros((0, rig.n_vertices, 3)),
                colors=rig.colors, gloss=rig.gloss)
    rows = []
    for label, r in (("blendshapes in vertex shader", HeadRenderer(ctx, rig)),
                     ("same mesh, no blendshapes", HeadRenderer(ctx, still))):
        time_frames(ctx, r, target, camera, 0.5)  # warm up
        fps, med, p99 = time_frames(ctx, r, target, camera, args.seconds)
        tf = time_transform(ctx, r, min(args.seconds, 1.5))
        rows.append((label, fps, med, p99, tf))

    print(f"head: {args.head or 'default'}  vertices {rig.n_vertices}  triangles {len(rig.faces)}  "
          f"shapes {rig.n_shapes}  moved vertices {HeadRenderer(ctx, rig).n_moved}")
    print(f"GL: {ctx.info['GL_RENDERER']}   size {size[0]}x{size[1]}  MSAA {target.samples}")
    print()
    print(f"| {'path':<30} | {'fps':>7} | {'median ms':>9} | {'p99 ms':>7} | {'vertex pass ms':>14} |")
    print(f"|{'-'*32}|{'-'*9}|{'-'*11}|{'-'*9}|{'-'*16}|")
    for label, fps, med, p99, tf in rows:
        print(f"| {label:<30} | {fps:7.1f} | {med:9.2f} | {p99:7.2f} | {tf:14.3f} |")
    blend = rows[0][2] - rows[1][2]
    print()
    print(f"blendshape pass cost per frame: {blend:+.2f} ms (frame), "
          f"{rows[0][4] - rows[1][4]:+.3f} ms (vertex pass alone)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
