"""Memory that does not grow with the file (issue 24, item 6): a long file is read, analysed
and written a block at a time, with the numbers of the whole file in memory."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from conftest import ROOT, run_cli

SPEECH = ROOT / "models" / "demo_speech.wav"


def _long_wav(path, seconds: float, rate: int = 44100):
    """``seconds`` of the demo speech, repeated, as 16-bit stereo at ``rate``."""
    import soxr

    x, r = sf.read(str(SPEECH), dtype="float32")
    if x.ndim > 1:
        x = x.mean(axis=1)
    y = soxr.resample(x, r, rate)
    y = np.resize(y, int(seconds * rate))
    sf.write(str(path), np.stack([y, 0.7 * y], axis=1), rate, subtype="PCM_16")
    return path


@pytest.fixture(scope="module")
def long_wav(tmp_path_factory):
    from face3d.analysis import BLOCK

    seconds = BLOCK / 16000 + 15  # longer than one analysis block
    return _long_wav(tmp_path_factory.mktemp("long") / "long.wav", seconds)


def test_blocks_give_the_numbers_of_the_whole_file(long_wav):
    from face3d.analysis import BLOCK, track_from_samples
    from face3d.audio.files import audio_blocks, load_audio
    from face3d.pipeline import WeightStream, analyze

    x, _ = load_audio(long_wav, rate=16000)
    assert x.shape[0] > BLOCK
    blocks = audio_blocks(long_wav, rate=16000, block=5000)
    assert next(blocks) == 16000
    np.testing.assert_array_equal(np.concatenate(list(blocks)), x)  # streaming decode + resample
    for alive in (False, True):
        whole = track_from_samples(x, alive=alive)
        ws = WeightStream(long_wav, alive=alive)
        np.testing.assert_array_equal(ws.track().values, whole.values)
        assert ws.duration == x.shape[0] / 16000
        ref = analyze(long_wav, fps=30.0, alive=alive)
        parts = list(WeightStream(long_wav, alive=alive).at_fps(30.0, rows=500))
        assert len(parts) > 1 and parts[0][0] == 0
        assert [f for f, _ in parts[1:]] == list(np.cumsum([len(t) for _, t in parts])[:-1])
        np.testing.assert_array_equal(np.concatenate([t.times for _, t in parts]), ref.times)
        np.testing.assert_array_equal(np.concatenate([t.values for _, t in parts]), ref.values)


def test_export_of_a_long_file_is_the_csv_of_the_whole_analysis(long_wav, tmp_path):
    import io

    from face3d.pipeline import analyze
    from face3d.track import write_csv

    out = tmp_path / "long.csv"
    r = run_cli("export", long_wav, "-o", out, timeout=300)
    assert r.returncode == 0, r.stderr
    buf = io.StringIO()
    write_csv(analyze(long_wav, fps=60.0, alive=True), buf)
    assert out.read_text() == buf.getvalue()


_MEASURE = """
import resource, subprocess, sys
r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
sys.stderr.buffer.write(r.stderr)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(r.returncode)
"""


def _peak_mb(*args) -> float:
    """Peak RSS of ``python -m face3d ARGS``, from a small process that runs it (a fork of
    this large one would pass its size on)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("DISPLAY", None)
    r = subprocess.run([sys.executable, "-S", "-c", _MEASURE, sys.executable, "-m", "face3d", *map(str, args)],
                       env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    return int(r.stdout.split()[-1]) / 1024.0


@pytest.mark.parametrize("extra", [[], ["--mouth-only"], ["--format", "arkit-csv"]])
def test_export_memory_does_not_grow_with_the_file(tmp_path, extra):
    """Exporting 6 minutes peaks within 40 MB of exporting 10 seconds (before: +180 MB, the
    whole decoded file at its own rate and the analysis' copies of it)."""
    short = _long_wav(tmp_path / "short.wav", 10)
    long = _long_wav(tmp_path / "long.wav", 360)
    a = _peak_mb("export", short, "-o", tmp_path / "s.csv", *extra)
    b = _peak_mb("export", long, "-o", tmp_path / "l.csv", *extra)
    assert b - a < 40, (a, b)
