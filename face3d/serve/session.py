"""One ``face3d serve`` session: its hello, its PCM, its frames (no sockets here).

The hello is a JSON object; only ``rate`` is required:

=========  ==========================================  =================================
key        value                                       default
=========  ==========================================  =================================
rate       sample rate in Hz, 8000 to 384000           (required)
format     ``"s16le"`` or ``"f32le"`` (little-endian)  ``"s16le"``
channels   1 to 8, interleaved (mixed to mono)         1
outputs    list of ``"mouth"``, ``"alive"``,           ``["mouth"]``
           ``"visemes"``
names      ``"face3d"``, ``"arkit"``, ``"vrm0"``,      ``"face3d"``
           ``"vrm1"`` (``"vrm"`` is ``"vrm0"``)
fps        frames per second, 1 to 1000                100 (the analysis's own rate)
packed     true: frames as binary float32 messages     false
seed       the alive curves' random choices            0
=========  ==========================================  =================================

Names: ``face3d`` sends the curves themselves (``jawOpen mouthWide mouthPucker mouthClose``,
then with ``alive`` the blink, brow, gaze and head columns); ``arkit`` the 52 ARKit
blendshapes (and with ``alive`` the head and eye rotations in radians) as
:mod:`face3d.formats.arkit` maps them; ``vrm0``/``vrm1`` the five vowels (and blinks) as
the VMC sender maps them (:mod:`face3d.formats.vmc`). With ``visemes`` every name set
ends with the fifteen ``viseme_*`` weights (summing to 1), and ``arkit`` maps them too.
"""

from __future__ import annotations

import json
import math

import numpy as np

from face3d.analysis.visemes15 import VISEME_NAMES
from face3d.formats import arkit, vmc

FORMATS = {"s16le": (np.dtype("<i2"), 1.0 / 32768.0), "f32le": (np.dtype("<f4"), None)}
OUTPUTS = ("mouth", "alive", "visemes")
NAME_SETS = ("face3d", "arkit", "vrm0", "vrm1", "vrm")
KEYS = ("rate", "format", "channels", "outputs", "names", "fps", "packed", "seed")


class HelloError(ValueError):
    """A hello the server cannot use (the message says what to send instead)."""


def parse_hello(text) -> dict:
    """The hello message (JSON text) -> its settings with defaults; HelloError if unusable."""
    if not isinstance(text, str):
        raise HelloError('the first message must be a JSON text hello such as {"rate": 16000}, not binary data')
    try:
        h = json.loads(text)
    except ValueError:
        raise HelloError('the hello is not JSON; send e.g. {"rate": 16000, "format": "s16le"}') from None
    if not isinstance(h, dict):
        raise HelloError('the hello must be a JSON object such as {"rate": 16000}')
    unknown = sorted(set(h) - set(KEYS))
    if unknown:
        raise HelloError(f"unknown hello key {unknown[0]!r}; the keys are {', '.join(KEYS)}")
    rate = h.get("rate")
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not float(rate).is_integer() \
            or not 8000 <= rate <= 384000:
        raise HelloError(f"hello 'rate' must be the sample rate in Hz, an integer from 8000 to 384000 (got {rate!r})")
    fmt = h.get("format", "s16le")
    if fmt not in FORMATS:
        raise HelloError(f"hello 'format' must be 's16le' or 'f32le' (got {fmt!r})")
    ch = h.get("channels", 1)
    if isinstance(ch, bool) or not isinstance(ch, int) or not 1 <= ch <= 8:
        raise HelloError(f"hello 'channels' must be an integer from 1 to 8 (got {ch!r})")
    outs = h.get("outputs", ["mouth"])
    if isinstance(outs, str):
        outs = [outs]
    if not isinstance(outs, list) or not outs or any(o not in OUTPUTS for o in outs):
        raise HelloError(f"hello 'outputs' must be a list of {', '.join(OUTPUTS)} (got {outs!r})")
    names = h.get("names", "face3d")
    if names not in NAME_SETS:
        raise HelloError(f"hello 'names' must be one of {', '.join(NAME_SETS)} (got {names!r})")
    fps = h.get("fps", 100)
    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not (math.isfinite(fps) and 1 <= fps <= 1000):
        raise HelloError(f"hello 'fps' must be a number from 1 to 1000 (got {fps!r})")
    packed = h.get("packed", False)
    if not isinstance(packed, bool):
        raise HelloError(f"hello 'packed' must be true or false (got {packed!r})")
    seed = h.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise HelloError(f"hello 'seed' must be a non-negative integer (got {seed!r})")
    return {"rate": int(rate), "format": fmt, "channels": ch, "alive": "alive" in outs,
            "visemes": "visemes" in outs, "outputs": outs,
            "names": "vrm0" if names == "vrm" else names, "fps": float(fps), "packed": packed, "seed": seed}


class Session:
    """A stream's settings, its PCM decoding and the encoding of its frames."""

    def __init__(self, hello: dict, curve_names: tuple):
        self.hello = hello
        self.dtype, self.scale = FORMATS[hello["format"]]
        self.channels = hello["channels"]
        self.frame_bytes = self.dtype.itemsize * self.channels
        self.curves = tuple(curve_names)
        self.name_set = hello["names"]
        alive = hello["alive"]
        if self.name_set == "face3d":
            self.names = self.curves
        elif self.name_set == "arkit":
            self.names = arkit.BLENDSHAPES + (arkit.ROTATIONS if alive else ())
        else:
            blinks = vmc.BLINKS[self.name_set] if alive else ()
            self.names = vmc.VOWELS[self.name_set] + blinks
        self._nmapped = len(self.names)
        self.nvis = len(VISEME_NAMES) if hello.get("visemes") else 0
        if self.nvis and self.name_set != "face3d":
            self.names = self.names + VISEME_NAMES
        self.packed = hello["packed"]

    def ready(self) -> str:
        return json.dumps({"ready": True, "names": list(self.names), "fps": self.hello["fps"],
                           "packed": self.packed})

    def decode(self, data: bytes) -> np.ndarray:
        """A binary message -> samples, (n,) mono or (n, channels); ValueError for a partial frame."""
        if len(data) % self.frame_bytes:
            raise ValueError(f"a PCM message of {len(data)} bytes is not whole {self.hello['format']} sample frames "
                             f"({self.frame_bytes} bytes each for {self.channels} channel(s)); send whole frames")
        x = np.frombuffer(data, self.dtype)
        if self.scale is not None:
            x = x.astype(np.float32)
            x *= np.float32(self.scale)
        elif not np.isfinite(x).all():
            raise ValueError("the f32le PCM holds NaN or infinite samples; send finite samples in [-1, 1]")
        return x.reshape(-1, self.channels) if self.channels > 1 else x

    def values(self, rows: np.ndarray) -> np.ndarray:
        """The analysis's rows -> the values under :attr:`names`."""
        if self.name_set == "face3d":
            return rows
        if self.nvis:                    # the mapped names, then the visemes as they are
            return np.concatenate([self._mapped(rows), rows[:, -self.nvis:]], axis=1)
        return self._mapped(rows)

    def _mapped(self, rows: np.ndarray) -> np.ndarray:
        if self.name_set == "arkit":
            return arkit.arkit_matrix(self.curves, rows)[:, :self._nmapped]
        v = vmc.vowel_matrix(self.curves, rows)
        if self.hello["alive"]:          # blinks: both eyes, then what only one eye adds
            lo = {n.lower(): k for k, n in enumerate(self.curves)}
            bl, br = rows[:, lo["eyeblinkleft"]], rows[:, lo["eyeblinkright"]]
            both = np.minimum(bl, br)
            v = np.concatenate([v, np.stack([both, bl - both, br - both], axis=1)], axis=1)
        return v

    def encode(self, times: np.ndarray, rows: np.ndarray):
        """Frames -> the message: JSON text ``{"frames": [[t, w1, ...], ...]}``, or with
        ``packed`` bytes of little-endian float32 rows ``t, w1, ...``."""
        v = self.values(rows)
        if self.packed:
            out = np.empty((v.shape[0], v.shape[1] + 1), "<f4")
            out[:, 0] = times
            out[:, 1:] = v
            return out.tobytes()
        out = np.empty((v.shape[0], v.shape[1] + 1))
        out[:, 0] = times
        out[:, 1:] = v
        return '{"frames":' + json.dumps(np.round(out, 6).tolist(), separators=(",", ":")) + "}"
