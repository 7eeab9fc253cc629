"""Lip-sync behaviour that matters, on espeak-ng speech with its own phone timings:
p closes the lips, "ah" never does, pauses rest, "ee" is wide, "oo" is round; and the
shipped viseme model loads and gives pinned numbers."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from _audio_helpers import ROOT, need_espeak

from face3d.pipeline import analyze
from face3d.analysis.model import load_model
from face3d.analysis.visemes import N_FEATURES, VisemeMapper

sys.path.insert(0, str(ROOT / "bench"))

FPS = 100
VOICES = ["en-us", "en-gb-x-rp+f3", "en-gb-x-rp+f2", "en-gb-x-gbclan+f5"]


def speak_timed(text, voice="en-us", speed=150):
    """(float32 samples, rate, [(start s, end s, phone)]) from libespeak-ng's phone events."""
    need_espeak()
    from _espeak import synthesize

    x, rate, ev = synthesize(text, speed=speed, voice=voice)
    lead = 0.2  # espeak-ng starts at the first sample; a recording has a little silence first
    x = np.concatenate([np.zeros(int(lead * rate)), x.astype(np.float32) / 32768.0]).astype(np.float32)
    end = len(x) / rate
    ev = [(t + lead, ph) for t, ph in ev]
    segs = [(t, (ev[i + 1][0] if i + 1 < len(ev) else end), ph) for i, (t, ph) in enumerate(ev)]
    return x, rate, segs


def weights(x, rate):
    return analyze(x, rate=rate, fps=None).values.astype(np.float64)


def frames(t0, t1, inset=0.0):
    return slice(int(round((t0 + inset) * FPS)), int(round((t1 - inset) * FPS)))


@pytest.mark.parametrize("voice", VOICES)
def test_p_between_vowels_closes_the_lips(voice):
    x, rate, segs = speak_timed("Ah pa pa, ah papa.", voice)
    w = weights(x, rate)
    aperture = w[:, 0] - w[:, 3]
    ps = [(a, b) for a, b, ph in segs if ph == "p" and b - a >= 0.03]
    assert len(ps) >= 3, segs
    for a, b in ps:
        near = frames(a - 0.02, b + 0.02)
        assert aperture[near].min() <= 0.15, (a, b)
        assert w[near, 3].max() >= 0.5, (a, b)  # the lips press, not only the jaw rising
    # and the vowels between them are open
    opens = [(a, b) for a, b, ph in segs if ph.startswith("A") or ph.startswith("a")]
    assert opens, segs
    for a, b in opens:
        assert aperture[frames(a, b, 0.02)].max() > 0.4, (a, b)


@pytest.mark.parametrize("voice", VOICES)
def test_ah_never_closes(voice):
    x, rate, segs = speak_timed("Ah! Ah, ah.", voice, speed=120)
    w = weights(x, rate)
    aperture = w[:, 0] - w[:, 3]
    vowels = [(a, b) for a, b, ph in segs if ph.startswith("A") or ph.startswith("a")]
    assert len(vowels) >= 3, segs
    for a, b in vowels:
        sl = frames(a, b, 0.02)
        assert aperture[sl].min() > 0.15, (a, b, aperture[sl])
        assert w[frames(a, b), 3].max() < 0.3, (a, b)  # no press at any point, its onset included


def test_pause_in_room_noise_rests():
    x1, rate, _ = speak_timed("Father saw a large dark barn.")
    x2, _, _ = speak_timed("Bob bought a map.")
    rng = np.random.default_rng(3)
    gap = np.zeros(int(0.6 * rate), np.float32)
    x = np.concatenate([x1, gap, x2])
    x = x + rng.normal(0, 10 ** (-65 / 20), len(x)).astype(np.float32)  # room noise under it all
    w = weights(x, rate)
    loud = np.abs(x1) > 1e-3
    t0 = (np.flatnonzero(loud)[-1] + 1) / rate
    t1 = (len(x1) + len(gap) + np.flatnonzero(np.abs(x2) > 1e-3)[0]) / rate
    sl = frames(t0, t1, 0.05)
    assert sl.stop - sl.start >= 40
    assert w[sl, 0].max() <= 0.1
    assert w[sl, :3].max() <= 0.1
    assert w[: int(t0 * FPS), 0].max() > 0.5  # it did speak


def _vowel_means(text, voice, which):
    x, rate, segs = speak_timed(text, voice, speed=130)
    w = weights(x, rate)
    sel = np.concatenate([np.arange(len(w))[frames(a, b, 0.02)] for a, b, ph in segs if ph.rstrip("'") == which])
    assert len(sel) >= 10, segs
    return w[sel].mean(axis=0)


@pytest.mark.parametrize("voice", VOICES)
def test_ee_is_wider_and_oo_is_rounder(voice):
    ee = _vowel_means("We see three green trees, Lee.", voice, "i:")
    oo = _vowel_means("Who knew you two, Sue? Blue moon.", voice, "u:")
    assert ee[1] > oo[1] + 0.15, (ee, oo)  # mouthWide
    assert oo[2] > ee[2] + 0.15, (ee, oo)  # mouthPucker


# ---------------------------------------------------------------- the model file

# regenerate with ``print(np.array2string(_pinned_rows(live), precision=5, separator=", "))``
# when a model file is refitted
PINNED = {
    False: np.array([
        [0.32139, 0.32879, 0.00000, 0.00000],
        [0.06850, 0.04526, 0.27068, 0.56933],
        [0.07345, 0.03083, 0.03122, 0.12773],
        [0.22853, 0.19527, 0.09724, 0.00001],
        [0.35888, 0.21047, 0.03815, 0.00125],
        [0.23181, 0.11539, 0.03673, 0.00064],
    ]),
    True: np.array([
        [0.22125, 0.22146, 0.00000, 0.00000],
        [0.29300, 0.20113, 0.08961, 0.00000],
        [0.19549, 0.01590, 0.16562, 0.00000],
        [0.17401, 0.18103, 0.02005, 0.35498],
        [0.09265, 0.09249, 0.02930, 0.30954],
        [0.23054, 0.13281, 0.07029, 0.00032],
    ]),
}


def _pinned_rows(live):
    rng = np.random.default_rng(7)
    e = np.concatenate([np.full((30, 17), -100.0), rng.uniform(-70, -10, (90, 17))]).astype(np.float32)
    vm = VisemeMapper(live=live)
    w = vm.process(e)
    ahead = vm.model.lookahead
    assert w.shape == (120 - ahead, 4) and w.dtype == np.float32  # the last frames wait for their look-ahead
    w = np.concatenate([w, vm.flush()])
    assert w.shape == (120, 4)
    assert np.all(w[:30 - ahead] == 0.0)  # digital silence
    return w[30::15].astype(np.float64)


@pytest.mark.parametrize("live", [False, True], ids=["file-model", "live-model"])
def test_model_file_loads_and_output_is_pinned(live):
    m = load_model(live=live)
    assert m.n_in == N_FEATURES and len(m.nets) == 2  # two networks, averaged
    for proj, _, layers in m.nets:
        assert proj.shape[0] == N_FEATURES and layers[0][0].shape[0] == proj.shape[1] * len(m.taps)
        assert layers[-1][0].shape[1] == 4 + 15  # the four curves and the fifteen viseme logits
    assert max(m.taps) <= 20  # context: at most 200 ms back
    assert m.lookahead == (1 if live else 10)  # 10 ms ahead for a microphone, 100 ms for a file
    np.testing.assert_allclose(_pinned_rows(live), PINNED[live], atol=1e-4)


@pytest.mark.parametrize("live", [False, True], ids=["file-model", "live-model"])
def test_frames_at_rest_skip_the_network(live):
    """Model.run with ``need``: the frames needed get the numbers of a full run (blocks
    of rows wholly needed, partly needed and not at all), the others 0; the mapper skips
    the frames at rest and still gives what a full run gives there after the gates."""
    from face3d.analysis import model as mm

    m = load_model(live=live)
    rng = np.random.default_rng(3)
    n = 2 * mm._ROWS + 300
    zz = rng.standard_normal((m.history + n + m.lookahead, m.proj.shape[1])).astype(np.float32)
    need = np.ones(n, bool)
    need[mm._ROWS : 2 * mm._ROWS] = False
    need[2 * mm._ROWS :] = rng.random(300) < 0.5
    full, part = m.run(zz, n), m.run(zz, n, need)
    np.testing.assert_array_equal(part[~need], 0.0)
    np.testing.assert_allclose(part[need], full[need], rtol=1e-5, atol=1e-5)  # other row counts: float rounding
    np.testing.assert_allclose(m.forward(np.concatenate(
        [zz[m.history - t : m.history - t + n, a:b] for a, b in m.splits for t in m.taps], axis=1)), full, atol=1e-5)


@pytest.mark.parametrize("live", [False, True], ids=["file-model", "live-model"])
def test_mapper_skips_pauses_without_changing_the_weights(live, monkeypatch):
    """Speech with pauses: the mapper runs the network on fewer frames than it gives, and
    its weights are those of a run over every frame (up to the release's start after a
    pause, which begins from rest: a few frames, by less than 0.05)."""
    from face3d.analysis.bands import ANALYSIS_RATE, band_energies
    from face3d.analysis.model import VisemeModel
    from face3d.analysis.visemes import map_energies
    from face3d.audio.files import resample

    x, rate, _ = speak_timed("Ah pa pa. Maybe the cheese, was a bit too cool... for them!", "en-gb-x-rp+f3")
    x = np.concatenate([x, np.zeros(rate // 2, np.float32), x])
    e = band_energies(resample(x, rate, ANALYSIS_RATE))
    run, rows = VisemeModel.run, []

    def counting(self, zz, m, need=None):
        rows.append(m if need is None else int(np.count_nonzero(need)))
        return run(self, zz, m, need)

    monkeypatch.setattr(VisemeModel, "run", counting)
    skipped = map_energies(e, live=live)
    assert sum(rows) < 0.9 * len(e), (sum(rows), len(e))
    monkeypatch.setattr(VisemeModel, "run", lambda self, zz, m, need=None: run(self, zz, m))
    every = map_energies(e, live=live)
    d = np.abs(skipped - every)
    assert d.max() < 0.05 and np.count_nonzero(d.max(axis=1) > 1e-5) <= 0.02 * len(e), (d.max(), len(e))


def test_training_is_reproducible(tmp_path):
    """Two runs of the training script from the same seed write the same model."""
    outs = []
    for k in range(2):
        out = tmp_path / f"m{k}.npz"
        r = subprocess.run([sys.executable, str(ROOT / "scripts" / "train_visemes.py"), "--utterances", "6",
                            "--real-utterances", "4", "--epochs", "1", "--out", str(out),
                            "--cache", str(tmp_path / f"c{k}")], capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stderr[-2000:]
        outs.append(np.load(out))
    assert set(outs[0].files) >= {"proj", "w1", "b1", "w2", "b2", "mu", "sd", "taps", "edges"}
    for k in ("proj", "w1", "b1", "w2", "b2", "mu", "sd"):
        np.testing.assert_array_equal(outs[0][k], outs[1][k])
    assert load_model(tmp_path / "m0.npz").n_in == outs[0]["proj"].shape[0]
    assert load_model(tmp_path / "m0.npz").lookahead == 10


def test_training_the_live_model(tmp_path):
    """--live fits the model with 10 ms of look-ahead (written to --out here)."""
    r = _train(tmp_path, "--live", "--out", str(tmp_path / "live.npz"))
    assert r.returncode == 0, r.stderr[-2000:]
    m = load_model(tmp_path / "live.npz")
    assert m.lookahead == 1 and m.history == 16


def test_training_with_dropout_changes_the_fit(tmp_path):
    """--dropout drops hidden units in the fit: the same seed gives other weights."""
    outs = []
    for args in ([], ["--dropout", "0.3"]):
        out = tmp_path / f"m{len(outs)}.npz"
        r = _train(tmp_path, *args, "--out", str(out))
        assert r.returncode == 0, r.stderr[-2000:]
        outs.append(np.load(out))
    assert not np.array_equal(outs[0]["w1"], outs[1]["w1"])
    assert outs[0]["w1"].shape == outs[1]["w1"].shape


def test_training_ensemble(tmp_path):
    """--ensemble 2 (the default) writes two networks (fit seeds 0 and 1, cached in --cache)
    into one file; a second run reuses the cached networks; the model's outputs are their mean."""
    def train(*args):
        r = _train(tmp_path, *args)
        assert r.returncode == 0, r.stderr[-2000:]
        return r.stdout

    assert "network 2 (fit seed 1)" in train("--out", str(tmp_path / "ens.npz"))
    assert "network" not in train("--out", str(tmp_path / "again.npz"))
    a, b = np.load(tmp_path / "ens.npz"), np.load(tmp_path / "again.npz")
    for k in ("proj", "w1", "b3", "n1_w1"):
        np.testing.assert_array_equal(a[k], b[k])
    assert not np.array_equal(a["w1"], a["n1_w1"])
    assert a["w3"].shape[1] == 4 + 15  # the four curves and the fifteen viseme logits
    one = train("--ensemble", "1", "--out", str(tmp_path / "one.npz"))
    assert "network" not in one  # network 1 is cached too
    np.testing.assert_array_equal(np.load(tmp_path / "one.npz")["w1"], a["w1"])


def _train(tmp_path, *args):
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "train_visemes.py"), "--utterances", "6",
                           "--real-utterances", "4", "--epochs", "1", "--cache", str(tmp_path / "c"), *args],
                          capture_output=True, text=True, timeout=600)


def test_training_data_and_leave_out(tmp_path):
    """Each utterance comes clean and varied (a room, babble, noise, a breath, ...), the
    recorded training speakers too, never a held-out one; --leave-out drops a voice's
    utterances from the fit and from the voices the model lists; bad values are one-line errors."""
    need_espeak()
    from _realspeech import HELDOUT_SPEAKERS, root

    r = _train(tmp_path, "--out", str(tmp_path / "all.npz"))
    assert r.returncode == 0, r.stderr[-2000:]
    desc = [str(d) for part in ("synth", "real") for cache in (tmp_path / "c").glob(f"train-{part}-*.npz")
            for d in np.load(cache, allow_pickle=True)["desc"]]
    assert all(d.endswith(" clean") for d in desc[0::2]) and not any(d.endswith(" clean") for d in desc[1::2])
    real = {d.split(" ")[0][5:] for d in desc if d.startswith("real:")}
    if root() is not None:
        assert len(real) >= 1 and not real & set(HELDOUT_SPEAKERS), real
        listed = {str(v) for v in np.load(tmp_path / "all.npz")["speakers"]}
        assert listed == real
    voice = desc[0].split(" ")[0].split("+")[0]  # e.g. espeak:en-gb
    r2 = _train(tmp_path, "--leave-out", voice, "--out", str(tmp_path / "less.npz"))
    assert r2.returncode == 0, r2.stderr[-2000:]
    n_all, n_less = (int(x.stdout.split(" utterances,")[0].split()[-1]) for x in (r, r2))
    n_voice = sum(d.split(" ")[0].split("+")[0] == voice for d in desc)
    assert n_voice > 0 and n_less == n_all - n_voice
    listed = {str(v) for v in np.load(tmp_path / "less.npz")["voices"]}
    assert voice not in listed and len(listed) == len(np.load(tmp_path / "all.npz")["voices"]) - 1
    for bad in (["--leave-out", "flite:kal"], ["--dropout", "1"], ["--ensemble", "0"], ["--hidden", "x"]):
        r3 = _train(tmp_path, *bad, "--out", str(tmp_path / "x.npz"))
        assert r3.returncode == 2 and r3.stderr.count("\n") == 1 and "Traceback" not in r3.stderr, r3.stderr


def test_breathy_tail_after_a_phrase_rests():
    """A quiet hiss after a phrase (about 33 dB below the voice, far above the silence
    before it) is a pause: the jaw rests once it has lasted longer than a stop's closure."""
    from face3d.analysis.bands import VOICE_BANDS, band_energies

    def level(y):
        e = band_energies(y, rate=rate).astype(np.float64)
        return 10 * np.log10(np.sum(10 ** (e[:, :VOICE_BANDS] / 10), axis=1))

    x1, rate, _ = speak_timed("Father saw a large dark barn.")
    x2, _, _ = speak_timed("Bob bought a map.")
    rng = np.random.default_rng(4)
    hiss = rng.normal(0, 1, int(0.6 * rate)).astype(np.float32)
    hiss *= 10 ** ((level(x1).max() - 33 - np.median(level(hiss))) / 20)
    x = np.concatenate([x1, hiss, x2])
    w = weights(x, rate)
    t0 = (np.flatnonzero(np.abs(x1) > 1e-3)[-1] + 1) / rate  # the voice ends, the hiss goes on
    t1 = (len(x1) + len(hiss)) / rate
    sl = frames(t0 + 0.08, t1 - 0.03)
    assert sl.stop - sl.start >= 40
    assert w[sl, 0].max() <= 0.1, w[sl, 0]
    assert w[: int(t0 * FPS), 0].max() > 0.5  # it did speak


# ---------------------------------------------------------------- voices kept apart

def test_reserved_and_held_out_voices_never_train():
    """Flite kal/slt (the independent check) are refused unless asked for, and neither they nor
    the held-out voices are among the voices the shipped model was fitted on."""
    from _corpus import HELDOUT_VOICES, RESERVED, TRAIN_VARIANTS, TRAIN_VOICES, synthesize

    for v in RESERVED:
        with pytest.raises(ValueError, match="reserved"):
            synthesize(v, "Hello.")
    for name in ("visemes.npz", "visemes_live.npz"):
        fitted = {str(v) for v in np.load(ROOT / "models" / name)["voices"]}
        assert fitted == set(TRAIN_VOICES), name
        heldout_accents = {v.split("+")[0] for v in HELDOUT_VOICES}
        assert not (fitted & (set(RESERVED) | heldout_accents | set(HELDOUT_VOICES))), name
    assert not {v.split("+")[1] for v in HELDOUT_VOICES if "+" in v} & set(TRAIN_VARIANTS)


@pytest.mark.parametrize("voices", ["flite:kal", "espeak:en-us,flite:slt", "festival:kal", ""])
def test_lipsync_bench_refuses_reserved_or_unknown_voices(voices):
    r = subprocess.run([sys.executable, str(ROOT / "bench" / "lipsync.py"), "--no-peers", "--voices", voices],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr, r.stderr
