"""``face3d serve``: a WebSocket server animating many live voices at once."""

from __future__ import annotations

import sys

HELP = "serve live analysis to many clients over WebSocket (PCM in, weight frames out)"

DESCRIPTION = """\
Listen for WebSocket clients (default ws://127.0.0.1:8765). Each client sends a JSON hello
such as {"rate": 16000, "format": "s16le"}, then PCM in binary messages of any size, and
receives {"frames": [[t, w1, ...], ...]} as soon as they are computed; {"end": true} flushes
and ends the session. Every session's hops are analysed together, one pass per hop.
GET /health on the same port answers JSON. The protocol: docs/serve.md.
"""


def register(sub):
    import argparse

    from face3d.commands._common import number_option

    p = sub.add_parser("serve", help=HELP, description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)")
    p.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 picks a free one, printed at start)")
    p.add_argument("--max-sessions", type=int, default=1000, metavar="N", help="refuse sessions beyond N at once (close 1013; default 1000)")
    p.add_argument("--max-backlog", type=number_option("--max-backlog", 0.1, 600.0, unit="seconds"), default=5.0, metavar="S",
                   help="close a session whose audio is more than S seconds ahead of its analysis (default 5)")
    p.add_argument("--tick-ms", type=number_option("--tick-ms", 0.0, 50.0, unit="ms"), default=5.0, metavar="MS",
                   help="analyse at most every MS milliseconds, batching the sessions' hops (default 5)")
    p.add_argument("--workers", type=int, default=1, metavar="N",
                   help="N server processes on the same port (up to N cores; default 1)")
    return p


def run(args) -> int:
    import asyncio
    import signal

    from face3d.errors import UsageError
    from face3d.serve.server import Server, serve

    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port {args.port} is out of range; use 1 to 65535 (or 0 for a free port)")
    if args.max_sessions < 1:
        raise UsageError(f"--max-sessions {args.max_sessions}: give at least 1")
    if not 1 <= args.workers <= 64:
        raise UsageError(f"--workers {args.workers}: give 1 to 64 (about one per core)")
    options = dict(max_sessions=args.max_sessions, max_backlog_s=args.max_backlog, tick_s=args.tick_ms / 1000.0)

    def ready(addrs):
        host, port = addrs[0][:2]
        shown = f"[{host}]" if ":" in host else host
        workers = f", {args.workers} worker processes" if args.workers > 1 else ""
        log(f"listening on ws://{shown}:{port} (health: http://{shown}:{port}/health; "
            f"up to {args.max_sessions} sessions{workers}); Ctrl-C stops")

    async def main(server):
        loop = asyncio.get_running_loop()
        stop = loop.create_future()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
        await serve(args.host, args.port, server, ready=ready, stop=stop)

    try:
        if args.workers > 1:
            from face3d.serve.workers import run_workers

            server = run_workers(args.host, args.port, args.workers, options, ready, log)
        else:
            server = Server(**options, log=log)
            asyncio.run(main(server))
    except OSError as exc:
        import socket

        if isinstance(exc, socket.gaierror):
            raise UsageError(f"--host {args.host}: cannot resolve it ({exc.strerror or exc}); give an address such "
                             "as 127.0.0.1 or 0.0.0.0, or a known host name") from None
        raise UsageError(f"cannot listen on {args.host}:{args.port} ({exc.strerror or exc}); "
                         "is another server using the port? choose another with --port") from None
    log(f"stopped: {server.ticks} ticks, {server.hops} stream hops analysed")
    return 0


def log(line: str) -> None:
    print(f"face3d serve: {line}", file=sys.stderr, flush=True)
