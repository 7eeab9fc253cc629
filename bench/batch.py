"""Batch throughput: files per second of ``face3d export`` (and ``face3d render``) over a
folder of short espeak-ng voice lines, with 1 and 2 local jobs and on a 2-worker Dask
cluster started on this machine, side by side.

Each run is the real command in a subprocess (start-up, discovery, the report and the
pool or cluster round trips included; the Dask cluster itself is started beforehand, as
it would be in production). Export runs twice per runner, over all the lines and over
half of them: "files/s" is the whole command's rate, "steady files/s" the rate once
started, (all - half) / (wall(all) - wall(half)), which is what a 50,000-line game sees.
Speed-up is against 1 job. Also checks that every runner wrote the same bytes. Prints a
Markdown table.

    nice -n 10 .venv/bin/python bench/batch.py [--files 1000] [--render-files 4] [--repeat 2]
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


def outputs(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.name != "face3d-report.jsonl"}


def half_of(src: Path, dst: Path) -> int:
    """Every other line of ``src`` linked into ``dst`` (same layout); how many."""
    n = 0
    for i, p in enumerate(sorted(src.rglob("*.wav"))):
        if i % 2 == 0:
            q = dst / p.relative_to(src)
            q.parent.mkdir(parents=True, exist_ok=True)
            os.link(p, q)
            n += 1
    return n


def has_command(name: str) -> bool:
    return (ROOT / "face3d" / "commands" / f"{name}.py").is_file()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=1000, help="voice lines for export (default 1000)")
    ap.add_argument("--render-files", type=int, default=4, help="voice lines for render (default 4; 0: none)")
    ap.add_argument("--repeat", type=int, default=2, help="runs per export row; the fastest counts (default 2)")
    args = ap.parse_args()
    from _dask_helpers import dask_cluster

    work = Path(tempfile.mkdtemp(prefix="face3d-bench-batch-"))
    rows = []
    try:
        with dask_cluster(2, work / "dask") as cluster:
            runners = [("1 local job", ["--jobs", "1"]), ("2 local jobs", ["--jobs", "2"]),
                       ("Dask, 2 workers", ["--scheduler", cluster.address])]
            src = work / "in-export"
            seconds = make_lines(src, args.files)
            half = half_of(src, work / "in-half")
            base = ref = None
            for label, extra in runners:
                wall = min(run("export", src, work / "out", extra) for _ in range(args.repeat))
                got = outputs(work / "out")
                ref = ref or got
                same = got == ref
                wall_half = min(run("export", work / "in-half", work / "out", extra) for _ in range(args.repeat))
                steady = (args.files - half) / max(wall - wall_half, 1e-9)
                base = base or (wall, steady)
                rows.append(("export", label, args.files, seconds, wall, args.files / wall, steady,
                             base[0] / wall, steady / base[1], same))
                print(f"  export {label}: {wall:.2f} s, half {wall_half:.2f} s, same bytes {same}", file=sys.stderr)
            if args.render_files and has_command("render"):
                src = work / "in-render"
                seconds_r = make_lines(src, args.render_files)
                base = None
                for label, extra in runners:
                    wall = run("render", src, work / "out", extra)
                    base = base or wall
                    rows.append(("render", label, args.render_files, seconds_r, wall, args.render_files / wall,
                                 None, base / wall, None, None))
                    print(f"  render {label}: {wall:.2f} s", file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("| command | runner | files | speech (s) | wall (s) | files/s | steady files/s | speed-up | steady speed-up "
          "| same bytes |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for cmd, label, n, seconds, wall, fps, steady, speedup, steady_up, same in rows:
        st = "" if steady is None else f"{steady:.0f}"
        su = "" if steady_up is None else f"{steady_up:.2f}"
        sb = "" if same is None else ("yes" if same else "NO")
        print(f"| {cmd} | {label} | {n} | {seconds:.0f} | {wall:.2f} | {fps:.1f} | {st} | {speedup:.2f} | {su} | {sb} |")
    print(f"\n{os.cpu_count()} CPU cores, load average {os.getloadavg()[0]:.1f} at the end; export rows: the fastest of "
          f"{args.repeat} runs of the real command (CSV, mouth + alive curves), over {args.files} lines and over half "
          "of them (steady = the difference); render rows one run at the default 1280x720, 30 fps.")


if __name__ == "__main__":
    main()
