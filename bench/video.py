"""Video render speed: ``face3d render`` of 10 s of speech at 1280x720, 30 fps.

Runs the real command in a fresh process per row and prints a table: the render loop's
speed as a multiple of real time (drawing, readback, H.264/AAC encoding and muxing; what
the command reports), the whole command's wall time (start, head load, analysis
included), and the process's peak memory. Rows: the default head, a ~30k-vertex custom
head (procedural, auto-rigged, as in bench/heads.py), and 60 s of speech on the default
head (memory must not grow with length). ``--sweep`` adds x264 presets x encoder threads
on the default head (how the defaults were chosen).

    .venv/bin/python bench/video.py [--size 1280x720] [--fps 30] [--sweep] [--samples 0]

Target: 2x real time at 1280x720, 30 fps, default head (bar: faster than real time).
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


def render(audio: Path, out: Path, extra: list[str]) -> tuple[float, float, float, float]:
    """(render-loop real-time multiple, wall seconds, CPU seconds, peak memory MiB) of one run."""
    cmd = [sys.executable, "-m", "face3d", "render", str(audio), "-o", str(out), "--no-progress", *extra]
    env = dict(os.environ, PYTHONPATH=str(ROOT.parent))
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
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
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="1280x720")
    ap.add_argument("--fps", default="30")
    ap.add_argument("--samples", default="0", help="antialiasing samples (render --samples)")
    ap.add_argument("--sweep", action="store_true", help="also try x264 presets x encoder threads")
    ap.add_argument("--no-long", action="store_true", help="skip the 60 s row")
    args = ap.parse_args()
    base = ["--size", args.size, "--fps", args.fps, "--samples", args.samples]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        ten = speech(tmp / "ten.wav", 10.0)
        from heads import procedural_head

        from face3d.mesh.io.obj import write_obj

        pos, faces = procedural_head(174, 174)
        head30k = tmp / "head30k.obj"
        write_obj(head30k, pos, faces)
        # mouth-only rows: the still head whose figures the target is about; the
        # "alive" row adds blinks, brows, gaze and head motion (whole frames while it moves)
        mouth = ["--mouth-only"]
        runs = [("default head, 10 s", ten, mouth),
                ("default head, 10 s, alive", ten, []),
                (f"{len(pos) // 1000}k-vertex head, 10 s", ten, mouth + ["--head", str(head30k)])]
        if not args.no_long:
            runs.append(("default head, 60 s", speech(tmp / "sixty.wav", 60.0), mouth))
        if args.sweep:
            for preset in ("ultrafast", "superfast", "veryfast"):
                for threads in ("1", "2"):
                    runs.append((f"default, {preset}, {threads} thr", ten,
                                 mouth + ["--preset", preset, "--threads", threads]))
        for label, audio, extra in runs:
            out = tmp / "out.mp4"
            multiple, wall, cpu, mem = render(audio, out, base + extra)
            size_kb = out.stat().st_size / 1024
            import soundfile as sf

            rows.append((label, multiple, wall, cpu / sf.info(str(audio)).duration, mem, size_kb))
            print(f"  {label}: {multiple:.2f}x", file=sys.stderr, flush=True)

    load = os.getloadavg()[0]
    print(f"face3d render at {args.size}, {args.fps} fps, MSAA {args.samples}; {os.cpu_count()} CPUs, "
          f"load average {load:.1f} at the end")
    print()
    print(f"| {'run':<28} | {'x real time':>11} | {'wall s':>6} | {'CPU s per video s':>17} | {'peak MiB':>8} | {'file KiB':>8} |")
    print(f"|{'-' * 30}|{'-' * 13}|{'-' * 8}|{'-' * 19}|{'-' * 10}|{'-' * 10}|")
    for label, multiple, wall, cpu, mem, size_kb in rows:
        print(f"| {label:<28} | {multiple:11.2f} | {wall:6.1f} | {cpu:17.2f} | {mem:8.0f} | {size_kb:8.0f} |")
    print()
    print("x real time: the render loop (draw, read back, encode, mux), as the command reports it; wall s: the")
    print("whole command (start, head load, analysis included); CPU s per video s: all its threads together.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
