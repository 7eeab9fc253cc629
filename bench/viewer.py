"""The viewer under Xvfb: frame rate, time to the first frame, resident memory over a looping run.

Starts its own Xvfb, runs the real ``face3d view`` command on the default head with the
bundled demo speech at 1280x720 (vsync off, sound muted so that every run is the same
with or without a sound device), and prints a table:

* frames per second with the overlay shown and hidden (target 60);
* time from starting the command to the first drawn frame, median of ``--starts`` runs
  (target 1.5 s);
* resident memory (VmRSS) of a ``--loop`` run sampled every second: the growth from the
  end of the warm-up to the end of the run (target: under 5 MB after the first minute).

    .venv/bin/python bench/viewer.py                       # ~2 minutes: 60 s memory run, 15 s warm-up
    .venv/bin/python bench/viewer.py --memory-seconds 600 --warmup-seconds 60   # the 10-minute run
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEECH = ROOT / "models" / "demo_speech.wav"


def start_xvfb(size: str) -> tuple[str, subprocess.Popen]:
    r, w = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(w), "-screen", "0", size, "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, pass_fds=(w,))
    os.close(w)
    text = b""
    while not text.endswith(b"\n"):
        chunk = os.read(r, 64)
        if not chunk:
            break
        text += chunk
    os.close(r)
    if not text.strip().isdigit():
        proc.kill()
        sys.exit("bench/viewer.py: Xvfb did not start (apt-get install xvfb)")
    return f":{int(text)}", proc


def view(display: str, *args) -> subprocess.Popen:
    env = dict(os.environ, DISPLAY=display, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cmd = [sys.executable, "-m", "face3d", "view", str(SPEECH), "--size", "1280x720", "--no-vsync", "--mute",
           "--stats", *map(str, args)]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def fps_run(display: str, seconds: float, *extra) -> float:
    p = view(display, "--seconds", seconds, "--loop", *extra)
    _, err = p.communicate(timeout=seconds + 60)
    m = re.search(r"(\d+) frames in ([\d.]+) s: ([\d.]+) frames/s", err)
    if p.returncode != 0 or not m:
        sys.exit(f"bench/viewer.py: viewer failed ({p.returncode}): {err.strip()[-500:]}")
    return float(m.group(3))


def first_frame(display: str) -> float:
    t0 = time.perf_counter()
    p = view(display, "--frames", 1)
    for line in p.stderr:
        if "first frame drawn" in line:
            dt = time.perf_counter() - t0
            break
    else:
        p.wait()
        sys.exit(f"bench/viewer.py: no first frame (status {p.returncode})")
    p.stderr.read()
    p.wait(timeout=30)
    return dt


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def memory_run(display: str, seconds: float, warmup: float) -> tuple[float, float, float, float]:
    p = view(display, "--seconds", seconds, "--loop")
    samples = []
    t0 = time.perf_counter()
    while p.poll() is None:
        try:
            samples.append((time.perf_counter() - t0, rss_kb(p.pid)))
        except OSError:
            break
        time.sleep(1.0)
    p.communicate(timeout=60)
    after = [kb for t, kb in samples if t >= warmup and kb]
    if len(after) < 2:
        sys.exit("bench/viewer.py: the memory run was too short to measure")
    base, end, peak = after[0], after[-1], max(after)
    return base / 1024, end / 1024, peak / 1024, (end - base) / 1024


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fps-seconds", type=float, default=10.0, help="length of each frame-rate run (default 10)")
    ap.add_argument("--starts", type=int, default=3, help="runs for the first-frame time (default 3)")
    ap.add_argument("--memory-seconds", type=float, default=60.0, help="length of the looping memory run (default 60; 600 for the full check)")
    ap.add_argument("--warmup-seconds", type=float, default=15.0, help="memory growth counts from this time (default 15; 60 for the full check)")
    args = ap.parse_args(argv)
    display, xvfb = start_xvfb("1280x800x24")
    try:
        fps_osd = fps_run(display, args.fps_seconds)
        fps_bare = fps_run(display, args.fps_seconds, "--no-osd")
        starts = [first_frame(display) for _ in range(args.starts)]
        base, end, peak, growth = memory_run(display, args.memory_seconds, args.warmup_seconds)
    finally:
        xvfb.terminate()
        xvfb.wait()
    rows = [
        ("frames per second, 1280x720, overlay shown", f"{fps_osd:.1f}", ">= 60"),
        ("frames per second, 1280x720, overlay hidden", f"{fps_bare:.1f}", ">= 60"),
        (f"command to first frame (median of {len(starts)})", f"{statistics.median(starts):.2f} s", "<= 1.5 s"),
        (f"resident memory at {args.warmup_seconds:.0f} s / end / peak", f"{base:.1f} / {end:.1f} / {peak:.1f} MB", ""),
        (f"memory growth {args.warmup_seconds:.0f} s -> {args.memory_seconds:.0f} s (looping)", f"{growth:+.2f} MB", "< 5 MB"),
    ]
    w = max(len(r[0]) for r in rows)
    print(f"{'measure':<{w}}  {'value':>24}  target")
    for name, value, target in rows:
        print(f"{name:<{w}}  {value:>24}  {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
