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
        self.next_blink = self._gap()
        self.blink_start = None
        self.blink_len = 0.15
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

    def _gap(self) -> float:
        return self.last_blink + float(self.rng.uniform(BLINK_MIN_GAP_S, BLINK_MAX_GAP_S))

    def process(self, frames) -> np.ndarray:
        """(n, 3) prosody frames (f0 Hz, loudness dB, voicing) -> (n, 10) float32."""
        f = np.asarray(frames, np.float64).reshape(-1, 3)
        out = np.zeros((f.shape[0], len(ALIVE_NAMES)), np.float32)
        rows = [self._step(f0, db) for f0, db, _ in f.tolist()]
        if rows:
            out[:] = rows
        return out

    # one 10 ms frame -----------------------------------------------------------------
    def _step(self, f0: float, db: float) -> tuple:
        h = self.hop
        t = self.t
        self.t += h
        self.frame += 1
        # speech activity against the speaker's level (slowly falling peak)
        self.ref_db = max(db, self.ref_db - 3.0 * h)
        speech = db > SPEECH_DB and db > self.ref_db - 30.0
        voiced = speech and f0 > 0.0
        pause_start = False
        if speech:
            self.spoken_s = self.spoken_s + h if self.silent_s < SILENCE_FOR_PAUSE_S or self.speaking else h
            self.silent_s = 0.0
            self.speaking = True
        else:
            self.silent_s += h
            if self.speaking and self.silent_s >= SILENCE_FOR_PAUSE_S:
                pause_start = self.spoken_s > 0.3
                self.speaking = False
        self.voiced_s = self.voiced_s + h if voiced else 0.0

        # accents: pitch over the running median (in semitones), loudness over the running mean
        accent = 0.0
        if voiced:
            st = 12.0 * math.log2(f0 / 100.0)
            if self.base_st is None:
                self.base_st = st
            rise = st - self.base_st
            self.base_st += (0.25 if st > self.base_st else -0.25) * h * 4.0  # a slow running median
            if self.avg_db is None:
                self.avg_db = db
            loud = db - self.avg_db
            self.voiced_total += h
            self.avg_db += (db - self.avg_db) * h / min(1.5, 0.05 + self.voiced_total)
            accent = min(1.0, max(0.0, (rise - 1.5) / 3.0) + max(0.0, (loud - 6.0) / 8.0))
        else:
            rise = 0.0
        k = h / (0.08 if accent > self.brow else 0.40)
        self.brow += (accent - self.brow) * min(1.0, k)
        brow = self.brow

        # blinks
        blink = 0.0
        if self.blink_start is None:
            since = t - self.last_blink
            guard = 0.0 < self.voiced_s < VOWEL_GUARD_S
            due = t >= self.next_blink or (pause_start and since >= BLINK_PAUSE_GAP_S) or since >= BLINK_FORCE_S
            if due and not guard:
                self.blink_start = t
                self.blink_len = float(self.rng.uniform(0.12, 0.22))
                self.last_blink = t
                self.next_blink = self._gap()
        if self.blink_start is not None:
            u = (t - self.blink_start) / self.blink_len
            if u >= 1.0:
                self.blink_start = None
            elif u < 1.0 / 3.0:
                a = 3.0 * u
                blink = a * a * (3.0 - 2.0 * a)
            else:
                a = (1.0 - u) * 1.5
                blink = a * a * (3.0 - 2.0 * a)

        # gaze saccades
        if t >= self.next_saccade:
            r = self.rng
            self.gaze_target = [float(np.clip(r.normal(0.0, 2.5), -6.0, 6.0)),
                                float(np.clip(r.normal(0.0, 1.5), -4.0, 4.0))]
            self.next_saccade = t + float(r.uniform(0.5, 3.0))
        g = self.gaze
        g[0] += (self.gaze_target[0] - g[0]) * 0.33
        g[1] += (self.gaze_target[1] - g[1]) * 0.33

        # head: nods on emphasis, chin with the pitch contour, wandering while speaking
        self.nod += ((accent if voiced else 0.0) - self.nod) * min(1.0, h / 0.12)
        if self.speaking and t >= self.next_wander:
            r = self.rng
            self.wander_target = [float(r.uniform(-1.5, 1.5)), float(r.uniform(-3.0, 3.0)), float(r.uniform(-2.0, 2.0))]
            self.next_wander = t + float(r.uniform(0.8, 2.5))
        if not self.speaking and self.silent_s > 0.6:
            self.wander_target = [0.0, 0.0, 0.0]
        for i in range(3):
            self.wander[i] += (self.wander_target[i] - self.wander[i]) * h / 0.6
        contour = max(-3.0, min(3.0, rise)) * 0.5 if voiced else 0.0
        target = (
            self.wander[0] + contour - 3.0 * self.nod,
            self.wander[1],
            self.wander[2] + 0.3 * contour,
        )
        sw = self.sway
        idle = (
            SWAY_DEG * math.sin(2 * math.pi * sw[0][0] * t + sw[0][1])
            + BREATH_DEG * math.sin(2 * math.pi * self.breath[0] * t + self.breath[1]),
            SWAY_DEG * (math.sin(2 * math.pi * sw[1][0] * t + sw[1][1]) + math.sin(2 * math.pi * sw[2][0] * t + sw[2][1])) * 0.7,
            SWAY_DEG * math.sin(2 * math.pi * sw[3][0] * t + sw[3][1]),
        )
        a = min(1.0, h / 0.15)
        head = []
        for i in range(3):
            s = self.head[i]
            s[0] += (target[i] - s[0]) * a
            s[1] += (s[0] - s[1]) * a
            head.append(s[1] + idle[i])
        # the eyes hold their target while the head moves (they look at the camera, not along the nose)
        return (blink, blink, brow, 0.8 * brow, 0.8 * brow, g[0] - head[1], g[1] - head[0], head[0], head[1], head[2])


def alive_curves(prosody_frames, seed: int = 0) -> np.ndarray:
    """Whole-signal alive curves: (T, 3) prosody frames -> (T, 10) float32."""
    return AliveGenerator(seed).process(prosody_frames)
