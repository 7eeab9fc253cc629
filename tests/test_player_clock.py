"""The player clock advances once per drawn frame; reading it changes nothing.

No sound device: the PortAudio callback is called by hand on a fake time source, in
uneven bursts as real devices deliver them, so the heard-frame smoothing has work to do.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from face3d.audio.player import AudioPlayer
from face3d.track import WeightTrack
from face3d.viewer.session import Session

RATE = 8000
BLOCK = 80          # 10 ms


class FakeTime:
    def __init__(self, t=0.0):
        self.t = t

    def __call__(self):
        return self.t


def _player(ft, seconds=6.0):
    x = (np.arange(int(seconds * RATE)) / (seconds * RATE)).astype(np.float32)
    p = AudioPlayer(x, RATE, now=ft)
    p.latency = 0.05
    p.started = True                  # no stream: the callback is driven by the test
    return p


def _run(reads_per_frame: int, frames: int = 150):
    """Positions and session weights per frame, reading the clock ``reads_per_frame`` times
    a frame besides the session's own read (as the overlay and the level meter do)."""
    ft = FakeTime()
    p = _player(ft)
    t = np.arange(0, 6.01, 0.01)
    track = WeightTrack(t, ("jawOpen",), (t / 6.0).astype(np.float32)[:, None])
    s = Session(track=track, clock=p, samples=p.samples, rate=RATE)
    rng = np.random.default_rng(3)
    out = np.zeros((BLOCK, 1), np.float32)
    next_cb = 0.0
    positions, weights = [], []
    for i in range(frames):
        frame_t = i / 60.0
        # callbacks due before this frame, in bursts: a late callback catches up at once
        while next_cb <= frame_t:
            ft.t = next_cb + float(rng.uniform(0.0, 0.012))
            p._callback(out, BLOCK, None, None)
            next_cb += BLOCK / RATE
        ft.t = frame_t + 0.001
        w = s.update()
        weights.append(float(w[0]))
        positions.append(p.position())
        for _ in range(reads_per_frame):
            p.position()
            p.ended
            p.heard_frame()
            s.level_db()
            assert p.position() == positions[-1]
    return np.array(positions), np.array(weights)


def test_reading_the_clock_more_often_changes_nothing():
    pos1, w1 = _run(1)
    pos10, w10 = _run(10)
    assert pos1[-1] > 2.0                                   # it played
    assert np.all(np.diff(pos1) >= 0)                       # never backwards
    np.testing.assert_array_equal(pos1, pos10)
    np.testing.assert_array_equal(w1, w10)
    # with no reads at all besides the session's, still the same frames
    pos0, w0 = _run(0)
    np.testing.assert_array_equal(pos0, pos1)


def test_smoothing_advances_per_tick_not_per_read():
    ft = FakeTime()
    p = _player(ft)
    out = np.zeros((BLOCK, 1), np.float32)
    for _ in range(30):
        p._callback(out, BLOCK, None, None)
        ft.t += BLOCK / RATE
    p.tick()
    ft.t += 0.004
    p._callback(out, BLOCK, None, None)     # a callback that jumps the raw estimate a little ahead
    state = (p._heard, p._heard_t)
    a = [p.position() for _ in range(5)]
    e = [p.ended for _ in range(5)]
    assert len(set(a)) == 1 and len(set(e)) == 1            # reading twice gives the same value
    assert (p._heard, p._heard_t) == state                 # and reads change no state
    p.tick()
    assert (p._heard, p._heard_t) != state                 # the tick does


def test_ended_is_a_pure_read_and_becomes_true_after_the_end_is_heard():
    ft = FakeTime()
    p = AudioPlayer(np.ones(400, np.float32), RATE, now=ft)   # 50 ms of sound
    p.started = True
    out = np.zeros((BLOCK, 1), np.float32)
    for _ in range(8):
        p._callback(out, BLOCK, None, None)
        ft.t += BLOCK / RATE
        p.tick()
    assert p.ended and p.ended
    assert p.position() == pytest.approx(0.05)


def test_seek_and_callback_take_the_lock():
    """A seek is handed to the audio thread under the lock, so the callback never clears a
    seek it did not apply (the race lost a seek pressed while a callback ran)."""
    ft = FakeTime()
    p = _player(ft)
    out = np.zeros((BLOCK, 1), np.float32)
    done = []
    with p._lock:
        th = [threading.Thread(target=lambda: (p.seek(3.0), done.append("seek"))),
              threading.Thread(target=lambda: (p._callback(out, BLOCK, None, None), done.append("cb")))]
        for x in th:
            x.start()
        time.sleep(0.2)
        assert done == []                                   # both wait for the lock
    for x in th:
        x.join(5)
    assert sorted(done) == ["cb", "seek"]
    p._callback(out, BLOCK, None, None)
    # whichever ran first, the seek was applied by a callback: the last block starts at 3 s
    assert out[0, 0] == pytest.approx(3.0 / 6.0, abs=0.02)
