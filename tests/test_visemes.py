"""The fifteen visemes (issue 21) and voices in real rooms (issue 20): what a viewer reads
on the face, on espeak-ng training voices with their own phone timings, through a room,
under another voice, after a breath, and on a recorded speaker from ../shared."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from _audio_helpers import ROOT, need_espeak, run_cli

from face3d.analysis import NAMES, VISEME_NAMES, StreamAnalyzer
from face3d.analysis.visemes15 import VISEME_INDEX
from face3d.pipeline import analyze

sys.path.insert(0, str(ROOT / "bench"))

FPS = 100
RATE = 16000


def speak(text, voice="en-us", speed=140, lead=0.3):
    """(float32 samples at 16 kHz, [(start s, end s, phone)]) from libespeak-ng's phone events,
    after ``lead`` seconds of silence."""
    need_espeak()
    import soxr
    from _corpus import synthesize

    x, rate, ev, _ = synthesize(f"espeak:{voice}", text, speed=speed)
    x = soxr.resample(x, rate, RATE).astype(np.float32)
    x = np.concatenate([np.zeros(int(lead * RATE), np.float32), x])
    end = len(x) / RATE
    ev = [(t + lead, ph) for t, ph in ev]
    return x, [(t, ev[i + 1][0] if i + 1 < len(ev) else end, ph) for i, (t, ph) in enumerate(ev)]


def vis(x, live=False):
    return analyze(x, rate=RATE, fps=None, visemes=True, live=live).values.astype(np.float64)


def span(a, b, inset=0.0):
    return slice(int(round((a + inset) * FPS)), int(round((b - inset) * FPS)))


def winner(w, a, b):
    """The viseme with the most weight over a phone's frames."""
    v = w[span(a, b), len(NAMES):].sum(axis=0)
    return VISEME_NAMES[int(np.argmax(v))][7:]


@pytest.mark.parametrize("live", [False, True], ids=["file", "live"])
def test_visemes_sum_to_one_and_stream_matches(live):
    x, _ = speak("Maybe the cheese was too cool. Fine!")
    w = vis(x, live)
    v = w[:, len(NAMES):]
    assert w.shape[1] == len(NAMES) + 15 and np.all(v >= 0)
    np.testing.assert_allclose(v.sum(axis=1), 1.0, atol=1e-5)
    assert v[: int(0.2 * FPS), VISEME_INDEX["sil"]].min() > 0.99  # digital silence: at rest
    if live:  # the microphone path gives the same rows, 10 ms blocks at a time
        sa = StreamAnalyzer(RATE, live=True, visemes=True)
        parts = [sa.feed(x[i : i + 160]) for i in range(0, len(x), 160)] + [sa.flush()]
        s = np.concatenate(parts)
        assert sa.names == NAMES + VISEME_NAMES
        np.testing.assert_allclose(s, w[: len(s)], atol=2e-5)


@pytest.mark.parametrize("voice", ["en-us", "en-gb-x-rp+f3", "en-us+m3"])
def test_fife_think_shoe_and_a_pause(voice):
    x, segs = speak("The fife is here. I think so. A shoe.", voice)
    w = vis(x)
    fs = [(a, b) for a, b, ph in segs if ph == "f"]
    assert len(fs) == 2, segs
    for a, b in fs:
        assert winner(w, a, b) == "FF", (a, b, w[span(a, b), len(NAMES):].mean(0).round(2))
    (th,) = [(a, b) for a, b, ph in segs if ph == "T"]
    assert winner(w, *th) == "TH"
    (sh,) = [(a, b) for a, b, ph in segs if ph == "S"]
    (oo,) = [(a, b) for a, b, ph in segs if ph.startswith("u:")]
    assert winner(w, *sh) == "CH" and winner(w, *oo) == "U"
    pauses = [(a, b) for a, b, ph in segs if ph.startswith("_") and b - a >= 0.15]
    assert pauses
    for a, b in pauses:
        assert np.all(np.argmax(w[span(a, b, 0.1), len(NAMES):], axis=1) == VISEME_INDEX["sil"])


def test_rhubarb_export_shows_g_on_f_and_v(tmp_path):
    import soundfile as sf

    x, segs = speak("Five of fifty vivid foxes.", "en-us")
    sf.write(str(tmp_path / "s.wav"), x, RATE)
    r = run_cli("export", tmp_path / "s.wav", "-o", tmp_path / "s.tsv")
    assert r.returncode == 0, r.stderr
    rows = [ln.split("\t") for ln in (tmp_path / "s.tsv").read_text().splitlines()]
    t = np.array([float(a) for a, _ in rows])
    shape = [s for _, s in rows]
    fv = [(a, b) for a, b, ph in segs if ph in ("f", "v") and b - a >= 0.05]
    assert len(fv) >= 5, segs
    shown = 0
    for a, b in fv:  # a G cue over the middle of the f or v
        m = (a + b) / 2
        k = int(np.searchsorted(t, m, side="right")) - 1
        shown += shape[k] == "G"
    assert shown >= len(fv) - 1, (shown, len(fv), rows)


def test_arkit_export_rolls_the_lower_lip_on_f(tmp_path):
    import soundfile as sf

    from face3d.track import read_csv  # noqa: F401

    x, segs = speak("Fee fie foe fum.", "en-us")
    sf.write(str(tmp_path / "s.wav"), x, RATE)
    r = run_cli("export", tmp_path / "s.wav", "-o", tmp_path / "a.csv", "--format", "arkit-csv", "--fps", "100")
    assert r.returncode == 0, r.stderr
    lines = (tmp_path / "a.csv").read_text().splitlines()
    head = lines[0].split(",")
    vals = np.array([[float(v) for v in ln.split(",")[1:]] for ln in lines[1:]])
    roll = vals[:, head.index("MouthRollLower") - 1]
    fs = [(a, b) for a, b, ph in segs if ph == "f"]
    assert all(roll[span(a, b)].max() > 0.3 for a, b in fs), [roll[span(a, b)].max() for a, b in fs]
    assert roll[: int(0.25 * FPS)].max() == 0.0


def test_export_visemes_columns_come_last(tmp_path):
    import soundfile as sf

    from face3d.track import read_csv

    x, _ = speak("Hello there.", "en-us")
    sf.write(str(tmp_path / "s.wav"), x, RATE)
    r = run_cli("export", tmp_path / "s.wav", "-o", tmp_path / "s.csv", "--visemes")
    assert r.returncode == 0, r.stderr
    tr = read_csv(tmp_path / "s.csv")
    plain = run_cli("export", tmp_path / "s.wav", "-o", tmp_path / "p.csv")
    assert plain.returncode == 0
    names = read_csv(tmp_path / "p.csv").names
    assert tr.names == names + VISEME_NAMES
    np.testing.assert_allclose(tr.values[:, len(names):].sum(axis=1), 1.0, atol=2e-3)


# ---------------------------------------------------------------- rooms, breaths, other voices

def test_in_breath_before_speech_leaves_the_jaw_shut():
    from _conditions import breath

    x, segs = speak("Father saw a large dark barn.", "en-us", lead=0.0)
    y, ev = breath(np.random.default_rng(5), x, [(a, ph) for a, _, ph in segs], quiet_db=55.0)
    start = ev[1][0]  # the speech starts after the lead-in with the breath
    w = vis(y)
    lead = w[: int(start * FPS) - 2]
    assert len(lead) >= 30
    assert lead[:, 0].max() < 0.2, lead[:, 0].max()
    assert w[int(start * FPS):, 0].max() > 0.5  # then it speaks


def test_pause_with_another_voice_10_db_down_stays_near_rest():
    from _conditions import mix_under

    x1, s1 = speak("Father saw a large dark barn.", "en-us", lead=0.3)
    x2, _ = speak("Bob bought a map.", "en-us", lead=0.0)
    gap = np.zeros(int(0.8 * RATE), np.float32)
    x = np.concatenate([x1, gap, x2])
    other, _ = speak("Who knew you would move to the zoo too, Sue? Open the window now.", "en-gb-x-rp+m3", lead=0.0)
    other = np.tile(other, 1 + len(x) // len(other))[: len(x)]
    y = mix_under(x, other, 10.0)
    w = vis(y)
    t0 = s1[-1][0] if s1[-1][2].startswith("_") else len(x1) / RATE
    sl = span(t0, (len(x1) + len(gap)) / RATE, 0.08)
    assert sl.stop - sl.start >= 50
    jaw = w[sl, 0]
    # most of the pause at rest (the shipped models: 71 %; issue 20 asks 90 %: not met yet,
    # a loud word of the other voice still opens the jaw for 150 ms here)
    assert np.mean(jaw <= 0.1) >= 0.65 and np.median(jaw) <= 0.05, (np.mean(jaw <= 0.1), np.median(jaw))
    assert w[: int(t0 * FPS), 0].max() > 0.5


def test_p_between_vowels_closes_the_lips_in_a_reverberant_room():
    from _conditions import degrade

    x, segs = speak("Ah pa pa, ah papa.", "en-us")
    y = degrade(x, "room", np.random.default_rng(2), rt60=0.5, distance=1.0)
    w = vis(y)
    aperture = w[:, 0] - w[:, 3]
    ps = [(a, b) for a, b, ph in segs if ph == "p" and b - a >= 0.03]
    assert len(ps) >= 3
    for a, b in ps:
        assert aperture[span(a - 0.02, b + 0.02)].min() <= 0.15, (a, b)


def test_ee_wider_and_oo_rounder_on_a_recorded_speaker():
    import _realspeech

    if _realspeech.root() is None:
        pytest.skip("../shared/data/realspeech not present")
    ee, oo = [], []
    for name, spk, _ in _realspeech.utterances(held_out=True):
        if spk != "ljspeech":
            continue
        x, ev = _realspeech.load(name)
        w = vis(x)
        ends = [t for t, _ in ev[1:]] + [len(x) / RATE]
        for (a, ph), b in zip(ev, ends):
            if b - a >= 0.06 and ph in ("iy", "uw"):
                (ee if ph == "iy" else oo).append(w[span(a, b, 0.02)])
    assert len(ee) >= 5 and len(oo) >= 3, (len(ee), len(oo))
    e, o = np.concatenate(ee).mean(0), np.concatenate(oo).mean(0)
    assert e[1] > o[1] + 0.05, (e[:3], o[:3])  # mouthWide
    assert o[2] > e[2] + 0.05, (e[:3], o[:3])  # mouthPucker


def test_live_source_gives_the_visemes_as_record_writes_them(tmp_path):
    """The live source (face3d record, view --mic/--record) with visemes: the same rows as
    StreamAnalyzer with the live model, columns last, written by the recorder's CSV."""
    import queue

    from face3d.live import LiveSource
    from face3d.track import WeightTrack, read_csv, write_csv

    class Mic:
        name, rate, blocksize, overflows = "queued", RATE, 160, 0

        def __init__(self, blocks):
            self.q = queue.Queue()
            for b in blocks:
                self.q.put(b)

        def start(self):
            return self

        def read(self, timeout=0.5):
            try:
                return self.q.get(timeout=timeout)
            except queue.Empty:
                return None

        def drain(self):
            out = []
            while not self.q.empty():
                out.append(self.q.get())
            return out

        def stop(self):
            pass

    x, _ = speak("Five shoes, please.", "en-us")
    src = LiveSource(mic=Mic([x[i : i + 160] for i in range(0, len(x), 160)]), alive=True, visemes=True).start()
    src.close()
    rows = src.drain()
    assert src.names[-15:] == VISEME_NAMES and rows.shape[1] == len(src.names)
    np.testing.assert_allclose(rows[:, -15:].sum(axis=1), 1.0, atol=1e-5)
    ref = vis(x, live=True)
    np.testing.assert_allclose(rows[:, :4], ref[: len(rows), :4], atol=2e-5)
    np.testing.assert_allclose(rows[:, -15:], ref[: len(rows), 4:], atol=2e-5)
    with open(tmp_path / "take.csv", "w") as fh:
        write_csv(WeightTrack(np.arange(len(rows)) / 100, src.names, rows), fh)
    assert read_csv(tmp_path / "take.csv").names == src.names


def test_vmc_stream_sends_the_fifteen(tmp_path):
    import time

    import soundfile as sf

    pytest.importorskip("pythonosc")
    from test_stream_vmc import Receiver

    x, _ = speak("Fine, thank you.", "en-us")
    sf.write(str(tmp_path / "s.wav"), x, RATE)
    rec = Receiver()
    try:
        r = run_cli("stream", tmp_path / "s.wav", "--mute", "--vmc", f"127.0.0.1:{rec.port}", "--names", "visemes")
        assert r.returncode == 0, r.stderr
        time.sleep(0.3)
        frames = rec.frames()
    finally:
        rec.close()
    assert len(frames) > 30
    assert all(tuple(f[2]) == VISEME_NAMES for f in frames)
    sums = np.array([sum(f[2].values()) for f in frames])
    np.testing.assert_allclose(sums, 1.0, atol=1e-4)
    assert max(f[2]["viseme_sil"] for f in frames) > 0.99 and min(f[2]["viseme_sil"] for f in frames) < 0.5
