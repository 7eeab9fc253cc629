"""The fitted viseme model: a small ReLU network in numpy, read from ``models/visemes.npz``.

The file is written by ``scripts/train_visemes.py`` (reproducible from its seed, on
speech it synthesises itself; see the README). It holds the per-frame feature
standardisation (``mu``, ``sd``), a projection of each frame to a few numbers (``proj``),
the context ``taps`` (frames back; a negative tap is a frame ahead, a look-ahead), the
layers' weights (``w1``, ``b1``, ``w2``, ``b2``
and, with a second hidden layer, ``w3``, ``b3``) and the band edges it was fitted on
(checked against :data:`~face3d.analysis.bands.BAND_EDGES`).

Per frame ``z[t] = ((f[t] - mu) / sd) @ proj``; then ``x[t]`` is ``z[t - k]`` for every
tap ``k``, side by side (frames before the first repeat the first, frames past the last
repeat the last), and ``h1 = max(x @ w1 + b1, 0)``, ``h2 = max(h1 @ w2 + b2, 0)``,
..., the last layer linear, with four outputs: openness, width, rounding (regressions
onto per-phone targets) and a closure logit (p/b/m), then (models since the viseme
head) fifteen viseme logits, whose softmax gives the weights of
:data:`~face3d.analysis.visemes15.VISEME_NAMES`. Projecting before the context keeps
the work per frame small; inference runs in float32 (the fit does too). The file may hold
more than one such network (an ensemble fitted from different seeds; both shipped models
hold two): each gets its own projected frames, and the outputs are their mean.
"""

from __future__ import annotations

import contextlib

import numpy as np

from face3d.analysis.bands import BAND_EDGES
from face3d.analysis.visemes15 import VISEMES

N_VISEMES = len(VISEMES)

#: File mode: 100 ms of look-ahead (the whole signal is there).
MODEL_FILE = "visemes.npz"
#: Live input (microphone, stdin): 10 ms of look-ahead, inside the 30 ms delay budget.
LIVE_MODEL_FILE = "visemes_live.npz"
_ROWS = 1024
_KEYS = ("mu", "sd", "proj", "w1", "b1", "w2", "b2", "taps", "edges")


class VisemeModel:
    """Arrays of a fitted model: :meth:`project` per frame, then :meth:`forward` in context.

    The file may hold several networks fitted from different seeds on the same data (an
    ensemble; the first under the plain keys, network ``k`` under ``n{k}_proj``,
    ``n{k}_w1``, ...), sharing the taps: their projections run as one product, each
    network sees its own projected frames in context, and the outputs are their mean."""

    def __init__(self, arrays: dict):
        missing = [k for k in _KEYS if k not in arrays]
        if missing:
            raise ValueError(f"viseme model lacks {', '.join(missing)}")
        if tuple(np.asarray(arrays["edges"], float)) != tuple(BAND_EDGES):
            raise ValueError("viseme model was fitted on other band edges; rerun scripts/train_visemes.py")
        self.taps = tuple(int(t) for t in np.asarray(arrays["taps"]).ravel())
        #: frames of look-ahead (the newest frame's output waits for this many more) and history
        self.lookahead = max(0, -min(self.taps))
        self.history = max(0, max(self.taps))
        self.nets = [_net(arrays, "")]
        while f"n{len(self.nets)}_proj" in arrays:
            self.nets.append(_net(arrays, f"n{len(self.nets)}_"))
        projs = [p for p, _, _ in self.nets]
        if len({p.shape[0] for p in projs}) != 1:
            raise ValueError("viseme model: the networks take different features")
        # every network's projection in one product; network i's numbers are columns splits[i]
        self.proj = np.concatenate(projs, axis=1)
        self.proj_b = np.concatenate([b for _, b, _ in self.nets])
        edges = np.cumsum([0] + [p.shape[1] for p in projs])
        self.splits = tuple(zip(edges[:-1].tolist(), edges[1:].tolist()))
        self.n_in = self.proj.shape[0]
        #: outputs per frame: 4 (the mouth curves) or 4 + 15 (and the viseme logits)
        self.n_out = self.nets[0][2][-1][0].shape[1]
        for p, _, layers in self.nets:
            if layers[0][0].shape[0] != p.shape[1] * len(self.taps):
                raise ValueError("viseme model: w1 does not match proj and taps")
            if layers[-1][0].shape[1] not in (4, 4 + N_VISEMES) or layers[-1][0].shape[1] != self.n_out:
                raise ValueError(f"viseme model: the last layer must give 4 or {4 + N_VISEMES} outputs")
        self.arrays = {k: np.asarray(v) for k, v in arrays.items()}

    def project(self, f: np.ndarray) -> np.ndarray:
        """(n, D) per-frame features -> (n, K) projected frames (float32; every network's)."""
        with _one_blas_thread(f.shape[0]):
            z = f @ self.proj
        z += self.proj_b
        return z.astype(np.float32)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """(n, K * len(taps)) frames in context (network by network: each network's
        numbers at every tap, then the next's) -> (n, n_out) outputs (float32)."""
        x = np.asarray(x, np.float32)
        nt = len(self.taps)
        out = np.empty((x.shape[0], self.n_out), np.float32)
        with _one_blas_thread(x.shape[0]):
            for s in range(0, x.shape[0], _ROWS):  # rows in blocks that stay in the cache
                xb = x[s : s + _ROWS]
                out[s : s + _ROWS] = self._mean([xb[:, a * nt : b * nt] for a, b in self.splits])
        return out

    def run(self, zz: np.ndarray, m: int, need: np.ndarray | None = None) -> np.ndarray:
        """Projected frames with the frames around them -> the outputs (m, n_out) of ``m``
        frames: frame ``j`` is row ``history + j`` of ``zz`` and its taps the rows around
        it (``zz`` holds at least ``history + m + lookahead`` rows). The numbers of
        :meth:`forward` on the frames' context rows; each block of rows is put in context
        just before its products, in a buffer that stays in the cache. ``need``: (m,) bool,
        the frames whose outputs count; the others give 0 and cost nothing (a pause)."""
        out = np.zeros((m, self.n_out), np.float32)
        if m == 0:
            return out
        back, nt = self.history, len(self.taps)
        bufs = [np.empty((min(m, _ROWS), nt * (b - a)), np.float32) for a, b in self.splits]
        with _one_blas_thread(m):
            for s in range(0, m, _ROWS):
                k = min(m - s, _ROWS)
                rows = None  # every frame of the block, or the ones needed (fewer)
                if need is not None and not need[s : s + k].all():
                    rows = np.flatnonzero(need[s : s + k])
                    if not len(rows):
                        continue
                xs = []
                for (a, b), buf in zip(self.splits, bufs):
                    w, x = b - a, buf[:k]
                    for j, t in enumerate(self.taps):
                        x[:, j * w : (j + 1) * w] = zz[back + s - t : back + s - t + k, a:b]
                    xs.append(x if rows is None else x[rows])
                if rows is None:
                    out[s : s + k] = self._mean(xs)
                else:
                    out[s + rows] = self._mean(xs)
        return out

    def _mean(self, xs: list) -> np.ndarray:
        """Each network's frames in context -> the mean of the networks' outputs."""
        out = None
        for x, (_, _, layers) in zip(xs, self.nets):
            y = _layers(layers, x)
            out = y if out is None else np.add(out, y, out=out)
        if len(self.nets) > 1:
            out *= np.float32(1.0 / len(self.nets))
        return out


def _net(arrays: dict, pre: str):
    """One network's folded projection, its offset and its layers, from keys ``pre + name``."""
    for k in ("mu", "sd", "proj", "w1", "b1"):
        if pre + k not in arrays:
            raise ValueError(f"viseme model lacks {pre + k}")
    mu = np.asarray(arrays[pre + "mu"], np.float64)
    sd = np.asarray(arrays[pre + "sd"], np.float64)
    proj = np.asarray(arrays[pre + "proj"], np.float64)
    # fold the standardisation into the projection: (f - mu) / sd @ P = f @ P' + c
    folded, offset = proj / sd[:, None], -(mu / sd) @ proj
    layers = []
    k = 1
    while f"{pre}w{k}" in arrays:
        w = np.asarray(arrays[f"{pre}w{k}"], np.float32)
        b = np.asarray(arrays[f"{pre}b{k}"], np.float32)
        if w.ndim != 2 or b.shape != (w.shape[1],) or (layers and layers[-1][0].shape[1] != w.shape[0]):
            raise ValueError(f"viseme model: {pre}w{k} or {pre}b{k} has the wrong shape")
        layers.append((w, b))
        k += 1
    return folded, offset, layers


def _layers(layers, h: np.ndarray) -> np.ndarray:
    last = len(layers) - 1
    for i, (w, b) in enumerate(layers):
        h = h @ w
        h += b
        if i < last:
            np.maximum(h, 0.0, out=h)
    return h


_CACHE: dict = {}
_BLAS: list = []


def _one_blas_thread(rows: int):
    """One BLAS thread for a product over many rows: a threaded BLAS splits the work
    differently for each thread count, and the last bits of the sums follow, so the same
    sound would give curves (and videos) that differ in the last bits between a machine,
    a process pool and a Dask worker. Small products (live input) never thread."""
    if rows <= 64:
        return contextlib.nullcontext()
    if not _BLAS:
        from threadpoolctl import ThreadpoolController

        _BLAS.append(ThreadpoolController())
    return _BLAS[0].limit(limits=1, user_api="blas")


def load_model(path=None, live: bool = False) -> VisemeModel:
    """A shipped model (cached): the file-mode one, or with ``live`` the one for live input
    (short look-ahead); or the one in ``path`` (for the training script)."""
    if path is None:
        name = LIVE_MODEL_FILE if live else MODEL_FILE
        if name not in _CACHE:
            from face3d.assets import model_path

            _CACHE[name] = load_model(model_path(name))
        return _CACHE[name]
    with np.load(path) as z:
        return VisemeModel({k: z[k] for k in z.files})
