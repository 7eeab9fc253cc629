"""``face3d serve``: a real server (the CLI in a subprocess) on 127.0.0.1, real clients.

Concurrent clients get the frames of the offline live analysis of what they sent; clients
that misbehave (garbage, partial samples, floods, too-big messages, a client killed
mid-stream) are closed with a clear code and reason while the others go on; /health and
--max-sessions.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

import face3d
from face3d.analysis import StreamAnalyzer
from face3d.audio.files import resample

from _audio_helpers import speak

websockets = pytest.importorskip("websockets")
from websockets.exceptions import ConnectionClosed  # noqa: E402
from websockets.sync.client import connect  # noqa: E402

from face3d.serve import Client, ServeError  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TEXTS = ("Father saw a large dark barn.", "Bob made me a map of the blue moon.",
         "She sells sea shells by the shore.", "Which witch is which?")


class _Server:
    def __init__(self, *args):
        self.proc = subprocess.Popen([sys.executable, "-m", "face3d", "serve", "--port", "0", *args], cwd=ROOT,
                                     stderr=subprocess.PIPE, text=True)
        self.line = line = self.proc.stderr.readline()
        m = re.search(r"ws://([\d.]+):(\d+)", line)
        assert m, f"no listening line: {line!r}"
        self.url = f"ws://{m.group(1)}:{m.group(2)}"
        self.http = f"http://{m.group(1)}:{m.group(2)}"

    def health(self) -> dict:
        with urllib.request.urlopen(self.http + "/health", timeout=5) as r:
            assert r.headers["Content-Type"] == "application/json"
            return json.loads(r.read())

    def stop(self) -> str:
        self.proc.send_signal(signal.SIGINT)
        _, err = self.proc.communicate(timeout=20)
        assert self.proc.returncode == 0, err
        return err


@pytest.fixture(scope="module")
def server():
    s = _Server("--max-sessions", "8", "--max-backlog", "2")
    yield s
    err = s.stop()
    assert "Traceback" not in err, err
    assert "stopped:" in err


@pytest.fixture(scope="module")
def voices(tmp_path_factory):
    d = tmp_path_factory.mktemp("serve")
    return [speak(t, d / f"{i}.wav", speed=160 + 15 * i) for i, t in enumerate(TEXTS)]


def _session(url, x, rate, rng, **hello):
    """Send ``x`` in random blocks (a little faster than real time), polling; then end."""
    c = Client(url, rate, **hello)
    ts, rs = [], []
    pos = 0
    while pos < len(x):
        n = int(rng.integers(50, 1200))
        c.send(x[pos:pos + n])
        pos += n
        time.sleep(n / rate / 4)
        t, r = c.poll()
        ts.append(t)
        rs.append(r)
    t, r = c.end()
    return c.names, np.concatenate(ts + [t]), np.concatenate(rs + [r])


def _s16(x):
    return np.round(np.clip(x, -1, 32767 / 32768) * 32768) / 32768


def test_concurrent_clients_get_the_offline_live_analysis(server, voices):
    results = {}

    def run(i, x, rate, hello):
        try:
            results[i] = _session(server.url, x, rate, np.random.default_rng(i), **hello)
        except Exception as exc:  # noqa: BLE001
            results[i] = exc

    x16 = [resample(x, r, 16000) for x, r in voices]
    jobs = [
        (0, x16[0], 16000, {}),
        (1, x16[1], 16000, {"format": "s16le", "fps": 60}),
        (2, x16[2], 16000, {"outputs": ["mouth", "alive"], "seed": 5, "packed": True}),
        (3, voices[3][0], voices[3][1], {"format": "s16le"}),
        (4, x16[0], 16000, {"names": "arkit"}),
        (5, x16[1], 16000, {"outputs": ["mouth", "alive", "visemes"], "seed": 3}),
        (6, x16[3], 16000, {"outputs": ["visemes"], "names": "arkit", "packed": True}),
    ]
    threads = [threading.Thread(target=run, args=j) for j in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for i, x, rate, hello in jobs:
        assert not isinstance(results[i], Exception), results[i]
        names, t, rows = results[i]
        fmt_x = _s16(x) if hello.get("format") == "s16le" else x
        vis = "visemes" in hello.get("outputs", ())
        if vis:                    # the fifteen viseme columns last, as StreamAnalyzer(visemes=True) gives them
            sa = StreamAnalyzer(rate, live=True, alive="alive" in hello["outputs"], seed=hello.get("seed", 0),
                                visemes=True)
            want = np.concatenate([sa.feed(fmt_x[s:s + 441]) for s in range(0, len(fmt_x), 441)] + [sa.flush()])
            want_t = np.arange(len(want)) * 0.01
            assert names[-15:] == face3d.analysis.VISEME_NAMES
            assert np.abs(rows[:, -15:].sum(axis=1) - 1.0).max() < 1e-4
        elif rate == 16000:
            ref = face3d.analyze(fmt_x, rate=16000, fps=hello.get("fps"), live=True,
                                 alive="alive" in hello.get("outputs", ()), seed=hello.get("seed", 0))
            want_t, want = ref.times, ref.values
        else:                      # other rates: the streaming resampler, as the microphone path
            sa = StreamAnalyzer(rate, live=True)
            want = np.concatenate([sa.feed(fmt_x[s:s + 441]) for s in range(0, len(fmt_x), 441)] + [sa.flush()])
            want_t = np.arange(len(want)) * 0.01
        if hello.get("names") == "arkit":
            from face3d.formats.arkit import BLENDSHAPES, arkit_matrix

            assert names == BLENDSHAPES + (face3d.analysis.VISEME_NAMES if vis else ())
            curves = face3d.analysis.NAMES + (face3d.analysis.VISEME_NAMES if vis else ())   # (no alive here)
            want = np.concatenate([arkit_matrix(curves, want)[:, :52], want[:, 4:]], axis=1)
        assert rows.shape == want.shape, (i, rows.shape, want.shape)
        tol = 2e-5 if hello.get("packed") else 1e-5          # packed: float32 times and weights
        assert np.abs(t - want_t).max() < tol, i
        assert np.abs(rows - want).max() < tol, (i, np.abs(rows - want).max())
        assert rows[:, 0].max() > 0.3 if names[0] == "jawOpen" else True


def _refused(url, *messages):
    """Send ``messages`` on a raw connection; return (the error text, close code, reason)."""
    with connect(url, open_timeout=10) as ws:
        error = None
        try:
            for m in messages:
                ws.send(m)
            while True:
                msg = ws.recv(10)
                if isinstance(msg, str) and "error" in msg:
                    error = json.loads(msg)["error"]
        except ConnectionClosed as exc:
            rcvd = exc.rcvd
            return error, rcvd.code if rcvd else None, rcvd.reason if rcvd else ""


@pytest.mark.parametrize("messages,code,words", [
    (["hello there"], 1008, "not JSON"),
    ([b"\x00\x01"], 1008, "JSON text hello"),
    (['{"format": "s16le"}'], 1008, "'rate'"),
    (['{"rate": 16000, "format": "mp3"}'], 1008, "'format'"),
    (['{"rate": 16000, "colour": 1}'], 1008, "unknown hello key"),
    (['{"rate": 16000, "format": "s16le"}', b"\x00\x01\x02"], 1008, "whole s16le sample frames"),
    (['{"rate": 16000, "format": "f32le"}', np.full(8, np.nan, "<f4").tobytes()], 1008, "NaN"),
    (['{"rate": 16000}', "stop please"], 1008, '{"end": true}'),
    (['{"rate": 16000}', b"\x00" * (2 << 20)], 1009, ""),
])
def test_misbehaving_clients_are_closed_with_a_reason(server, messages, code, words):
    error, got, reason = _refused(server.url, *messages)
    assert got == code, (got, reason)
    if words:
        assert words in error and words[:20] in reason
    assert server.proc.poll() is None


def test_a_flood_is_closed_and_the_others_go_on(server, voices):
    x16 = resample(*voices[1], 16000)
    result = {}
    t = threading.Thread(target=lambda: result.setdefault("ok", _session(server.url, x16, 16000, np.random.default_rng(9))))
    t.start()
    with connect(server.url, open_timeout=10) as ws:
        ws.send('{"rate": 16000, "format": "f32le"}')
        ws.recv(10)
        block = np.zeros(64000, "<f4").tobytes()            # 4 s of audio a message
        with pytest.raises(ConnectionClosed) as info:
            for _ in range(500):
                ws.send(block)
            ws.recv(10)
            while True:
                ws.recv(10)
    assert info.value.rcvd.code == 1008 and "too fast" in info.value.rcvd.reason
    t.join(60)
    _, _, rows = result["ok"]
    ref = face3d.analyze(x16, rate=16000, fps=None, live=True)
    assert np.abs(rows - ref.values).max() < 1e-5


CLIENT = """
import sys, time, numpy as np
from face3d.serve import Client
c = Client(sys.argv[1], 16000)
x = (0.3 * np.sin(np.arange(16000 * 30) * 0.1)).astype(np.float32)
for s in range(0, len(x), 320):
    c.send(x[s:s + 320])
    if s == 32000:
        print("sending", flush=True)
    time.sleep(0.01)
"""


def test_a_client_killed_mid_stream_leaves_the_server_serving(server, voices):
    before = server.health()["sessions"]
    victim = subprocess.Popen([sys.executable, "-c", CLIENT, server.url], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert victim.stdout.readline().strip() == "sending"
    assert server.health()["sessions"] == before + 1
    victim.kill()
    victim.wait(10)
    x16 = resample(*voices[2], 16000)
    _, _, rows = _session(server.url, x16, 16000, np.random.default_rng(3))
    ref = face3d.analyze(x16, rate=16000, fps=None, live=True)
    assert np.abs(rows - ref.values).max() < 1e-5
    for _ in range(50):
        if server.health()["sessions"] == before:
            break
        time.sleep(0.1)
    assert server.health()["sessions"] == before


def test_health(server):
    h = server.health()
    assert h["ok"] is True and h["max_sessions"] == 8
    assert {"sessions", "uptime_s", "cpu_s", "ticks", "hops", "latency_ms"} <= set(h)
    assert set(h["latency_ms"]) == {"p50", "p99", "max"}
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(server.http + "/nothing", timeout=5)
    assert info.value.code == 404


def test_max_sessions_refuses_with_1013():
    s = _Server("--max-sessions", "2")
    try:
        a, b = Client(s.url, 16000), Client(s.url, 16000)
        with pytest.raises(ServeError, match="server full: 2 sessions"):
            Client(s.url, 16000)
        a.close()
        for _ in range(50):
            if s.health()["sessions"] == 1:
                break
            time.sleep(0.05)
        c = Client(s.url, 16000)                   # room again
        c.send(np.zeros(1600, np.float32))
        t, rows = c.end()
        assert rows.shape == (10, 4) and np.array_equal(t, np.arange(10) * 0.01)
        b.close()
    finally:
        s.stop()


def test_port_in_use_is_one_line():
    s = _Server()
    try:
        port = s.url.rsplit(":", 1)[1]
        r = subprocess.run([sys.executable, "-m", "face3d", "serve", "--port", port], cwd=ROOT, capture_output=True,
                           text=True, timeout=30)
        assert r.returncode == 2
        assert "Traceback" not in r.stderr and "--port" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    finally:
        s.stop()


def test_names_follow_the_formats():
    from face3d.formats.vmc import blend_values
    from face3d.serve.session import Session, parse_hello

    rng = np.random.default_rng(0)
    curves = face3d.analysis.NAMES + face3d.analysis.ALIVE_NAMES
    rows = rng.uniform(0, 1, (20, len(curves))).astype(np.float32)
    for names in ("vrm0", "vrm1", "arkit"):
        s = Session(parse_hello(json.dumps({"rate": 16000, "names": names, "outputs": ["mouth", "alive"]})), curves)
        v = s.values(rows)
        for i in range(len(rows)):
            ref = dict(blend_values(curves, rows[i], names))
            got = dict(zip(s.names, v[i]))
            assert all(abs(got[k] - ref[k]) < 1e-6 for k in ref), names


def test_workers_share_the_port_and_the_session_limit(voices):
    s = _Server("--workers", "2", "--max-sessions", "3")
    try:
        x16 = [resample(x, r, 16000) for x, r in voices[:3]]
        results = {}
        threads = [threading.Thread(target=lambda i=i: results.setdefault(i, _session(s.url, x16[i], 16000,
                                                                                     np.random.default_rng(i))))
                   for i in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        for i in range(3):
            ref = face3d.analyze(x16[i], rate=16000, fps=None, live=True)
            assert np.abs(results[i][2] - ref.values).max() < 1e-5
        h = s.health()
        assert h["workers"] == 2 and h["sessions"] == 0
        held = [Client(s.url, 16000) for _ in range(3)]
        with pytest.raises(ServeError, match="server full"):
            Client(s.url, 16000)
        for c in held:
            c.close()
    finally:
        s.stop()
    assert "2 worker processes" in s.line


def test_async_client(server, voices):
    import asyncio

    from face3d.serve import AsyncClient

    x = resample(*voices[3], 16000)

    async def run():
        c = await AsyncClient.open(server.url, 16000, names="vrm1", packed=True)
        got = []
        for s in range(0, len(x), 800):
            await c.send(x[s:s + 800])
        got.append(await c.end())
        return c.names, np.concatenate([r for _, r in got])

    names, rows = asyncio.run(run())
    from face3d.formats.vmc import vowel_matrix

    ref = face3d.analyze(x, rate=16000, fps=None, live=True)
    assert names == ("aa", "ih", "ou", "ee", "oh")
    assert np.abs(rows - vowel_matrix(ref.names, ref.values)).max() < 1e-5


@pytest.mark.parametrize("args,words", [(["--host", "nowhere.invalid"], "cannot resolve"),
                                        (["--port", "70000"], "out of range"),
                                        (["--workers", "0"], "--workers")])
def test_bad_options_are_one_line(args, words):
    r = subprocess.run([sys.executable, "-m", "face3d", "serve", *args], cwd=ROOT, capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 2 and words in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
