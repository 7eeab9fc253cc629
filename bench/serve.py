"""``face3d serve`` under load: N real-time streams over 127.0.0.1 -> latency and server CPU.

For each N, the real CLI server (``python -m face3d serve``, optionally pinned with
``taskset``) gets N sessions from a few client processes. Every session sends 16 kHz s16le
espeak-ng speech in blocks of ``--block-ms`` paced in real time (the sessions' phases
spread over the block period) and asks for packed frames. The clients are lean on
purpose (a few lines of WebSocket framing on plain sockets, one ``selectors`` loop per
process: no JSON, no per-message tasks), so that their own cost stays small next to the
server's; they still share the machine, so the run says what both used.

Columns: streams; blocks/s sent; latency from a block's send to the arrival of the frames
it completes, at the client (p50, p99) and at the server (its /health: arrival to write,
p99); the server's CPU (process time / wall time, 100 % = one core), the time it waited
for a CPU while it had work (from /proc: a loaded machine shows here) and the clients' CPU; the
machine's load average; ``/core``: the streams one core would hold at the server's CPU per
stream in that row (N / CPU share, shown where the server kept up: server p99 at most 50 ms;
what a loaded machine cannot show directly); the engine
alone (``MultiStream`` in-process, no sockets) in microseconds of CPU per stream-hop. The single-stream baseline (``StreamAnalyzer`` per 10 ms hop)
is printed first, measured in the same run.

    .venv/bin/python bench/serve.py --streams 1,50,100,200,400,700,1000 --server-cpus 0 --client-cpus 1
    .venv/bin/python bench/serve.py --soak 600        # memory with sessions coming and going
"""

from __future__ import annotations

import argparse
import base64
import json
import multiprocessing as mp
import os
import re
import selectors
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import deque
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TEXT = ("Father saw a large dark barn. We see three green trees. Bob made me a map of the blue moon. "
        "Open the window and look at the stars.")
RATE = 16000


def speech() -> np.ndarray:
    """espeak-ng speech at 16 kHz, int16, with a pause at the end (looped by the clients)."""
    import soundfile as sf

    from face3d.audio.files import resample

    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "s.wav"
        subprocess.run(["espeak-ng", "-w", str(p), TEXT], check=True, capture_output=True)
        x, r = sf.read(str(p), dtype="float32")
    x = np.concatenate([resample(x, r, RATE), np.zeros(int(0.4 * RATE), np.float32)])
    return np.round(np.clip(x, -1, 32767 / 32768) * 32768).astype("<i2")


# ---------------------------------------------------------------------- baselines (in-process)
def single_stream_cost(x: np.ndarray) -> tuple[float, float]:
    """One StreamAnalyzer, hop by hop (BLAS on one thread, as the live path runs best)."""
    from threadpoolctl import threadpool_limits

    from face3d.analysis import StreamAnalyzer

    threadpool_limits(1, "blas")
    sa = StreamAnalyzer(RATE, live=True)
    f = x.astype(np.float32) / 32768
    ts = []
    for s in range(0, len(f) - 160, 160):
        t0 = time.process_time()
        sa.feed(f[s:s + 160])
        ts.append(time.process_time() - t0)
    ts = np.array(ts[50:]) * 1e6
    return float(np.median(ts)), float(np.percentile(ts, 99))


def engine_cost(x: np.ndarray, n: int, hops: int = 60) -> float:
    """MultiStream alone: microseconds of CPU per stream-hop with n streams fed 10 ms each
    (the best of three runs: a loaded machine only ever adds)."""
    return min(_engine_cost(x, n, hops) for _ in range(3))


def _engine_cost(x: np.ndarray, n: int, hops: int) -> float:
    from face3d.analysis.multistream import MultiStream

    f = x.astype(np.float32) / 32768
    ms = MultiStream()
    ids = [ms.open(RATE) for _ in range(n)]
    offs = np.random.default_rng(0).integers(0, len(f) - 160 * (hops + 30), n)
    t = 0.0
    for h in range(hops + 20):
        t0 = time.process_time()
        for i, sid in enumerate(ids):
            ms.feed(sid, f[offs[i] + h * 160: offs[i] + h * 160 + 160])
        ms.step()
        if h >= 20:
            t += time.process_time() - t0
    return t / hops / n * 1e6


# ---------------------------------------------------------------------- lean clients
def _connect(host, port):
    s = socket.create_connection((host, port), timeout=30)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET / HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(4096)
        if not chunk:
            raise ConnectionError("closed during the handshake")
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    if b" 101 " not in head.split(b"\r\n")[0]:
        raise ConnectionError(head.split(b"\r\n")[0].decode())
    return s, rest


def _frame(payload: bytes, opcode: int) -> bytes:
    """A client frame. The mask key is zero (the payload goes as it is): a benchmark shortcut
    that servers accept; a real client draws a random key."""
    n = len(payload)
    if n < 126:
        head = bytes([0x80 | opcode, 0x80 | n])
    elif n < 65536:
        head = bytes([0x80 | opcode, 0x80 | 126]) + n.to_bytes(2, "big")
    else:
        head = bytes([0x80 | opcode, 0x80 | 127]) + n.to_bytes(8, "big")
    return head + b"\0\0\0\0" + payload


def _frames(buf: bytearray):
    """Complete server frames at the front of ``buf`` -> [(opcode, payload)] (consumed)."""
    out = []
    while len(buf) >= 2:
        op, n = buf[0] & 0x0F, buf[1] & 0x7F
        at = 2
        if n == 126:
            if len(buf) < 4:
                break
            n, at = int.from_bytes(buf[2:4], "big"), 4
        elif n == 127:
            if len(buf) < 10:
                break
            n, at = int.from_bytes(buf[2:10], "big"), 10
        if len(buf) < at + n:
            break
        out.append((op, bytes(buf[at:at + n])))
        del buf[:at + n]
    return out


def _expected_rows(sent: int) -> int:
    """Frames out after ``sent`` samples (live model: one frame of look-ahead)."""
    bands = min(max(0, (sent + 200 - 400) // 160 + 1), -(-sent // 160))
    return max(0, bands - 1)


def client_process(host, port, n, first, block, audio, start_at, warm_s, seconds, out):
    """n sessions paced in real time from ``start_at`` (time.time()); latencies after ``warm_s``."""
    try:
        sel = selectors.DefaultSelector()
        conns = []
        hello = json.dumps({"rate": RATE, "format": "s16le", "packed": True}).encode()
        for i in range(n):
            s, rest = _connect(host, port)
            s.sendall(_frame(hello, 1))
            c = {"s": s, "buf": bytearray(rest), "sent": 0, "rows": 0, "pend": deque(), "ready": False,
                 "pos": int((first + i) * 7919) % len(audio), "closed": None}
            conns.append(c)
            sel.register(s, selectors.EVENT_READ, c)
        period = block / RATE
        lat, closes = [], []
        pcm = audio.tobytes()
        nbytes = 2 * block
        loop_bytes = pcm + pcm[:nbytes]
        cpu0 = time.process_time()
        while time.time() < start_at:
            _pump(sel, 0.01, lat, closes, None)
        t0 = time.perf_counter()
        measure_from = t0 + warm_s
        end = t0 + warm_s + seconds
        k = 0                      # blocks sent in all
        order = list(range(n))
        blocks = 0
        while True:
            now = time.perf_counter()
            if now >= end:
                break
            # every session whose next block is due (session i at phase i / n of the period)
            while True:
                rnd, i = divmod(k, n)
                due = t0 + rnd * period + order[i] * period / n
                if due > now:
                    break
                c = conns[i]
                if c["closed"] is None:
                    p = c["pos"]
                    c["s"].sendall(_frame(loop_bytes[2 * p:2 * p + nbytes], 2))
                    c["pos"] = (p + block) % len(audio)
                    c["sent"] += block
                    c["pend"].append((_expected_rows(c["sent"]), now if now >= measure_from else None))
                    blocks += now >= measure_from
                k += 1
            _pump(sel, max(0.0, due - time.perf_counter()), lat, closes, None)
        cpu = time.process_time() - cpu0
        for c in conns:
            try:
                c["s"].close()
            except OSError:
                pass
        out.put({"lat": lat, "closes": closes, "blocks": blocks, "cpu": cpu, "wall": time.perf_counter() - t0})
    except Exception as exc:  # noqa: BLE001
        out.put({"error": f"{type(exc).__name__}: {exc}"})


def _pump(sel, timeout, lat, closes, _):
    for key, _ in sel.select(timeout):
        c = key.data
        try:
            data = c["s"].recv(1 << 16)
        except OSError as exc:
            data = b""
            closes.append(str(exc))
        if not data:
            sel.unregister(c["s"])
            c["closed"] = c["closed"] or "eof"
            continue
        c["buf"] += data
        now = time.perf_counter()
        for op, payload in _frames(c["buf"]):
            if op == 2:
                c["rows"] += len(payload) // 20
                pend = c["pend"]
                while pend and pend[0][0] <= c["rows"]:
                    _, sent = pend.popleft()
                    if sent is not None:
                        lat.append(now - sent)
            elif op == 9:
                c["s"].sendall(_frame(payload, 10))
            elif op == 8:
                c["closed"] = payload[2:].decode(errors="replace") or "closed"
                closes.append(c["closed"])
            elif op == 1 and b"error" in payload:
                closes.append(payload.decode(errors="replace"))


# ---------------------------------------------------------------------- the server
def start_server(cpus: str | None, max_sessions: int, tick_ms: float, workers: int = 1):
    cmd = [sys.executable, "-m", "face3d", "serve", "--port", "0", "--max-sessions", str(max_sessions),
           "--tick-ms", str(tick_ms), "--workers", str(workers)]
    if cpus:
        cmd = ["taskset", "-c", cpus] + cmd
    # its own session, as a server daemon runs: with the kernel's autogroup scheduling, CPU is
    # shared between sessions first, so the clients' work does not come out of the server's share
    proc = subprocess.Popen(cmd, cwd=ROOT, stderr=subprocess.PIPE, text=True, start_new_session=True)
    line = proc.stderr.readline()
    m = re.search(r"ws://([\d.]+):(\d+)", line)
    if not m:
        proc.kill()
        raise SystemExit(f"server did not start: {line}")
    import threading

    threading.Thread(target=proc.stderr.read, daemon=True).start()     # a full pipe would stall it
    return proc, m.group(1), int(m.group(2))


def health(host, port, path="/health"):
    with urllib.request.urlopen(f"http://{host}:{port}{path}", timeout=30) as r:
        body = r.read()
    return json.loads(body) if path == "/health" else None


def schedstat(pid: int) -> tuple[float, float]:
    """(seconds run on a CPU, seconds waited for one while runnable) of the server so far
    (with its worker processes)."""
    try:
        kids = open(f"/proc/{pid}/task/{pid}/children").read().split()
    except OSError:
        kids = []
    run = wait = 0.0
    for p in [pid, *map(int, kids)]:
        try:
            r, w = open(f"/proc/{p}/schedstat").read().split()[:2]
            run, wait = run + int(r) / 1e9, wait + int(w) / 1e9
        except (OSError, ValueError):
            pass
    return run, wait


def run_level(host, port, n, args, audio, pid):
    procs = max(1, min(args.clients, n))
    per = [n // procs + (1 if i < n % procs else 0) for i in range(procs)]
    q = mp.Queue()
    start_at = time.time() + 1.0 + n / 400.0          # time to connect everyone
    ps = []
    first = 0
    for k, m in enumerate(per):
        p = mp.Process(target=client_process, args=(host, port, m, first, args.block, audio, start_at, args.warm,
                                                    args.seconds, q))
        first += m
        p.start()
        if args.client_cpus:
            subprocess.run(["taskset", "-p", "-c", args.client_cpus, str(p.pid)], capture_output=True)
        ps.append(p)
    time.sleep(max(0.0, start_at - time.time()) + args.warm)
    health(host, port, "/health/reset")
    h0, w0, s0 = health(host, port), time.perf_counter(), schedstat(pid)
    load0 = os.getloadavg()[0]
    res = [q.get(timeout=args.seconds + args.warm + 120) for _ in ps]
    h1, w1, s1 = health(host, port), time.perf_counter(), schedstat(pid)
    for p in ps:
        p.join(10)
    errors = [r["error"] for r in res if "error" in r]
    if errors:
        raise SystemExit(f"client failed at {n} streams: {errors[0]}")
    lat = np.array([v for r in res for v in r["lat"]]) * 1000.0
    closes = [c for r in res for c in r["closes"]]
    wall = w1 - w0
    return {
        "streams": n,
        "blocks_s": sum(r["blocks"] for r in res) / args.seconds,
        "p50": float(np.percentile(lat, 50)) if len(lat) else float("nan"),
        "p99": float(np.percentile(lat, 99)) if len(lat) else float("nan"),
        "srv_p99": h1["latency_ms"]["p99"] if h1["latency_ms"]["p99"] is not None else float("nan"),
        "srv_cpu": 100.0 * (h1["cpu_s"] - h0["cpu_s"]) / wall,
        "srv_wait": 100.0 * (s1[1] - s0[1]) / wall,
        "cli_cpu": 100.0 * sum(r["cpu"] for r in res) / max(r["wall"] for r in res),
        "load": max(load0, os.getloadavg()[0]),
        "closes": len(closes),
        "close_text": closes[0] if closes else "",
    }


def rss_mb(pid: int) -> float:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def _churn(url, audio, stop_at, seed, counts, lock):
    """Sessions coming and going until ``stop_at``: most speak for 1-6 s in real time and end
    or drop their connection; some send garbage, a partial sample or a flood."""
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    from face3d.serve import Client

    rng = np.random.default_rng(seed)
    f = audio.astype(np.float32) / 32768
    kinds = ("end", "drop", "garbage", "odd", "flood")
    while time.time() < stop_at:
        kind = kinds[rng.choice(5, p=[0.5, 0.25, 0.1, 0.1, 0.05])]
        try:
            if kind in ("garbage", "odd", "flood"):
                with connect(url, open_timeout=30) as ws:
                    if kind == "garbage":
                        ws.send("{not json")
                    else:
                        ws.send('{"rate": 16000}')
                        ws.recv(30)
                        ws.send(b"\x00" * 321 if kind == "odd" else np.zeros(16000 * 6, "<i2").tobytes())
                    try:
                        while True:
                            ws.recv(30)
                    except ConnectionClosed as exc:
                        kind += f" {exc.rcvd.code if exc.rcvd else 'none'}"
            else:
                c = Client(url, 16000, format="s16le", timeout=30)
                secs, pos, t0, k = rng.uniform(1, 6), int(rng.integers(0, len(f) - 320)), time.time(), 0
                while time.time() - t0 < secs:
                    c.send(f[pos:pos + 320])
                    pos = (pos + 320) % (len(f) - 320)
                    k += 1
                    c.poll()
                    time.sleep(max(0.0, t0 + k * 0.02 - time.time()))
                if kind == "end":
                    c.end()
                else:
                    c.ws.socket.close()          # gone without a close handshake
        except Exception as exc:  # noqa: BLE001
            kind = f"error {type(exc).__name__}: {str(exc)[:70]}"
        with lock:
            counts[kind] = counts.get(kind, 0) + 1


def soak(args, audio) -> int:
    """Sessions coming and going for ``--soak`` seconds; the server's memory every 10 s."""
    import threading

    proc, host, port = start_server(args.server_cpus, args.soak_sessions + 10, args.tick_ms)
    url = f"ws://{host}:{port}"
    counts, lock = {}, threading.Lock()
    stop_at = time.time() + args.soak
    threads = [threading.Thread(target=_churn, args=(url, audio, stop_at, i, counts, lock), daemon=True)
               for i in range(args.soak_sessions)]
    for t in threads:
        t.start()
    print(f"soak: {args.soak_sessions} sessions at a time coming and going for {args.soak:g} s "
          "(half end with a flush, a quarter drop the connection, the rest garbage, partial samples, floods)")
    print(f"{'t s':>5} {'RSS MB':>7} {'sessions':>8} {'srv p99':>8} {'load':>5}  sessions ended so far")
    rss = []
    try:
        while time.time() < stop_at:
            time.sleep(min(10.0, max(0.0, stop_at - time.time())))
            h = health(host, port)
            health(host, port, "/health/reset")
            rss.append(rss_mb(proc.pid))
            t = args.soak - (stop_at - time.time())
            print(f"{t:>5.0f} {rss[-1]:>7.1f} {h['sessions']:>8} {h['latency_ms']['p99'] or float('nan'):>8.1f} "
                  f"{os.getloadavg()[0]:>5.1f}  {dict(sorted(counts.items()))}", flush=True)
        for t in threads:
            t.join(30)
    finally:
        proc.terminate()
        proc.wait(20)
    third = max(1, len(rss) // 3)
    print(f"RSS: first third {np.mean(rss[:third]):.1f} MB, last third {np.mean(rss[-third:]):.1f} MB")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--streams", default="1,50,100,200,400,700,1000", help="comma-separated stream counts")
    ap.add_argument("--seconds", type=float, default=8.0, help="measured seconds per level (default 8)")
    ap.add_argument("--warm", type=float, default=2.0, help="seconds before measuring (default 2)")
    ap.add_argument("--block-ms", type=float, default=20.0, help="PCM block per message, ms (default 20)")
    ap.add_argument("--tick-ms", type=float, default=5.0, help="the server's --tick-ms (default 5)")
    ap.add_argument("--workers", type=int, default=1, help="the server's --workers (default 1)")
    ap.add_argument("--clients", type=int, default=2, help="client processes (default 2)")
    ap.add_argument("--server-cpus", default=None, help="taskset CPU list for the server, e.g. 0")
    ap.add_argument("--client-cpus", default=None, help="taskset CPU list for the clients, e.g. 1")
    ap.add_argument("--engine-only", action="store_true", help="only MultiStream in-process (no server, no sockets)")
    ap.add_argument("--soak", type=float, default=0.0, metavar="S",
                    help="instead: sessions coming and going for S seconds, the server's memory every 10 s")
    ap.add_argument("--soak-sessions", type=int, default=40, help="sessions at a time in --soak (default 40)")
    args = ap.parse_args(argv)
    args.block = int(round(args.block_ms * RATE / 1000))
    levels = [int(v) for v in args.streams.split(",")]
    audio = speech()
    if args.soak:
        return soak(args, audio)
    if args.engine_only:
        med, _ = single_stream_cost(audio)
        print(f"engine alone (no sockets), CPU per stream-hop; one StreamAnalyzer: {med:.0f} us")
        print(f"{'streams':>7} {'us/stream-hop':>14} {'vs one StreamAnalyzer':>22} {'cores for real time':>20}")
        for n in levels:
            e = engine_cost(audio, n)
            print(f"{n:>7} {e:>14.1f} {med / e:>21.1f}x {n * e / 1e4:>20.2f}", flush=True)
        return 0
    med, p99 = single_stream_cost(audio)
    print(f"baseline: one StreamAnalyzer (live), {med:.0f} us median, {p99:.0f} us p99 CPU per 10 ms hop "
          f"(= {1e4 / med:.0f} streams per core at full load, no batching)")
    print(f"server CPUs: {args.server_cpus or 'any'}; client CPUs: {args.client_cpus or 'any'} "
          f"({args.clients} processes); {args.block_ms:g} ms blocks, packed frames, --tick-ms {args.tick_ms:g}, "
          f"--workers {args.workers}; "
          f"{os.cpu_count()} cores; "
          f"load average at start {os.getloadavg()[0]:.1f}")
    hdr = (f"{'streams':>7} {'blocks/s':>9} {'p50 ms':>7} {'p99 ms':>7} {'srv p99':>8} {'srv CPU':>8} "
           f"{'srv wait':>8} {'/core':>6} {'cli CPU':>8} {'load':>5} {'engine us':>10} {'closed':>6}")
    print(hdr)
    print("-" * len(hdr))
    proc, host, port = start_server(args.server_cpus, max(levels) + 10, args.tick_ms, args.workers)
    time.sleep(2.0 if args.workers > 1 else 0.0)          # the other workers start
    try:
        for n in levels:
            r = run_level(host, port, n, args, audio, proc.pid)
            eng = engine_cost(audio, n)
            # streams a core would hold at this CPU per stream: only where the server kept up
            per_core = f"{100 * n / max(r['srv_cpu'], 1e-9):.0f}" if r["srv_p99"] <= 50 else "-"
            print(f"{r['streams']:>7} {r['blocks_s']:>9.0f} {r['p50']:>7.1f} {r['p99']:>7.1f} {r['srv_p99']:>8.1f} "
                  f"{r['srv_cpu']:>7.0f}% {r['srv_wait']:>7.0f}% {per_core:>6} {r['cli_cpu']:>7.0f}% {r['load']:>5.1f} {eng:>10.1f} {r['closes']:>6}"
                  + (f"  ({r['close_text'][:60]})" if r["closes"] else ""), flush=True)
            time.sleep(1.0)
    finally:
        proc.terminate()
        proc.wait(20)
    return 0


if __name__ == "__main__":
    sys.exit(main())
