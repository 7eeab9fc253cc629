"""Heads that carry visemes are driven by them (issue 21): a Ready Player Me-style head's own
viseme_* targets, an ARKit head's mouth shapes, a VRM head's vowels; the drawing path
(render --curves, the GLB export) and the tables."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from conftest import run_cli

VISEMES = ("sil", "PP", "FF", "TH", "DD", "kk", "CH", "SS", "nn", "RR", "aa", "E", "I", "O", "U")
VNAMES = tuple(f"viseme_{v}" for v in VISEMES)
CURVES = ("jawOpen", "mouthWide", "mouthPucker", "mouthClose")


def _basis(src):
    """The default head's four mouth deltas (stand-ins for a head's own sculpted shapes)."""
    return {n: src.deltas[src.shape_index(n)].astype(np.float64) for n in CURVES}


def _rpm_morphs(src):
    """Fifteen distinct viseme_* targets (sil moves nothing, as Ready Player Me's) made of
    the four mouth deltas with coefficients of their own; FF is the lower lip coming up alone."""
    b = _basis(src)
    rng = np.random.default_rng(3)
    morphs = {}
    for v in VNAMES:
        if v == "viseme_sil":
            morphs[v] = np.zeros_like(b["jawOpen"])
        elif v == "viseme_FF":
            morphs[v] = b["mouthClose"] * 1.0
        else:
            c = rng.uniform(0.1, 1.0, 4)
            morphs[v] = sum(ci * b[n] for ci, n in zip(c, CURVES))
    return morphs


def _scale(a, b):
    return np.ptp(b.positions, 0).max() / np.ptp(a.positions, 0).max()


@pytest.fixture(scope="module")
def rpm(tmp_path_factory, default_rig):
    from face3d.mesh.io.gltf import write_glb

    path = tmp_path_factory.mktemp("rpm") / "rpm.glb"
    src = default_rig
    write_glb(path, src.positions, src.faces, _rpm_morphs(src), colors=src.colors)
    return path


def _track(tmp_path, ff_rows, jaw=0.8):
    """A weight CSV at 10 fps: the four curves (jaw open) and the fifteen visemes, sil at
    rest except on ``ff_rows`` where viseme_FF takes it all."""
    from face3d.track import WeightTrack, save_csv

    n = 10
    names = CURVES + VNAMES
    vals = np.zeros((n, len(names)), np.float32)
    vals[:, 0] = jaw
    vals[:, len(CURVES)] = 1.0
    for r in ff_rows:
        vals[r, len(CURVES)] = 0.0
        vals[r, len(CURVES) + VISEMES.index("FF")] = 1.0
    tr = WeightTrack(np.arange(n) / 10.0, names, vals)
    path = tmp_path / "track.csv"
    save_csv(tr, path)
    return tr, path


def test_names_are_the_analysis_names():
    from face3d.analysis import VISEME_NAMES
    from face3d.formats.arkit import FROM_VISEMES
    from face3d.mesh.rig.visemes import ARKIT_FROM_VISEMES, VISEME_NAMES as MESH_NAMES

    assert MESH_NAMES == VISEME_NAMES == VNAMES
    # the ARKit CSV export and the ARKit heads read one table
    assert {k.lower(): v for k, v in FROM_VISEMES.items()} == {k.lower(): v for k, v in ARKIT_FROM_VISEMES.items()}


def test_rpm_head_gets_its_own_fifteen(rpm, default_rig):
    from face3d.mesh.heads import load_head

    rig = load_head(rpm)
    note = rig.info["visemes"]
    assert note["kind"] == "oculus" and note["mutes"] == list(CURVES)
    assert set(VNAMES) <= set(rig.names)
    s = _scale(default_rig, rig)
    morphs = _rpm_morphs(default_rig)
    for v in VNAMES:   # each its own target, as the file has it
        assert np.allclose(rig.deltas[rig.shape_index(v)], morphs[v] * s, atol=2e-4 * s), v


def test_rpm_head_moves_its_own_ff_on_an_f(rpm, tmp_path, gl):
    """Through the real CLI: a weight track with viseme_FF high on frames 4-6 renders those
    frames as the head's own FF target (the snapshot of viseme_FF=1), the jaw curve of the
    track left to the visemes; the sil frames render as the neutral head."""
    from PIL import Image

    _, csv = _track(tmp_path, ff_rows=(4, 5, 6))
    frames = tmp_path / "frames"
    res = run_cli("render", "--curves", csv, "--head", rpm, "--frames", frames, "--size", "96x96", "--fps", "10",
                  "--samples", "4", "--background", "black", "--no-progress")
    assert res.returncode == 0, res.stderr
    assert "visemes drive its mouth" in res.stderr
    shots = sorted(frames.glob("*.png"))
    assert len(shots) == 9          # the track lasts 0.9 s
    img = [np.asarray(Image.open(p).convert("RGB"), int) for p in shots]
    ref = {}
    for key, w in (("ff", "viseme_FF=1"), ("neutral", ""), ("jaw", "jawOpen=0.8")):
        out = tmp_path / f"{key}.png"
        args = ("--weights", w) if w else ()
        r = run_cli("snapshot", "--head", rpm, "--size", "96x96", "--background", "black", "-o", out, *args)
        assert r.returncode == 0, r.stderr
        ref[key] = np.asarray(Image.open(out).convert("RGB"), int)
    assert np.abs(ref["ff"] - ref["neutral"]).max(2).__gt__(30).sum() > 20     # FF shows
    for i in (4, 5, 6):
        assert np.abs(img[i] - ref["ff"]).max() <= 3, i
    for i in (0, 8):
        assert np.abs(img[i] - ref["neutral"]).max() <= 3, i              # not the jaw curve's open mouth
        assert np.abs(img[i] - ref["jaw"]).max(2).__gt__(30).sum() > 20


def test_track_without_visemes_drives_as_before(rpm):
    from face3d.commands.render import track_weights
    from face3d.mesh.heads import load_head
    from face3d.track import WeightTrack

    rig = load_head(rpm)
    tr = WeightTrack(np.array([0.0, 0.1]), CURVES, np.full((2, 4), 0.5, np.float32))
    w = track_weights(tr, rig, np.array([0.0, 0.1]), "t")
    for n in CURVES:
        assert np.all(w[:, rig.shape_index(n)] == 0.5)
    assert np.all(w[:, [rig.shape_index(v) for v in VNAMES]] == 0)


def test_glb_export_carries_the_heads_viseme_targets(rpm, tmp_path):
    import pygltflib

    from face3d import formats
    from face3d.mesh.heads import load_head

    rig = load_head(rpm)
    tr, _ = _track(tmp_path, ff_rows=(4, 5, 6))
    info = formats.ExportInfo(duration=1.0, sound_file="x.wav", fps=10.0, rig=rig, options={})
    out = tmp_path / "out.glb"
    formats.save(formats.get("glb"), tr, out, info)
    g = pygltflib.GLTF2().load(str(out))
    names = g.meshes[0].extras["targetNames"]
    assert set(VNAMES) <= set(names)
    samp = g.animations[0].samplers[0]
    acc = g.accessors[samp.output]
    view = g.bufferViews[acc.bufferView]
    blob = g.binary_blob()
    w = np.frombuffer(blob[view.byteOffset: view.byteOffset + view.byteLength], np.float32).reshape(-1, len(names))
    ff, jaw, sil = names.index("viseme_FF"), names.index("jawOpen"), names.index("viseme_sil")
    t = g.accessors[samp.input]
    times = np.frombuffer(blob[g.bufferViews[t.bufferView].byteOffset:][: t.count * 4], np.float32)
    on = (times > 0.42) & (times < 0.58)
    assert on.any() and np.all(w[on, ff] > 0.99) and np.all(w[on, sil] < 0.01)
    assert np.all(w[:, jaw] == 0)      # the curves are left to the head's own visemes


def _arkit_morphs(src):
    b = _basis(src)
    return {"jawOpen": b["jawOpen"], "mouthClose": b["mouthClose"], "mouthPucker": b["mouthPucker"],
            "mouthStretchLeft": b["mouthWide"] * 0.5, "mouthStretchRight": b["mouthWide"] * 0.5,
            "mouthRollLower": b["mouthClose"] * 0.7 + b["mouthPucker"] * 0.2,
            "mouthFunnel": b["mouthPucker"] * 0.8, "tongueOut": b["jawOpen"] * 0.3}


def test_arkit_head_gets_mouth_roll_lower_on_ff(tmp_path, default_rig, gl):
    from face3d.commands.render import track_weights
    from face3d.mesh.heads import load_head
    from face3d.mesh.io.gltf import write_glb
    from face3d.render.offscreen import render_snapshot

    src = default_rig
    morphs = _arkit_morphs(src)
    write_glb(tmp_path / "arkit.glb", src.positions, src.faces, morphs, colors=src.colors)
    rig = load_head(tmp_path / "arkit.glb")
    note = rig.info["visemes"]
    assert note["kind"] == "arkit" and note["mutes"] == []
    assert note["sources"]["viseme_FF"] == ["mouthRollLower*0.9"]
    assert note["sources"]["viseme_TH"] == ["tongueOut*0.5"]
    s = _scale(src, rig)
    ff = rig.deltas[rig.shape_index("viseme_FF")]
    assert np.allclose(ff, 0.9 * morphs["mouthRollLower"] * s, atol=2e-4 * s)
    # a track with FF: the jaw curve still drives jawOpen, and viseme_FF the lower lip's roll
    tr, _ = _track(tmp_path, ff_rows=(4, 5, 6), jaw=0.3)
    w = track_weights(tr, rig, tr.times, "t")
    assert np.all(w[:, rig.shape_index("jawOpen")] == pytest.approx(0.3))
    assert w[5, rig.shape_index("viseme_FF")] == 1.0 and w[0, rig.shape_index("viseme_FF")] == 0.0
    a = render_snapshot(rig, w[5], size=(96, 96), ctx=gl).astype(int)
    b = render_snapshot(rig, w[0], size=(96, 96), ctx=gl).astype(int)
    gl.detect_framebuffer(0).use()
    assert (np.abs(a - b).max(2) > 30).sum() > 10


def test_vrm_head_gets_its_vowels_from_the_visemes(tmp_path, default_rig):
    from face3d.mesh.heads import load_head
    from face3d.mesh.io.gltf import write_glb
    from face3d.mesh.rig.visemes import VRM_FROM_VISEMES, shape_columns

    src = default_rig
    b = _basis(src)
    morphs = {"aa": b["jawOpen"], "ih": b["mouthWide"] * 0.6, "ou": b["mouthPucker"],
              "ee": b["mouthWide"] + 0.3 * b["jawOpen"], "oh": b["mouthPucker"] + 0.5 * b["jawOpen"]}
    write_glb(tmp_path / "vrm.glb", src.positions, src.faces, morphs, colors=src.colors)
    rig = load_head(tmp_path / "vrm.glb")
    note = rig.info["visemes"]
    assert note["kind"] == "vrm"
    assert set(note["mutes"]) == {"jawOpen", "mouthWide", "mouthPucker"}   # the synthesised close stays
    s = _scale(src, rig)
    for v in ("viseme_aa", "viseme_O", "viseme_FF"):
        want = sum(f[v] * morphs[vowel] for vowel, f in VRM_FROM_VISEMES.items() if v in f)
        assert np.allclose(rig.deltas[rig.shape_index(v)], want * s, atol=2e-4 * s), v
    assert "viseme_PP" not in rig.names and "viseme_sil" not in rig.names   # the closed mouth: no vowel
    cols = dict((rig.names[k], j) for j, k in shape_columns(rig, CURVES + VNAMES))
    assert "jawOpen" not in cols and "mouthClose" in cols and "viseme_aa" in cols


def _model_has_visemes() -> bool:
    from face3d.analysis.model import load_model

    return load_model().n_out >= 19


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_rpm_head_ff_from_the_analysis_of_fife(rpm, tmp_path):
    """espeak-ng saying "fife", analysed: the head's own FF target is driven on the f's."""
    if not _model_has_visemes():
        pytest.skip("the shipped viseme model has no viseme head yet (the refit adds it)")
    from face3d.audio.files import load_audio
    from face3d.commands.render import track_weights
    from face3d.mesh.heads import load_head
    from face3d.pipeline import analyze

    wav = tmp_path / "fife.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(wav), "fife"], check=True)
    x, rate = load_audio(wav, rate=None)
    track = analyze(x, rate=rate, fps=None, visemes=True)
    rig = load_head(rpm)
    w = track_weights(track, rig, track.times, "fife")
    ff = w[:, rig.shape_index("viseme_FF")]
    assert ff.max() > 0.5
    assert np.all(w[:, rig.shape_index("jawOpen")] == 0)
    # the GLB export of the same sound drives the head's own FF target
    import pygltflib

    r = run_cli("export", wav, "-o", tmp_path / "fife.glb", "--format", "glb", "--head", rpm)
    assert r.returncode == 0, r.stderr
    g = pygltflib.GLTF2().load(str(tmp_path / "fife.glb"))
    names = g.meshes[0].extras["targetNames"]
    acc = g.accessors[g.animations[0].samplers[0].output]
    view = g.bufferViews[acc.bufferView]
    glb_w = np.frombuffer(g.binary_blob()[view.byteOffset: view.byteOffset + view.byteLength],
                          np.float32).reshape(-1, len(names))
    assert glb_w[:, names.index("viseme_FF")].max() > 0.5


def test_stream_vmc_names_visemes(tmp_path):
    """``stream --vmc --names visemes`` sends the fifteen (summing to 1) when the model gives
    them, and is a one-line error (exit 2) when it does not; the VRM names never need them."""
    pytest.importorskip("pythonosc")
    import threading

    from pythonosc.dispatcher import Dispatcher
    from pythonosc.osc_server import BlockingOSCUDPServer

    import soundfile
    got = []
    d = Dispatcher()
    d.map("/VMC/Ext/Blend/Val", lambda _a, name, value: got.append((name, value)))
    server = BlockingOSCUDPServer(("127.0.0.1", 0), d)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        wav = tmp_path / "tone.wav"
        rate = 16000
        t = np.arange(rate) / rate
        soundfile.write(wav, (0.3 * np.sin(2 * np.pi * 220 * t) * (t > 0.3)).astype(np.float32), rate)
        port = server.server_address[1]
        r = run_cli("stream", wav, "--mute", "--vmc", f"127.0.0.1:{port}", "--names", "visemes", "--seconds", "0.5")
        if _model_has_visemes():
            assert r.returncode == 0, r.stderr
            names = [n for n, _ in got[:15]]
            assert tuple(names) == VNAMES and abs(sum(v for _, v in got[:15]) - 1) < 1e-3
        else:
            assert r.returncode == 2 and "Traceback" not in r.stderr
            assert len(r.stderr.strip().splitlines()) == 1 and "--names visemes" in r.stderr
        got.clear()
        r = run_cli("stream", wav, "--mute", "--vmc", f"127.0.0.1:{port}", "--vrm", "1", "--seconds", "0.3")
        assert r.returncode == 0, r.stderr
    finally:
        server.shutdown()
        server.server_close()


def test_rig_folder_keeps_what_the_visemes_replace(tmp_path, default_rig):
    """``face3d rig`` writes an ARKit head's viseme shapes made; read back, they still add to
    the curves (not an Oculus head's own fifteen that replace them)."""
    from face3d.mesh.io.gltf import write_glb

    src = default_rig
    write_glb(tmp_path / "arkit.glb", src.positions, src.faces, _arkit_morphs(src), colors=src.colors)
    r = run_cli("rig", tmp_path / "arkit.glb", "-o", tmp_path / "rigged")
    assert r.returncode == 0, r.stderr
    from face3d.mesh.heads import load_head

    rig = load_head(tmp_path / "rigged")
    assert rig.info["visemes"]["kind"] == "arkit" and rig.info["visemes"]["mutes"] == []
    assert "viseme_FF" in rig.names and "jawOpen" in rig.names
