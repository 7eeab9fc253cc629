"""Video render speed and memory: ``face3d render`` of 10 s of speech at 1280x720, 30 fps.

Runs the real command in a fresh process per row and prints a table: the render loop's
speed as a multiple of real time (reading and analysing the sound, drawing, readback,
H.264/AAC encoding and muxing; what the command reports), the whole command's wall time
(start and head load included), its CPU seconds per second of video (all threads), and the
process's peak memory. Rows: the default head (alive, the default: the head turns, so its
box is redrawn every frame), the same with ``--mouth-only`` (a still head: only the mouth's
box), a ~30k-vertex custom head, and memory against length (10 s and ``--long`` minutes of
speech at 320x180: memory must not grow with the length). ``--baseline DIR`` runs another
checkout of face3d (e.g. ``git worktree add /tmp/before main``) on the same rows, in
alternation with this one, ``--repeat`` times: on a busy machine only such same-run
ratios mean anything; medians are shown. ``--sweep`` adds x264 presets x encoder threads
on the default head (how the defaults were chosen).

    .venv/bin/python bench/video.py [--size 1280x720] [--fps 30] [--repeat 3] [--baseline DIR]
                                    [--long 2] [--no-long] [--sweep] [--samples 0]

Target: 2x real time at 1280x720, 30 fps, default head (alive); memory within 60 MB of the
10 s run for a 10-minute file.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))
sys.path.insert(0, str(ROOT))


def speech(path: Path, seconds: float) -> Path:
    """``seconds`` of espeak-ng speech (sentences repeated, then cut) as a WAV."""
    import soundfile as sf

    text = ("The quick brown fox jumps over the lazy dog. How much wood would a woodchuck chuck? "
            "She sells sea shells by the sea shore, and the shells she sells are sea shells for sure. ")
    raw = path.with_suffix(".raw.wav")
    subprocess.run(["espeak-ng", "-w", str(raw), text * 4], check=True, capture_output=True)
    x, rate = sf.read(str(raw), dtype="float32")
    n = int(seconds * rate)
    x = np.tile(x, -(-n // len(x)))[:n]
    sf.write(str(path), x, rate)
    return path


def render(tree: Path, audio: Path, out: Path, extra: list[str]) -> tuple[float, float, float, float]:
    """(render-loop real-time multiple, wall seconds, CPU seconds, peak memory MiB) of one run
    of the face3d in ``tree``."""
    cmd = [sys.executable, "-m", "face3d", "render", str(audio), "-o", str(out), "--no-progress", *extra]
    env = dict(os.environ, PYTHONPATH=str(tree))
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=str(tree))
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    err = p.stderr.read()
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode:
        raise SystemExit(f"render failed: {' '.join(cmd)}\n{err}")
    m = re.search(r"([\d.]+)x real time", err)
    cpu = usage.ru_utime + usage.ru_stime
    return float(m.group(1)) if m else float("nan"), wall, cpu, usage.ru_maxrss / 1024.0


def main() -> int:
    import soundfile as sf

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="1280x720")
    ap.add_argument("--fps", default="30")
    ap.add_argument("--samples", default="0", help="antialiasing samples (render --samples)")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each row (medians shown)")
    ap.add_argument("--baseline", type=Path, help="another face3d checkout to run beside this one")
    ap.add_argument("--long", type=float, default=2.0, help="minutes of speech for the memory row (default 2)")
    ap.add_argument("--no-long", action="store_true", help="skip the memory rows")
    ap.add_argument("--no-custom", action="store_true", help="skip the 30k-vertex head row")
    ap.add_argument("--sweep", action="store_true", help="also try x264 presets x encoder threads")
    args = ap.parse_args()
    base = ["--size", args.size, "--fps", args.fps, "--samples", args.samples]
    small = ["--size", "320x180", "--fps", args.fps]
    trees = [("this", ROOT.parent)]
    if args.baseline is not None:
        trees.insert(0, ("baseline", args.baseline.resolve()))
    results: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        ten = speech(tmp / "ten.wav", 10.0)
        mouth = ["--mouth-only"]
        runs = [("default head, 10 s, alive", ten, base),
                ("default head, 10 s, mouth only", ten, base + mouth)]
        if not args.no_custom:
            from heads import procedural_head

            from face3d.mesh.io.obj import write_obj

            pos, faces = procedural_head(174, 174)
            head30k = tmp / "head30k.obj"
            write_obj(head30k, pos, faces)
            runs.append((f"{len(pos) // 1000}k-vertex head, 10 s, mouth", ten, base + mouth + ["--head", str(head30k)]))
        if not args.no_long:
            runs.append(("memory: 10 s at 320x180", ten, small))
            runs.append((f"memory: {args.long:g} min at 320x180", speech(tmp / "long.wav", 60.0 * args.long), small))
        if args.sweep:
            for preset in ("ultrafast", "superfast", "veryfast"):
                for threads in ("1", "2"):
                    runs.append((f"default, {preset}, {threads} thr", ten,
                                 base + ["--preset", preset, "--threads", threads]))
        for rep in range(max(1, args.repeat)):
            for label, audio, extra in runs:
                for name, tree in trees:  # in alternation: the same load for both
                    out = tmp / "out.mp4"
                    multiple, wall, cpu, mem = render(tree, audio, out, extra)
                    seconds = sf.info(str(audio)).duration
                    results.setdefault((label, name), []).append(
                        (multiple, wall, cpu / seconds, mem, out.stat().st_size / 1024))
                    print(f"  {label} [{name}] run {rep + 1}: {multiple:.2f}x, {mem:.0f} MiB, "
                          f"load {os.getloadavg()[0]:.1f}", file=sys.stderr, flush=True)

    load = os.getloadavg()[0]
    print(f"face3d render at {args.size}, {args.fps} fps, MSAA {args.samples}; {os.cpu_count()} CPUs, "
          f"load average {load:.1f} at the end; medians of {max(1, args.repeat)} run(s)")
    print()
    print(f"| {'run':<34} | {'code':<8} | {'x real time':>11} | {'wall s':>6} | {'CPU s per video s':>17} "
          f"| {'peak MiB':>8} | {'file KiB':>8} |")
    print(f"|{'-' * 36}|{'-' * 10}|{'-' * 13}|{'-' * 8}|{'-' * 19}|{'-' * 10}|{'-' * 10}|")
    for label, _, _ in runs:
        for name, _ in trees:
            r = np.array(results[(label, name)])
            med = np.median(r, axis=0)
            print(f"| {label:<34} | {name:<8} | {med[0]:11.2f} | {med[1]:6.1f} | {med[2]:17.2f} "
                  f"| {r[:, 3].max():8.0f} | {med[4]:8.0f} |")
    print()
    print("x real time: the render loop (read and analyse the sound, draw, read back, encode, mux), as the command")
    print("reports it; wall s: the whole command (start, head load included); CPU s per video s: all its threads")
    print("together; peak MiB: the largest of the runs' peak resident memory.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
