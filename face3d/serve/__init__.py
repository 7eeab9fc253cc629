"""``face3d serve``: live analysis of many streams over WebSocket, and its Python clients.

Protocol (any WebSocket client can speak it; see ``docs/serve.md``):

1. The client's first message is a JSON text hello, e.g. ``{"rate": 16000, "format":
   "s16le", "channels": 1}``; only ``rate`` is required (the keys:
   :mod:`face3d.serve.session`).
2. The server answers ``{"ready": true, "names": [...], "fps": ..., "packed": false}``.
3. The client sends PCM in binary messages of any size (whole sample frames).
4. The server sends ``{"frames": [[t, w1, w2, ...], ...]}`` (``t``: seconds of the
   stream; the weights in the order of ``names``) as soon as they are computed; with
   ``"packed": true`` in the hello, binary messages of little-endian float32 rows
   ``t, w1, w2, ...`` instead (``len / 4 / (1 + len(names))`` rows).
5. ``{"end": true}`` flushes: the server sends the last frames, then ``{"done": true}``,
   and closes (1000). A client may also just close.

Errors: ``{"error": "..."}`` then a close with a code (1008 policy, 1009 too big, 1011
internal, 1013 server full) and the reason. ``GET /health`` answers JSON.
"""

from face3d.serve.client import DEFAULT_URL, AsyncClient, Client, ServeError

__all__ = ["DEFAULT_URL", "AsyncClient", "Client", "ServeError"]
