"""MultiStream: many streams analysed together give each stream's own live analysis."""

from __future__ import annotations

import numpy as np
import pytest

import face3d
from face3d.analysis import StreamAnalyzer
from face3d.analysis.multistream import BacklogError, MultiStream
from face3d.audio.files import resample

from _audio_helpers import speak

TEXTS = ("Father saw a large dark barn.", "Bob made me a map of the blue moon.",
         "She sells sea shells by the shore.", "Which witch is which?")


@pytest.fixture(scope="module")
def voices(tmp_path_factory):
    d = tmp_path_factory.mktemp("ms")
    out = []
    for i, t in enumerate(TEXTS):
        x, rate = speak(t, d / f"{i}.wav", speed=150 + 20 * i)
        out.append((x, rate))
    return out


def _run(ms, ids, signals, rng, sizes=(1, 900)):
    """Feed every stream blocks of random sizes, interleaved, stepping now and then."""
    pos = [0] * len(ids)
    got = {sid: [] for sid in ids}
    while any(p < len(x) for p, x in zip(pos, signals)):
        for i, x in enumerate(signals):
            n = int(rng.integers(*sizes))
            ms.feed(ids[i], x[pos[i]:pos[i] + n])
            pos[i] += n
        if rng.random() < 0.7:
            for sid, tr in ms.step().items():
                got[sid].append(tr)
    for sid in ids:
        got[sid].append(ms.end(sid))
    return {sid: (np.concatenate([t for t, _ in v]), np.concatenate([r for _, r in v])) for sid, v in got.items()}


@pytest.mark.parametrize("alive,fps", [(False, None), (False, 60), (True, None), (True, 30)])
def test_each_stream_equals_the_offline_live_analysis(voices, alive, fps):
    xs = [resample(x, rate, 16000) for x, rate in voices]
    ms = MultiStream(max_hops=3)
    ids = [ms.open(16000, alive=alive, seed=i, fps=fps) for i in range(len(xs))]
    got = _run(ms, ids, xs, np.random.default_rng(0))
    for i, (sid, x) in enumerate(zip(ids, xs)):
        ref = face3d.analyze(x, rate=16000, fps=fps, live=True, alive=alive, seed=i)
        t, rows = got[sid]
        assert rows.shape == ref.values.shape
        assert np.array_equal(t, ref.times)
        assert np.abs(rows - ref.values).max() < 1e-5
        assert rows[:, 0].max() > 0.3            # it spoke
    assert len(ms) == 0


def test_other_rates_and_channels_equal_stream_analyzer(voices):
    x, rate = voices[0]
    x48 = resample(x, rate, 48000)
    stereo = np.stack([x48, 0.5 * x48], axis=1)
    ms = MultiStream()
    a = ms.open(48000, channels=2)
    b = ms.open(22050)
    x22 = resample(x, rate, 22050)
    got = _run(ms, [a, b], [stereo, x22], np.random.default_rng(1))
    for sid, sig, r in ((a, stereo.mean(axis=1), 48000), (b, x22, 22050)):
        sa = StreamAnalyzer(r, live=True)
        ref = np.concatenate([sa.feed(sig[s:s + 333]) for s in range(0, len(sig), 333)] + [sa.flush()])
        assert got[sid][1].shape == ref.shape
        assert np.abs(got[sid][1] - ref).max() < 1e-5


def test_visemes_per_stream_equal_stream_analyzer(voices):
    """Streams that ask for the fifteen visemes get StreamAnalyzer(visemes=True)'s columns
    (after the alive ones); the streams beside them keep their four curves."""
    xs = [resample(x, rate, 16000) for x, rate in voices]
    ms = MultiStream(max_hops=3)
    opts = [(True, False), (False, False), (True, True), (False, True)]     # (visemes, alive)
    ids = [ms.open(16000, alive=al, seed=i, visemes=v) for i, (v, al) in enumerate(opts)]
    got = _run(ms, ids, xs, np.random.default_rng(3))
    for i, (sid, x, (v, al)) in enumerate(zip(ids, xs, opts)):
        sa = StreamAnalyzer(16000, live=True, alive=al, seed=i, visemes=v)
        ref = np.concatenate([sa.feed(x[s:s + 500]) for s in range(0, len(x), 500)] + [sa.flush()])
        assert got[sid][1].shape == ref.shape
        assert np.abs(got[sid][1] - ref).max() < 1e-5
        if v:
            vis = got[sid][1][:, -15:]
            assert np.allclose(vis.sum(axis=1), 1.0, atol=1e-4)
            assert (vis.argmax(axis=1) != 0).mean() > 0.3      # not all sil: it spoke


def test_streams_come_and_go_and_slots_are_reused(voices):
    xs = [resample(x, rate, 16000) for x, rate in voices]
    ms = MultiStream()
    first = ms.open(16000)
    ms.feed(first, xs[1][:8000])
    ms.step()
    ms.close(first)                               # vanished: no flush, slot freed
    sid = ms.open(16000)                          # same slot, fresh state
    got = _run(ms, [sid], [xs[0]], np.random.default_rng(2))
    ref = face3d.analyze(xs[0], rate=16000, fps=None, live=True)
    assert np.abs(got[sid][1] - ref.values).max() < 1e-5


def test_backlog_is_capped():
    ms = MultiStream(max_backlog_s=1.0)
    sid = ms.open(16000)
    ms.feed(sid, np.zeros(8000, np.float32))
    ms.feed(sid, np.zeros(8000, np.float32))      # into the queue (the ring holds half a second)
    assert ms.backlog_s(sid) == pytest.approx(1.0, abs=0.02)
    with pytest.raises(BacklogError, match="ahead of its analysis"):
        ms.feed(sid, np.zeros(800, np.float32))
    assert ms.backlog_s(sid) == pytest.approx(1.0, abs=0.02)
    ms.step()                                     # at most max_hops hops each step
    assert ms.backlog_s(sid) == pytest.approx(0.9, abs=0.02)
