"""The VMC protocol (OSC over UDP): face3d's weights as a VTuber app's blendshape values.

Each frame sends ``/VMC/Ext/T`` (the media time in seconds), one ``/VMC/Ext/Blend/Val``
(name, value) per shape and then ``/VMC/Ext/Blend/Apply``, as VMC receivers (VSeeFace,
VNyan, Warudo, ...) expect. Names:

* ``vrm0`` (default): VRM 0.x presets ``A I U E O`` (and ``Blink``, ``Blink_L``,
  ``Blink_R`` when the curves have eye blinks);
* ``vrm1``: VRM 1.0 expressions ``aa ih ou ee oh`` (``blink``, ``blinkLeft``, ``blinkRight``);
* ``arkit``: the 52 ARKit blendshapes with capitalised names (``JawOpen``, ...), as
  "perfect sync" avatars name their clips;
* ``visemes``: the fifteen Oculus visemes ``viseme_sil`` ... ``viseme_U`` (Ready Player
  Me and OVRLipSync-style avatars), summing to 1.

The vowels from face3d's curves (each in [0, 1]; the lips' closure ``mouthClose`` damps
them all): A = jawOpen less the spread and rounded part, I = width with the jaw shut,
E = width with the jaw open, U = rounding with the jaw shut, O = rounding with it open.
"""

from __future__ import annotations

import socket
import time

import numpy as np

from face3d.errors import UsageError

DEFAULT_PORT = 39539
RATE_HZ = 60.0
NAME_SETS = ("vrm0", "vrm1", "arkit", "visemes")
VOWELS = {"vrm0": ("A", "I", "U", "E", "O"), "vrm1": ("aa", "ih", "ou", "ee", "oh")}
BLINKS = {"vrm0": ("Blink", "Blink_L", "Blink_R"), "vrm1": ("blink", "blinkLeft", "blinkRight")}


def parse_target(text: str) -> tuple[str, int]:
    """'HOST[:PORT]' (IPv6 as '[::1]:PORT') -> (host, port), the host resolved for UDP."""
    text = (text or "").strip()
    host, port = text, str(DEFAULT_PORT)
    if text.startswith("["):
        end = text.find("]")
        host, rest = text[1:end], text[end + 1:]
        if end < 0 or (rest and not rest.startswith(":")):
            raise UsageError(f"--vmc '{text}' is not HOST:PORT, e.g. --vmc 127.0.0.1:{DEFAULT_PORT}")
        port = rest[1:] or port
    elif text.count(":") == 1:
        host, port = text.split(":")
    if not host:
        raise UsageError(f"--vmc '{text}' has no host; give HOST:PORT, e.g. --vmc 127.0.0.1:{DEFAULT_PORT}")
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise UsageError(f"--vmc {text}: port '{port}' is out of range; use 1 to 65535 (VMC's usual is {DEFAULT_PORT})")
    try:
        socket.getaddrinfo(host, int(port), type=socket.SOCK_DGRAM)
    except (socket.gaierror, UnicodeError) as exc:
        msg = getattr(exc, "strerror", None) or str(exc)
        raise UsageError(f"--vmc {text}: cannot resolve host '{host}' ({msg}); give an IP address or a known host name") from None
    return host, int(port)


def vowels(names, values) -> np.ndarray:
    """(5,) A, I, U, E, O in [0, 1] from one frame of weights (missing curves are 0)."""
    return vowel_matrix(names, np.asarray(values, np.float64).reshape(1, -1))[0]


def vowel_matrix(names, values) -> np.ndarray:
    """(T, 5) A, I, U, E, O in [0, 1] from (T, K) weights of shapes ``names`` (missing curves are 0)."""
    names = list(names)
    values = np.asarray(values, np.float64).reshape(-1, len(names))

    def get(n):
        return np.clip(values[:, names.index(n)], 0.0, 1.0) if n in names else np.zeros(values.shape[0])

    jaw, wide, puck, close = (get(n) for n in ("jawOpen", "mouthWide", "mouthPucker", "mouthClose"))
    lips = 1.0 - close
    out = np.stack([jaw * (1.0 - 0.5 * np.maximum(wide, puck)), wide * (1.0 - jaw), puck * (1.0 - jaw),
                    wide * jaw, puck * jaw], axis=1)
    return np.clip(out * lips[:, None], 0.0, 1.0)


def blend_values(names, values, name_set: str = "vrm0") -> list[tuple[str, float]]:
    """(name, value) pairs for one frame in ``name_set`` (see the module notes)."""
    if name_set == "visemes":
        from face3d.track import VISEME_NAMES

        names = list(names)
        return [(n, float(values[names.index(n)]) if n in names else (1.0 if n == "viseme_sil" else 0.0))
                for n in VISEME_NAMES]
    if name_set == "arkit":
        from face3d.formats.arkit import BLENDSHAPES, arkit_matrix

        row = arkit_matrix(names, values)[0]
        return [(n, float(row[k])) for k, n in enumerate(BLENDSHAPES)]
    out = list(zip(VOWELS[name_set], (float(v) for v in vowels(names, values))))
    lower = {n.lower(): k for k, n in enumerate(names)}
    left, right = lower.get("eyeblinkleft"), lower.get("eyeblinkright")
    if left is not None or right is not None:
        bl = float(values[left]) if left is not None else 0.0
        br = float(values[right]) if right is not None else bl
        bl = bl if left is not None else br
        both, only_l, only_r = BLINKS[name_set]
        out += [(both, min(bl, br)), (only_l, bl - min(bl, br)), (only_r, br - min(bl, br))]
    return out


class VmcSender:
    """Send frames to a VMC receiver (python-osc's UDP client). UDP is never acknowledged:
    a receiver that is not listening goes unnoticed, and a send that fails is counted."""

    def __init__(self, host: str, port: int, name_set: str = "vrm0"):
        from pythonosc.udp_client import UDPClient

        self.host, self.port, self.name_set = host, port, name_set
        self.client = UDPClient(host, port)
        self.frames = 0
        self.failures = 0
        self.last_error: str | None = None

    def send(self, names, values, media_t: float | None = None) -> None:
        from pythonosc.osc_message_builder import OscMessageBuilder

        msgs = []
        if media_t is not None:
            msgs.append(("/VMC/Ext/T", [float(media_t)]))
        msgs += [("/VMC/Ext/Blend/Val", [n, float(v)]) for n, v in blend_values(names, values, self.name_set)]
        msgs.append(("/VMC/Ext/Blend/Apply", []))
        for address, args in msgs:
            b = OscMessageBuilder(address=address)
            for a in args:
                b.add_arg(a)
            try:
                self.client.send(b.build())
            except OSError as exc:          # e.g. no route; carry on
                self.failures += 1
                self.last_error = exc.strerror or str(exc)
        self.frames += 1


def send_loop(sender: VmcSender, frame, done, rate: float = RATE_HZ, now=time.monotonic,
              sleep=time.sleep) -> int:
    """Call ``frame()`` -> (names, values, media_t) and send it ``rate`` times a second until
    ``done()``; returns the frames sent. A late frame does not make the next ones hurry
    (after falling more than a few frames behind the schedule restarts)."""
    period = 1.0 / rate
    due = now()
    sent = 0
    while not done():
        names, values, media_t = frame()
        sender.send(names, values, media_t)
        sent += 1
        due += period
        late = now() - due
        if late > 4 * period:
            due = now()
        elif late < 0:
            sleep(-late)
    return sent
