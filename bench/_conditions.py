"""Rooms, background talk, noise, devices and breaths: the same degradations for the
benchmark (``bench/lipsync.py --conditions``) and the viseme model's training data.

Everything works on mono float32 samples at 16 kHz (:data:`RATE`), drawn from a seeded
``numpy`` generator, so a seed gives the same sound.

* ``room``: a room impulse response by the image-source method (``pyroomacoustics``,
  a shoebox room, RT60 and source-microphone distance as asked).
* ``babble``: other utterances mixed under the voice (a level in dB below it).
* ``noise``: pink, brown or white noise below the voice.
* ``telephone``: 300-3400 Hz at 8 kHz sampling, and back.
* ``level``: the whole signal louder or quieter (clipped at full scale).
* ``codec``: through a lossy codec and back (Opus, AAC or MP3 at 16-32 kb/s; PyAV).
* ``breath``: a shaped noise burst (an in-breath, 200-600 ms) in a lead-in of quiet
  room tone before the speech; the phone timings move with it and the breath is a pause.

:data:`BENCH` fixes each condition's settings for the benchmark (the issue's table).
"""

from __future__ import annotations

import io

import numpy as np

RATE = 16000
CONDITIONS = ("room", "babble", "noise", "telephone", "level", "codec")
#: The benchmark's fixed settings per condition.
BENCH = {
    "room": dict(rt60=0.5, distance=1.0),
    "babble": dict(below_db=10.0, talkers=4),
    "noise": dict(below_db=10.0, color="pink"),
    "telephone": dict(),
    "level": dict(db=-30.0),
    "codec": dict(codec="opus", kbps=16),
}


def _fftconv(x, h):
    m = len(x) + len(h) - 1
    nf = 1 << (m - 1).bit_length()
    return np.fft.irfft(np.fft.rfft(x, nf) * np.fft.rfft(h, nf), nf)[: len(x)]


def _power(x):
    return float(np.mean(np.asarray(x, np.float64) ** 2)) + 1e-12


def _active_power(x):
    """Mean power over the loudest half of 20 ms frames (the voice, not its pauses)."""
    n = len(x) // 320
    if n < 2:
        return _power(x)
    p = np.mean(np.asarray(x[: n * 320], np.float64).reshape(n, 320) ** 2, axis=1)
    return float(np.mean(np.sort(p)[n // 2 :])) + 1e-12


def room_rir(rng, rt60: float, distance: float) -> np.ndarray:
    """A room impulse response (16 kHz, direct path first) of a random shoebox room with
    this RT60, source and microphone ``distance`` metres apart at 1.2-1.7 m height."""
    import pyroomacoustics as pra

    dims = np.array([rng.uniform(3.5, 8.0), rng.uniform(3.0, 6.0), rng.uniform(2.4, 3.2)])
    distance = float(min(distance, 0.8 * min(dims[0], dims[1]) - 0.5))
    e_abs, order = pra.inverse_sabine(rt60, dims)
    room = pra.ShoeBox(dims, fs=RATE, materials=pra.Material(e_abs), max_order=int(min(order, 60)))
    mic = np.array([rng.uniform(0.6, dims[0] - 0.6), rng.uniform(0.6, dims[1] - 0.6), rng.uniform(1.2, 1.7)])
    for _ in range(50):  # a source at that distance inside the room
        a = rng.uniform(0, 2 * np.pi)
        src = mic + np.array([distance * np.cos(a), distance * np.sin(a), rng.uniform(-0.2, 0.2)])
        if np.all(src[:2] > 0.3) and np.all(src[:2] < dims[:2] - 0.3):
            break
    else:
        src = mic + np.array([0.3, 0.0, 0.0])
    room.add_source(src.tolist())
    room.add_microphone(mic.tolist())
    room.compute_rir()
    h = np.asarray(room.rir[0][0], np.float64)
    start = max(0, int(np.argmax(np.abs(h))) - 8)  # no pre-delay: the timings stay the phones'
    h = h[start:]
    return (h / (np.abs(h).max() + 1e-12)).astype(np.float32)


def colored_noise(rng, n: int, color: str = "pink") -> np.ndarray:
    """White, pink (1/f power) or brown (1/f^2) noise, unit power."""
    w = rng.standard_normal(n)
    if color != "white":
        sp = np.fft.rfft(w)
        f = np.maximum(np.arange(len(sp)), 1.0)
        sp /= f ** (0.5 if color == "pink" else 1.0)
        w = np.fft.irfft(sp, n)
    return (w / np.sqrt(_power(w))).astype(np.float32)


def mix_under(x, other, below_db: float) -> np.ndarray:
    """``other`` mixed ``below_db`` dB under ``x`` (active levels)."""
    g = np.sqrt(_active_power(x) / _active_power(other) / 10 ** (below_db / 10))
    return (x + g * other).astype(np.float32)


def babble(rng, n: int, others, talkers: int) -> np.ndarray:
    """``talkers`` other utterances (looped, random offsets) summed, each at its own level."""
    out = np.zeros(n, np.float64)
    for _ in range(talkers):
        o = np.asarray(others[int(rng.integers(len(others)))], np.float64)
        o = o / np.sqrt(_active_power(o))
        k = -(-(n + len(o)) // len(o))
        o = np.tile(o, k)
        s = int(rng.integers(len(o) - n))
        out += o[s : s + n] * 10 ** (rng.uniform(-3, 3) / 20)
    return out.astype(np.float32)


def telephone(x) -> np.ndarray:
    """300-3400 Hz band at 8 kHz sampling, back to 16 kHz."""
    import soxr

    y = soxr.resample(np.asarray(x, np.float32), RATE, 8000)
    sp = np.fft.rfft(y)
    f = np.fft.rfftfreq(len(y), 1 / 8000)
    sp[(f < 300) | (f > 3400)] = 0.0
    y = np.fft.irfft(sp, len(y))
    z = soxr.resample(y.astype(np.float32), 8000, RATE)
    return _same_len(z, len(x))


def _same_len(z, n):
    z = np.asarray(z, np.float32)
    return z[:n] if len(z) >= n else np.concatenate([z, np.zeros(n - len(z), np.float32)])


_CODECS = {"opus": ("ogg", "libopus", 48000), "aac": ("adts", "aac", 16000), "mp3": ("mp3", "libmp3lame", 16000)}


def codec(x, name: str = "opus", kbps: int = 16) -> np.ndarray:
    """Through ``name`` (opus, aac, mp3) at ``kbps`` and back (PyAV), 16 kHz, same length."""
    import av
    import soxr

    fmt, enc, rate = _CODECS[name]
    y = np.asarray(x, np.float32)
    if rate != RATE:
        y = soxr.resample(y, RATE, rate).astype(np.float32)
    buf = io.BytesIO()
    with av.open(buf, "w", format=fmt) as c:
        st = c.add_stream(enc, rate=rate, layout="mono")
        st.bit_rate = int(kbps) * 1000
        fmt_name = st.codec_context.format.name
        step = st.codec_context.frame_size or 1152
        y = np.clip(y, -1.0, 1.0)
        pts = 0
        for s in range(0, len(y), step):
            blk = y[s : s + step]
            if fmt_name.startswith("s16"):
                arr = (blk * 32767).astype(np.int16)[None]
            elif fmt_name.startswith("s32"):
                arr = (blk.astype(np.float64) * 2147483647).astype(np.int32)[None]
            else:
                arr = blk[None].astype(np.float32)
            fr = av.AudioFrame.from_ndarray(arr, format=fmt_name, layout="mono")
            fr.sample_rate = rate
            fr.pts = pts
            pts += len(blk)
            for p in st.encode(fr):
                c.mux(p)
        for p in st.encode(None):
            c.mux(p)
    buf.seek(0)
    out = []
    with av.open(buf, "r") as c:
        res = av.AudioResampler(format="flt", layout="mono", rate=RATE)
        for fr in c.decode(audio=0):
            for r in res.resample(fr):
                out.append(r.to_ndarray().reshape(-1))
        for r in res.resample(None):
            out.append(r.to_ndarray().reshape(-1))
    z = np.concatenate(out) if out else np.zeros(0, np.float32)
    # codecs add a priming delay: line the decoded sound up with the original
    n = min(len(z), len(x))
    if n > 4000:
        a, b = np.asarray(x[:n], np.float64), z[:n].astype(np.float64)
        cc = np.fft.irfft(np.fft.rfft(b, 2 * n) * np.conj(np.fft.rfft(a, 2 * n)), 2 * n)
        lag = int(np.argmax(cc[:2000]))
        z = z[lag:]
    return _same_len(z, len(x))


def breath(rng, x, events, quiet_db: float = 60.0):
    """A lead-in of room tone ``quiet_db`` under the voice with an in-breath (200-600 ms of
    shaped noise 15-30 dB under the voice) ending 50-250 ms before the speech -> (samples,
    events moved by the lead-in). The breath lies in a pause (``_`` / ``pau``)."""
    p = _active_power(x)
    dur = rng.uniform(0.2, 0.6)
    gap = rng.uniform(0.05, 0.25)
    pre = rng.uniform(0.1, 0.5)
    n_b, n_pre = int(dur * RATE), int((pre + dur + gap) * RATE)
    tone = colored_noise(rng, n_pre, "pink") * np.sqrt(p / 10 ** (quiet_db / 10))
    b = colored_noise(rng, n_b, "white")
    sp = np.fft.rfft(b)
    f = np.fft.rfftfreq(n_b, 1 / RATE)
    lo, hi = rng.uniform(400, 1200), rng.uniform(2500, 6000)
    sp *= np.exp(-0.5 * (np.log(np.maximum(f, 1) / np.sqrt(lo * hi)) / np.log(hi / lo) * 2.5) ** 2)
    b = np.fft.irfft(sp, n_b)
    env = np.sin(np.pi * np.arange(n_b) / n_b) ** rng.uniform(0.7, 2.0)
    b = b * env
    b *= np.sqrt(p / 10 ** (rng.uniform(15, 30) / 10) / (np.mean(b[n_b // 4 : 3 * n_b // 4] ** 2) + 1e-20))
    s = int(pre * RATE)
    tone[s : s + n_b] += b.astype(np.float32)
    y = np.concatenate([tone, np.asarray(x, np.float32)])
    shift = n_pre / RATE
    return y.astype(np.float32), [(0.0, "_")] + [(t + shift, ph) for t, ph in events]


def degrade(x, condition: str, rng, others=None, **kw) -> np.ndarray:
    """One condition with the benchmark's settings (:data:`BENCH`, overridden by ``kw``)."""
    p = {**BENCH[condition], **kw}
    x = np.asarray(x, np.float32)
    if condition == "room":
        h = room_rir(rng, p["rt60"], p["distance"])
        y = _fftconv(x, h)
        return (y * np.sqrt(_power(x) / _power(y))).astype(np.float32)
    if condition == "babble":
        return mix_under(x, babble(rng, len(x), others, p["talkers"]), p["below_db"])
    if condition == "noise":
        return mix_under(x, colored_noise(rng, len(x), p["color"]), p["below_db"])
    if condition == "telephone":
        return telephone(x)
    if condition == "level":
        return np.clip(x * 10 ** (p["db"] / 20), -1.0, 1.0).astype(np.float32)
    if condition == "codec":
        return codec(x, p["codec"], p["kbps"])
    raise ValueError(f"unknown condition {condition!r}; use {', '.join(CONDITIONS)}")


def random_degrade(rng, x, events, others, rirs, real: bool = False):
    """A random chain of degradations for training -> (samples, events, description)."""
    d = []
    x = np.asarray(x, np.float32)
    if rng.random() < 0.3:
        x, events = breath(rng, x, events, quiet_db=rng.uniform(40, 70))
        d.append("breath")
    if rng.random() < 0.45:
        h = rirs[int(rng.integers(len(rirs)))]
        y = _fftconv(x, h)
        x = (y * np.sqrt(_power(x) / _power(y))).astype(np.float32)
        d.append("room")
    if rng.random() < 0.45 and others:
        db = rng.uniform(5, 20)
        x = mix_under(x, babble(rng, len(x), others, int(rng.integers(1, 5))), db)
        d.append(f"babble{db:.0f}")
    if rng.random() < 0.4:
        db = rng.uniform(5, 35)
        col = str(rng.choice(["pink", "brown", "white"]))
        x = mix_under(x, colored_noise(rng, len(x), col), db)
        d.append(f"{col}{db:.0f}")
    if rng.random() < 0.15:
        x = telephone(x)
        d.append("tel")
    if rng.random() < 0.12:
        name = str(rng.choice(list(_CODECS)))
        kb = int(rng.choice([16, 24, 32]))
        try:
            x = codec(x / (np.abs(x).max() + 1e-9) * 0.7, name, kb)
            d.append(f"{name}{kb}")
        except Exception:  # a codec this PyAV build lacks: skip it
            pass
    peak = float(np.abs(x).max()) or 1.0
    db = rng.uniform(-40, 6) if rng.random() < 0.15 else rng.uniform(-30, -1)
    x = np.clip(x / peak * 10 ** (db / 20), -1.0, 1.0)
    d.append(f"{db:+.0f}dB")
    return x.astype(np.float32), events, "+".join(d)


def rir_bank(seed: int, n: int = 32):
    """``n`` room impulse responses (RT60 0.2-1.0 s, distance 0.5-4 m) from ``seed``."""
    rng = np.random.default_rng(seed)
    return [room_rir(rng, rng.uniform(0.2, 1.0), rng.uniform(0.5, 4.0)) for _ in range(n)]
