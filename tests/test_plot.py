"""``face3d plot`` and ``export --plot``: a PNG of the requested size with every panel drawn."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from _audio_helpers import run_cli, speak

pytest.importorskip("matplotlib")


def hexrgb(h):
    return np.array([int(h[i:i + 2], 16) for i in (1, 3, 5)])


def colour_rows(img, colour, tol=40):
    """Rows (y) where ``colour`` is drawn (within ``tol`` per channel)."""
    near = (np.abs(img[..., :3].astype(int) - colour) <= tol).all(axis=2)
    return np.nonzero(near.any(axis=1))[0], int(near.sum())


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    d = tmp_path_factory.mktemp("plot")
    speak("Open wide, then say ooh and mmm.", d / "speech.wav")
    return d


def check_panels(png, size, with_wave=True):
    from face3d.plot import COLOURS, WAVE

    img = np.asarray(Image.open(png).convert("RGB"))
    assert img.shape == (size[1], size[0], 3)
    curve_rows = {}
    for name in ("jawOpen", "mouthClose"):
        rows, count = colour_rows(img, hexrgb(COLOURS[name]), tol=25)
        assert count > 200, f"{name} curve drawn"
        curve_rows[name] = rows
    wave_rows, wave_count = colour_rows(img, hexrgb(WAVE), tol=25)
    if not with_wave:
        assert wave_count < 50
        return
    assert wave_count > 2000, "waveform drawn"
    # The waveform panel is above the curves panel, on one time axis.
    assert np.median(wave_rows) < np.median(curve_rows["jawOpen"])
    assert wave_rows.min() < size[1] * 0.35 and curve_rows["jawOpen"].max() > size[1] * 0.6


def test_plot_with_audio(speech, tmp_path):
    r = run_cli("export", speech / "speech.wav", "-o", tmp_path / "c.csv")
    assert r.returncode == 0, r.stderr
    out = tmp_path / "curves.png"
    r = run_cli("plot", tmp_path / "c.csv", "--audio", speech / "speech.wav", "-o", out, "--size", "900x500")
    assert r.returncode == 0, r.stderr
    check_panels(out, (900, 500))


def test_plot_without_audio(speech, tmp_path):
    r = run_cli("export", speech / "speech.wav", "-o", tmp_path / "c.csv")
    assert r.returncode == 0, r.stderr
    r = run_cli("plot", tmp_path / "c.csv", "-o", tmp_path / "p.png")
    assert r.returncode == 0, r.stderr
    check_panels(tmp_path / "p.png", (1200, 600), with_wave=False)


def test_export_plot_beside_csv(speech, tmp_path):
    r = run_cli("export", speech / "speech.wav", "-o", tmp_path / "speech.csv", "--plot")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "speech.csv").exists()
    check_panels(tmp_path / "speech.png", (1200, 600))


@pytest.mark.parametrize("kind", ["no_csv", "bad_csv", "bad_audio", "no_folder", "size"])
def test_plot_bad_input(speech, tmp_path, kind):
    csv = tmp_path / "c.csv"
    csv.write_text("time_s,jawOpen\n0,0\n1,1\n")
    out = tmp_path / "p.png"
    args = {
        "no_csv": [tmp_path / "missing.csv", "-o", out],
        "bad_csv": [speech / "speech.wav", "-o", out],
        "bad_audio": [csv, "--audio", csv, "-o", out],
        "no_folder": [csv, "-o", csv / "p.png"],  # a file where the folder should be (a missing one is made)
        "size": [csv, "-o", out, "--size", "0x0"],
    }[kind]
    r = run_cli("plot", *args)
    assert r.returncode == 2, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert not out.exists()


def test_angles_in_their_own_panel_below_the_weights(tmp_path):
    """Head and gaze angles are degrees: drawn on their own axis under the 0-1 weights
    (on the weights' axis 20-40 degrees would be off the chart)."""
    from face3d.plot import ANGLE_COLOURS, COLOURS, plot_curves
    from face3d.track import WeightTrack

    t = np.arange(200) / 100.0
    jaw = (0.5 + 0.5 * np.sin(2 * np.pi * t)).astype(np.float32)
    yaw = (30.0 + 10.0 * np.cos(2 * np.pi * t)).astype(np.float32)
    out = tmp_path / "a.png"
    plot_curves(WeightTrack(t, ("jawOpen", "headYaw"), np.stack([jaw, yaw], axis=1)), out, size=(800, 600))
    img = np.asarray(Image.open(out).convert("RGB"))
    jaw_rows, jaw_count = colour_rows(img, hexrgb(COLOURS["jawOpen"]), tol=25)
    yaw_rows, yaw_count = colour_rows(img, hexrgb(ANGLE_COLOURS[0]), tol=25)
    assert jaw_count > 200 and yaw_count > 200, "both curves drawn"
    assert np.median(yaw_rows) > jaw_rows.max(), "the angle panel is below the weights"


def _boxes_overlap(a, b) -> bool:
    return a.x0 < b.x1 - 0.5 and b.x0 < a.x1 - 0.5 and a.y0 < b.y1 - 0.5 and b.y0 < a.y1 - 0.5


@pytest.mark.parametrize("size", [(1200, 600), (800, 450), (640, 360)])
def test_legends_never_cover_the_curves(speech, size):
    """Each legend sits outside every panel (in the band on the right), inside the picture,
    at every size from the smallest allowed; the curves span the whole time axis."""
    import soundfile as sf

    from face3d.pipeline import analyze
    from face3d.plot import curves_figure

    x, rate = sf.read(str(speech / "speech.wav"), dtype="float32")
    track = analyze(x, rate=rate, fps=None, alive=True)
    fig = curves_figure(track, samples=x, rate=rate, size=size, title="speech.wav")
    axes = fig.get_axes()
    legends = [a.get_legend() for a in axes if a.get_legend() is not None]
    assert len(legends) == 2, "the weights' and the angles' legends"
    page = fig.bbox
    for leg in legends:
        box = leg.get_window_extent()
        assert box.x0 >= page.x0 - 0.5 and box.x1 <= page.x1 + 0.5 and box.y0 >= page.y0 - 0.5 and box.y1 <= page.y1 + 0.5
        for a in axes:
            assert not _boxes_overlap(box, a.get_window_extent()), f"a legend covers a panel at {size}"
    # the curves keep most of the width (half at the smallest size)
    assert min(a.get_window_extent().width for a in axes) > (0.45 if size[0] < 800 else 0.65) * size[0]


def test_too_small_a_plot_is_refused_without_warnings(speech, tmp_path):
    csv = tmp_path / "c.csv"
    r = run_cli("export", speech / "speech.wav", "-o", csv)
    assert r.returncode == 0, r.stderr
    r = run_cli("plot", csv, "-o", tmp_path / "p.png", "--size", "100x50")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "640x360" in r.stderr, r.stderr
    assert not (tmp_path / "p.png").exists()
    r = run_cli("plot", csv, "--audio", speech / "speech.wav", "-o", tmp_path / "p.png", "--size", "640x360")
    assert r.returncode == 0 and r.stderr == "", r.stderr
