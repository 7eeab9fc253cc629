"""The ``face3d serve`` WebSocket server: many live sessions, one analysis pass per hop.

One asyncio event loop (the ``websockets`` library) holds every session. Each PCM message
is decoded and fed to one shared :class:`~face3d.analysis.multistream.MultiStream`; a
*tick* (scheduled when audio arrives, at most every ``tick_s``) analyses every hop that
every session has ready in one pass and writes each session's new frames to its socket
at once. So messages that arrive while a tick runs are analysed together in the next one:
the busier the server, the larger the batches, and the cost per stream falls.

Limits, each with a close code and a reason (and a ``{"error": ...}`` message first):

* a bad hello, a partial sample frame, a text message other than ``{"end": true}``, a
  client that sends audio faster than it can be analysed (more than ``max_backlog_s``
  ahead): 1008 (policy violation); a message over ``max_message`` bytes: 1009 (by
  ``websockets``); no hello within ``HELLO_TIMEOUT_S``: 1008;
* more than ``max_sessions`` sessions: 1013 (try again later);
* a client that does not read its frames (``MAX_UNSENT`` bytes waiting to be written):
  1008; a client that vanishes is dropped when its connection closes or stops answering
  pings (20 s).

``GET /health`` on the same port answers JSON: ``ok``, ``sessions``, ``max_sessions``,
``uptime_s``, ``cpu_s`` (the process's CPU time), ``ticks``, ``hops`` (stream hops
analysed) and ``latency_ms`` (p50, p99 and max over the last ``LATENCY_WINDOW`` blocks:
from a PCM message's arrival to the frames it completes being written).
"""

from __future__ import annotations

import asyncio
import json
import time
from http import HTTPStatus

import numpy as np

from face3d.analysis.multistream import BacklogError, MultiStream
from face3d.serve.session import HelloError, Session, parse_hello

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
HELLO_TIMEOUT_S = 10.0
MAX_UNSENT = 1 << 20
LATENCY_WINDOW = 20000
POLICY, TRY_LATER, INTERNAL = 1008, 1013, 1011


class Server:
    """The sessions and the shared analysis. ``serve()`` runs it on an event loop."""

    def __init__(self, max_sessions: int = 1000, max_backlog_s: float = 5.0, tick_s: float = 0.005,
                 max_message: int = 1 << 20, log=None, shared=None):
        self.max_sessions = int(max_sessions)
        self.tick_s = float(tick_s)
        self.max_message = int(max_message)
        self.ms = MultiStream(max_backlog_s=max_backlog_s)
        self.sessions: dict[int, tuple] = {}      # stream id -> (connection, Session, [arrival times])
        self.log = log or (lambda line: None)
        self.started = time.monotonic()
        self.ticks = 0
        self.hops = 0
        self._lat = np.zeros(LATENCY_WINDOW)
        self._nlat = 0
        self._tick = None
        self._last_tick = 0.0
        self._refusing: dict = {}                 # connection id -> its refusal task
        # with several worker processes: (worker index, sessions per worker, CPU seconds per worker)
        self.shared = shared

    # ------------------------------------------------------------------ HTTP
    def health(self) -> dict:
        n = min(self._nlat, LATENCY_WINDOW)
        lat = self._lat[:n] * 1000.0
        pct = {k: (round(float(np.percentile(lat, q)), 3) if n else None) for k, q in (("p50", 50), ("p99", 99))}
        pct["max"] = round(float(lat.max()), 3) if n else None
        out = {"ok": True, "sessions": self._total(), "max_sessions": self.max_sessions,
               "uptime_s": round(time.monotonic() - self.started, 3), "cpu_s": round(time.process_time(), 3),
               "ticks": self.ticks, "hops": self.hops, "latency_ms": pct, "latency_blocks": int(self._nlat)}
        if self.shared is not None:            # this worker's ticks, hops and latency; every worker's CPU
            index, _, cpu = self.shared
            cpu[index] = time.process_time()
            out.update(workers=len(cpu), worker=index, cpu_s=round(sum(cpu[:]), 3))
        return out

    def _total(self) -> int:
        """Sessions open in this process, or in every worker (publishing this one's count)."""
        if self.shared is None:
            return len(self.sessions)
        index, counts, cpu = self.shared
        counts[index] = len(self.sessions)
        cpu[index] = time.process_time()
        return sum(counts[:])

    def process_request(self, connection, request):
        path = request.path.split("?")[0]
        if path == "/health":
            from websockets.datastructures import Headers
            from websockets.http11 import Response

            body = json.dumps(self.health()).encode()
            headers = Headers([("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                               ("Connection", "close")])
            return Response(HTTPStatus.OK.value, "OK", headers, body)
        if path == "/health/reset":          # for benchmarks: forget the latencies so far
            self._nlat = 0
            return connection.respond(HTTPStatus.OK, "reset\n")
        if "upgrade" not in request.headers.get("Connection", "").lower():
            return connection.respond(HTTPStatus.NOT_FOUND, "face3d serve: WebSocket on /, JSON health on /health\n")
        return None

    # ------------------------------------------------------------------ sessions
    async def handler(self, ws) -> None:
        sid = None
        try:
            try:
                first = await asyncio.wait_for(ws.recv(), HELLO_TIMEOUT_S)
            except asyncio.TimeoutError:
                return await _refuse(ws, POLICY, f"no hello within {HELLO_TIMEOUT_S:g} s; send {{\"rate\": 16000}} first")
            try:
                hello = parse_hello(first)
            except HelloError as exc:
                return await _refuse(ws, POLICY, str(exc))
            if self._total() >= self.max_sessions:
                return await _refuse(ws, TRY_LATER, f"server full: {self.max_sessions} sessions; try again later")
            sid = self.ms.open(hello["rate"], channels=hello["channels"], alive=hello["alive"],
                               seed=hello["seed"], fps=None if hello["fps"] == 100 else hello["fps"],
                               visemes=hello["visemes"])
            session = Session(hello, self.ms.names(sid))
            arrivals: list = []                   # the oldest PCM message not yet answered, if any
            self.sessions[sid] = (ws, session, arrivals)
            self._total()
            await ws.send(session.ready())
            ws.pcm_sink = lambda data: self._pcm(sid, ws, session, arrivals, data)
            async for msg in ws:
                if isinstance(msg, str):
                    if _is_end(msg):
                        await self._finish(sid, ws, session)
                        return
                    return await _refuse(ws, POLICY, 'a text message after the hello must be {"end": true}; '
                                                     "send PCM as binary messages")
                if self._pcm(sid, ws, session, arrivals, msg):
                    return await self._refusing.pop(id(ws), _nothing())
        except Exception as exc:  # noqa: BLE001 - one session's failure never stops the server
            from websockets.exceptions import ConnectionClosed

            if not isinstance(exc, ConnectionClosed):
                self.log(f"session failed: {type(exc).__name__}: {exc}")
                try:
                    await _refuse(ws, INTERNAL, "internal error; see the server's log")
                except Exception:  # noqa: BLE001
                    pass
        finally:
            if sid is not None:
                self.sessions.pop(sid, None)
                self.ms.close(sid)
                self._total()

    def _pcm(self, sid: int, ws, session: Session, arrivals: list, data) -> str | None:
        """A PCM message (from the connection's data path as it is parsed, or the handler):
        into the analysis; a problem closes the session (and is returned)."""
        if sid not in self.sessions:
            return "closed"
        try:
            self.ms.feed(sid, session.decode(data))
        except BacklogError as exc:
            return self._drop(sid, ws, f"too fast: {exc}")
        except ValueError as exc:
            return self._drop(sid, ws, str(exc))
        if not arrivals:
            arrivals.append(time.monotonic())
        if self._tick is None:
            self._schedule()
        return None

    def _drop(self, sid: int, ws, reason: str, code: int = POLICY) -> str:
        """End a session from synchronous code: the refusal runs as a task (kept until done;
        the handler awaits it when it is the one that found the problem)."""
        ws.pcm_sink = None
        self.sessions.pop(sid, None)
        self.ms.close(sid)
        task = asyncio.ensure_future(_refuse(ws, code, reason))
        self._refusing[id(ws)] = task
        task.add_done_callback(lambda _: self._refusing.pop(id(ws), None))
        return reason

    async def _finish(self, sid: int, ws, session: Session) -> None:
        """``{"end": true}``: the last frames, ``{"done": true}``, close."""
        ws.pcm_sink = None
        self.sessions.pop(sid, None)
        times, rows = self.ms.end(sid)
        if len(times):
            await ws.send(session.encode(times, rows))
        await ws.send('{"done":true}')
        await ws.close(1000, "done")

    # ------------------------------------------------------------------ the analysis
    def _schedule(self) -> None:
        loop = asyncio.get_running_loop()
        wait = self._last_tick + self.tick_s - loop.time()
        self._tick = loop.call_later(wait, self._run_tick) if wait > 0 else loop.call_soon(self._run_tick)

    def _run_tick(self) -> None:
        self._tick = None
        loop = asyncio.get_running_loop()
        self._last_tick = loop.time()
        before = self.ms.hops
        try:
            got = self.ms.step()
        except Exception as exc:  # noqa: BLE001 - keep serving; the sessions concerned see no frames
            self.log(f"analysis failed: {type(exc).__name__}: {exc}")
            got = {}
        self.ticks += 1
        self.hops += self.ms.hops - before
        if self.shared is not None:
            self.shared[2][self.shared[0]] = time.process_time()
        now = time.monotonic()
        lat = []
        for sid, (times, rows) in got.items():
            entry = self.sessions.get(sid)
            if entry is None:
                continue
            ws, session, arrivals = entry
            if not _write(ws, session.encode(times, rows)):
                self._drop(sid, ws, "frames are not being read; read them as they come")
                continue
            if arrivals:
                lat.append(now - arrivals[0])
                arrivals.clear()
        if lat:
            k = self._nlat % LATENCY_WINDOW
            n = min(len(lat), LATENCY_WINDOW - k)
            self._lat[k:k + n] = lat[:n]
            self._nlat += n
        if self.ms.more and self._tick is None:      # behind (hops left over): go on at once
            self._tick = loop.call_soon(self._run_tick)


def _write(ws, message) -> bool:
    """Queue a message on the connection without waiting (False: the client is not reading).

    ``ws.send`` would need a task per message per tick; this writes the frame the same way
    (the protocol object makes it, the transport buffers it), with its own flow control."""
    if ws.protocol.state is not _OPEN[0]:
        return True
    if ws.transport.get_write_buffer_size() > MAX_UNSENT:
        return False
    if isinstance(message, str):
        ws.protocol.send_text(message.encode())
    else:
        ws.protocol.send_binary(message)
    ws.send_data()
    return True


async def _nothing() -> None:
    return None


def _is_end(text: str) -> bool:
    try:
        m = json.loads(text)
    except ValueError:
        return False
    return isinstance(m, dict) and m.get("end") is True


async def _refuse(ws, code: int, reason: str) -> None:
    """Tell the client what was wrong (``{"error": ...}``), then close with ``code``."""
    try:
        await ws.send(json.dumps({"error": reason}))
    except Exception:  # noqa: BLE001 - it may be gone already
        pass
    short = reason.encode()[:120].decode(errors="ignore")
    await ws.close(code, short)


_OPEN: list = []
_CONNECTION: list = []


def _connection_class():
    """``websockets``' server connection, with a short way in for PCM: once the session is
    open (``pcm_sink`` set), each whole binary message goes to the analysis as the frame is
    parsed, instead of through the message queue and the handler's ``recv`` (a future and a
    task wake-up per message: half the server's time per message). Anything else (text,
    fragmented messages, and every frame while the queue holds any) takes the usual way,
    so the order of messages is kept."""
    if not _CONNECTION:
        from websockets.asyncio.server import ServerConnection
        from websockets.frames import Frame, Opcode

        class Connection(ServerConnection):
            pcm_sink = None

            def process_event(self, event):
                sink = self.pcm_sink
                if (sink is not None and isinstance(event, Frame) and event.opcode is Opcode.BINARY and event.fin
                        and not len(self.recv_messages.frames)):
                    sink(event.data)
                    return
                super().process_event(event)

        _CONNECTION.append(Connection)
    return _CONNECTION[0]


async def serve(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, server: Server | None = None,
                ready=None, stop: asyncio.Future | None = None, sock=None) -> None:
    """Run ``server`` (a new :class:`Server` if None) on ``host:port`` (or the listening socket
    ``sock``) until ``stop`` is done (forever if None). ``ready(sockets)`` is called once it listens."""
    from websockets.asyncio.server import serve as ws_serve
    from websockets.protocol import State

    _OPEN[:] = [State.OPEN]

    server = server or Server()
    where = {"sock": sock} if sock is not None else {"host": host, "port": port}
    async with ws_serve(server.handler, **where, process_request=server.process_request,
                        max_size=server.max_message, compression=None, max_queue=64,
                        create_connection=_connection_class()) as srv:
        if ready is not None:
            ready([s.getsockname() for s in srv.sockets])
        await (stop if stop is not None else asyncio.get_running_loop().create_future())
