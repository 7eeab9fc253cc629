"""The face beyond the mouth, from the voice: blinks, gaze, brows and head motion.

Pure Python/numpy and causal: :class:`AliveGenerator` takes prosody frames (f0 Hz,
loudness dB, voicing; :mod:`face3d.analysis.prosody`), one per 10 ms hop, and returns one
row of :data:`ALIVE_NAMES` per frame. File and live input run the same code, frame by
frame, so a file gives the same curves as its sound played into the microphone path; a
``seed`` chooses the random choices (the same seed, the same curves).

* **Blinks** (``eyeBlinkLeft``/``Right``, both eyes): 120-220 ms, closing in a third of
  that and opening in the rest; the next one is due 2.2-5.2 s after the last (random); a
  pause that starts after at least 1.8 s brings it forward (people blink at pauses and
  phrase ends); none starts in the first 300 ms of a voiced stretch (a vowel), and one
  that is 6 s overdue waits only for that.
* **Gaze** (``eyeYaw``/``eyePitch``, degrees; positive: toward the head's left / up):
  a saccade every 0.5-3 s to a point a few degrees around the camera, reached in ~30 ms;
  the angles are in the head's frame and make up for its turns (the eyes keep their target).
* **Brows** (``browInnerUp``, ``browOuterUpLeft``/``Right``): raised on pitch accents
  (voiced f0 more than 1.5 semitones over the speaker's running median) and on emphasis
  (a voiced frame 6 dB over the running loudness), rising in ~80 ms, falling in ~400 ms.
* **Head** (``headPitch``/``headYaw``/``headRoll``, degrees; pitch positive: chin up,
  yaw positive: turning toward the head's left, roll positive: tilting toward its right
  shoulder): nods down on emphasis, chin following the pitch contour, slow wandering
  turns and tilts while speaking, all through a critically damped filter (no jitter);
  in silence only a slow sway and breathing of a few tenths of a degree.
"""

from __future__ import annotations

import math

import numpy as np

from face3d.analysis.bands import HOP_S
from face3d.track import ALIVE_NAMES, ANGLE_NAMES

__all__ = ["ALIVE_NAMES", "ANGLE_NAMES", "AliveGenerator", "alive_curves"]

SPEECH_DB = -50.0          # a frame louder than this (and near the speaker's level) is speech
BLINK_MIN_GAP_S = 2.2
BLINK_MAX_GAP_S = 5.2
BLINK_PAUSE_GAP_S = 1.8    # a pause brings a blink forward once this long after the last
BLINK_FORCE_S = 6.0
VOWEL_GUARD_S = 0.32       # 300 ms, and the pitch window's lag
SILENCE_FOR_PAUSE_S = 0.08
SWAY_DEG = 0.22            # amplitude of each of the idle sway's slow sines
BREATH_DEG = 0.15


class AliveGenerator:
    """Causal alive curves; ``process(prosody_frames)`` -> (n, 10) float32 rows."""

    names = ALIVE_NAMES

    def __init__(self, seed: int = 0, hop_s: float = HOP_S):
        self.seed = int(seed)
        self.hop = float(hop_s)
        self.rng = np.random.default_rng(self.seed)
        r = self.rng
        self.t = 0.0
        self.frame = 0
        # sway: three slow sines per head axis, breathing on pitch
        self.sway = [(float(r.uniform(0.07, 0.16)), float(r.uniform(0, 2 * math.pi))) for _ in range(6)]
        self.breath = (float(r.uniform(0.22, 0.28)), float(r.uniform(0, 2 * math.pi)))
        # loudness and pitch references
        self.ref_db = -40.0
        self.avg_db = None
        self.base_st = None
        self.speaking = False
        self.silent_s = 10.0
        self.spoken_s = 0.0
        self.voiced_s = 0.0
        self.voiced_total = 0.0
        # blinks
        self.last_blink = -float(r.uniform(0.5, 2.5))
        self.next_blink = self.last_blink + float(r.uniform(BLINK_MIN_GAP_S, BLINK_MAX_GAP_S))
        self.blink_end = -1.0
        self._open_blinks: list = []       # blinks that may still reach into the next block
        # gaze
        self.next_saccade = float(r.uniform(0.5, 3.0))
        self.gaze_target = [0.0, 0.0]
        self.gaze = [0.0, 0.0]
        # brows and head
        self.brow = 0.0
        self.nod = 0.0
        self.wander = [0.0, 0.0, 0.0]
        self.wander_target = [0.0, 0.0, 0.0]
        self.next_wander = 0.0
        self.head = [[0.0, 0.0], [0.0, 0.0], [0.0, 0.0]]   # two one-pole stages per axis

    def process(self, frames) -> np.ndarray:
        """(n, 3) prosody frames (f0 Hz, loudness dB, voicing) -> (n, 10) float32.

        The decisions run frame by frame on plain floats (a few microseconds a frame); the
        idle sway and the blink lids' shape are drawn afterwards from times, vectorised."""
        f = np.asarray(frames, np.float64).reshape(-1, 3)
        n = f.shape[0]
        out = np.zeros((n, len(ALIVE_NAMES)), np.float32)
        if n == 0:
            return out
        h = self.hop
        first = self.frame
        times = (first + np.arange(n)) * h
        dbs = f[:, 1].tolist()
        sts = np.where(f[:, 0] > 0.0, 12.0 * np.log2(np.maximum(f[:, 0], 1.0) / 100.0), np.nan).tolist()
        rows = []
        blinks = []                        # (start, length) of the blinks begun in this block
        rng = self.rng
        ref_db, avg_db, base_st = self.ref_db, self.avg_db, self.base_st
        speaking, silent_s, spoken_s = self.speaking, self.silent_s, self.spoken_s
        voiced_s, voiced_total = self.voiced_s, self.voiced_total
        last_blink, next_blink, blink_end = self.last_blink, self.next_blink, self.blink_end
        next_saccade, next_wander = self.next_saccade, self.next_wander
        gt0, gt1 = self.gaze_target
        g0, g1 = self.gaze
        brow, nod = self.brow, self.nod
        w0, w1, w2 = self.wander
        wt0, wt1, wt2 = self.wander_target
        (a0, b0), (a1, b1), (a2, b2) = self.head
        fall = 3.0 * h
        k_brow_up, k_brow_down = min(1.0, h / 0.08), min(1.0, h / 0.40)
        k_nod, k_wander, k_head = min(1.0, h / 0.12), h / 0.6, min(1.0, h / 0.15)
        for i in range(n):
            t = (first + i) * h
            db = dbs[i]
            st = sts[i]
            # speech activity against the speaker's level (a slowly falling peak)
            ref_db = db if db > ref_db - fall else ref_db - fall
            speech = db > SPEECH_DB and db > ref_db - 30.0
            voiced = speech and st == st
            pause_start = False
            if speech:
                spoken_s = spoken_s + h if (speaking or silent_s < SILENCE_FOR_PAUSE_S) else h
                silent_s = 0.0
                speaking = True
            else:
                silent_s += h
                if speaking and silent_s >= SILENCE_FOR_PAUSE_S:
                    pause_start = spoken_s > 0.3
                    speaking = False
            voiced_s = voiced_s + h if voiced else 0.0
            # accents: pitch over the running median (semitones), loudness over the running mean
            accent = 0.0
            rise = 0.0
            if voiced:
                if base_st is None:
                    base_st = st
                rise = st - base_st
                base_st += h if st > base_st else -h          # a running median, 1 semitone a second
                if avg_db is None:
                    avg_db = db
                loud = db - avg_db
                voiced_total += h
                avg_db += (db - avg_db) * h / (1.5 if voiced_total > 1.45 else 0.05 + voiced_total)
                accent = (rise - 1.5) / 3.0 if rise > 1.5 else 0.0
                if loud > 6.0:
                    accent += (loud - 6.0) / 8.0
                if accent > 1.0:
                    accent = 1.0
            brow += (accent - brow) * (k_brow_up if accent > brow else k_brow_down)
            # blinks: due, or at a pause, never early in a vowel
            if t >= blink_end:
                since = t - last_blink
                if (t >= next_blink or (pause_start and since >= BLINK_PAUSE_GAP_S) or since >= BLINK_FORCE_S) \
                        and not (0.0 < voiced_s < VOWEL_GUARD_S):
                    length = float(rng.uniform(0.12, 0.22))
                    blinks.append((t, length))
                    last_blink = t
                    blink_end = t + length
                    next_blink = t + float(rng.uniform(BLINK_MIN_GAP_S, BLINK_MAX_GAP_S))
            # gaze saccades
            if t >= next_saccade:
                gt0 = float(np.clip(rng.normal(0.0, 2.5), -6.0, 6.0))
                gt1 = float(np.clip(rng.normal(0.0, 1.5), -4.0, 4.0))
                next_saccade = t + float(rng.uniform(0.5, 3.0))
            g0 += (gt0 - g0) * 0.33
            g1 += (gt1 - g1) * 0.33
            # head: nods on emphasis, chin with the pitch contour, wandering while speaking
            nod += ((accent if voiced else 0.0) - nod) * k_nod
            if speaking and t >= next_wander:
                wt0, wt1, wt2 = float(rng.uniform(-2.5, 2.5)), float(rng.uniform(-4.5, 4.5)), float(rng.uniform(-2.5, 2.5))
                next_wander = t + float(rng.uniform(0.8, 2.5))
            elif not speaking and silent_s > 0.6:
                wt0 = wt1 = wt2 = 0.0
            w0 += (wt0 - w0) * k_wander
            w1 += (wt1 - w1) * k_wander
            w2 += (wt2 - w2) * k_wander
            contour = (3.0 if rise > 3.0 else -3.0 if rise < -3.0 else rise) * 0.5 if voiced else 0.0
            a0 += (w0 + contour - 3.0 * nod - a0) * k_head
            b0 += (a0 - b0) * k_head
            a1 += (w1 - a1) * k_head
            b1 += (a1 - b1) * k_head
            a2 += (w2 + 0.3 * contour - a2) * k_head
            b2 += (a2 - b2) * k_head
            rows.append((brow, g0, g1, b0, b1, b2))
        self.ref_db, self.avg_db, self.base_st = ref_db, avg_db, base_st
        self.speaking, self.silent_s, self.spoken_s = speaking, silent_s, spoken_s
        self.voiced_s, self.voiced_total = voiced_s, voiced_total
        self.last_blink, self.next_blink, self.blink_end = last_blink, next_blink, blink_end
        self.next_saccade, self.next_wander = next_saccade, next_wander
        self.gaze_target, self.gaze = [gt0, gt1], [g0, g1]
        self.brow, self.nod = brow, nod
        self.wander, self.wander_target = [w0, w1, w2], [wt0, wt1, wt2]
        self.head = [[a0, b0], [a1, b1], [a2, b2]]
        self.frame = first + n
        self.t = self.frame * h

        v = np.array(rows)
        brow_v = v[:, 0]
        idle = self._idle(times)
        head = v[:, 3:6] + idle
        out[:, 0] = out[:, 1] = self._lids(times, blinks)
        out[:, 2] = brow_v
        out[:, 3] = out[:, 4] = 0.8 * brow_v
        # the eyes hold their target while the head moves (they look at the camera, not along the nose)
        out[:, 5] = v[:, 1] - head[:, 1]
        out[:, 6] = v[:, 2] - head[:, 0]
        out[:, 7:10] = head
        return out

    def _idle(self, t: np.ndarray) -> np.ndarray:
        """(n, 3) the slow sway (and breathing, on pitch) at times ``t``: a function of time alone."""
        sw, br = self.sway, self.breath
        two_pi = 2.0 * np.pi
        out = np.empty((t.shape[0], 3))
        out[:, 0] = SWAY_DEG * np.sin(two_pi * sw[0][0] * t + sw[0][1]) + BREATH_DEG * np.sin(two_pi * br[0] * t + br[1])
        out[:, 1] = SWAY_DEG * 0.7 * (np.sin(two_pi * sw[1][0] * t + sw[1][1]) + np.sin(two_pi * sw[2][0] * t + sw[2][1]))
        out[:, 2] = SWAY_DEG * np.sin(two_pi * sw[3][0] * t + sw[3][1])
        return out

    def _lids(self, t: np.ndarray, started: list) -> np.ndarray:
        """Blink weight at times ``t``: closing in the first third of each blink, opening after."""
        self._open_blinks = [b for b in self._open_blinks if b[0] + b[1] > t[0] - 1e-9] + started
        w = np.zeros(t.shape[0])
        for s, length in self._open_blinks:
            u = (t - s) / length
            a = np.where(u < 1.0 / 3.0, 3.0 * u, (1.0 - u) * 1.5)
            a = np.clip(a, 0.0, 1.0)
            w = np.maximum(w, np.where((u >= 0.0) & (u < 1.0), a * a * (3.0 - 2.0 * a), 0.0))
        return w


def alive_curves(prosody_frames, seed: int = 0) -> np.ndarray:
    """Whole-signal alive curves: (T, 3) prosody frames -> (T, 10) float32."""
    return AliveGenerator(seed).process(prosody_frames)
