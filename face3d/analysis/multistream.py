"""Many live streams in one process, analysed together: one pass per hop for all of them.

:class:`MultiStream` is for an app (or ``face3d serve``) that holds many audio streams at
once: a voice chat, a classroom of avatars, a service putting faces on synthesised speech.
Each stream is fed blocks of samples of any size at its own rate; :meth:`MultiStream.step`
then analyses every hop that any stream has ready, all streams together: one real FFT
over the stacked windows, the trackers on arrays with a row per stream, one network
product per layer for every stream whose frame is not at rest
(:class:`~face3d.analysis.batchmap.BatchMapper`), the pitch of every alive stream's frames
in one call; only the alive curves' decisions run stream by stream. So the cost per
stream falls as streams are added, where separate :class:`~face3d.analysis.StreamAnalyzer`
objects cost the same each. A stream's frames are those of ``face3d.analyze(audio, rate, fps=..., live=True)``
on the same audio (to float rounding; other rates go through the streaming resampler of
:class:`~face3d.analysis.StreamAnalyzer`), with ``alive`` those of ``alive=True``.

Usage::

    ms = MultiStream()
    a = ms.open(rate=48000)               # one id per stream
    b = ms.open(rate=16000, alive=True, fps=60)
    ms.feed(a, block_a); ms.feed(b, block_b)
    for sid, (times, rows) in ms.step().items():
        ...                               # rows: (n, len(ms.names(sid))) new frames
    times, rows = ms.end(a)               # the rest of stream a (flushed); a is gone

Memory is bounded: a stream may be at most ``max_backlog_s`` seconds of audio ahead of
its analysis (:class:`BacklogError` otherwise), and each :meth:`step` analyses at most
``max_hops`` hops of each stream, so a stream sent faster than real time cannot hold up
the others for long.
"""

from __future__ import annotations

import numpy as np

from face3d.analysis import bands
from face3d.analysis.bands import ANALYSIS_RATE, HOP_S
from face3d.analysis.batchmap import BatchMapper
from face3d.analysis.prosody import ProsodyTracker
from face3d.analysis.streamslots import BacklogError, StreamSlot

RING = 8192          # samples of each stream's ring (the rest of a backlog waits in a queue)


class MultiStream:
    """Live analysis of many streams at once (see the module notes). ``live``: the live viseme
    model (10 ms of look-ahead; the default), else the file model (100 ms)."""

    def __init__(self, live: bool = True, max_backlog_s: float = 10.0, max_hops: int = 10, capacity: int = 16):
        self.plan = bands._plan(ANALYSIS_RATE)   # the band analysis's window, bins and scale
        self.hop, self.win = self.plan.hop, self.plan.win
        self.max_backlog = int(max_backlog_s * ANALYSIS_RATE)
        self.max_hops = max(1, int(max_hops))
        self.mapper = BatchMapper(capacity, live=live)
        self._streams: dict[int, StreamSlot] = {}
        self._free: list[int] = []
        self._next_id = 0
        self._cap = 0
        self.pitch = ProsodyTracker(ANALYSIS_RATE).plan
        # the pitch window of frame k starts this many samples before its band window
        self._early = self.pitch.lead - self.win // 2
        self._mirror = max(self.win, self.pitch.win)
        self._audio = np.zeros((0, RING + self._mirror), np.float32)
        self._w = np.zeros(0, np.int64)       # samples written into the ring (the half window of zeros first)
        self._emit = np.zeros(0, np.int64)    # band frames taken
        self._fed = np.zeros(0, np.int64)
        self._slots = np.zeros(0, np.int64)   # the slots of the open streams
        self._over: set = set()               # streams with audio waiting in their queue
        self._given = np.zeros(0, np.int64)   # 100 Hz rows given per slot (plain streams)
        self._by_slot: list = []              # slot -> (id, stream)
        self._blas = None
        self._alive = np.zeros(0, bool)       # slots whose streams have alive curves
        self._held = np.zeros((0, 2))         # their last frame's f0 and voicing
        self._n_alive = 0
        self.hops = 0                         # stream hops analysed so far
        self.more = False                     # the last step left hops ready (max_hops, or queued audio)

    def __len__(self) -> int:
        return len(self._streams)

    def names(self, sid: int) -> tuple:
        return self._streams[sid].names

    # ------------------------------------------------------------------ streams
    def open(self, rate: int = ANALYSIS_RATE, channels: int = 1, alive: bool = False, seed: int = 0,
             fps: float | None = None, visemes: bool = False) -> int:
        """A new stream of ``rate`` Hz, ``channels`` channels (fed as (n, channels) frames,
        mixed to mono); ``alive``: rows carry the :data:`ALIVE_NAMES` columns too; ``fps``:
        frames per second of its rows (default: the analysis's 100); ``visemes``: the fifteen
        :data:`~face3d.analysis.visemes15.VISEME_NAMES` columns last. Returns its id."""
        if not (int(rate) == rate and rate >= 8000):
            raise ValueError(f"rate {rate!r}: give an integer sample rate of at least 8000 Hz")
        if fps is not None and not (0 < float(fps) <= 1000):
            raise ValueError(f"fps {fps!r}: give a frame rate above 0 and up to 1000")
        if visemes and not self.mapper.visemes:
            raise ValueError("this viseme model has no viseme head; rerun scripts/train_visemes.py")
        slot = self._free.pop() if self._free else len(self._streams)
        if slot >= self._cap:
            self._grow(max(slot + 1, 2 * self._cap, 16))
        self._audio[slot] = 0.0
        self._w[slot] = self.win // 2
        self._emit[slot] = self._fed[slot] = self._given[slot] = 0
        self.mapper.reset(slot)
        sid = self._next_id
        self._next_id += 1
        self._streams[sid] = st = StreamSlot(slot, rate, channels, alive, seed, fps, visemes)
        self._by_slot[slot] = (sid, st)
        self._alive[slot] = bool(alive)
        self._held[slot] = 0.0
        self._n_alive += bool(alive)
        self._slots = np.array(sorted(s.slot for s in self._streams.values()), np.int64)
        return sid

    def _grow(self, cap: int) -> None:
        old = self._cap
        a = np.zeros((cap, RING + self._mirror), np.float32)
        a[:old] = self._audio
        self._audio = a
        self._windows = np.lib.stride_tricks.sliding_window_view(a, self.win, axis=1)
        self._pwindows = np.lib.stride_tricks.sliding_window_view(a, self.pitch.win, axis=1)
        self._by_slot += [None] * (cap - old)
        al = np.zeros(cap, bool)
        al[:old] = self._alive
        self._alive = al
        held = np.zeros((cap, 2))
        held[:old] = self._held
        self._held = held
        for name in ("_w", "_emit", "_fed", "_given"):
            v = np.zeros(cap, np.int64)
            v[:old] = getattr(self, name)
            setattr(self, name, v)
        self._cap = cap

    def close(self, sid: int) -> None:
        """Forget stream ``sid`` without flushing (a client that went away)."""
        st = self._streams.pop(sid, None)
        if st is None:
            return
        self._over.discard(sid)
        self._free.append(st.slot)
        self._n_alive -= self._alive[st.slot]
        self._alive[st.slot] = False
        self._slots = np.array(sorted(s.slot for s in self._streams.values()), np.int64)

    def backlog_s(self, sid: int) -> float:
        """Seconds of stream ``sid``'s audio not yet analysed."""
        st = self._streams[sid]
        return (st.fed - int(self._emit[st.slot]) * self.hop) / ANALYSIS_RATE

    def feed(self, sid: int, samples) -> None:
        """Add samples to stream ``sid``: 1-D mono or (n, channels) float in [-1, 1].
        Raises :class:`BacklogError` (and keeps none of them) when the stream would be more
        than ``max_backlog_s`` ahead of its analysis."""
        st = self._streams[sid]
        x = np.asarray(samples)
        if x.ndim == 2:
            x = x.mean(axis=1, dtype=np.float64) if x.shape[1] > 1 else x[:, 0]
        if x.dtype != np.float32 or x.ndim != 1:
            x = np.ascontiguousarray(x, dtype=np.float32).reshape(-1)
        if st.fed - int(self._emit[st.slot]) * self.hop + x.size * ANALYSIS_RATE / st.rate > self.max_backlog:
            raise BacklogError(f"the stream is more than {self.max_backlog / ANALYSIS_RATE:g} s of audio ahead of "
                               "its analysis; send it no faster than real time (or the server is overloaded)")
        st.inputs += x.shape[0]
        if st.rs is not None:
            x = st.rs.resample_chunk(x)
        if not x.size:
            return
        st.fed += x.size
        self._fed[st.slot] = st.fed
        n = 0 if st.queued else self._put(st.slot, x)
        if n < x.size:
            st.queue.append(x[n:])
            st.queued += x.size - n
            self._over.add(sid)

    def _put(self, slot: int, x: np.ndarray) -> int:
        """Write as much of ``x`` into the slot's ring as fits (the unread part must stay);
        return how many samples. The ring's first window of samples is repeated after its
        end, so that every window can be read as one run of samples."""
        w = int(self._w[slot])
        n = min(x.size, RING - (w - int(self._emit[slot]) * self.hop + self._early))
        if n <= 0:
            return 0
        p = w % RING
        first = min(n, RING - p)
        row = self._audio[slot]
        row[p:p + first] = x[:first]
        if p < self._mirror:
            m = min(p + first, self._mirror)
            row[RING + p:RING + m] = x[:m - p]
        if first < n:
            row[:n - first] = x[first:n]
            m = min(n - first, self._mirror)
            row[RING:RING + m] = x[first:first + m]
        self._w[slot] = w + n
        return n

    def _unqueue(self) -> None:
        for sid in list(self._over):
            st = self._streams[sid]
            while st.queue:
                n = self._put(st.slot, st.queue[0])
                st.queued -= n
                if n < st.queue[0].size:
                    st.queue[0] = st.queue[0][n:]
                    break
                st.queue.popleft()
            if not st.queue:
                self._over.discard(sid)

    # ------------------------------------------------------------------ analysis
    def step(self) -> dict:
        """Analyse every hop ready in every stream (at most ``max_hops`` each) -> {id: (times,
        rows)} for the streams that have new frames."""
        if self._over:
            self._unqueue()
        self.more = False
        if not len(self._slots):
            return {}
        with self._one_thread():
            who, rows, cuts, nr = self._rounds(self._slots)
        self.more = nr >= self.max_hops or bool(self._over)
        out = {}
        if not len(who):
            return out
        # times of the plain streams' rows (100 Hz, no alive columns), all at once
        first = who[cuts[:-1]]
        counts = np.diff(cuts)
        base = self._given[first]
        self._given[first] = base + counts
        times = (np.repeat(base - cuts[:-1], counts) + np.arange(len(who))) * HOP_S
        by_slot = self._by_slot
        for slot, a, b in zip(first.tolist(), cuts[:-1].tolist(), cuts[1:].tolist()):
            sid, st = by_slot[slot]
            if st.plain:
                out[sid] = (times[a:b], rows[a:b, :st.cols])
                continue
            w = rows[a:b, :st.cols]
            if st.alive is not None:
                w = st.join(w, np.zeros((0, 3)))
            if len(w):
                t, r = st.out(w)
                if len(t):
                    out[sid] = (t, r)
        return out

    def _one_thread(self):
        """One BLAS thread for the step: the products are small (a row per stream), and a
        threaded BLAS spends more on waking its threads than on them (on a busy machine,
        ten times the analysis itself)."""
        if self._blas is None:
            from threadpoolctl import ThreadpoolController

            self._blas = ThreadpoolController()
        return self._blas.limit(limits=1, user_api="blas")

    def _rounds(self, slots: np.ndarray) -> tuple:
        """Band frames and mapping for the hops ready in ``slots`` -> (slot of each row, (n, 4)
        rows grouped by slot in frame order, the groups' bounds, hops done)."""
        w, emit = self._w[slots], self._emit[slots]
        avail = np.maximum((w - self.win) // self.hop + 1, 0) - emit
        limit = -(-self._fed[slots] // self.hop) - emit
        ready = np.minimum(np.minimum(avail, limit), self.max_hops)
        nr = int(ready.max()) if len(ready) else 0
        none = (np.zeros(0, np.int64), np.zeros((0, self.mapper.width), np.float32), np.zeros(1, np.int64))
        if nr <= 0:
            return none + (0,)
        # every (slot, frame) pair of every round, round by round; one FFT pass for all of them
        if nr == 1:
            per = [np.flatnonzero(ready > 0)]
            idx, start = per[0], emit[per[0]] * self.hop
        else:
            per = [np.flatnonzero(ready > r) for r in range(nr)]
            idx = np.concatenate(per)
            rnd = np.concatenate([np.full(len(p), r) for r, p in enumerate(per)])
            start = (emit[idx] + rnd) * self.hop
        frames = self._windows[slots[idx], start % RING]
        energies = self.plan.frames_to_db(frames.astype(np.float64))
        if self._n_alive:
            self._prosody(slots, idx, start, per)
        outs, who = [], []
        at = 0
        for p in per:
            done, rows = self.mapper.step(slots[p], energies[at:at + len(p)])
            at += len(p)
            outs.append(rows)
            who.append(done)
        self._emit[slots] = emit + ready
        self.hops += int(ready.sum())
        who = np.concatenate(who) if nr > 1 else who[0]
        if not len(who):
            return none + (nr,)
        rows = np.concatenate(outs) if nr > 1 else outs[0]
        if nr > 1:
            order = np.argsort(who, kind="stable")
            who, rows = who[order], rows[order]
            cuts = np.concatenate([[0], np.flatnonzero(np.diff(who)) + 1, [len(who)]])
        else:
            cuts = np.arange(len(who) + 1)
        return who, rows, cuts, nr

    def _prosody(self, slots, idx, start, per) -> None:
        """Pitch and loudness of the same frames for the streams with alive curves, in one
        pass (as :class:`~face3d.analysis.prosody.ProsodyTracker`: the pitch is measured on
        even frames, an odd frame repeats the one before); each stream's rows join its queue."""
        slot_of = slots[idx]
        alive = self._alive[slot_of]
        if not alive.any():
            return
        rows = np.flatnonzero(alive)
        s, st0 = slot_of[rows], start[rows]
        k = st0 // self.hop                                       # frame index in its stream
        out = self.pitch.measure(self._pwindows[s, (st0 - self._early) % RING], pitch=k % 2 == 0)
        # rounds in order: an odd frame takes f0 and voicing from the frame before
        bounds = np.cumsum([0] + [len(p) for p in per])
        pos = np.searchsorted(rows, bounds)
        for a, b in zip(pos[:-1], pos[1:]):
            r = np.arange(a, b)
            odd = r[k[r] % 2 == 1]
            out[odd, 0] = self._held[s[odd], 0]
            out[odd, 2] = self._held[s[odd], 1]
            self._held[s[r], 0] = out[r, 0]
            self._held[s[r], 1] = out[r, 2]
        order = np.argsort(s, kind="stable")
        s, out = s[order], out[order]
        cuts = np.flatnonzero(np.diff(s)) + 1
        for g, o in zip(np.split(s, cuts), np.split(out, cuts)):
            st = self._by_slot[int(g[0])][1]
            st.prosody = np.concatenate([st.prosody, o]) if len(st.prosody) else o

    def end(self, sid: int) -> tuple[np.ndarray, np.ndarray]:
        """Analyse the rest of stream ``sid``, flush it (its last frames, as at the end of a
        file) and forget it -> (times, rows) of every frame not given before."""
        st = self._streams[sid]
        slot = np.array([st.slot], np.int64)
        parts = []
        if st.rs is not None:
            tail = st.rs.resample_chunk(np.zeros(0, np.float32), last=True)
            st.queue.append(tail)
            st.queued += tail.size            # (as StreamAnalyzer.flush: the prosody gets zeros instead)
            st.fed += tail.size
            self._fed[st.slot] = st.fed
            self._over.add(sid)
        pad = np.zeros(self.win // 2 + self.hop, np.float32)
        padded = False
        while True:
            if st.queue:
                self._over.add(sid)
                self._unqueue()
            room = RING - (int(self._w[st.slot]) - int(self._emit[st.slot]) * self.hop + self._early)
            if not st.queue and not padded and room >= pad.size:     # else analyse first, then pad
                padded = self._put(st.slot, pad) == pad.size
            with self._one_thread():
                _, got, _, hops = self._rounds(slot)
            parts.append(got)
            if padded and not st.queue and not hops:
                break
        parts.append(self.mapper.finish(st.slot))
        w = np.concatenate(parts)[:, :st.cols]
        if st.alive is not None:
            w = st.join(w, np.zeros((0, 3)))
        if st.plain:
            n0 = int(self._given[st.slot])
            result = (n0 + np.arange(w.shape[0], dtype=np.float64)) * HOP_S, w
        else:
            result = st.out(w, final=True)
        self.close(sid)
        return result
