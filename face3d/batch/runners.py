"""Where a batch's tasks run: this process, a local process pool, or a Dask cluster.

Each runner has ``window`` (tasks in flight at most), ``submit(job, src, dst)`` -> a
future, ``wait(pending)`` -> the finished ones, ``outcome(future)`` -> ``(status,
message, seconds)`` or None for "the worker died, try again", ``interrupt(pending)`` and
``close()``. :func:`run_one` is what runs in the worker.
"""

from __future__ import annotations

import os
import re
import signal
import time
from pathlib import Path
from typing import Callable

from face3d.errors import Face3DError, UsageError

#: How many tasks each worker may have queued ahead (window = workers x this).
AHEAD = 2

Job = Callable[[str, str], object]


def run_one(job: Job, src: str, dst: str) -> tuple[str, str, float]:
    """Run ``job(src, dst)``; return ``(status, message, seconds)``. Never raises for a bad input."""
    t0 = time.perf_counter()
    try:
        out = Path(dst)
        out.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_temporaries(out)
        message = job(src, dst)
        return "ok", "" if message is None else str(message), time.perf_counter() - t0
    except Face3DError as exc:
        return "error", str(exc), time.perf_counter() - t0
    except Exception as exc:  # a bug or a system error in one file must not stop the batch
        return "error", f"{type(exc).__name__}: {exc}", time.perf_counter() - t0


def _remove_stale_temporaries(dst: Path) -> None:
    """Remove the temporary files (``.NAME.xxxxxxxx[.ext]``, see :mod:`face3d.fileio`) that a
    worker killed while writing ``dst`` left beside it.

    Only one task writes a given output, and a task is retried only once its worker is
    gone, so any such file is an orphan.
    """
    pattern = re.compile(re.escape(f".{dst.name}.") + r"[a-z0-9_]{8}(\.[^.]+)*")
    try:
        names = [n for n in os.listdir(dst.parent) if pattern.fullmatch(n)]
    except OSError:
        return
    for name in names:
        try:
            os.unlink(dst.parent / name)
        except OSError:
            pass


def _worker_init() -> None:
    """Pool workers: the first Ctrl-C interrupts the task (its temporary file is removed);
    later ones are ignored so that the clean-up itself is not cut short."""

    def once(signum, frame):
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, once)


class _InProcess:
    window = 1

    def submit(self, job, src, dst):
        return run_one(job, src, dst)

    def wait(self, pending):
        return list(pending)

    def outcome(self, fut):
        return fut

    def interrupt(self, pending):
        pass

    def close(self):
        pass


class _LocalPool:
    """A process pool; a broken pool (a worker killed) is replaced and its tasks retried."""

    def __init__(self, workers: int):
        self.workers = workers
        self.window = workers * AHEAD
        self._pool = None
        self._new_pool()

    def _new_pool(self):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        ctx = multiprocessing.get_context("spawn")
        self._pool = ProcessPoolExecutor(self.workers, mp_context=ctx, initializer=_worker_init)

    def submit(self, job, src, dst):
        from concurrent.futures.process import BrokenProcessPool

        try:
            return self._pool.submit(run_one, job, src, dst)
        except BrokenProcessPool:
            self._new_pool()
            return self._pool.submit(run_one, job, src, dst)

    def wait(self, pending):
        from concurrent.futures import FIRST_COMPLETED, wait

        return wait(pending, return_when=FIRST_COMPLETED).done

    def outcome(self, fut):
        from concurrent.futures.process import BrokenProcessPool

        try:
            return fut.result()
        except BrokenProcessPool:
            return None  # the worker died: retry

    def interrupt(self, pending):
        """Ctrl-C: drop what has not started; what runs finishes (or, if the Ctrl-C reached
        the workers too, stops and leaves no output)."""
        from concurrent.futures import wait

        for fut in pending:
            fut.cancel()
        wait(pending)

    def close(self):
        self._pool.shutdown(wait=True, cancel_futures=True)


class _Dask:
    """An existing Dask distributed cluster; the scheduler retries a task whose worker died."""

    def __init__(self, address: str, connect_timeout: float = 10.0, worker_timeout: float = 60.0):
        try:
            from distributed import Client
        except ImportError:
            raise UsageError("--scheduler needs Dask distributed; install it with: pip install 'face3d[dask]'") from None
        try:
            self._client = Client(address, timeout=f"{connect_timeout}s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise UsageError(
                f"--scheduler {address}: cannot reach a Dask scheduler there ({exc}); "
                "start one with 'dask scheduler' or check the address") from None
        try:
            self._client.wait_for_workers(1, timeout=worker_timeout)
        except (OSError, TimeoutError):
            self._client.close()
            raise UsageError(f"--scheduler {address}: no worker joined in {worker_timeout:g} s; "
                             f"start workers with 'dask worker {address}'") from None
        threads = sum(self._client.nthreads().values())
        self.window = max(2, threads * AHEAD * 4)  # each task is a round trip to the scheduler: keep more queued

    def submit(self, job, src, dst):
        return self._client.submit(run_one, job, src, dst, pure=False)

    def wait(self, pending):
        from distributed import wait

        return wait(list(pending), return_when="FIRST_COMPLETED").done

    def outcome(self, fut):
        try:
            result = fut.result()
        except Exception as exc:  # KilledWorker (died too often), lost scheduler, a task that could not unpickle
            return "error", f"the cluster could not run it: {type(exc).__name__}: {exc}", 0.0
        fut.release()
        return tuple(result)

    def interrupt(self, pending):
        self._client.cancel(list(pending))

    def close(self):
        self._client.close()


def default_jobs() -> int:
    """The number of CPU cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def make_runner(n: int, jobs: int | None, scheduler: str | None):
    if scheduler:
        return _Dask(scheduler)
    workers = min(n, jobs or default_jobs())
    return _InProcess() if workers <= 1 else _LocalPool(workers)
