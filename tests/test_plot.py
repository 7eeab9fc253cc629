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
    from face3d.plot import COLOURS, SPARE, plot_curves
    from face3d.track import WeightTrack

    t = np.arange(200) / 100.0
    jaw = (0.5 + 0.5 * np.sin(2 * np.pi * t)).astype(np.float32)
    yaw = (30.0 + 10.0 * np.cos(2 * np.pi * t)).astype(np.float32)
    out = tmp_path / "a.png"
    plot_curves(WeightTrack(t, ("jawOpen", "headYaw"), np.stack([jaw, yaw], axis=1)), out, size=(800, 600))
    img = np.asarray(Image.open(out).convert("RGB"))
    jaw_rows, jaw_count = colour_rows(img, hexrgb(COLOURS["jawOpen"]), tol=25)
    yaw_rows, yaw_count = colour_rows(img, hexrgb(SPARE[0]), tol=25)
    assert jaw_count > 200 and yaw_count > 200, "both curves drawn"
    assert np.median(yaw_rows) > jaw_rows.max(), "the angle panel is below the weights"
