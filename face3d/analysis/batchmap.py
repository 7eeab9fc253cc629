"""The viseme mapper for many streams at once: one hop of every stream in one pass.

:class:`BatchMapper` holds the state of :class:`~face3d.analysis.visemes.VisemeMapper` for
many streams side by side, one row (a *slot*) per stream: the floor, voice and recent
windows as ring buffers, the speaker mean, the pause counters, the projected frames the
network's taps reach and the release followers. :meth:`BatchMapper.step` takes one new
band-energy frame for each of any set of slots and runs the trackers, the projection, the
network (one product per layer for every slot whose frame is not at rest) and the release
on all of them together, so a stream's numbers are those of its own ``VisemeMapper`` fed
frame by frame (to float rounding: the same operations in the same order, only batched).
"""

from __future__ import annotations

import numpy as np

from face3d.analysis import visemes as vm
from face3d.analysis.bands import BANDS, HOP_S, VOICE_BANDS
from face3d.analysis.model import VisemeModel, load_model

_LN10_10 = np.log(10.0) / 10.0


class BatchMapper:
    """Live (or file) viseme mapping of many streams; slots are rows, grown on demand."""

    def __init__(self, capacity: int = 16, model: VisemeModel | None = None, live: bool = True):
        self.model = model if model is not None else load_model(live=live)
        self.hop_s = HOP_S
        self._wf = max(1, int(round(vm.FLOOR_WINDOW_S / HOP_S)))
        self._wv = max(1, int(round(vm.VOICE_WINDOW_S / HOP_S)))
        self._wr = max(1, int(round(vm.RECENT_WINDOW_S / HOP_S)))
        self._av = np.array([float(np.exp(-HOP_S / r)) for r in vm.RELEASE_S])
        self._as = float(np.exp(-HOP_S / vm.SPEAKER_TAU_S))
        self._prior = vm.SPEAKER_PRIOR_FRAMES * np.asarray(vm.SHAPE_PRIOR, np.float64)
        self._floors = np.array(vm.FLOORS)
        #: the model has a viseme head: rows carry the fifteen viseme weights after the four curves
        self.visemes = self.model.n_out >= 4 + len(vm.VISEME_NAMES)
        self.width = 4 + len(vm.VISEME_NAMES) if self.visemes else 4
        self.taps = np.array(self.model.taps, np.int64)
        self.lookahead = self.model.lookahead
        span = self.model.history + self.lookahead + 2
        self._zr = 1 << int(np.ceil(np.log2(max(span, 2))))   # ring of projected frames, per slot
        self.capacity = 0
        self._grow(max(1, int(capacity)))

    # ------------------------------------------------------------------ slots
    def _grow(self, cap: int) -> None:
        old = self.capacity
        nb, k = len(BANDS), self.model.proj.shape[1]

        def grown(a, fill):
            new = np.full((cap,) + a.shape[1:], fill, a.dtype)
            new[:old] = a[:old]
            return new

        if old == 0:
            self.frames = np.zeros(0, np.int64)                       # frames seen per slot
            self._hf = np.zeros((0, self._wf))
            self._hv = np.zeros((0, self._wv))
            self._hr = np.zeros((0, self._wr))
            self._acc = np.zeros((0, nb + 1))
            self._run = np.zeros(0, np.int64)
            self._since = np.zeros(0, np.int64)
            self._heard = np.zeros(0)
            self._z = np.zeros((0, self._zr, k), np.float32)
            self._va = np.zeros((0, self._zr, 2))                   # voiced, active per frame
            self._y = np.zeros((0, 4))
        self.frames = grown(self.frames, 0)
        self._hf, self._hv, self._hr = grown(self._hf, np.inf), grown(self._hv, -np.inf), grown(self._hr, 0.0)
        self._acc = grown(self._acc, 0.0)
        self._run, self._since, self._heard = grown(self._run, 0), grown(self._since, 0), grown(self._heard, 0.0)
        self._z, self._va, self._y = grown(self._z, 0.0), grown(self._va, 0.0), grown(self._y, 0.0)
        self.capacity = cap

    def reset(self, slot: int) -> None:
        """Start slot ``slot`` afresh (a new stream), growing the arrays if needed."""
        if slot >= self.capacity:
            self._grow(max(slot + 1, 2 * self.capacity))
        self.frames[slot] = 0
        self._hf[slot] = np.inf
        self._hv[slot] = -np.inf
        self._hr[slot] = 0.0
        self._acc[slot] = 0.0
        self._run[slot] = self._since[slot] = 0
        self._heard[slot] = 0.0
        self._z[slot] = 0.0
        self._va[slot] = 0.0
        self._y[slot] = 0.0

    # ------------------------------------------------------------------ one hop
    def step(self, slots: np.ndarray, energies: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One new band-energy frame (row ``i`` of ``energies``, (n, 17) dB) for each slot in
        ``slots`` (distinct) -> ``(done, weights)``: the slots whose next frame is now
        complete (those that have seen more than ``lookahead`` frames) and its (m, :attr:`width`)
        weights (as :class:`~face3d.analysis.visemes.VisemeMapper` with ``visemes`` when the model
        has the viseme head)."""
        s = np.asarray(slots, np.int64)
        e = np.asarray(energies, np.float64)
        nb = len(BANDS)
        mf = self.frames[s]
        L = 10.0 * np.log10(np.sum(np.exp(e[:, :VOICE_BANDS] * _LN10_10), axis=1))
        F = self._window(self._hf, s, mf, L, np.minimum)
        V = self._window(self._hv, s, mf, L, np.maximum)
        V = np.maximum(V, F + vm.VOICE_MIN_SNR_DB)
        LF = L - F
        gate = vm._clip((LF - vm.GATE_DB) / vm.GATE_WIDTH_DB)
        loud = vm._clip(1.0 - (V - L) / vm.LOUD_RANGE_DB) * gate
        recent = self._window(self._hr, s, mf, loud, np.maximum)

        f, g = vm.shape_features(e, L, gate)
        acc = self._as * self._acc[s] + g
        self._acc[s] = acc
        num = acc[:, :nb]
        num += self._prior
        num /= acc[:, nb:] + vm.SPEAKER_PRIOR_FRAMES
        np.subtract(f[:, :nb], num, out=f[:, nb:2 * nb])
        f[:, 2 * nb] = np.maximum((L - V) / 20.0, -3.0)
        f[:, 2 * nb + 1] = np.minimum(LF / 30.0, 3.0)
        f[:, 2 * nb + 2] = gate
        f[:, 2 * nb + 3] = loud
        f[:, 2 * nb + 4] = recent
        heard = np.maximum(LF, self._heard[s])
        self._heard[s] = heard
        f[:, 2 * nb + 5] = np.minimum(heard, vm.HEARD_DB) / 30.0
        run = np.where((L >= V - vm.QUIET_DB) & (LF >= vm.GATE_DB), 0, self._run[s] + 1)
        self._run[s] = run
        voiced = 1.0 - vm._clip((run - vm.QUIET_FRAMES) / vm.QUIET_RAMP)
        voiced[(L <= vm._SILENT_L) & (heard < vm.GATE_DB)] = 0.0
        since = np.where(run > vm.PAUSE_FRAMES, 0, self._since[s] + 1)
        self._since[s] = since
        after = vm._clip((since - vm.CLOSE_AFTER_PAUSE) / vm.QUIET_RAMP)
        active = np.maximum(gate, recent) * after

        z = self.model.project(f)
        pos = mf % self._zr
        first = mf == 0
        if first.any():   # before the first frame: as if it had always been there
            self._z[s[first]] = z[first][:, None, :]
        self._z[s, pos] = z
        self._va[s, pos, 0] = voiced
        self._va[s, pos, 1] = active
        self.frames[s] = mf + 1
        ready = mf >= self.lookahead
        if not ready.all():
            s, mf = s[ready], mf[ready]
        return s, self._weights(s, mf - self.lookahead)

    def _window(self, ring: np.ndarray, s: np.ndarray, mf: np.ndarray, x: np.ndarray, ufunc) -> np.ndarray:
        """Put ``x`` into each slot's ring of the last W values; reduce every ring with ``ufunc``."""
        ring[s, mf % ring.shape[1]] = x
        return ufunc.reduce(ring[s], axis=1)

    def finish(self, slot: int) -> np.ndarray:
        """The weights of the frames of ``slot`` still waiting for their look-ahead (the end
        of its stream: the frames past the end count as its last one), (m, :attr:`width`)."""
        mf = int(self.frames[slot])
        if mf == 0:
            return np.zeros((0, self.width), np.float32)
        last = self._z[slot, (mf - 1) % self._zr].copy()
        for k in range(self.lookahead):
            self._z[slot, (mf + k) % self._zr] = last
        s = np.array([slot], np.int64)
        rows = [self._weights(s, np.array([j], np.int64)) for j in range(max(0, mf - self.lookahead), mf)]
        return np.concatenate(rows) if rows else np.zeros((0, self.width), np.float32)

    def _weights(self, s: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Frame ``j[i]`` of slot ``s[i]`` (its taps all in the ring) -> (n, width) weights."""
        n = s.shape[0]
        if n == 0:
            return np.zeros((0, self.width), np.float32)
        zr = self._zr
        va = self._va[s, j % zr]
        voiced, active = va[:, 0], va[:, 1]
        y = np.zeros((n, self.model.n_out), np.float32)   # the four curves (then any viseme logits)
        need = (voiced > 0) | (active > 0)
        rows = np.flatnonzero(need)
        if len(rows):
            sr, jr = (s, j) if len(rows) == n else (s[rows], j[rows])
            ctx = self._z[sr[:, None], (jr[:, None] - self.taps[None, :]) % zr]     # (m, taps, K)
            nt = len(self.taps)
            x = np.concatenate([ctx[:, :, a:b].reshape(len(rows), nt * (b - a)) for a, b in self.model.splits], axis=1)
            y[rows] = self.model.forward(x)
        v = np.empty((n, 4))
        v[:, :3] = vm._clip((y[:, :3] - self._floors) / (1.0 - self._floors))
        v[:, 3] = vm._clip((1.0 / (1.0 + np.exp(-y[:, 3].astype(np.float64))) - vm.CLOSE_FROM) / vm.CLOSE_RANGE) * active
        ys = np.maximum(v, self._av * self._y[s])
        self._y[s] = ys
        out = np.empty((n, self.width), np.float32)
        out[:, :3] = ys[:, :3] * voiced[:, None]
        out[:, 3] = ys[:, 3]
        out[:, 0] *= 1.0 - vm.JAW_LIFT * out[:, 3]
        np.clip(out[:, :4], 0.0, 1.0, out=out[:, :4])
        if self.visemes:
            out[:, 4:] = vm._viseme_weights(y[:, 4:], need.astype(np.float64))
        return out

