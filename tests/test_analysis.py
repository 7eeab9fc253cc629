"""Band analysis and viseme mapping: tones, silence, noise, espeak-ng speech, streaming."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

import face3d
from face3d.analysis import ANALYSIS_RATE, BANDS, NAMES, StreamAnalyzer
from face3d.analysis.bands import BandAnalyzer, band_energies, frame_count
from face3d.analysis.visemes import VisemeMapper, map_energies
from face3d.errors import AudioError, UsageError
from face3d.pipeline import analyze, analyze_samples

from _audio_helpers import ROOT, at_dbfs, corr, speak

R = ANALYSIS_RATE
SENTENCE = "Father saw a large dark barn. Bob made me a map of the blue moon."


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    """(samples at 16 kHz, file rate samples, file rate, path) for one espeak-ng sentence."""
    d = tmp_path_factory.mktemp("speech")
    x, rate = speak(SENTENCE, d / "s.wav")
    from face3d.audio.files import resample

    return resample(x, rate, R), x, rate, d / "s.wav"


# ---------------------------------------------------------------- bands

@pytest.mark.parametrize("band", range(len(BANDS)))
def test_tone_raises_its_band_only(band):
    lo, hi = BANDS[band]
    f = np.sqrt(lo * hi)
    t = np.arange(R) / R
    e = band_energies(0.5 * np.sin(2 * np.pi * f * t), rate=R)[20:-20]
    quiet = band_energies(np.zeros(R), rate=R)[20:-20]
    med = np.median(e, axis=0)
    assert med[band] == pytest.approx(20 * np.log10(0.5), abs=1.0)  # full-scale sine = 0 dB
    # narrow bands: the window's main lobe reaches the next band, 15 dB down; the rest 30 dB
    near = [b for b in (band - 1, band + 1) if 0 <= b < len(BANDS)]
    assert np.all(med[near] < med[band] - 15), med
    others = np.delete(med, near + [band])
    assert np.all(others < med[band] - 30), med
    # the other bands stay near silence
    assert np.all(np.delete(e - quiet, near + [band], axis=1).max(axis=0) < 70)


def test_frame_count_and_times():
    assert frame_count(0) == 0
    assert frame_count(1) == 1
    assert frame_count(160) == 1
    assert frame_count(161) == 2
    assert band_energies(np.zeros(1601), rate=R).shape == (11, len(BANDS))


def test_silence_gives_all_weights_zero():
    tr = analyze(np.zeros(3 * R, np.float32), rate=R)
    assert tr.names == NAMES
    assert np.all(tr.values == 0.0)


@pytest.mark.parametrize("dbfs", [-60.0, -30.0])
def test_steady_white_noise_keeps_jaw_shut(dbfs):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(5 * R) * 10 ** (dbfs / 20)
    tr = analyze(x.astype(np.float32), rate=R, fps=None)
    assert tr.column("jawOpen").max() < 0.05
    assert tr.values.max() < 0.1


def test_weights_in_unit_range_on_hostile_input():
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.standard_normal(R) * 3, np.zeros(R), np.sign(rng.standard_normal(R))])
    tr = analyze(np.clip(x, -1, 1).astype(np.float32), rate=R)
    assert tr.values.min() >= 0.0 and tr.values.max() <= 1.0


# ---------------------------------------------------------------- speech

def test_speech_opens_and_pause_rests(tmp_path):
    a, rate = speak("Father saw a large cat.", tmp_path / "a.wav")
    b, _ = speak("Start the car now.", tmp_path / "b.wav")
    pause = np.zeros(int(0.5 * rate), np.float32)
    x = np.concatenate([a, pause, b])
    tr = analyze(x, rate=rate, fps=None)
    jaw = tr.column("jawOpen")
    # the digital-silence run between the two utterances (at least our 0.5 s)
    quiet = np.abs(x) < 1e-4
    i0 = len(a) - 1
    while i0 > 0 and quiet[i0 - 1]:
        i0 -= 1
    i1 = len(a) + len(pause)
    while i1 < len(x) and quiet[i1]:
        i1 += 1
    t0, t1 = i0 / rate, i1 / rate
    assert t1 - t0 >= 0.5
    times = tr.times
    speaking_a = times < t0
    assert jaw[speaking_a].max() > 0.6
    assert jaw[times > t1].max() > 0.6
    # through the pause (after the release of the last sound, before the next window reaches it)
    inside = (times > t0 + 0.12) & (times < t1 - 0.02)
    assert inside.sum() >= 30
    assert jaw[inside].max() < 0.1
    assert tr.values[inside & (times > t0 + 0.3)].max() < 0.1


def test_quiet_and_loud_speech_give_the_same_curves(speech):
    x16 = speech[0]
    quiet = analyze(at_dbfs(x16, -40), rate=R, fps=None)
    loud = analyze(at_dbfs(x16, -6), rate=R, fps=None)
    assert corr(quiet.column("jawOpen"), loud.column("jawOpen")) > 0.9
    assert corr(quiet.values.ravel(), loud.values.ravel()) > 0.9
    assert quiet.column("jawOpen").max() > 0.6


def test_speech_uses_every_shape(speech):
    tr = analyze(speech[0], rate=R, fps=None)
    assert tr.values.max(axis=0).min() > 0.3, tr.values.max(axis=0)


@pytest.mark.parametrize("file_rate", [8000, 44100, 96000])
def test_sample_rates_give_consistent_curves(speech, tmp_path, file_rate):
    from face3d.audio.files import resample

    _, x, rate, _ = speech
    ref = analyze(resample(x, rate, 22050), rate=22050, fps=None)
    p = tmp_path / f"s{file_rate}.wav"
    sf.write(str(p), resample(x, rate, file_rate), file_rate, subtype="PCM_16")
    tr = analyze(p, fps=None)
    n = min(len(tr), len(ref))
    assert abs(len(tr) - len(ref)) <= 1
    for k, name in enumerate(NAMES):
        c = corr(tr.values[:n, k], ref.values[:n, k])
        assert c > (0.8 if (file_rate == 8000 and name == "mouthClose") else 0.9), (name, c)


# ---------------------------------------------------------------- streaming == offline

@pytest.mark.parametrize("live", [False, True], ids=["file-model", "live-model"])
@pytest.mark.parametrize("block", [1, 37, 160, 1000, 4096, "random"])
def test_streaming_equals_offline(speech, block, live):
    x = speech[0][: 3 * R]
    whole_e = band_energies(x, rate=R)
    whole_w = map_energies(whole_e, live=live)
    ba, vm = BandAnalyzer(R), VisemeMapper(live=live)
    rng = np.random.default_rng(5)
    es, ws, i = [], [], 0
    while i < len(x):
        n = int(rng.integers(1, 5000)) if block == "random" else block
        e = ba.feed(x[i : i + n])
        es.append(e)
        ws.append(vm.process(e))
        i += n
    e = ba.flush()
    es.append(e)
    ws.append(vm.process(e))
    ws.append(vm.flush())
    se, sw = np.concatenate(es), np.concatenate(ws)
    assert se.shape == whole_e.shape and sw.shape == whole_w.shape
    np.testing.assert_allclose(se, whole_e, rtol=0, atol=1e-6)
    np.testing.assert_allclose(sw, whole_w, rtol=0, atol=1e-5)  # float32 network: rounding varies with block size by a few 1e-6


def test_stream_analyzer_matches_analyze_samples(speech):
    x = speech[0][: 2 * R]
    sa = StreamAnalyzer(R)
    parts = [sa.feed(x[i : i + 441]) for i in range(0, len(x), 441)] + [sa.flush()]
    np.testing.assert_allclose(np.concatenate(parts), analyze_samples(x, R).values, atol=1e-5)
    live = StreamAnalyzer(R, live=True)
    parts = [live.feed(x[i : i + 441]) for i in range(0, len(x), 441)] + [live.flush()]
    np.testing.assert_allclose(np.concatenate(parts), map_energies(band_energies(x, rate=R), live=True), atol=1e-5)


@pytest.mark.parametrize("live", [False, True], ids=["file-model", "live-model"])
def test_mapper_frames_in_blocks_equal_whole(speech, live):
    e = band_energies(speech[0], rate=R)
    whole = map_energies(e, live=live)
    vm = VisemeMapper(live=live)
    ahead = vm.model.lookahead
    assert ahead == (1 if live else 10)  # 10 ms for a microphone, 100 ms for a file
    parts = []
    for i in range(0, len(e), 7):
        parts.append(vm.process(e[i : i + 7]))
        # a frame's weights wait for the frames of its look-ahead, and no longer
        assert sum(len(p) for p in parts) == max(0, min(i + 7, len(e)) - ahead)
    parts.append(vm.flush())
    assert len(parts[-1]) == ahead and len(vm.flush()) == 0
    np.testing.assert_allclose(np.concatenate(parts), whole, atol=1e-5)


def test_the_file_model_uses_what_comes_next(speech):
    """Anticipation: with the look-ahead, the weights of a frame depend on the frames after
    it (the file model sees 100 ms ahead, the live one 10 ms), never on the ones past that."""
    e = band_energies(speech[0], rate=R)[:300]
    for live, ahead in ((False, 10), (True, 1)):
        base = map_energies(e, live=live)
        changed = e.copy()
        changed[200:] += 30.0 * np.sin(np.arange(17))  # a different sound from frame 200 on
        w = map_energies(changed, live=live)
        assert np.abs(w[200 - ahead : 200] - base[200 - ahead : 200]).max() > 1e-3, live
        np.testing.assert_array_equal(w[: 200 - ahead], base[: 200 - ahead])


# ---------------------------------------------------------------- API

def test_analyze_api(speech):
    _, x, rate, path = speech
    tr = face3d.analyze(str(path), fps=60)
    assert tr.names == ("jawOpen", "mouthWide", "mouthPucker", "mouthClose")
    assert tr.values.dtype == np.float32 and tr.times.dtype == np.float64
    np.testing.assert_allclose(tr.times, np.arange(len(tr)) / 60.0)
    assert tr.times[-1] <= len(x) / rate < tr.times[-1] + 1 / 60 + 1e-9
    tr2 = face3d.analyze(x, rate=rate, fps=60)
    np.testing.assert_allclose(tr2.values, tr.values, atol=1e-5)
    stereo = np.stack([x, x], axis=1)
    np.testing.assert_allclose(face3d.analyze(stereo, rate=rate).values, tr.values, atol=1e-5)
    # live=True: what the microphone path gives (the live model), not the file model
    from face3d.audio.files import resample

    lv = face3d.analyze(x, rate=rate, fps=None, live=True)
    np.testing.assert_allclose(lv.values, map_energies(band_energies(resample(x, rate, R), rate=R), live=True), atol=1e-5)
    assert np.abs(lv.values - face3d.analyze(x, rate=rate, fps=None).values).max() > 0.05
    np.testing.assert_allclose(face3d.analyze(str(path), fps=60, live=True).values, lv.resample(60).values[: len(tr)],
                               atol=1e-3)
    with pytest.raises(UsageError):
        face3d.analyze(x)
    with pytest.raises(AudioError):
        face3d.analyze(np.array([0.0, np.nan, 0.0]), rate=16000)
    with pytest.raises(AudioError):
        face3d.analyze(np.zeros(0), rate=16000)


def test_pure_imports_stay_light():
    code = (
        "import sys, face3d, face3d.analysis, face3d.audio.files, face3d.pipeline, face3d.track\n"
        "face3d.analyze([0.0] * 1600, rate=16000)\n"
        "bad = [m for m in ('moderngl', 'sounddevice', 'trimesh', 'face3d.audio.mic') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
