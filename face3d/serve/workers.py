"""``face3d serve --workers N``: N server processes accepting on one listening socket.

Each worker is a whole :class:`~face3d.serve.server.Server` (its own event loop and
analysis); the first binds the socket and hands a copy to the others, and whichever
accepts a connection serves it, so N workers use up to N cores. They share two small arrays: each
worker's session count (``--max-sessions`` counts them all, give or take the sessions
opening at the same moment in two workers) and CPU time (``/health`` reports the sum;
its ticks, hops and latencies are those of the worker that answered).
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import signal
import socket


def listening_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (to be shared with the workers)."""
    family, kind, proto, _, addr = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    s = socket.socket(family, kind, proto)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(addr)
        s.listen(1024)
    except BaseException:
        s.close()
        raise
    return s


def _run(sock, server, ready=None) -> None:
    from face3d.serve.server import serve

    async def main():
        loop = asyncio.get_running_loop()
        stop = loop.create_future()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
        await serve(server=server, ready=ready, stop=stop, sock=sock)

    asyncio.run(main())


def _worker(sock, index, counts, cpu, options) -> None:
    from face3d.serve.server import Server

    signal.signal(signal.SIGINT, signal.SIG_IGN)        # the parent stops the workers (SIGTERM)
    _run(sock, Server(**options, shared=(index, counts, cpu)))


def run_workers(host: str, port: int, n: int, options: dict, ready, log) -> list:
    """Serve with ``n`` processes until SIGINT/SIGTERM; returns the first worker's Server.
    The socket is bound here, so a busy port fails at once."""
    from face3d.serve.server import Server

    sock = listening_socket(host, port)
    ctx = mp.get_context("spawn")
    counts, cpu = ctx.Array("i", n, lock=False), ctx.Array("d", n, lock=False)
    procs = [ctx.Process(target=_worker, args=(sock, i, counts, cpu, options), daemon=True) for i in range(1, n)]
    for p in procs:
        p.start()
    server = Server(**options, log=log, shared=(0, counts, cpu))
    try:
        _run(sock, server, ready)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.join(10)
    return server
