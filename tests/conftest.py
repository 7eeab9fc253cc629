"""Shared fixtures: one GL context for the whole session (as moderngl's own tests do)."""

from __future__ import annotations

import contextlib
import fcntl
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_HEADS = ROOT.parent / "shared" / "heads"


@contextlib.contextmanager
def _flock(path: Path, mode: int):
    with open(path, "a") as fh:
        fcntl.flock(fh, mode)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@pytest.fixture(autouse=True)
def _realtime_alone(request, tmp_path_factory):
    """Under pytest-xdist (make test: a worker per core), a test marked ``realtime`` (sound
    played through a PulseAudio null sink and heard back, frames that must arrive 60 times a
    second) runs while no other worker runs a test: a CPU-bound test beside it (a video
    render, the face tracker) starved the null sink, which then dropped blocks.

    A readers-writer lock on files in the run's shared temporary folder: every test holds
    ``run.lock`` shared, a realtime test holds it exclusive. A realtime test first takes
    ``gate.lock`` exclusive, and every test passes through ``gate.lock`` (shared) before it
    takes ``run.lock``, so that new tests wait at the gate while a realtime one waits for the
    running ones to end. Without xdist this does nothing."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        yield
        return
    root = tmp_path_factory.getbasetemp().parent
    gate, run = root / "face3d-gate.lock", root / "face3d-run.lock"
    if request.node.get_closest_marker("realtime") is not None:
        with _flock(gate, fcntl.LOCK_EX), _flock(run, fcntl.LOCK_EX):
            yield
    else:
        with _flock(gate, fcntl.LOCK_SH):
            pass
        with _flock(run, fcntl.LOCK_SH):
            yield


@pytest.fixture(scope="session")
def ctx():
    from face3d.render.offscreen import create_context

    context = create_context()
    yield context
    context.release()


@pytest.fixture
def gl(ctx):
    """The session context; asserts the test left no GL error behind."""
    ctx.error  # clear any stale error
    yield ctx
    assert ctx.error == "GL_NO_ERROR"


def run_cli(*args, cwd=None, env=None, timeout=120):
    """Run the real ``face3d`` CLI in a subprocess."""
    full_env = dict(os.environ)
    full_env.pop("DISPLAY", None) if env is None or "DISPLAY" not in env else None
    if env:
        full_env.update(env)
    return subprocess.run(
        [sys.executable, "-m", "face3d", *map(str, args)],
        cwd=cwd or ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def one_line_error(res, *needles) -> str:
    """Assert ``res`` (a finished CLI run) failed as bad input should: exit 2, one line on
    stderr, no traceback, each of ``needles`` in that line; returns the line."""
    assert res.returncode == 2, (res.returncode, res.stdout, res.stderr)
    assert "Traceback" not in res.stderr
    err = res.stderr.strip()
    assert len(err.splitlines()) == 1, err
    for n in needles:
        assert n in err, err
    return err


def uv_grid_faces(rows, cols) -> np.ndarray:
    """Triangles of a ``rows`` x ``cols`` grid of vertices (row-major) closed around each row."""
    faces = []
    for r in range(rows - 1):
        for c in range(cols):
            a, b = r * cols + c, r * cols + (c + 1) % cols
            faces += [(a, a + cols, b), (b, a + cols, b + cols)]
    return np.array(faces)


def sphere_rig(n_shapes=6, rows=24, cols=32, seed=0):
    """A UV sphere with ``n_shapes`` smooth random blendshapes moving its front half only."""
    from face3d.mesh.rig import Rig, vertex_normals

    theta = np.linspace(0, np.pi, rows)
    phi = np.linspace(0, 2 * np.pi, cols, endpoint=False)
    t, p = np.meshgrid(theta, phi, indexing="ij")
    pos = np.stack([np.sin(t) * np.sin(p), np.cos(t), np.sin(t) * np.cos(p)], -1).reshape(-1, 3)
    faces = uv_grid_faces(rows, cols)
    rng = np.random.default_rng(seed)
    front = np.clip(pos[:, 2], 0, None)[:, None]
    targets = {}
    for k in range(n_shapes):
        d = rng.normal(size=3) * 0.2
        freq = rng.normal(size=3) * 3
        targets[f"shape{k}"] = pos + front * np.sin(pos @ freq)[:, None] * d
    return Rig.from_targets(pos, faces, targets, normals=vertex_normals(pos, faces))


@pytest.fixture(scope="session")
def head():
    """The default head as its generator builds it now (not the committed file)."""
    from face3d.mesh.default_head import build_default_head

    return build_default_head()


def part(rig, name) -> np.ndarray:
    """Vertex indices of one named part of the default head (``rig.info['parts']``)."""
    a, b = rig.info["parts"][name]
    return np.arange(a, b)


@pytest.fixture(scope="session")
def default_rig():
    from face3d.mesh.heads import load_head

    return load_head()


@pytest.fixture(scope="module")
def pulse():
    """Env dict for a private PulseAudio with a null sink, one per test module
    (see :func:`_audio_helpers.start_pulse`)."""
    from _audio_helpers import start_pulse, stop_pulse

    env, d = start_pulse()
    try:
        yield env
    finally:
        stop_pulse(env, d)


@pytest.fixture(scope="module")
def tracker():
    """dlib's 68-point face tracker that judges renders (skips where it is not installed)."""
    from _judge import Tracker, judge_missing

    why = judge_missing()
    if why:
        pytest.skip(why)
    return Tracker()
