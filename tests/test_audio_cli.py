"""``face3d export`` end to end in subprocesses, and every bad input of the audio path."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from face3d.track import ALIVE_NAMES, MOUTH_NAMES, read_csv

from _audio_helpers import run_cli, speak

# the mouth columns, then blinks, brows, gaze and head angles (issue 12; --mouth-only: the first four)
HEADER = ",".join(["frame", "time_s", *MOUTH_NAMES, *ALIVE_NAMES])


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    x, rate = speak("Hello there, how are you today?", d / "hello.wav")
    stereo = np.stack([x, 0.5 * x], axis=1)
    sf.write(str(d / "stereo.flac"), stereo, 44100 if rate == 44100 else rate, subtype="PCM_24")
    sf.write(str(d / "float.ogg"), x, rate, format="OGG", subtype="VORBIS")
    sf.write(str(d / "int32.wav"), (x * 2**30).astype(np.int32), rate, subtype="PCM_32")
    return d, x, rate


def test_export_one_file(files, tmp_path):
    d, x, rate = files
    out = tmp_path / "curves.csv"
    r = run_cli("export", d / "hello.wav", "-o", out, "--fps", "30")
    assert r.returncode == 0, r.stderr
    lines = out.read_text().splitlines()
    assert lines[0] == HEADER
    assert len(lines) - 1 == int(np.floor((len(x) / rate - 1e-9) * 30)) + 1
    tr = read_csv(out)
    np.testing.assert_allclose(tr.times, np.arange(len(tr)) / 30, atol=5e-5)
    assert tr.column("jawOpen").max() > 0.5


def test_export_many_files_into_folder(files, tmp_path):
    d, _, _ = files
    outdir = tmp_path / "outdir"
    r = run_cli("export", d / "hello.wav", d / "stereo.flac", d / "float.ogg", d / "int32.wav", "-o", f"{outdir}/")
    assert r.returncode == 0, r.stderr
    names = sorted(p.name for p in outdir.iterdir() if p.name != "face3d-report.jsonl")
    assert names == ["float.csv", "hello.csv", "int32.csv", "stereo.csv"]
    assert (outdir / "face3d-report.jsonl").is_file()
    ref = read_csv(outdir / "hello.csv")
    for n in names:
        tr = read_csv(outdir / n)
        assert tr.names == ref.names and len(tr) == len(ref)
        assert np.corrcoef(tr.column("jawOpen"), ref.column("jawOpen"))[0, 1] > 0.95, n


def _write_bad(tmp_path, kind):
    p = tmp_path / f"{kind}.wav"
    if kind == "missing":
        return p
    if kind == "empty":
        p.write_bytes(b"")
    elif kind == "text":
        p.write_text("this is not audio\n" * 20)
    elif kind == "truncated":
        p.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt ")
    elif kind == "zero_length":
        sf.write(str(p), np.zeros(0, np.float32), 16000)
    elif kind in ("nan", "inf"):
        x = np.zeros(16000, np.float32)
        x[100] = np.nan if kind == "nan" else np.inf
        sf.write(str(p), x, 16000, subtype="FLOAT")
    elif kind == "folder":
        p.mkdir()
    return p


@pytest.mark.parametrize("kind", ["missing", "empty", "text", "truncated", "zero_length", "nan", "inf", "folder"])
def test_bad_input_is_one_line_exit_2(tmp_path, kind):
    p = _write_bad(tmp_path, kind)
    out = tmp_path / "out.csv"
    r = run_cli("export", p, "-o", out)
    assert r.returncode == 2, (r.returncode, r.stderr)
    err = r.stderr.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in r.stderr, r.stderr
    assert str(p.name) in err[0] and err[0].startswith("face3d export: error:")
    assert not out.exists()


def test_bad_options(files, tmp_path):
    d, _, _ = files
    for args in (["--fps", "0"], ["--fps", "abc"], []):
        r = run_cli("export", d / "hello.wav", *(args + ["-o", tmp_path / "x.csv"] if args else []))
        assert r.returncode == 2 and "Traceback" not in r.stderr
        assert len(r.stderr.strip().splitlines()) <= 2
    r = run_cli("export", d / "hello.wav", d / "hello.wav", "-o", f"{tmp_path / 'o'}/")
    assert r.returncode == 2 and "both write" in r.stderr


def test_failure_in_a_batch_keeps_no_partial_file(files, tmp_path):
    d, _, _ = files
    bad = _write_bad(tmp_path, "text")
    outdir = tmp_path / "o"
    r = run_cli("export", d / "hello.wav", bad, "-o", f"{outdir}/")
    assert r.returncode == 1  # the bad file is reported, the good one written
    assert not (outdir / "text.csv").exists() and (outdir / "hello.csv").is_file()
    assert not [p for p in outdir.iterdir() if p.name.startswith(".")]
