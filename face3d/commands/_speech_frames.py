"""Weights at video frame times, analysed from a sound file as it is read (for ``render``).

:class:`SpeechFrames` reads the file a block at a time (:class:`~face3d.audio.blocks.AudioBlocks`),
feeds the blocks to the streaming analysis (:class:`~face3d.analysis.StreamAnalyzer`, the
same numbers as analysing the whole file), and yields, for frame ``i``, the head's shape
weights and its head and eye angles at ``i / fps``, interpolated as
:meth:`~face3d.track.WeightTrack.sample` does, as soon as the analysis has passed that
time. Only a few blocks and a few rows of weights are held at once, so memory does not grow
with the length of the file. The number of frames is known at the end:
``frame_count(duration, fps)``, as for a whole file.
"""

from __future__ import annotations

import math

import numpy as np


class SpeechFrames:
    """``for weights, pose in SpeechFrames(path, rig, fps, alive=..., seed=...)``: (K,) float32
    weights of ``rig``'s shapes and (5,) head and eye angles in degrees (None when the
    analysis gives none). :attr:`names`: the analysis columns; :attr:`active`: (K,) bool, the
    shapes they drive; :attr:`estimate`: frames the file's header promises (None if unknown);
    :attr:`count`: frames yielded so far."""

    def __init__(self, path, rig, fps: float, *, alive: bool = False, seed: int = 0, visemes: bool = False,
                 blocks=None):
        from face3d.analysis import StreamAnalyzer, analysis_names
        from face3d.audio.blocks import AudioBlocks
        from face3d.render.pose import POSE_NAMES
        from face3d.render.video import frame_count

        self.blocks = blocks if blocks is not None else AudioBlocks(path)
        self.fps = float(fps)
        self.rig = rig
        from face3d.mesh.rig.visemes import shape_columns

        self._analyzer = lambda: StreamAnalyzer(self.blocks.rate, alive=alive, seed=seed, visemes=visemes)
        self.names = analysis_names(alive=alive, visemes=visemes)
        self._shape = shape_columns(rig, self.names)   # a head's visemes replace the mouth curves they show
        self._pose = [(j, POSE_NAMES.index(n)) for j, n in enumerate(self.names) if n in POSE_NAMES]
        self.active = np.zeros(rig.n_shapes, bool)
        for _, k in self._shape:
            self.active[k] = True
        d = self.blocks.duration
        self.estimate = None if d is None else frame_count(d, self.fps)
        self.count = 0

    @property
    def has_poses(self) -> bool:
        return bool(self._pose)

    def __iter__(self):
        from face3d.analysis import HOP_S
        from face3d.render.pose import POSE_NAMES
        from face3d.render.video import frame_count

        analyzer = self._analyzer()
        rows = np.zeros((0, len(self.names)), np.float32)  # analysis rows base, base + 1, ...
        base = 0
        samples = 0
        rate = self.blocks.rate
        self.count = 0

        def ready(limit: int, final: bool):
            """Frames up to ``limit`` whose two neighbouring rows are in (all of them if final)."""
            nonlocal rows, base
            i = self.count
            if i >= limit or not len(rows):
                return
            t = np.arange(i, limit, dtype=np.float64) / self.fps
            if not final:
                # row floor(t / hop) + 1 (+ 1 for rounding) must have come
                n = int(np.searchsorted(np.floor(t / HOP_S) + 2, base + len(rows), side="left"))
                t = t[:n]
            if not len(t):
                return
            times = (base + np.arange(len(rows))).astype(np.float64) * HOP_S
            values = np.empty((len(t), len(self.names)), np.float32)
            for k in range(len(self.names)):
                values[:, k] = np.interp(t, times, rows[:, k])
            weights = np.zeros((len(t), self.rig.n_shapes), np.float32)
            for j, k in self._shape:
                weights[:, k] = values[:, j]
            poses = None
            if self._pose:
                poses = np.zeros((len(t), len(POSE_NAMES)), np.float64)
                for j, k in self._pose:
                    poses[:, k] = values[:, j]
            # keep only the rows the next frame needs (its left neighbour and on)
            keep = max(0, min(int(math.floor((i + len(t)) / self.fps / HOP_S)) - 1 - base, len(rows) - 1))
            rows, base = rows[keep:], base + keep
            for f in range(len(t)):
                self.count += 1
                yield weights[f], (None if poses is None else poses[f])

        for block in self.blocks:
            samples += block.shape[0]
            new = analyzer.feed(block)
            if len(new):
                rows = np.concatenate([rows, new])
            # frame i surely exists once i < round(seconds so far * fps)
            yield from ready(int(round(samples / rate * self.fps)), final=False)
        rest = analyzer.flush()
        if len(rest):
            rows = np.concatenate([rows, rest])
        n = frame_count(samples / rate, self.fps)
        yield from ready(n, final=True)
        while self.count < n:  # no analysis rows at all: a head at rest
            self.count += 1
            yield np.zeros(self.rig.n_shapes, np.float32), (np.zeros(len(POSE_NAMES)) if self._pose else None)


def split_pairs(pairs, second: bool = True):
    """(firsts, seconds) iterators over an iterable of pairs, to be read in step (the one
    ahead holds at most what the other has not read yet); ``second`` False: (firsts, None)."""
    import itertools

    if not second:
        return (a for a, _ in pairs), None
    a, b = itertools.tee(pairs)
    return (x for x, _ in a), (y for _, y in b)
