"""WeightTrack interpolation and the CSV format."""

from __future__ import annotations

import io

import numpy as np
import pytest

from face3d.errors import FormatError
from face3d.track import WeightTrack, read_csv, read_csv_text, save_csv, write_csv

NAMES = ("jawOpen", "mouthWide", "mouthPucker", "mouthClose")


def make(n=50, fps=100.0):
    rng = np.random.default_rng(3)
    return WeightTrack(np.arange(n) / fps, NAMES, rng.random((n, 4)).astype(np.float32))


def test_at_interpolates_and_clamps():
    tr = WeightTrack([0.0, 1.0, 3.0], ("a", "b"), [[0, 1], [1, 0], [0, 0.5]])
    np.testing.assert_allclose(tr.at(0.5), [0.5, 0.5])
    np.testing.assert_allclose(tr.at(2.0), [0.5, 0.25])
    np.testing.assert_allclose(tr.at(-5), [0, 1])
    np.testing.assert_allclose(tr.at(99), [0, 0.5])
    np.testing.assert_allclose(tr.at(1.0), [1, 0])
    np.testing.assert_allclose(tr.sample([0.5, 2.0, 99]), [[0.5, 0.5], [0.5, 0.25], [0, 0.5]])
    assert tr.at(0.5).dtype == np.float32
    assert tr.as_dict(0.5) == {"a": 0.5, "b": 0.5}


def test_at_matches_sample_everywhere():
    tr = make(200)
    q = np.linspace(-0.1, 2.1, 777)
    np.testing.assert_allclose(np.array([tr.at(t) for t in q]), tr.sample(q), atol=1e-6)


def test_resample():
    tr = make(101)  # 0 .. 1.0 s
    r = tr.resample(60)
    assert len(r) == 61
    np.testing.assert_allclose(r.times, np.arange(61) / 60)
    np.testing.assert_allclose(r.values[30], tr.at(0.5), atol=1e-6)


def test_bad_track_shapes():
    with pytest.raises(ValueError):
        WeightTrack([0, 1], NAMES, np.zeros((3, 4)))
    with pytest.raises(ValueError):
        WeightTrack([0, 0], ("a",), np.zeros((2, 1)))


def test_csv_round_trip(tmp_path):
    tr = make()
    p = tmp_path / "c.csv"
    save_csv(tr, p, fps=60)
    text = p.read_text()
    lines = text.splitlines()
    assert lines[0] == "frame,time_s,jawOpen,mouthWide,mouthPucker,mouthClose"
    assert lines[1].startswith("0,0.0000,")
    f, t, *vals = lines[2].split(",")
    assert f == "1" and t == "0.0167" and all(len(v.split(".")[1]) == 4 for v in vals)
    back = read_csv(p)
    assert back.names == NAMES
    ref = tr.resample(60)
    np.testing.assert_allclose(back.times, ref.times, atol=5e-5)
    np.testing.assert_allclose(back.values, ref.values, atol=5e-5 + 1e-7)
    # and from a stream
    back2 = read_csv(io.StringIO(text))
    np.testing.assert_array_equal(back2.values, back.values)


def test_write_csv_without_fps_keeps_times():
    tr = WeightTrack([0.0, 0.5], ("jawOpen",), [[0.12344], [1.0]])
    s = io.StringIO()
    write_csv(tr, s)
    assert s.getvalue() == "frame,time_s,jawOpen\n0,0.0000,0.1234\n1,0.5000,1.0000\n"


@pytest.mark.parametrize("header", ["time,jawOpen", "t,jawOpen", "seconds,jawOpen", "Time_S,jawOpen"])
def test_read_any_time_column_and_subset(header):
    tr = read_csv_text(f"{header}\n0,0.1\n0.5,0.9\n")
    assert tr.names == ("jawOpen",)
    np.testing.assert_allclose(tr.at(0.25), [0.5])


def test_read_ignores_frame_and_filters_names():
    tr = read_csv(io.StringIO("frame,time_s,mouthClose,blink\n0,0,1,0\n1,0.1,,1\n"), names=NAMES)
    assert tr.names == ("mouthClose",)
    np.testing.assert_allclose(tr.values[:, 0], [1, 0])


@pytest.mark.parametrize(
    "text, needle",
    [
        ("", "empty CSV"),
        ("jawOpen,mouthWide\n0,1\n", "no time column"),
        ("time_s\n0\n", "no shape columns"),
        ("time_s,jawOpen\n", "no rows"),
        ("time_s,jawOpen\n0,0\nabc,1\n", ":3: time 'abc'"),
        ("time_s,jawOpen\n0,0\n0.1,x\n", ":3: jawOpen value 'x'"),
        ("time_s,jawOpen\n0,0\n0,1\n", ":3: time 0.0 does not increase"),
        ("time_s,jawOpen\n0,0,5\n", ":2: 3 fields"),
        ("time_s,jawOpen\n0,nan\n", "not finite"),
    ],
)
def test_bad_csv_names_file_and_line(text, needle):
    with pytest.raises(FormatError) as ei:
        read_csv_text(text, label="curves.csv")
    assert "curves.csv" in str(ei.value) and needle in str(ei.value)
    assert "\n" not in str(ei.value)


def test_bad_csv_files(tmp_path):
    with pytest.raises(FormatError, match="no such file"):
        read_csv(tmp_path / "missing.csv")
    p = tmp_path / "bin.csv"
    p.write_bytes(b"\xff\xfe\x00\x81garbage")
    with pytest.raises(FormatError, match="bin.csv"):
        read_csv(p)


def test_mouth_names_are_the_analysis_names():
    from face3d.analysis import NAMES
    from face3d.track import MOUTH_NAMES, WeightTrack, export_columns

    assert tuple(NAMES) == MOUTH_NAMES
    tr = WeightTrack(np.arange(3) / 60.0, ("extra", "jawOpen"), np.array([[1, 0.5]] * 3, np.float32))
    ex = export_columns(tr)
    assert ex.names == MOUTH_NAMES + ("extra",)
    assert np.allclose(ex.column("jawOpen"), 0.5) and np.allclose(ex.column("mouthClose"), 0.0)
    assert np.allclose(ex.column("extra"), 1.0)
