"""The display-less ``face3d demo``: the demo speech as a video, its curves and their plot."""

from __future__ import annotations

import sys
from pathlib import Path


def write_demo_video(outdir: Path, *, size=(1280, 720), yaw: float = 20.0, fps: float = 30.0, rig=None) -> list[Path]:
    """Write ``demo.csv`` (the export format), ``demo.png`` (the plot) and ``demo.mp4``
    (the head speaking the demo speech, with the sound) into ``outdir``; return their paths.
    ``rig``: the head to speak (default: the bundled one)."""
    from face3d.pipeline import analyze
    from face3d.assets import model_path
    from face3d.audio.files import load_audio
    from face3d.commands.render import render_video, track_poses, track_weights
    from face3d.mesh.heads import load_head
    from face3d.plot import plot_curves
    from face3d.render.video import frame_count, frame_times
    from face3d.track import save_csv

    speech = model_path("demo_speech.wav")
    samples, rate = load_audio(speech, rate=None)
    csv, png, mp4 = outdir / "demo.csv", outdir / "demo.png", outdir / "demo.mp4"
    # one analysis (mouth, blinks, brows, gaze, head) for the video, the CSV and the plot
    from face3d.commands._common import head_wants_visemes

    rig = load_head()
    track = analyze(samples, rate=rate, fps=None, alive=True, visemes=head_wants_visemes(rig))
    from face3d.track import WeightTrack

    keep = [j for j, n in enumerate(track.names) if not n.startswith("viseme_")]   # the CSV and plot: the curves
    curves = WeightTrack(track.times, tuple(track.names[j] for j in keep), track.values[:, keep])
    curves = curves.resample(60.0, duration=max(0.0, samples.shape[0] / rate - 1e-9))  # as export writes
    save_csv(curves, csv)
    plot_curves(curves, png, samples=samples, rate=rate, title="demo speech")
    n = frame_count(samples.shape[0] / rate, fps)
    times = frame_times(n, fps)
    weights = track_weights(track, rig, times, str(speech))
    size = (size[0] + size[0] % 2, size[1] + size[1] % 2)
    render_video(rig, weights, output=mp4, fps=fps, size=size, yaw=yaw, audio=(samples, rate),
                 progress=sys.stderr.isatty(), poses=track_poses(track, times))
    return [mp4, csv, png]
