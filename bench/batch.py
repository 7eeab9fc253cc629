"""Batch throughput: files per second and real-time factor of ``face3d export`` (and
``face3d render`` when this build has it) over a folder of espeak-ng voice lines, with 1
and 2 local jobs and on a 2-worker Dask cluster started on this machine.

Each row runs the real command in a subprocess (start-up, discovery, the report and the
pool or cluster round trips included; the Dask cluster itself is started beforehand, as
it would be in production). Speed-up is against 1 job; parallel efficiency is speed-up /
workers. Prints a Markdown table.

    nice -n 10 .venv/bin/python bench/batch.py [--files 200] [--render-files 8] [--repeat 2]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

LINES = [
    "Halt! Who goes there?", "The bridge is out, take the river road.", "I have not seen the merchant since dawn.",
    "Keep your voice down, the guards are listening.", "Twenty gold pieces, and not a coin less.",
    "We leave at first light.", "Did you hear that? Something moved in the trees.", "Thank you, traveller.",
]


def make_lines(folder: Path, n: int) -> float:
    """``n`` voice lines (espeak-ng, varied text and speed) in nested folders; their total seconds."""
    total = 0.0
    for i in range(n):
        p = folder / f"chapter{i % 4}" / f"scene{i % 3}" / f"line{i:05d}.wav"
        p.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["espeak-ng", "-s", str(140 + 7 * (i % 9)), "-w", str(p), LINES[i % len(LINES)]],
                       check=True, capture_output=True)
        total += sf.info(str(p)).duration
    return total


def run(cmd: str, src: Path, out: Path, extra: list[str]) -> float:
    shutil.rmtree(out, ignore_errors=True)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("DISPLAY", None)
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "face3d", cmd, str(src), "-o", f"{out}/", "--no-progress", *extra],
                       env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"face3d {cmd} {' '.join(extra)} failed:\n{r.stderr}")
    return wall


def has_command(name: str) -> bool:
    return (ROOT / "face3d" / "commands" / f"{name}.py").is_file()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=200, help="voice lines for export (default 200)")
    ap.add_argument("--render-files", type=int, default=8, help="voice lines for render (default 8)")
    ap.add_argument("--repeat", type=int, default=2, help="runs per row; the fastest counts (default 2)")
    args = ap.parse_args()
    from _dask_helpers import dask_cluster

    work = Path(tempfile.mkdtemp(prefix="face3d-bench-batch-"))
    rows = []
    try:
        jobs = [("export", ".csv", args.files)]
        if has_command("render"):
            jobs.append(("render", ".mp4", args.render_files))
        with dask_cluster(2, work / "dask") as cluster:
            for cmd, _, n in jobs:
                src = work / f"in-{cmd}"
                seconds = make_lines(src, n)
                base = None
                for label, workers, extra in [("1 local job", 1, ["--jobs", "1"]), ("2 local jobs", 2, ["--jobs", "2"]),
                                              ("Dask, 2 workers", 2, ["--scheduler", cluster.address])]:
                    repeat = args.repeat if cmd == "export" else 1
                    wall = min(run(cmd, src, work / "out", extra) for _ in range(repeat))
                    base = base or wall
                    speedup = base / wall
                    rows.append((cmd, label, n, seconds, wall, n / wall, seconds / wall, speedup, speedup / workers))
                    print(f"  {cmd} {label}: {wall:.2f} s", file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("| command | runner | files | speech (s) | wall (s) | files/s | x real time | speed-up | efficiency |\n"
          "|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for cmd, label, n, seconds, wall, fps, rtf, speedup, eff in rows:
        rt = f"{rtf:.1f}" if rtf < 20 else f"{rtf:.0f}"
        print(f"| {cmd} | {label} | {n} | {seconds:.0f} | {wall:.2f} | {fps:.1f} | {rt} | {speedup:.2f} | {eff:.0%} |")
    print(f"\n{os.cpu_count()} CPU cores; each export row the fastest of {args.repeat} runs of the real command, "
          "render rows one run at the default 1280x720, 30 fps (process start-up and pool/cluster round trips included).")


if __name__ == "__main__":
    main()
