"""One rule per option across commands (issue 24): video sizes even everywhere, the same
camera angle limits, curve weights 0 to 1 like --weights, help that lists what is taken."""

from __future__ import annotations

import re

import numpy as np
import pytest

from face3d.track import WeightTrack, save_csv

from _audio_helpers import run_cli


def _one_line(r, *words):
    assert r.returncode == 2, (r.returncode, r.stderr)
    line = r.stderr.strip()
    assert len(line.splitlines()) == 1 and "Traceback" not in line, r.stderr
    for w in words:
        assert w in line, line
    return line.split("error: ", 1)[1]


def test_odd_video_sizes_are_refused_alike_by_demo_and_render(tmp_path):
    csv = tmp_path / "c.csv"
    save_csv(WeightTrack(np.array([0.0, 1.0]), ("jawOpen",), np.array([[0.0], [1.0]], np.float32)), csv)
    a = _one_line(run_cli("demo", "--no-window", "--size", "801x601", "-o", tmp_path / "demo"), "802x602")
    b = _one_line(run_cli("render", "--curves", csv, "--size", "801x601", "-o", tmp_path / "r.mp4"), "802x602")
    assert a == b
    assert not (tmp_path / "demo").exists() and not (tmp_path / "r.mp4").exists()


@pytest.mark.parametrize("option, bad, words", [("--yaw", "1000", "-360 to 360"), ("--yaw", "-361", "-360 to 360"),
                                                 ("--pitch", "95", "-89 to 89")])
def test_camera_angles_have_the_same_limits_everywhere(tmp_path, option, bad, words):
    cmds = {"snapshot": ["snapshot", "-o", tmp_path / "s.png"],
            "render": ["render", "--curves", tmp_path / "c.csv", "-o", tmp_path / "r.mp4"]}
    if option == "--yaw":
        cmds["demo"] = ["demo", "--no-window", "-o", tmp_path / "demo"]
    lines = {name: _one_line(run_cli(*argv, option, bad), option, bad, words) for name, argv in cmds.items()}
    assert len({re.sub(r"face3d \w+", "", v) for v in lines.values()}) == 1, lines


def test_camera_angle_limits_in_the_parsers():
    """Every command with --yaw or --pitch takes the same values (parsed, not rendered)."""
    import argparse

    from face3d.cli import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    for option, good, bad in (("--yaw", ("360", "-360", "20"), ("360.5", "1000")), ("--pitch", ("89", "-89"), ("90", "-95"))):
        takers = [(n, p._option_string_actions[option]) for n, p in sub.choices.items() if option in p._option_string_actions]
        assert len(takers) >= 2, (option, takers)
        for name, action in takers:
            for v in good:
                assert action.type(v) == float(v), (name, option, v)
            for v in bad:
                with pytest.raises(argparse.ArgumentTypeError):
                    action.type(v)


@pytest.mark.parametrize("value", ["2.5", "-1"])
def test_curve_weights_outside_0_1_are_refused_like_weights(tmp_path, value):
    t = np.arange(0, 1.0, 0.1)
    jaw = np.full_like(t, 0.5)
    jaw[4] = float(value)
    csv = tmp_path / "bad.csv"
    csv.write_text("time_s,jawOpen,headYaw\n" + "".join(f"{a:.1f},{b},{30.0}\n" for a, b in zip(t, jaw)))
    r = run_cli("render", "--curves", csv, "-o", tmp_path / "r.mp4", "--size", "64x64")
    _one_line(r, "bad.csv", "jawOpen", value, "0 to 1")
    assert not (tmp_path / "r.mp4").exists()
    r = run_cli("view", "--curves", csv, "--window", "headless", "--seconds", "0.2")
    _one_line(r, "bad.csv", "jawOpen", value, "0 to 1")
    _one_line(run_cli("snapshot", "--weights", f"jawOpen={value}", "-o", tmp_path / "s.png"), "jawOpen", "0 to 1")


def test_curve_angles_are_not_weights(tmp_path):
    """headYaw = 30 degrees is fine; only weight columns must be 0 to 1."""
    t = np.arange(0, 0.5, 0.1)
    csv = tmp_path / "ok.csv"
    csv.write_text("time_s,jawOpen,headYaw\n" + "".join(f"{a:.1f},0.5,30\n" for a in t))
    r = run_cli("render", "--curves", csv, "--frames", tmp_path / "frames", "--size", "64x64", "--fps", "10")
    assert r.returncode == 0, r.stderr


def _help(cmd):
    r = run_cli(cmd, "--help")
    assert r.returncode == 0, r.stderr
    return " ".join(r.stdout.split())


@pytest.mark.parametrize("cmd", ["view", "stream"])
def test_playing_commands_list_what_plays(cmd):
    from face3d.audio.decode import FORMATS

    text = _help(cmd)
    assert "(WAV, FLAC, OGG)" not in text and " ".join(FORMATS.split()) in text


@pytest.mark.parametrize("cmd", ["view", "render", "snapshot"])
def test_background_help_lists_every_colour_taken(cmd):
    from face3d.commands._common import COLOURS, parse_background

    text = _help(cmd)
    block = text[text.index("--background COLOR"):]
    for name in COLOURS:
        assert re.search(rf"\b{name}\b", block), f"{cmd} --help does not list {name}"
        assert parse_background(name) == COLOURS[name]
    assert "#RRGGBB" in block and "#RGB" in block
    assert parse_background("#0f0") == (0.0, 1.0, 0.0)
