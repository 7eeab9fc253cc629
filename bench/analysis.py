"""Analysis speed: offline multiple of real time (one core) and streaming cost per 10 ms hop.

Offline: ``band_energies`` + ``map_energies`` on 10 minutes of 16 kHz speech-like audio
(espeak-ng sentences repeated, with pauses), in-process, best of several runs, and the
same including the file read + soxr resampling of a 22.05 kHz WAV (``analyze(path)``).
Streaming: one 160-sample block at a time through ``BandAnalyzer.feed`` and
``VisemeMapper(live=True).process`` (what a live microphone does: the live model, 10 ms
of look-ahead), median and 99th percentile.
Peers (in their own virtualenv, default /tmp/peers) are timed in the same run on the
same audio, in their own process: openfacefx's audio-only energy mode
(``generate_from_energy``) and pylipsync's ``extract_phoneme_segments``; the ratio
column is face3d's speed over theirs. Run it pinned to one core for the one-core
figure:

    taskset -c 0 .venv/bin/python bench/analysis.py [--minutes 10] [--peers /tmp/peers]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import soundfile as sf  # noqa: E402

from face3d.analysis import ANALYSIS_RATE  # noqa: E402
from face3d.analysis.bands import BandAnalyzer, band_energies  # noqa: E402
from face3d.analysis.visemes import VisemeMapper, map_energies  # noqa: E402
from face3d.audio.files import resample  # noqa: E402
from face3d.pipeline import analyze  # noqa: E402

TEXT = ("Father saw a large dark barn. We see three green trees. Bob made me a map of the blue moon. "
        "Open the window and look at the stars.")


def speech(seconds: float, tmp: Path):
    p = tmp / "one.wav"
    subprocess.run(["espeak-ng", "-w", str(p), TEXT], check=True, capture_output=True)
    x, rate = sf.read(str(p), dtype="float32")
    x = np.concatenate([x, np.zeros(int(0.4 * rate), np.float32)])
    reps = int(np.ceil(seconds * rate / len(x)))
    x = np.tile(x, reps)[: int(seconds * rate)]
    src = tmp / "long.wav"
    sf.write(str(src), x, rate, subtype="PCM_16")
    return x, rate, src


def best_of(fn, n=5):
    ts = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return min(ts), float(np.median(ts))


_PEER = r"""
import sys, time, numpy as np
which, path, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
if which == "openfacefx":
    from openfacefx.energy import generate_from_energy
    generate_from_energy(path, fps=60.0)  # warm-up
    ts = []
    for _ in range(3):
        t0 = time.perf_counter(); generate_from_energy(path, fps=60.0); ts.append(time.perf_counter() - t0)
else:
    import soundfile as sf
    from pylipsync import PhonemeAnalyzer
    a = PhonemeAnalyzer()
    x, r = sf.read(path, dtype="float32")
    x = x[: int(r * seconds)]
    t0 = time.perf_counter(); a.extract_phoneme_segments(x, r, fps=60); ts = [time.perf_counter() - t0]
print(min(ts))
"""


def peer_speed(peers: Path, which: str, path: Path, seconds: float):
    py = peers / "bin" / "python"
    if not py.exists():
        return None, f"not installed ({py} missing)"
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", NUMBA_NUM_THREADS="1")
    r = subprocess.run([str(py), "-c", _PEER, which, str(path), str(seconds)], capture_output=True, text=True,
                       timeout=900, env=env)
    if r.returncode != 0:
        return None, "failed: " + ((r.stderr.strip().splitlines() or ["?"])[-1])
    return seconds / float(r.stdout.strip().splitlines()[-1]), ""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=10.0, help="length of the offline test signal")
    ap.add_argument("--peer-seconds", type=float, default=30.0, help="audio given to pylipsync (it is slow)")
    ap.add_argument("--peers", default=os.environ.get("FACE3D_PEERS", "/tmp/peers"))
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="f3dbench") as td:
        tmp = Path(td)
        secs = args.minutes * 60
        x, rate, src = speech(secs, tmp)
        x16 = resample(x, rate, ANALYSIS_RATE)

        e = band_energies(x16)
        map_energies(e)
        tb, _ = best_of(lambda: band_energies(x16))
        tm, _ = best_of(lambda: map_energies(e))
        tt, tt_med = best_of(lambda: map_energies(band_energies(x16)))
        tv, _ = best_of(lambda: map_energies(band_energies(x16), visemes=True))
        tf, _ = best_of(lambda: analyze(src, fps=60), n=3)
        # the full analysis: mouth + prosody + alive curves (issue 12)
        from face3d.analysis import StreamAnalyzer, track_from_samples
        from face3d.analysis.alive import alive_curves
        from face3d.analysis.prosody import prosody

        pr = prosody(x16)
        tp, _ = best_of(lambda: prosody(x16))
        ta, _ = best_of(lambda: alive_curves(pr), n=3)
        tfull, tfull_med = best_of(lambda: track_from_samples(x16, alive=True), n=3)
        an = StreamAnalyzer(alive=True, live=True)
        nfull = min(len(x16) // 160, 60 * 100)
        for i in range(100):
            an.feed(x16[i * 160 : (i + 1) * 160])
        full_costs = np.empty(nfull - 100)
        for i in range(100, nfull):
            blk = x16[i * 160 : (i + 1) * 160]
            t0 = time.perf_counter()
            an.feed(blk)
            full_costs[i - 100] = time.perf_counter() - t0

        # streaming: 10 ms blocks (after a warm-up second)
        ba, vm = BandAnalyzer(), VisemeMapper(live=True)
        hop = ba.hop
        nblk = min(len(x16) // hop, 60 * 100)
        for i in range(100):
            vm.process(ba.feed(x16[i * hop : (i + 1) * hop]))
        costs = np.empty(nblk - 100)
        pc = time.perf_counter
        for i in range(100, nblk):
            blk = x16[i * hop : (i + 1) * hop]
            t0 = pc()
            vm.process(ba.feed(blk))
            costs[i - 100] = pc() - t0
        # the same with the fifteen visemes (issue 21)
        ba, vmv = BandAnalyzer(), VisemeMapper(live=True, visemes=True)
        for i in range(100):
            vmv.process(ba.feed(x16[i * hop : (i + 1) * hop]))
        vcosts = np.empty(nblk - 100)
        for i in range(100, nblk):
            blk = x16[i * hop : (i + 1) * hop]
            t0 = pc()
            vmv.process(ba.feed(blk))
            vcosts[i - 100] = pc() - t0

        peers = Path(args.peers)
        ofx_x, ofx_note = peer_speed(peers, "openfacefx", src, secs)
        pls_x, pls_note = peer_speed(peers, "pylipsync", src, min(args.peer_seconds, secs))

    ours = secs / tt
    print(f"offline: {secs / 60:.0f} min of espeak-ng speech at 16 kHz, best of 5; "
          f"streaming: {len(costs)} hops of 10 ms; CPU affinity: {len(os.sched_getaffinity(0))} core(s)\n")
    print(f"{'measure':<48} {'face3d':>12} {'target':>10}")
    print("-" * 72)
    print(f"{'offline, bands only (x real time)':<48} {secs / tb:>12.0f}")
    print(f"{'offline, viseme mapping only (x real time)':<48} {secs / tm:>12.0f}")
    print(f"{'offline, bands + visemes (x real time)':<48} {ours:>12.0f} {'>= 3000':>10}")
    print(f"{'  same, median run (x real time)':<48} {secs / tt_med:>12.0f}")
    print(f"{'analyze(path): read + resample + all (x rt)':<48} {secs / tf:>12.0f}")
    print(f"{'streaming, per 10 ms hop, median (ms)':<48} {np.median(costs) * 1e3:>12.4f}")
    print(f"{'streaming, per 10 ms hop, 99th pct (ms)':<48} {np.percentile(costs, 99) * 1e3:>12.4f} {'<= 0.2':>10}")
    print(f"{'offline, bands + curves + 15 visemes (x rt)':<48} {secs / tv:>12.0f} {'>= 2000':>10}")
    print(f"{'streaming with visemes, per hop, 99th pct (ms)':<48} {np.percentile(vcosts, 99) * 1e3:>12.4f} {'<= 0.3':>10}")
    print(f"{'offline, prosody (pitch + loudness) only (x rt)':<48} {secs / tp:>12.0f}")
    print(f"{'offline, alive curves only (x rt)':<48} {secs / ta:>12.0f}")
    print(f"{'offline, full: mouth + alive (x real time)':<48} {secs / tfull:>12.0f} {'>= 1000':>10}")
    print(f"{'  same, median run (x real time)':<48} {secs / tfull_med:>12.0f}")
    print(f"{'full streaming, per 10 ms hop, median (ms)':<48} {np.median(full_costs) * 1e3:>12.4f}")
    print(f"{'full streaming, per 10 ms hop, 99th pct (ms)':<48} {np.percentile(full_costs, 99) * 1e3:>12.4f} {'<= 0.5':>10}")
    print()
    print(f"{'peer (same audio, same run)':<48} {'x real time':>12} {'face3d is':>10}")
    print("-" * 72)
    for name, sp, note in (("openfacefx energy mode", ofx_x, ofx_note),
                           (f"pylipsync ({min(args.peer_seconds, secs):.0f} s of the audio)", pls_x, pls_note)):
        if sp is None:
            print(f"{name:<48} {note}")
        else:
            print(f"{name:<48} {sp:>12.0f} {ours / sp:>9.0f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
