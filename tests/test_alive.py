"""The face beyond the mouth (issue 12): blinks, brows, gaze and head motion from the voice,
their CSV columns, --mouth-only and --seed."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from face3d.analysis import StreamAnalyzer, track_from_samples
from face3d.analysis.prosody import prosody
from face3d.track import ALIVE_NAMES, MOUTH_NAMES, read_csv

from _audio_helpers import run_cli

R = 16000


def _vowel(f0_start, f0_end, dur, amp=0.25):
    """A voiced sound: harmonics of a gliding fundamental with formant-like weights."""
    n = int(dur * R)
    f0 = np.linspace(f0_start, f0_end, n)
    ph = 2 * np.pi * np.cumsum(f0) / R
    x = sum(a * np.sin(k * ph) for k, a in ((1, 1.0), (2, 0.6), (3, 0.5), (4, 0.3), (5, 0.2), (7, 0.1)))
    env = np.minimum(1.0, np.minimum(np.arange(n), n - np.arange(n)) / (0.015 * R))
    return amp * x * env / 2.0


def speech_like(seconds, seed=0):
    """Phrases of syllables (voiced, gliding pitch, short noisy consonants) with pauses between.

    Returns the samples and the start times of the pauses and of the long vowels (>= 0.5 s)."""
    rng = np.random.default_rng(seed)
    parts = []
    pauses, long_vowels = [], []
    n = 0                                                   # samples so far

    def add(part):
        nonlocal n
        parts.append(part)
        n += len(part)

    while n < seconds * R:
        for _ in range(rng.integers(4, 14)):               # a phrase
            if rng.random() < 0.08:
                dur = rng.uniform(0.5, 0.8)
                long_vowels.append(n / R)
            else:
                dur = rng.uniform(0.10, 0.25)
            f0 = rng.uniform(100, 160)
            add(_vowel(f0, f0 * rng.uniform(0.85, 1.2), dur, rng.uniform(0.12, 0.3)))
            add(rng.normal(0, 0.02, int(rng.uniform(0.03, 0.08) * R)))   # a consonant: short noise
        pauses.append(n / R)
        add(np.zeros(int(rng.uniform(0.35, 1.2) * R)))
    x = np.concatenate(parts).astype(np.float32)
    return x, np.array(pauses), np.array(long_vowels)


def _blinks(track):
    """(start, end, peak time) of each blink: where eyeBlinkLeft rises above 0.02 and falls back."""
    b = track.column("eyeBlinkLeft")
    on = b > 0.02
    edges = np.flatnonzero(np.diff(on.astype(int)))
    starts = edges[::2] + 1
    ends = edges[1::2] + 1
    n = min(len(starts), len(ends))
    out = []
    for s, e in zip(starts[:n], ends[:n]):
        peak = s + int(np.argmax(b[s:e]))
        out.append((track.times[s], track.times[e], track.times[peak], float(b[peak])))
    return np.array(out)


@pytest.fixture(scope="module")
def ten_minutes():
    x, pauses, vowels = speech_like(600.0, seed=3)
    return track_from_samples(x, alive=True, seed=0), pauses, vowels


def test_blink_timing_over_ten_minutes_of_speech(ten_minutes):
    tr, pauses, vowels = ten_minutes
    assert tr.names == MOUTH_NAMES + ALIVE_NAMES
    bl = _blinks(tr)
    minutes = tr.duration / 60.0
    assert 10 * minutes <= len(bl) <= 30 * minutes, len(bl)
    # both eyes together, and fully closed at the peak
    np.testing.assert_array_equal(tr.column("eyeBlinkLeft"), tr.column("eyeBlinkRight"))
    assert np.all(bl[:, 3] > 0.9)
    dur = bl[:, 1] - bl[:, 0]
    assert np.all((dur >= 0.09) & (dur <= 0.26)), (dur.min(), dur.max())
    # closing faster than opening
    assert np.all(bl[:, 2] - bl[:, 0] < bl[:, 1] - bl[:, 2])
    gaps = np.diff(bl[:, 0])
    assert 2.0 <= np.median(gaps) <= 6.0, np.median(gaps)
    assert gaps.min() >= 1.5 and gaps.max() <= 6.6, (gaps.min(), gaps.max())
    assert np.mean((gaps >= 1.8) & (gaps <= 6.0)) > 0.9
    assert np.std(gaps) > 0.4                     # irregular, not a metronome
    # more likely at the start of a pause than elsewhere: the share of blinks starting within
    # 0.35 s after a pause begins is well above the share of time those windows cover
    near = np.array([np.any((s - pauses >= 0.0) & (s - pauses < 0.35)) for s in bl[:, 0]])
    covered = len(pauses) * 0.35 / tr.duration
    assert near.mean() > 2.0 * covered, (near.mean(), covered)
    # never in the first 300 ms of a long vowel (allowing 40 ms for the analysis to see it start)
    for v in vowels:
        assert not np.any((bl[:, 0] > v + 0.04) & (bl[:, 0] < v + 0.30)), v


def test_head_and_gaze_move_with_speech(ten_minutes):
    tr = ten_minutes[0]
    for name, lo, hi in (("headPitch", 1.0, 8.0), ("headYaw", 1.0, 8.0), ("headRoll", 0.5, 6.0),
                         ("eyeYaw", 1.0, 15.0), ("eyePitch", 0.5, 12.0)):
        c = tr.column(name)
        assert lo < np.ptp(np.percentile(c, [5, 95])) and np.abs(c).max() < hi, (name, np.ptp(c), np.abs(c).max())
    # smooth: the head never jumps more than 0.5 degrees in 10 ms
    for name in ("headPitch", "headYaw", "headRoll"):
        assert np.abs(np.diff(tr.column(name))).max() < 0.5, name
    # saccades: the gaze target changes every 0.5-3 s
    jumps = np.flatnonzero(np.abs(np.diff(tr.column("eyeYaw"))) > 0.3)
    starts = jumps[np.r_[True, np.diff(jumps) > 5]] * 0.01
    assert 0.4 <= np.median(np.diff(starts)) <= 3.0


def test_brows_rise_on_a_pitch_accent_not_on_a_flat_tone():
    flat = np.concatenate([np.zeros(R // 2), _vowel(140, 140, 3.0), np.zeros(R // 2)]).astype(np.float32)
    accent = np.concatenate([np.zeros(R // 2), _vowel(140, 140, 1.2), _vowel(140, 230, 0.15),
                             _vowel(230, 150, 0.25), _vowel(150, 140, 1.4), np.zeros(R // 2)]).astype(np.float32)
    tf = track_from_samples(flat, alive=True)
    ta = track_from_samples(accent, alive=True)
    brow_flat = tf.column("browInnerUp")
    brow_acc = ta.column("browInnerUp")
    assert brow_flat.max() < 0.1, brow_flat.max()
    assert brow_acc.max() > 0.4, brow_acc.max()
    peak = ta.times[np.argmax(brow_acc)]
    assert 1.6 < peak < 2.4, peak                      # at the accent (it starts at 1.7 s)
    assert brow_acc[ta.times > 3.2].max() < 0.1        # relaxed again afterwards
    assert ta.column("browOuterUpLeft").max() > 0.3
    # the pitch tracker sees the accent's peak
    f0 = prosody(accent)[:, 0]
    assert 200 < f0.max() < 250 and abs(np.median(f0[f0 > 0]) - 140) < 8


def test_head_still_in_digital_silence_but_for_the_slow_sway():
    tr = track_from_samples(np.zeros(R * 30, np.float32), alive=True)
    for name in ("headPitch", "headYaw", "headRoll", "browInnerUp"):
        c = tr.column(name)
        assert np.abs(c).max() <= 0.5, (name, np.abs(c).max())
    for name in ("headPitch", "headYaw", "headRoll"):
        c = tr.column(name)
        assert np.abs(np.diff(c)).max() < 0.01, name       # slow: under 1 degree a second
        assert np.ptp(c) > 0.05, name                      # but not frozen: the sway
    assert len(_blinks(tr)) >= 4                           # still blinking


def test_streaming_equals_whole_signal_and_seed_decides():
    x, _, _ = speech_like(8.0, seed=5)
    whole = track_from_samples(x, alive=True, seed=4)
    an = StreamAnalyzer(alive=True, seed=4)
    rows = [an.feed(x[s:s + 113]) for s in range(0, len(x), 113)] + [an.flush()]
    np.testing.assert_allclose(np.concatenate(rows), whole.values, rtol=0, atol=1e-5)  # float32 mouth network
    assert an.names == whole.names
    again = track_from_samples(x, alive=True, seed=4)
    np.testing.assert_array_equal(again.values, whole.values)
    other = track_from_samples(x, alive=True, seed=5)
    np.testing.assert_array_equal(other.values[:, :4], whole.values[:, :4])   # the mouth is the mouth
    assert not np.array_equal(other.column("eyeBlinkLeft"), whole.column("eyeBlinkLeft"))
    mouth = track_from_samples(x)
    assert mouth.names == MOUTH_NAMES
    np.testing.assert_array_equal(mouth.values, whole.values[:, :4])


@pytest.fixture(scope="module")
def wav(tmp_path_factory):
    x, _, _ = speech_like(12.0, seed=8)
    p = tmp_path_factory.mktemp("alive") / "speech.wav"
    sf.write(str(p), x, R, subtype="FLOAT")
    return p


def test_export_csv_round_trip_with_the_new_columns(wav, tmp_path):
    from face3d.pipeline import analyze

    out = tmp_path / "c.csv"
    r = run_cli("export", wav, "-o", out, "--seed", "3")
    assert r.returncode == 0, r.stderr
    assert out.read_text().splitlines()[0] == ",".join(["frame", "time_s", *MOUTH_NAMES, *ALIVE_NAMES])
    back = read_csv(out)
    assert back.names == MOUTH_NAMES + ALIVE_NAMES
    ref = analyze(wav, fps=60, alive=True, seed=3)
    np.testing.assert_allclose(back.values, ref.values, atol=6e-5)
    assert np.abs(back.column("headYaw")).max() > 0.5            # degrees, not clipped to [0, 1]
    # another seed, other blinks; the same seed, the same file
    r2 = run_cli("export", wav, "-o", tmp_path / "d.csv", "--seed", "4")
    assert r2.returncode == 0, r2.stderr
    assert (tmp_path / "d.csv").read_text() != out.read_text()
    r3 = run_cli("export", wav, "-o", tmp_path / "e.csv", "--seed", "3")
    assert r3.returncode == 0, r3.stderr
    assert (tmp_path / "e.csv").read_text() == out.read_text()


def test_mouth_only_gives_exactly_the_four_mouth_columns(wav, tmp_path):
    out = tmp_path / "m.csv"
    r = run_cli("export", wav, "-o", out, "--mouth-only")
    assert r.returncode == 0, r.stderr
    assert out.read_text().splitlines()[0] == "frame,time_s,jawOpen,mouthWide,mouthPucker,mouthClose"
    full = read_csv(tmp_path / "m.csv")
    assert full.names == MOUTH_NAMES


@pytest.mark.parametrize("seed", ["-1", "x", "4294967296", "nan"])
def test_bad_seed_is_one_line(wav, tmp_path, seed):
    r = run_cli("export", wav, "-o", tmp_path / "s.csv", "--seed", seed)
    assert r.returncode == 2 and "--seed" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "s.csv").exists()


def test_head_settles_when_the_speech_stops():
    x, _, _ = speech_like(6.0, seed=11)
    sig = np.concatenate([x, np.zeros(R * 20, np.float32)])
    tr = track_from_samples(sig, alive=True)
    end = len(x) / R
    speaking = tr.times < end
    late = tr.times > end + 4.0
    moved = max(np.ptp(tr.column(n)[speaking]) for n in ("headPitch", "headYaw", "headRoll"))
    assert moved > 1.0, moved
    for name in ("headPitch", "headYaw", "headRoll", "browInnerUp"):
        assert np.abs(tr.column(name)[late]).max() <= 0.5, name
