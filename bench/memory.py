"""Peak memory (maximum resident set size) of ``face3d export`` (and ``face3d render``,
``face3d plot``) on a 10-second and a 10-minute file, side by side: the 10-minute run
should peak within 60 MB of the 10-second one (issue 24: memory does not grow with the
file's length).

Each row runs the real command in a subprocess and reads its peak with
``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` in a small process that started it. The speech is espeak-ng voice lines repeated, written as a
44.1 kHz stereo WAV (the common case: the decoder resamples and mixes down) and as MP3.
Render runs at a small size (``--size 320x240 --fps 10``) so that 10 minutes of video take
a minute or two; its pictures do not depend on the length, its buffers of audio and curves
do. Prints a Markdown table.

    nice -n 10 .venv/bin/python bench/memory.py [--minutes 10] [--no-render]
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

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent
LINES = ["Halt! Who goes there?", "The bridge is out, take the river road.",
         "I have not seen the merchant since dawn.", "Keep your voice down, the guards are listening."]


def make_speech(folder: Path, seconds: float) -> Path:
    """``seconds`` of speech (espeak-ng lines, repeated) as a 44.1 kHz stereo 16-bit WAV."""
    parts = []
    for i, text in enumerate(LINES):
        p = folder / f"l{i}.wav"
        subprocess.run(["espeak-ng", "-s", "150", "-w", str(p), text], check=True, capture_output=True)
        x, rate = sf.read(str(p), dtype="float32")
        parts.append(x)
        parts.append(np.zeros(int(0.3 * rate), np.float32))
    one = np.concatenate(parts)
    n = int(seconds * rate)
    x = np.resize(one, n)
    import soxr

    y = soxr.resample(x, rate, 44100)
    out = folder / f"speech_{seconds:g}s.wav"
    sf.write(str(out), np.stack([y, 0.8 * y], axis=1), 44100, subtype="PCM_16")
    return out


def to_mp3(wav: Path) -> Path | None:
    """The same sound as MP3 (libsndfile 1.1+ or PyAV writes it); None when neither can."""
    out = wav.with_suffix(".mp3")
    try:
        x, rate = sf.read(str(wav), dtype="float32")
        sf.write(str(out), x, rate, format="MP3")
        return out
    except Exception:
        return None


#: Runs the command and prints its peak: a small process of its own, so that the child's
#: peak does not start from this (large) process's size, which a fork would pass on.
_MEASURE = """
import resource, subprocess, sys
r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
sys.stderr.buffer.write(r.stderr)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(r.returncode)
"""


def peak(cmd: list[str]) -> tuple[float, float]:
    """(peak RSS in MB, wall seconds) of ``python -m face3d CMD`` in a child process
    (``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` of a small process that ran it)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("DISPLAY", None)
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-S", "-c", _MEASURE, sys.executable, "-m", "face3d", *cmd], env=env,
                       capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"face3d {' '.join(cmd)} failed:\n{r.stderr}")
    return int(r.stdout.split()[-1]) / 1024.0, wall  # Linux: kilobytes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0, help="length of the long file (default 10)")
    ap.add_argument("--no-render", action="store_true", help="leave out face3d render")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="face3d-bench-memory-"))
    rows = []
    try:
        short = make_speech(work, 10.0)
        long = make_speech(work, args.minutes * 60.0)
        inputs = [("WAV 44.1 kHz stereo", short, long)]
        s3, l3 = to_mp3(short), to_mp3(long)
        if s3 and l3:
            inputs.append(("MP3", s3, l3))
        jobs = []
        for label, s, l in inputs:
            jobs.append((f"export CSV (mouth + alive), {label}", ["export", "{src}", "-o", "{out}.csv"], s, l))
        s, l = inputs[0][1], inputs[0][2]
        jobs.append(("export CSV --mouth-only", ["export", "{src}", "-o", "{out}.csv", "--mouth-only"], s, l))
        jobs.append(("export ARKit CSV", ["export", "{src}", "-o", "{out}.csv", "--format", "arkit-csv"], s, l))
        if not args.no_render:
            jobs.append(("render 320x240, 10 fps", ["render", "{src}", "-o", "{out}.mp4", "--size", "320x240",
                                                    "--fps", "10"], s, l))
        for label, cmd, s, l in jobs:
            got = []
            for src in (s, l):
                argv = [a.format(src=src, out=work / "out") for a in cmd]
                got.append(peak(argv))
                print(f"  {label} {src.name}: {got[-1][0]:.0f} MB in {got[-1][1]:.1f} s", file=sys.stderr)
            rows.append((label, got[0][0], got[1][0], got[1][1]))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    m = f"{args.minutes:g} min"
    print(f"| command | peak, 10 s (MB) | peak, {m} (MB) | difference (MB) | {m}: wall (s) |\n"
          "|---|---:|---:|---:|---:|")
    for label, a, b, wall in rows:
        print(f"| {label} | {a:.0f} | {b:.0f} | {b - a:+.0f} | {wall:.1f} |")
    print(f"\nPeak resident set size of each command's process (getrusage RUSAGE_CHILDREN ru_maxrss); target: the {m} file "
          "within 60 MB of the 10 s one.")


if __name__ == "__main__":
    main()
