"""A real Dask cluster on 127.0.0.1 for the batch tests and bench/batch.py: ``dask scheduler``
and ``dask worker`` processes (one process, one thread each) on free ports, stopped at the end."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    def __init__(self, address: str, scheduler: subprocess.Popen, workers: list[subprocess.Popen], log: Path):
        self.address, self.scheduler, self.workers, self.log = address, scheduler, workers, log

    def worker_pids(self) -> list[int]:
        """The pids of the processes that run tasks (the workers; there are no nannies)."""
        return [w.pid for w in self.workers if w.poll() is None]


@contextlib.contextmanager
def dask_cluster(n_workers: int, logdir: Path, timeout: float = 90.0):
    """Start ``dask scheduler`` and ``n_workers`` ``dask worker --nworkers 1 --nthreads 1
    --no-nanny`` processes on 127.0.0.1; yield a :class:`Cluster` once all workers joined."""
    from distributed import Client

    dask = str(Path(sys.executable).parent / "dask")
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    env.pop("DISPLAY", None)
    logdir.mkdir(parents=True, exist_ok=True)
    log = logdir / "dask.log"
    procs: list[subprocess.Popen] = []
    with open(log, "ab") as out:
        def start(*args):
            p = subprocess.Popen([dask, *args], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                 start_new_session=True)
            procs.append(p)
            return p

        try:
            sched = start("scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard")
            workers = [start("worker", address, "--host", "127.0.0.1", "--nworkers", "1", "--nthreads", "1",
                             "--no-nanny", "--no-dashboard", "--death-timeout", "60") for _ in range(n_workers)]
            deadline = time.monotonic() + timeout
            client = None
            while client is None:
                try:
                    client = Client(address, timeout="5s", set_as_default=False)
                except OSError:
                    if time.monotonic() > deadline or sched.poll() is not None:
                        raise RuntimeError(f"dask scheduler did not start; see {log}") from None
                    time.sleep(0.5)
            try:
                client.wait_for_workers(n_workers, timeout=max(5.0, deadline - time.monotonic()))
            finally:
                client.close()
            yield Cluster(address, sched, workers, log)
        finally:
            for p in reversed(procs):  # the workers first, then the scheduler they would wait for
                if p.poll() is None:
                    with contextlib.suppress(OSError):
                        os.killpg(p.pid, signal.SIGTERM)
                try:
                    p.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(OSError):
                        os.killpg(p.pid, signal.SIGKILL)
                    p.wait(timeout=15)
