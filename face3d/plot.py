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


#: The smallest picture the panels and their legends fit in (pixels).
MIN_SIZE = (640, 360)
#: Angle curve colours (their own set: a weight and an angle never share a colour).
ANGLE_COLOURS = ("#393b79", "#d6616b", "#637939", "#e6550d", "#7b4173")


def curves_figure(track, *, samples=None, rate=None, size=(1200, 600), title=None):
    """The matplotlib Figure (Agg canvas) that :func:`plot_curves` writes: waveform (if
    ``samples``) above the weight curves, head and gaze angles (degrees) in a panel of
    their own below when the track has them. Each panel's legend sits outside it, on the
    right, in a band the layout reserves, so it never covers a curve."""
    import warnings

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from face3d.track import ANGLE_NAMES

    dpi = 100
    w, h = size
    if w < MIN_SIZE[0] or h < MIN_SIZE[1]:
        raise ValueError(f"a plot needs at least {MIN_SIZE[0]}x{MIN_SIZE[1]} pixels, not {w}x{h}")
    fig = Figure(figsize=(w / dpi, h / dpi), dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    end = track.duration
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
        ax.plot(track.times, track.column(name), color=COLOURS.get(name) or next(spare), linewidth=1.4, label=name,
                linestyle="--" if name.endswith("Right") and name[:-5] + "Left" in weights else "-")
    ax.set_ylim(-0.03, 1.03)
    ax.set_ylabel("weight")
    legend = {"loc": "upper left", "bbox_to_anchor": (1.01, 1.0), "borderaxespad": 0.0, "fontsize": "small",
              "frameon": False, "handlelength": 1.6, "columnspacing": 1.0}
    if angles:
        angle_ax = axes["angles"]
        for k, name in enumerate(angles):
            angle_ax.plot(track.times, track.column(name), color=ANGLE_COLOURS[k % len(ANGLE_COLOURS)],
                          linewidth=1.2, label=name)
        angle_ax.set_ylabel("degrees")
        angle_ax.grid(alpha=0.3)
        angle_ax.legend(**legend)
    axes[panels[-1]].set_xlabel("time (s)")
    ax.set_xlim(0.0, max(end, 1e-3))
    ax.grid(alpha=0.3)
    if weights:
        ax.legend(**legend)
    with warnings.catch_warnings():          # a layout that cannot fit says so by the size check above
        warnings.simplefilter("ignore", UserWarning)
        fig.canvas.draw()
        # a legend taller than its panel takes another column (and the layout is drawn again)
        cols = {p: 1 for p in panels}
        for _ in range(4):
            tall = [p for p, a in axes.items() if a.get_legend() is not None
                    and a.get_legend().get_window_extent().height > a.get_window_extent().height + 1
                    and cols[p] < len(a.get_legend().get_texts())]
            if not tall:
                break
            for p in tall:
                cols[p] += 1
                axes[p].legend(**legend, ncols=cols[p])
            fig.canvas.draw()
    return fig


def plot_curves(track, path, *, samples=None, rate=None, size=(1200, 600), title=None) -> None:
    """Write a PNG of ``size`` (width, height) pixels (at least :data:`MIN_SIZE`) of
    :func:`curves_figure`, atomically."""
    import warnings

    from face3d.fileio import atomic_path

    fig = curves_figure(track, samples=samples, rate=rate, size=size, title=title)
    with atomic_path(path, suffix=".png") as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        fig.savefig(tmp, format="png", dpi=fig.dpi)
