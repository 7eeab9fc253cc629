"""A picture of weight curves: the sound's waveform above the curves on one time axis.

:func:`plot_curves` draws with matplotlib's Agg canvas (no window, no display, no global
backend switch) and writes the PNG atomically. It takes a
:class:`~face3d.track.WeightTrack` and, optionally, the samples and their rate; it never
reads audio files itself.
"""

from __future__ import annotations

import numpy as np

#: Curve colours by shape (the four visemes first); other shapes take the rest in turn.
COLOURS = {"jawOpen": "#d62728", "mouthWide": "#2ca02c", "mouthPucker": "#9467bd", "mouthClose": "#ff7f0e"}
SPARE = ("#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f")
WAVE = "#1f77b4"


def envelope(samples: np.ndarray, rate: int, columns: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(times, lows, highs): the min and max of the samples in ``columns`` slices, so a long
    recording draws as fast as a short one and no peak is lost."""
    x = np.asarray(samples, np.float32).reshape(-1)
    n = max(1, min(int(columns), x.shape[0]))
    edges = np.linspace(0, x.shape[0], n + 1).astype(np.int64)
    lows = np.minimum.reduceat(x, edges[:-1])
    highs = np.maximum.reduceat(x, edges[:-1])
    times = (edges[:-1] + edges[1:]) / 2.0 / float(rate)
    return times, lows, highs


def plot_curves(track, path, *, samples=None, rate=None, size=(1200, 600), title=None) -> None:
    """Write a PNG of ``size`` (width, height) pixels: waveform (if ``samples``) above the weight
    curves, and head and gaze angles (degrees) in a panel of their own below when the track has them."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from face3d.fileio import atomic_path

    dpi = 100
    w, h = size
    fig = Figure(figsize=(w / dpi, h / dpi), dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    end = track.duration
    from face3d.track import ANGLE_NAMES

    # weights (0-1) and angles (degrees: head and gaze) on their own axes, one time axis
    angles = [n for n in track.names if n in ANGLE_NAMES]
    weights = [n for n in track.names if n not in ANGLE_NAMES]
    panels = (["wave"] if samples is not None else []) + ["weights"] + (["angles"] if angles else [])
    ratios = {"wave": 1, "weights": 2, "angles": 1}
    axes = fig.subplots(len(panels), 1, sharex=True, height_ratios=[ratios[p] for p in panels], squeeze=False)
    axes = dict(zip(panels, axes[:, 0]))
    top = axes[panels[0]]
    if title:
        top.set_title(title)
    if samples is not None:
        end = max(end, len(samples) / float(rate))
        wave_ax = axes["wave"]
        t, lo, hi = envelope(samples, rate, columns=2 * w)
        wave_ax.fill_between(t, lo, hi, color=WAVE, linewidth=0.6)
        peak = float(max(np.abs(lo).max(), np.abs(hi).max(), 1e-6))
        wave_ax.set_ylim(-1.05 * peak, 1.05 * peak)
        wave_ax.set_ylabel("sound")
        wave_ax.set_yticks([])
        wave_ax.grid(axis="x", alpha=0.3)
    spare = iter(SPARE * (1 + len(track.names) // len(SPARE)))
    ax = axes["weights"]
    for name in weights:
        ax.plot(track.times, track.column(name), color=COLOURS.get(name) or next(spare), linewidth=1.4, label=name)
    ax.set_ylim(-0.03, 1.03)
    ax.set_ylabel("weight")
    if angles:
        angle_ax = axes["angles"]
        for name in angles:
            angle_ax.plot(track.times, track.column(name), color=next(spare), linewidth=1.2, label=name)
        angle_ax.set_ylabel("degrees")
        angle_ax.grid(alpha=0.3)
        angle_ax.legend(loc="upper right", ncols=len(angles), fontsize="small", framealpha=0.85)
    axes[panels[-1]].set_xlabel("time (s)")
    ax.set_xlim(0.0, max(end, 1e-3))
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right", ncols=min(4, max(1, len(weights))), fontsize="small", framealpha=0.85)
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", dpi=dpi)
