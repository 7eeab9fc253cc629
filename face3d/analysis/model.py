"""The fitted viseme model: a small two-layer network in numpy, read from ``models/visemes.npz``.

The file is written by ``scripts/train_visemes.py`` (reproducible from its seed, on
speech it synthesises itself; see the README). It holds the feature standardisation
(``mu``, ``sd``), the weights (``w1``, ``b1``, ``w2``, ``b2``), the context taps and the
band edges it was fitted on (checked against :data:`~face3d.analysis.bands.BAND_EDGES`).

``y = tanh(((x - mu) / sd) @ w1 + b1) @ w2 + b2`` with four outputs: openness, width,
rounding (regressions onto per-phone targets) and a closure logit (p/b/m).
"""

from __future__ import annotations

import numpy as np

from face3d.analysis.bands import BAND_EDGES

MODEL_FILE = "visemes.npz"
_KEYS = ("mu", "sd", "w1", "b1", "w2", "b2", "taps", "edges")


class VisemeModel:
    """Arrays of a fitted model; :meth:`forward` maps (n, D) features to (n, 4) outputs."""

    def __init__(self, arrays: dict):
        missing = [k for k in _KEYS if k not in arrays]
        if missing:
            raise ValueError(f"viseme model lacks {', '.join(missing)}")
        if tuple(np.asarray(arrays["edges"], float)) != tuple(BAND_EDGES):
            raise ValueError("viseme model was fitted on other band edges; rerun scripts/train_visemes.py")
        self.taps = tuple(int(t) for t in np.asarray(arrays["taps"]).ravel())
        self.mu = np.asarray(arrays["mu"], np.float64)
        self.sd = np.asarray(arrays["sd"], np.float64)
        w1 = np.asarray(arrays["w1"], np.float64)
        # fold the standardisation into the first layer: (x - mu) / sd @ w1 = x @ w1' + c
        self.w1 = w1 / self.sd[:, None]
        self.b1 = np.asarray(arrays["b1"], np.float64) - (self.mu / self.sd) @ w1
        self.w2 = np.asarray(arrays["w2"], np.float64)
        self.b2 = np.asarray(arrays["b2"], np.float64)
        self.n_in = self.w1.shape[0]
        self.arrays = {k: np.asarray(v) for k, v in arrays.items()}

    def forward(self, x: np.ndarray) -> np.ndarray:
        h = x @ self.w1
        h += self.b1
        np.tanh(h, out=h)
        y = h @ self.w2
        y += self.b2
        return y


_CACHE: dict = {}


def load_model(path=None) -> VisemeModel:
    """The shipped model (cached), or the one in ``path`` (for the training script)."""
    if path is None:
        if "default" not in _CACHE:
            from face3d.assets import model_path

            _CACHE["default"] = load_model(model_path(MODEL_FILE))
        return _CACHE["default"]
    with np.load(path) as z:
        return VisemeModel({k: z[k] for k in z.files})
