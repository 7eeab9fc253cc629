"""What -o may name, through the real CLI in subprocesses (issue 24, items 2-4 and 14): several
inputs never make a folder out of a file's name; each output's type comes from its extension
and is written in that format or refused; a file that is not audio gets one line; a missing
output folder is made, by single-file commands as by batches."""

from __future__ import annotations

import shutil

import pytest

from conftest import ROOT, one_line_error, run_cli

SPEECH = ROOT / "models" / "demo_speech.wav"


@pytest.fixture(scope="module")
def two(tmp_path_factory):
    d = tmp_path_factory.mktemp("two")
    a, b = d / "a.wav", d / "b.wav"
    shutil.copyfile(SPEECH, a)
    shutil.copyfile(SPEECH, b)
    return a, b


@pytest.mark.parametrize("cmd, name", [("export", "one.csv"), ("render", "two.mp4"), ("export", "curves")])
def test_several_inputs_with_a_file_name_are_refused(two, tmp_path, cmd, name):
    a, b = two
    out = tmp_path / name
    one_line_error(run_cli(cmd, a, b, "-o", out), f"-o {out}", "is a file name", f"-o {out.stem}/")
    assert not out.exists()
    # a folder input likewise
    one_line_error(run_cli(cmd, a.parent, "-o", out), "is a file name", "folder")
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_batch_makes_its_folder_and_single_files_make_theirs(two, tmp_path):
    a, b = two
    r = run_cli("export", a, b, "-o", f"{tmp_path / 'deep' / 'er' / 'curves'}/")
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in (tmp_path / "deep/er/curves").iterdir()) == ["a.csv", "b.csv", "face3d-report.jsonl"]
    one = tmp_path / "new" / "folder" / "a.csv"
    r = run_cli("export", a, "-o", one)
    assert r.returncode == 0, r.stderr
    assert one.read_bytes() == (tmp_path / "deep/er/curves/a.csv").read_bytes()
    plot = tmp_path / "plots" / "a.png"
    r = run_cli("plot", one, "-o", plot)
    assert r.returncode == 0, r.stderr
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # a file where a folder should be: one line, nothing made
    (tmp_path / "afile").write_text("x")
    one_line_error(run_cli("export", a, "-o", tmp_path / "afile" / "x.csv"), "afile", "is a file")


def test_a_bad_input_makes_no_missing_folder(tmp_path):
    out = tmp_path / "missing" / "x.csv"
    one_line_error(run_cli("export", tmp_path / "nope.wav", "-o", out), "nope.wav")
    assert not (tmp_path / "missing").exists()


@pytest.mark.parametrize("args, needles", [
    (["-o", "o.mp4"], [".csv", ".tsv", ".json", ".xml", ".glb", "arkit-csv"]),
    (["-o", "a.fbx"], ["a.fbx", ".csv", ".glb", ".vrma"]),   # .vrma is written (a VRM Animation)
    (["-o", "a.json", "--format", "csv"], ["--format csv", ".csv"]),
    (["-o", "a.csv", "--format", "glb"], ["--format glb", ".glb"]),
])
def test_export_refuses_an_extension_it_does_not_write(tmp_path, args, needles):
    args = [tmp_path / a if a.startswith(("o.", "a.")) else a for a in args]
    one_line_error(run_cli("export", SPEECH, *args), *needles)
    assert list(tmp_path.iterdir()) == []


def test_export_picks_the_format_from_the_extension(tmp_path):
    for name, start in [("x.csv", b"frame,time_s,jawOpen"), ("x.json", b"{"), ("x.xml", b"<?xml"),
                        ("x.tsv", b"0.00\t"), ("x", b"frame,time_s,jawOpen")]:
        r = run_cli("export", SPEECH, "-o", tmp_path / name)
        assert r.returncode == 0, r.stderr
        assert (tmp_path / name).read_bytes().startswith(start), name


def test_snapshot_writes_a_real_jpeg_or_refuses(tmp_path):
    from PIL import Image

    for name in ("o.jpg", "o.jpeg", "o.png"):
        r = run_cli("snapshot", "--size", "64x48", "-o", tmp_path / name, timeout=120)
        assert r.returncode == 0, r.stderr
        with Image.open(tmp_path / name) as im:
            assert im.format == ("PNG" if name.endswith(".png") else "JPEG") and im.size == (64, 48)
            png_like = im.convert("RGB")
        if name == "o.jpg":
            jpg = png_like
    with Image.open(tmp_path / "o.png") as im:
        ref = im.convert("RGB")
    import numpy as np

    diff = np.abs(np.asarray(jpg, float) - np.asarray(ref, float))
    assert diff.mean() < 3.0  # the same picture, up to JPEG's loss
    one_line_error(run_cli("snapshot", "-o", tmp_path / "o.gif"), "o.gif", ".png", ".jpg")
    one_line_error(run_cli("snapshot", "-o", tmp_path / "t.jpg", "--background", "transparent"), "transparency")
    assert not (tmp_path / "o.gif").exists() and not (tmp_path / "t.jpg").exists()


def test_plot_refuses_other_picture_types(tmp_path):
    csv = tmp_path / "c.csv"
    assert run_cli("export", SPEECH, "-o", csv).returncode == 0
    one_line_error(run_cli("plot", csv, "-o", tmp_path / "p.svg"), "p.svg", ".png")
    assert not (tmp_path / "p.svg").exists()


def test_rig_refuses_a_file_name_that_is_not_npz(tmp_path):
    one_line_error(run_cli("rig", ROOT / "nope.obj", "-o", tmp_path / "x.obj"), "x.obj", ".npz")
    assert not (tmp_path / "x.obj").exists()


@pytest.mark.parametrize("content", [b"hello, this is a text file and not audio\n" * 3,
                                     ("This is a README, not audio at all. " * 40 + "\n").encode() * 200,
                                     bytes(range(256)) * 40])
def test_a_file_that_is_not_audio_named_mp3_gets_one_line(tmp_path, content):
    bad = tmp_path / "song.mp3"
    bad.write_bytes(content)
    line = one_line_error(run_cli("export", bad, "-o", tmp_path / "x.csv"), "song.mp3", "not a readable audio file")
    assert "video" not in line.split(";")[0]
    assert not (tmp_path / "x.csv").exists()
