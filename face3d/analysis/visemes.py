"""Viseme mapping: band energies (dB) to the weights jawOpen, mouthWide, mouthPucker, mouthClose.

Every weight is in [0, 1]. All levels are in dB; the bands are those of
:mod:`face3d.analysis.bands` (15 voice bands from 80 Hz to 4 kHz, two frication bands).

Trackers (all causal, so a live stream and a whole file give the same numbers):

* ``L`` voice level: the power sum of the voice bands (80 Hz - 4 kHz). Hiss above 4 kHz
  says little about the jaw, and 8 kHz files have nothing there.
* ``F`` noise floor: the minimum of ``L`` over the last 3 s (speech keeps dipping to the
  floor between syllables; steady noise never leaves it).
* ``V`` voice reference: the maximum of ``L`` over the last 2 s, at least ``F + 25``, so
  openness is judged against the talker's own recent peaks (level does not matter).
* ``gate = clip((L - F - 6) / 10)``: silence and steady noise keep the mouth shut.
* ``loud = clip(1 - (V - L) / 20) * gate``; ``recent``: the largest ``loud`` in 150 ms.
* speaker normalisation: ``m``, the gate-weighted running mean (time constant 2 s) of the
  spectral shape, so a voice's own timbre (tract length, microphone, room) is taken out.

Per frame the features are the spectral shape ``s = clip(b - L, -60, 20) / 20`` (every
band against the voice level), ``s - m``, and ``(L - V) / 20``, ``(L - F) / 30``,
``gate``, ``loud``, ``recent`` and ``heard``, the most ``L`` has stood above the floor
since the start (up to 60 dB, over 30: before a voice has been heard, a click or hum at
the start of a file or stream is not yet known to be quiet); the network sees them at
the current frame and at the frames :attr:`~face3d.analysis.model.VisemeModel.taps`
around it: up to 160 ms back and, with look-ahead, ahead: the file-mode model sees 100 ms
ahead (it knows what comes next: the lips anticipate a p, the jaw a vowel; a silence that
goes on is a pause, one that ends in a burst a stop), the live model 10 ms (one frame of
delay inside the microphone's 30 ms budget). So a frame's weights come out once the frames
of its look-ahead have arrived; :meth:`VisemeMapper.flush` gives the last ones at the end.
The network (:mod:`face3d.analysis.model`, fitted by ``scripts/train_visemes.py``) gives
openness, width, rounding and a p/b/m closure logit ``c``:

* **jawOpen**, **mouthWide**, **mouthPucker** ``= clip((y - 0.05) / 0.95) * voiced``
  (the network's hedges below 0.05 are rest), with ``voiced``
  falling to 0 once the sound has been quiet (30 dB or more below the voice, or within
  6 dB of the floor) for longer than a stop's closure (from 40 ms on, fully after 60 ms):
  at rest in silence, steady noise, a pause's breath or hum and a breathy tail after a
  phrase, while the closure of a t or k keeps the jaw where the network puts it. The jaw
  also rises with the lips' closure (``jawOpen *= 1 - 0.5 * mouthClose``), as it does
  for p, b, m;
* **mouthClose** ``= clip((sigmoid(c) - 0.6) / 0.3) * max(gate, recent) * after``: the
  lips press on p, b and m, during speech or just after it (never in steady noise or a
  long pause); ``after`` rises from 0 to 1 between 60 and 90 ms after a pause of more
  than 150 ms (or the start): after a pause the lips are already together at rest, and
  the onset of a vowel there must not read as a closure.

Where a frame is at rest (``voiced`` and the closure gate both 0) the network is not run:
its outputs would be zeroed, so a pause costs next to nothing.

Smoothing: each network output goes through an instant-attack, exponential-release
follower, ``y[t] = max(x[t], a * y[t-1])`` with a release time constant of 10 ms, which
hides frame-to-frame flicker without delaying onsets (a longer release, 20 ms, held
the mouth open after each syllable and followed the phones less well: jaw r 0.005 lower on the
training voices); ``voiced`` is applied after it, so the mouth is at rest from the
first silent frame.
"""

from __future__ import annotations

import numpy as np

from face3d.analysis.bands import BANDS, FLOOR_DB, HOP_S, VOICE_BANDS
from face3d.analysis.model import VisemeModel, load_model
from face3d.analysis.smoothing import leaky, release, sliding
from face3d.analysis.visemes15 import VISEME_INDEX, VISEME_NAMES
from face3d.track import MOUTH_NAMES

#: Output weight names, in column order.
NAMES = MOUTH_NAMES

FLOOR_WINDOW_S = 3.0
VOICE_WINDOW_S = 2.0
RECENT_WINDOW_S = 0.15
SPEAKER_TAU_S = 2.0
SPEAKER_PRIOR_FRAMES = 20.0
GATE_DB = 6.0
GATE_WIDTH_DB = 10.0
VOICE_MIN_SNR_DB = 25.0
LOUD_RANGE_DB = 20.0
QUIET_DB = 30.0
QUIET_FRAMES = 3
QUIET_RAMP = 3
JAW_LIFT = 0.5
FLOORS = (0.05, 0.05, 0.05)
CLOSE_FROM = 0.6
CLOSE_RANGE = 0.3
#: Quiet frames in a row that make a pause for the lips (longer than any stop's closure),
#: and frames after it before the lips press again.
PAUSE_FRAMES = 15
CLOSE_AFTER_PAUSE = 6
RELEASE_S = (0.010, 0.010, 0.010, 0.010)
#: Speaker mean assumed before any voice is heard (weighs as SPEAKER_PRIOR_FRAMES frames;
#: the model was fitted with it, so change both together).
SHAPE_PRIOR = (0.0,) * len(BANDS)
#: Features per frame.
N_FEATURES = 2 * len(BANDS) + 6
HEARD_DB = 60.0
#: The voice level of digital silence (every voice band at the analysis floor), and a hair above.
_SILENT_L = FLOOR_DB + 10.0 * np.log10(VOICE_BANDS) + 0.01


def _clip(x):
    return np.minimum(np.maximum(x, 0.0), 1.0)


def shape_features(e: np.ndarray, L: np.ndarray, gate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n, B) band energies, (n,) voice level and gate -> the (n, N_FEATURES) feature rows
    with their spectral shape filled in (each band's level relative to the voice, -60..20 dB
    scaled to -3..1; the rest left for the caller) and the (n, B + 1) gated shape and gate
    that the speaker-mean integrator accumulates."""
    nb = e.shape[1]
    f = np.empty((e.shape[0], N_FEATURES))
    shape = f[:, :nb]
    np.subtract(e, L[:, None], out=shape)
    np.clip(shape, -60.0, 20.0, out=shape)
    shape *= 1.0 / 20.0
    g = np.empty((e.shape[0], nb + 1))
    np.multiply(shape, gate[:, None], out=g[:, :nb])
    g[:, nb] = gate
    return f, g


class VisemeMapper:
    """Streaming mapper: ``process(energies)`` for any number of new frames -> (n, 4).

    :func:`map_energies` is ``VisemeMapper().process(all_frames)``, so feeding frames in
    blocks of any size gives the same weights as a whole file (to float rounding).
    ``model``: a :class:`~face3d.analysis.model.VisemeModel` (default: the shipped one).
    ``visemes``: rows carry the fifteen :data:`VISEME_NAMES` weights after the four curves,
    (n, 19): the softmax of the network's viseme head wherever the network runs, and
    ``viseme_sil`` where it does not (at rest), every row summing to 1.
    """

    def __init__(self, hop_s: float = HOP_S, model: VisemeModel | None = None, live: bool = False,
                 visemes: bool = False):
        self.hop_s = float(hop_s)
        self.model = model if model is not None else load_model(live=live)
        if visemes and self.model.n_out < 4 + len(VISEME_NAMES):
            raise ValueError("this viseme model has no viseme head; rerun scripts/train_visemes.py")
        self.visemes = bool(visemes)
        self.names = NAMES + (VISEME_NAMES if visemes else ())
        self._nw = len(self.names)
        self._wf = max(1, int(round(FLOOR_WINDOW_S / self.hop_s)))
        self._wv = max(1, int(round(VOICE_WINDOW_S / self.hop_s)))
        self._wr = max(1, int(round(RECENT_WINDOW_S / self.hop_s)))
        self._a = tuple(float(np.exp(-self.hop_s / r)) for r in RELEASE_S)
        self._av = np.array(self._a)
        self._floors = np.array(FLOORS)
        self._prior = SPEAKER_PRIOR_FRAMES * np.asarray(SHAPE_PRIOR, np.float64)
        self._as = float(np.exp(-self.hop_s / SPEAKER_TAU_S))
        self._taps = self.model.taps
        self.reset()

    def reset(self) -> None:
        self._hf = np.full(self._wf - 1, np.inf)  # last L values (floor)
        self._hv = np.full(self._wv - 1, -np.inf)  # last L values (voice)
        self._hr = np.zeros(self._wr - 1)  # last loud values (recent)
        self._acc = np.zeros(len(BANDS) + 1)  # speaker mean: leaky sums of gate * s and of gate
        self._hist = None  # the projected frames the next ones need: history, then those waiting
        self._wait_v = np.zeros(0)  # voiced and active of the frames waiting for their look-ahead
        self._wait_a = np.zeros(0)
        self._y = np.zeros(4)  # the release followers' last values
        self._run = 0  # quiet frames in a row up to the last frame
        self._since = 0  # frames since the last pause frame (the start counts as one)
        self._heard = 0.0  # the most L has been above the floor so far (dB)

    def features(self, energies) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Advance the trackers over new frames: (n, N_FEATURES) per-frame features, voiced, active.

        ``voiced``: 1 while there is sound, falling to 0 once the sound has been quiet
        (``QUIET_DB`` or more below the voice, or within ``GATE_DB`` of the noise floor) for
        more than ``QUIET_FRAMES`` frames in a row: a pause, silence or steady noise, not a
        stop's closure, and from the first frame in a stream that starts in digital silence.
        ``active = max(gate, recent) * after``: speech now or within 150 ms, and more than
        ``CLOSE_AFTER_PAUSE`` frames (fully ``QUIET_RAMP`` more) since a pause (over
        ``PAUSE_FRAMES`` quiet frames) or the start."""
        e = np.asarray(energies, dtype=np.float64)
        if e.ndim != 2 or e.shape[1] != len(BANDS):
            raise ValueError(f"energies must be (frames, {len(BANDS)}), got {e.shape}")
        n = e.shape[0]
        L = 10.0 * np.log10(np.sum(np.exp(e[:, :VOICE_BANDS] * (np.log(10.0) / 10.0)), axis=1))

        zf = np.concatenate([self._hf, L])
        F = sliding(zf, self._wf, np.minimum)
        self._hf = zf[zf.shape[0] - (self._wf - 1):] if self._wf > 1 else self._hf
        zv = np.concatenate([self._hv, L])
        V = sliding(zv, self._wv, np.maximum)
        self._hv = zv[zv.shape[0] - (self._wv - 1):] if self._wv > 1 else self._hv
        V = np.maximum(V, F + VOICE_MIN_SNR_DB)
        LF = L - F
        gate = _clip((LF - GATE_DB) / GATE_WIDTH_DB)
        loud = _clip(1.0 - (V - L) / LOUD_RANGE_DB) * gate
        zr = np.concatenate([self._hr, loud])
        recent = sliding(zr, self._wr, np.maximum)
        self._hr = zr[zr.shape[0] - (self._wr - 1):] if self._wr > 1 else self._hr

        nb = len(BANDS)
        f, g = shape_features(e, L, gate)
        acc, self._acc = leaky(g, self._as, self._acc)
        num = acc[:, :nb]
        num += self._prior
        num /= acc[:, nb:] + SPEAKER_PRIOR_FRAMES
        np.subtract(f[:, :nb], num, out=f[:, nb : 2 * nb])
        f[:, 2 * nb] = np.maximum((L - V) / 20.0, -3.0)
        f[:, 2 * nb + 1] = np.minimum(LF / 30.0, 3.0)
        f[:, 2 * nb + 2] = gate
        f[:, 2 * nb + 3] = loud
        f[:, 2 * nb + 4] = recent
        heard = np.maximum.accumulate(np.maximum(LF, self._heard))
        if n:
            self._heard = float(heard[-1])
        f[:, 2 * nb + 5] = np.minimum(heard, HEARD_DB) / 30.0
        # a pause: quiet (QUIET_DB below the voice, or within GATE_DB of the floor) for
        # longer than a stop's closure
        idx = np.arange(n)
        loud_at = np.maximum.accumulate(np.where((L >= V - QUIET_DB) & (LF >= GATE_DB), idx, -1 - self._run))
        run = idx - loud_at
        if n:
            self._run = int(run[-1])
        voiced = 1.0 - _clip((run - QUIET_FRAMES) / QUIET_RAMP)
        # a stream that starts in digital silence rests from its first frame
        voiced[(L <= _SILENT_L) & (heard < GATE_DB)] = 0.0
        # frames since the last frame of a pause (quiet for more than PAUSE_FRAMES frames: longer
        # than a stop's closure; the start of the stream counts as one):
        # after a pause the lips are already together at rest, so they do not press again
        # until the sound has gone on a while (an "ah" after a pause never closes them)
        paused_at = np.maximum.accumulate(np.where(run > PAUSE_FRAMES, idx, -1 - self._since))
        since = idx - paused_at
        if n:
            self._since = int(since[-1])
        after = _clip((since - CLOSE_AFTER_PAUSE) / QUIET_RAMP)
        return f, voiced, np.maximum(gate, recent) * after

    def _context(self, z: np.ndarray, final: bool = False) -> tuple[np.ndarray, int]:
        """New projected frames (n, K) -> ``(zz, m)``: the ``m`` frames whose look-ahead is now
        complete (all but the last ``lookahead`` seen; with ``final``, every frame not yet
        given, the frames past the end repeating the last one) with the frames around them,
        frame ``j`` at row ``history + j`` of ``zz`` (see :meth:`VisemeModel.run`)."""
        back, ahead = self.model.history, self.model.lookahead
        if self._hist is None:  # before the first frame: as if it had always been there
            if not len(z):
                return z, 0
            self._hist = np.repeat(z[:1], back, axis=0)
        zz = np.concatenate([self._hist, z])
        avail = zz.shape[0] - back  # frames not yet given
        m = avail if final else max(0, avail - ahead)
        # what the next call needs: the history of the first frame still waiting, and those waiting
        self._hist = zz[zz.shape[0] - back - (avail - m):]
        if final:
            zz = np.concatenate([zz, np.repeat(zz[-1:], ahead, axis=0)])
        return zz, m

    def process(self, energies) -> np.ndarray:
        """New band-energy frames -> the weights of the frames now complete: with a model
        that looks ahead, the newest ``lookahead`` frames wait for the frames after them
        (:meth:`flush` gives them at the end)."""
        e = np.asarray(energies, dtype=np.float64)
        if e.ndim == 2 and e.shape[0] == 0:
            return np.zeros((0, self._nw), np.float32)
        f, voiced, active = self.features(e)
        return self._weights(*self._context(self.model.project(f)), voiced, active)

    def flush(self) -> np.ndarray:
        """The weights of the frames still waiting for their look-ahead (the end of the
        signal: the frames past it count as the last one)."""
        if not len(self._wait_v):
            return np.zeros((0, self._nw), np.float32)
        k = self.model.proj.shape[1]
        return self._weights(*self._context(np.zeros((0, k), np.float32), final=True), np.zeros(0), np.zeros(0))

    def _weights(self, zz: np.ndarray, n: int, voiced: np.ndarray, active: np.ndarray) -> np.ndarray:
        """The next ``n`` frames in context (:meth:`_context`) -> their weights (network,
        release, gates)."""
        voiced = np.concatenate([self._wait_v, voiced])
        active = np.concatenate([self._wait_a, active])
        self._wait_v, self._wait_a = voiced[n:], active[n:]
        voiced, active = voiced[:n], active[:n]
        if n == 0:
            return np.zeros((0, self._nw), np.float32)
        # at rest (a pause: no voice, no closure to come) the network's outputs would be
        # zeroed below, so it is not run there
        need = (voiced > 0) | (active > 0)
        y = self.model.run(zz, n, need=need)
        v = np.empty((n, 4))
        v[:, :3] = _clip((y[:, :3] - self._floors) / (1.0 - self._floors))
        v[:, 3] = _clip((1.0 / (1.0 + np.exp(-y[:, 3].astype(np.float64))) - CLOSE_FROM) / CLOSE_RANGE) * active
        if n <= 8:  # a few frames (live input): the release recursion on all four at once
            ys = self._y
            for t in range(n):
                ys = np.maximum(v[t], self._av * ys)
                v[t] = ys
            self._y = ys
        else:
            for i in range(4):
                v[:, i], self._y[i] = release(v[:, i], self._a[i], float(self._y[i]))
        out = np.empty((n, self._nw), np.float32)
        out[:, :3] = v[:, :3] * voiced[:, None]
        out[:, 3] = v[:, 3]
        out[:, 0] *= 1.0 - JAW_LIFT * out[:, 3]
        np.clip(out[:, :4], 0.0, 1.0, out=out[:, :4])
        if self.visemes:
            out[:, 4:] = _viseme_weights(y[:, 4:], need.astype(np.float64))
        return out


_SIL = VISEME_INDEX["sil"]


def _viseme_weights(logits: np.ndarray, voiced: np.ndarray) -> np.ndarray:
    """The viseme head's logits (n, 15) -> weights summing to 1: the softmax where the
    network ran (``voiced`` 1: sound, or speech within 150 ms; the head itself knows a
    faint "th" or a final "f" from a pause), ``sil`` where it did not (at rest)."""
    z = logits.astype(np.float64)
    z -= z.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    p *= voiced[:, None]
    p[:, _SIL] += 1.0 - voiced
    return p.astype(np.float32)


def map_energies(energies, live: bool = False, visemes: bool = False) -> np.ndarray:
    """Whole-signal mapping: (T, B) band energies in dB -> (T, 4) float32 weights
    (``live``: with the live model, as the microphone path gives them; ``visemes``:
    (T, 19), the fifteen viseme weights after the four curves)."""
    m = VisemeMapper(live=live, visemes=visemes)
    w = m.process(energies)
    rest = m.flush()
    return np.concatenate([w, rest]) if len(rest) else w
