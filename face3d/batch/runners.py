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
        Path(dst).parent.mkdir(parents=True, exist_ok=True)
        message = job(src, dst)
        return "ok", "" if message is None else str(message), time.perf_counter() - t0
    except Face3DError as exc:
        return "error", str(exc), time.perf_counter() - t0
    except Exception as exc:  # a bug or a system error in one file must not stop the batch
        return "error", f"{type(exc).__name__}: {exc}", time.perf_counter() - t0


_RANDOM_PART = re.compile(r"[a-z0-9_]{8}(\.[^.]+)*")


def remove_stale_temporaries(outputs) -> int:
    """Remove the temporary files (``.NAME.xxxxxxxx[.ext]``, see :mod:`face3d.fileio`) that
    writers of these outputs killed mid-write (a dead worker, a killed batch) left behind.

    Called when no task of the batch runs any more, so every such file is an orphan. One
    pass over each output folder. Returns how many were removed.
    """
    names: dict[Path, set[str]] = {}
    for dst in outputs:
        names.setdefault(Path(dst).parent, set()).add(Path(dst).name)
    removed = 0
    for folder, wanted in names.items():
        try:
            entries = [n for n in os.listdir(folder) if n.startswith(".")]
        except OSError:
            continue
        for entry in entries:
            for i, ch in enumerate(entry):
                if ch == "." and i > 1 and entry[1:i] in wanted and _RANDOM_PART.fullmatch(entry, i + 1):
                    try:
                        os.unlink(folder / entry)
                        removed += 1
                    except OSError:
                        pass
                    break
    return removed


def _worker_init() -> None:
    """Pool workers ignore Ctrl-C: a terminal sends it to every process, and a worker
    interrupted while it hands a result back would leave the pool's queues broken. The
    parent decides: it lets the running files finish, or stops the workers on a second Ctrl-C."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class _InProcess:
    window = 1

    def submit(self, job, src, dst):
        return run_one(job, src, dst)

    def wait(self, pending, timeout=None):
        return list(pending)

    def outcome(self, fut):
        return fut

    def stop(self, pending, ctrl_c):
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

    def wait(self, pending, timeout=None):
        from concurrent.futures import FIRST_COMPLETED, wait

        return wait(pending, timeout=timeout, return_when=FIRST_COMPLETED).done

    def outcome(self, fut):
        from concurrent.futures.process import BrokenProcessPool

        try:
            return fut.result()
        except BrokenProcessPool:
            return None  # the worker died: retry

    def stop(self, pending, ctrl_c):
        """Ctrl-C: drop what has not started and let the running files finish; a second
        Ctrl-C stops the workers at once (their temporary files are swept afterwards)."""
        import multiprocessing
        from concurrent.futures import wait

        for fut in pending:
            fut.cancel()
        while wait(pending, timeout=0.1).not_done:
            if ctrl_c.count >= 2:
                for child in multiprocessing.active_children():
                    child.terminate()
                break

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
        # a worker runs in its own folder: it gets the paths as absolute ones
        return self._client.submit(run_one, job, os.path.abspath(src), os.path.abspath(dst), pure=False)

    def wait(self, pending, timeout=None):
        from distributed import wait

        try:
            return wait(list(pending), timeout=timeout, return_when="FIRST_COMPLETED").done
        except TimeoutError:
            return ()

    def outcome(self, fut):
        try:
            result = fut.result()
        except Exception as exc:  # KilledWorker (died too often), lost scheduler, a task that could not unpickle
            return "error", f"the cluster could not run it: {type(exc).__name__}: {exc}", 0.0
        fut.release()
        return tuple(result)

    def stop(self, pending, ctrl_c):
        """Ctrl-C: the few files handed to the cluster finish (a task cannot be stopped on
        its worker); a second Ctrl-C cancels those not yet done."""
        while any(not fut.done() for fut in pending):
            if ctrl_c.count >= 2:
                self._client.cancel(list(pending))
                break
            time.sleep(0.1)

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
