"""The running filters of the viseme mapper (:mod:`face3d.analysis.visemes`), vectorised:
sliding minimum/maximum windows, the instant-attack exponential release and the leaky
integrator of the speaker mean, each continued from a state so blocks of any size give the
numbers of one pass over the whole signal."""

from __future__ import annotations

import numpy as np

_CHUNK_DECAY = 200.0  # a release chunk spans at most this many e-folds (a**-k stays far from overflow)
_LEAKY_CHUNK = 1024


def sliding(z: np.ndarray, w: int, ufunc) -> np.ndarray:
    """ufunc-reduce (np.minimum / np.maximum) over every run of ``w`` values in ``z``.

    Returns ``len(z) - w + 1`` values; van Herk / Gil-Werman block prefix and suffix
    scans, so the cost does not grow with ``w``. Exact (min/max do not round).
    """
    n = z.shape[0]
    m = n - w + 1
    if m <= 0:
        return z[:0].copy()
    if m == 1:  # one new frame (live input, hop by hop)
        return ufunc.reduce(z, keepdims=True)
    if m * w <= 4096:  # a few frames
        st = z.strides[0]
        view = np.lib.stride_tricks.as_strided(z, shape=(m, w), strides=(st, st), writeable=False)
        return ufunc.reduce(view, axis=1)
    ident = np.inf if ufunc is np.minimum else -np.inf
    nb = -(-n // w)
    zp = np.full(nb * w, ident)
    zp[:n] = z
    blocks = zp.reshape(nb, w)
    prefix = ufunc.accumulate(blocks, axis=1).ravel()
    suffix = ufunc.accumulate(blocks[:, ::-1], axis=1)[:, ::-1].ravel()
    j = np.arange(m)
    return ufunc(suffix[j], prefix[j + w - 1])


def release(x: np.ndarray, a: float, y0: float) -> tuple[np.ndarray, float]:
    """y[t] = max(x[t], a * y[t-1]) with y[-1] = y0, for x >= 0; vectorised in chunks."""
    n = x.shape[0]
    if n == 0:
        return x.copy(), y0
    if n <= 8:  # a few frames (live input): the recursion itself
        out = np.empty(n)
        y = y0
        for i, v in enumerate(x.tolist()):
            y = a * y
            if v > y:
                y = v
            out[i] = y
        return out, y
    k, up, down, carry = _release_powers(a)
    nc = -(-n // k)
    xp = np.zeros(nc * k)
    xp[:n] = x
    xc = xp.reshape(nc, k)
    # within each chunk, starting from 0: z[j] = a^j * max_{i<=j} x[i] a^-i
    z = np.maximum.accumulate(xc * up, axis=1) * down
    y = np.empty_like(z)
    prev = y0
    for c in range(nc):
        yc = np.maximum(z[c], carry * prev)
        y[c] = yc
        prev = yc[-1]
    out = y.ravel()[:n]
    return out, float(out[-1])


_POWERS: dict = {}


def _release_powers(a: float):
    """The chunk length and the powers of ``a`` that :func:`release` uses (made once per
    process for each decay: every file of a batch uses the same few)."""
    got = _POWERS.get(("release", a))
    if got is None:
        k = int(min(1024, max(8, _CHUNK_DECAY / max(-np.log(a), 1e-9))))
        j = np.arange(k)
        got = _POWERS[("release", a)] = (k, a ** (-j.astype(np.float64)), a ** j.astype(np.float64), a ** (j + 1.0))
    return got


def _leaky_powers(a: float, k: int, ndim: int):
    """``a**-j``, ``a**j`` and ``a**(j+1)`` over a chunk of :func:`leaky`, shaped for ``ndim``."""
    key = ("leaky", a, k, ndim)
    got = _POWERS.get(key)
    if got is None:
        j = np.arange(k, dtype=np.float64).reshape((k,) + (1,) * (ndim - 1))
        got = _POWERS[key] = (a ** -j, a**j, (a ** (j + 1.0))[None])
    return got


def leaky(x: np.ndarray, a: float, y0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """y[t] = a * y[t-1] + x[t] along axis 0 with y[-1] = y0; vectorised in chunks."""
    n = x.shape[0]
    if n <= 8:
        out = np.empty_like(x)
        y = y0
        for i in range(n):
            y = a * y + x[i]
            out[i] = y
        return out, (out[-1].copy() if n else y0)
    k = _LEAKY_CHUNK
    nc = -(-n // k)
    xp = np.zeros((nc * k,) + x.shape[1:])
    xp[:n] = x
    xc = xp.reshape((nc, k) + x.shape[1:])
    inv, powers, after = _leaky_powers(a, k, x.ndim)
    # within each chunk from zero: z[j] = a^j * sum_{i<=j} a^-i x[i]
    z = np.cumsum(xc * inv, axis=1)
    z *= powers
    # the value carried into each chunk: the same recursion over chunk ends (a few hundred steps)
    ak = a**k
    ends = z[:, -1]
    start = np.empty_like(ends)
    prev = y0
    for c in range(nc):
        start[c] = prev
        prev = ak * prev + ends[c]
    z += after * start[:, None]
    out = z.reshape((nc * k,) + x.shape[1:])[:n]
    return out, out[-1].copy()
