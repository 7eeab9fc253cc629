"""The face's mid-line profile, read for orientation (points in (lateral, up, forward)
coordinates of a candidate view; lengths in head widths).

* :func:`saddles`: a nose has a saddle each way along the mid-line (the bridge below the
  brow, the dip above the upper lip), a dome (a crown seen from above a wide base) none;
* :func:`nose_drop`: the nose falls away steeply toward the mouth and gently toward the
  brow, which tells up from down.
"""

from __future__ import annotations

import numpy as np

#: Mid-line saddle depth (head widths) from which a bump reads fully as a nose.
SADDLE = 0.005


def smooth01(x: float, lo: float, hi: float) -> float:
    t = min(max((x - lo) / (hi - lo), 0.0), 1.0)
    return t * t * (3 - 2 * t)


def _midline_profile(q: np.ndarray, nose_u: float, width: float, reach: float):
    """Max-forward profile along the mid-line of points in (lateral, up, forward) coords,
    in bins of width/150 over nose_u +- reach * width: (bin centres, profile) or None."""
    band = q[np.abs(q[:, 0]) < 0.03 * width]
    h = width / 150.0
    ys = np.arange(nose_u - reach * width, nose_u + reach * width, h)
    if len(band) < 50 or len(ys) < 10:
        return None
    idx = ((band[:, 1] - ys[0]) / h).astype(int)
    ok = (idx >= 0) & (idx < len(ys))
    prof = np.full(len(ys), -np.inf)
    np.maximum.at(prof, idx[ok], band[ok, 2])
    # thin bins that caught only the back of the head: a 5-bin max filter closes them
    pad = np.concatenate([np.full(2, -np.inf), prof, np.full(2, -np.inf)])
    return ys, np.max(np.stack([pad[i: i + len(prof)] for i in range(5)]), axis=0)


def saddles(q: np.ndarray, nose_u: float, width: float) -> tuple[float, float]:
    """How far the mid-line profile climbs back after falling away from the nose tip, each
    way (toward +up and toward -up, head widths): a nose has a saddle both ways (the brow
    and the lips stand forward of the bridge and the dip below the nose), a dome none."""
    got = _midline_profile(q, nose_u, width, 0.45)
    if got is None:
        return 0.0, 0.0
    ys, prof = got
    near = (np.abs(ys - nose_u) < 0.15 * width) & np.isfinite(prof)
    if not near.any():
        return 0.0, 0.0
    t = int(np.flatnonzero(near)[np.argmax(prof[near])])
    n = int(0.45 * len(ys) / 0.9)
    out = []
    for seq in (prof[t + 1: t + 1 + n], prof[max(t - n, 0): t][::-1]):
        seq = np.where(np.isfinite(seq), seq, -np.inf)
        low = np.minimum.accumulate(seq) if len(seq) else seq
        ok = np.isfinite(seq) & np.isfinite(low)
        climb = seq[ok] - low[ok]
        out.append(float(climb.max()) / width if len(climb) else 0.0)
    return out[0], out[1]


def nose_drop(q: np.ndarray, nose_u: float, width: float) -> float:
    """Which way the nose falls away more steeply along the mid-line profile, for points in
    (lateral, up, forward) coordinates: > 0 when the profile drops faster below the nose tip
    (toward -up: the nostrils and upper lip) than above it (the bridge rises gently to the
    brow), as on a human face the right way up; < 0 when upside down. In head widths."""
    got = _midline_profile(q, nose_u, width, 0.3)
    if got is None:
        return 0.0
    ys, prof = got
    h = width / 150.0
    near = (np.abs(ys - nose_u) < 0.15 * width) & np.isfinite(prof)
    if not near.any():
        return 0.0
    top = np.flatnonzero(near & (prof >= prof[near].max() - 0.002 * width))
    t = int(round(top.mean()))  # the middle of the tip's plateau: no bias either way
    k = int(0.07 * width / h)
    above, below = prof[min(t + k, len(ys) - 1)], prof[max(t - k, 0)]
    if not (np.isfinite(above) and np.isfinite(below)):
        return 0.0
    return float((above - below) / width)
