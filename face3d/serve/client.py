"""Python clients for ``face3d serve``: :class:`Client` (blocking) and :class:`AsyncClient`.

Both speak the protocol of :mod:`face3d.serve`: the hello, PCM as binary messages, frames
back. Frames are returned as ``(times, values)``: (n,) seconds of the stream and (n, K)
float32 weights under :attr:`names`::

    from face3d.serve import Client

    with Client("ws://127.0.0.1:8765", rate=16000) as c:     # c.names: the columns
        for block in blocks:                                  # float samples in [-1, 1]
            c.send(block)
            times, values = c.poll()                          # what has come back so far
        times, values = c.end()                               # the rest, after the flush
"""

from __future__ import annotations

import json

import numpy as np

DEFAULT_URL = "ws://127.0.0.1:8765"


class ServeError(RuntimeError):
    """The server refused the session or closed it (the message says why)."""


def _hello(rate, format, channels, outputs, names, fps, packed, seed) -> str:
    h = {"rate": int(rate), "format": format, "channels": int(channels), "outputs": list(outputs),
         "names": names, "packed": bool(packed)}
    if fps is not None:
        h["fps"] = fps
    if seed is not None:
        h["seed"] = int(seed)
    return json.dumps(h)


class _Frames:
    """What the client has received: frames, done, the error if any."""

    def __init__(self, format: str):
        self.dtype = np.dtype("<i2") if format == "s16le" else np.dtype("<f4")
        self.names: tuple = ()
        self.fps = None
        self.packed = False
        self.times: list = []
        self.rows: list = []
        self.done = False

    def ready(self, text) -> None:
        m = json.loads(text) if isinstance(text, str) else {}
        if "error" in m or not m.get("ready"):
            raise ServeError(f"server refused the session: {m.get('error', text)}")
        self.names, self.fps, self.packed = tuple(m["names"]), m["fps"], bool(m.get("packed"))

    def take(self, msg) -> None:
        if isinstance(msg, bytes):
            a = np.frombuffer(msg, "<f4").reshape(-1, len(self.names) + 1)
            self.times.append(a[:, 0].astype(np.float64))
            self.rows.append(a[:, 1:].astype(np.float32))
            return
        m = json.loads(msg)
        if "frames" in m:
            a = np.asarray(m["frames"], np.float64).reshape(-1, len(self.names) + 1)
            self.times.append(a[:, 0])
            self.rows.append(a[:, 1:].astype(np.float32))
        elif m.get("done"):
            self.done = True
        elif "error" in m:
            raise ServeError(f"server closed the session: {m['error']}")

    def pop(self) -> tuple[np.ndarray, np.ndarray]:
        t = np.concatenate(self.times) if self.times else np.zeros(0)
        r = np.concatenate(self.rows) if self.rows else np.zeros((0, len(self.names)), np.float32)
        self.times, self.rows = [], []
        return t, r

    def pcm(self, samples) -> bytes:
        x = np.asarray(samples, np.float32)
        if self.dtype.kind == "i":
            return (np.clip(x, -1.0, 32767 / 32768) * 32768.0).round().astype("<i2").tobytes()
        return x.astype("<f4").tobytes()


class Client:
    """A blocking session (``websockets.sync``). Arguments: those of the hello (see
    :mod:`face3d.serve.session`); ``format`` is how :meth:`send` encodes the samples."""

    def __init__(self, url: str = DEFAULT_URL, rate: int = 16000, *, format: str = "f32le", channels: int = 1,
                 outputs=("mouth",), names: str = "face3d", fps=None, packed: bool = False, seed=None,
                 timeout: float = 10.0):
        from websockets.sync.client import connect

        self._f = _Frames(format)
        self.timeout = timeout
        self.ws = connect(url, open_timeout=timeout, max_size=None, compression=None).__enter__()  # (no warning)
        try:
            self.ws.send(_hello(rate, format, channels, outputs, names, fps, packed, seed))
            self._f.ready(self.ws.recv(timeout))
        except BaseException:
            self.ws.close()
            raise
        self.names, self.fps = self._f.names, self._f.fps

    def send(self, samples) -> None:
        """Send float samples in [-1, 1]: (n,) mono or (n, channels)."""
        self.ws.send(self._f.pcm(samples))

    def send_bytes(self, data: bytes) -> None:
        self.ws.send(data)

    def poll(self, timeout: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """Frames received so far (waiting up to ``timeout`` for the first message)."""
        from websockets.exceptions import ConnectionClosed

        wait = timeout
        while True:
            try:
                msg = self.ws.recv(wait)
            except TimeoutError:
                break
            except ConnectionClosed as exc:
                raise ServeError(f"connection closed: {exc}") from None
            self._f.take(msg)
            wait = 0.0
        return self._f.pop()

    def end(self) -> tuple[np.ndarray, np.ndarray]:
        """Flush: every frame not yet returned, once the server says done (it then closes)."""
        from websockets.exceptions import ConnectionClosed

        self.ws.send('{"end": true}')
        try:
            while not self._f.done:
                self._f.take(self.ws.recv(self.timeout))
        except ConnectionClosed as exc:
            raise ServeError(f"connection closed before done: {exc}") from None
        self.ws.close()
        return self._f.pop()

    def close(self) -> None:
        self.ws.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class AsyncClient:
    """The same on asyncio: ``c = await AsyncClient.open(url, rate=...)``; ``await c.send(x)``;
    ``await c.recv()`` (the next frames); ``await c.end()``."""

    @classmethod
    async def open(cls, url: str = DEFAULT_URL, rate: int = 16000, *, format: str = "f32le", channels: int = 1,
                   outputs=("mouth",), names: str = "face3d", fps=None, packed: bool = False, seed=None,
                   timeout: float = 10.0) -> "AsyncClient":
        import asyncio

        from websockets.asyncio.client import connect

        self = cls()
        self._f = _Frames(format)
        self.ws = await asyncio.wait_for(connect(url, max_size=None, compression=None), timeout)
        await self.ws.send(_hello(rate, format, channels, outputs, names, fps, packed, seed))
        self._f.ready(await asyncio.wait_for(self.ws.recv(), timeout))
        self.names, self.fps = self._f.names, self._f.fps
        return self

    async def send(self, samples) -> None:
        await self.ws.send(self._f.pcm(samples))

    async def recv(self) -> tuple[np.ndarray, np.ndarray]:
        """The next message's frames (empty at done)."""
        self._f.take(await self.ws.recv())
        return self._f.pop()

    async def end(self) -> tuple[np.ndarray, np.ndarray]:
        await self.ws.send('{"end": true}')
        while not self._f.done:
            self._f.take(await self.ws.recv())
        await self.ws.close()
        return self._f.pop()

    async def close(self) -> None:
        await self.ws.close()
