"""Where a batch's tasks run: this process, a local process pool, or a Dask cluster.

A *task* is a chunk of a few ``(src, dst)`` pairs (:func:`run_chunk` runs it in the
worker and returns one ``(status, message, seconds)`` per pair), so that a file that
takes milliseconds does not pay a round trip to a pool or a scheduler of its own.

Each runner has ``window`` (tasks in flight at most), ``chunk_s`` (about how many seconds
of work a task should hold), ``max_chunk``, ``submit(job, pairs)`` -> a future,
``wait(pending)`` -> the finished ones, ``outcome(future)`` -> the list of results, None
for "the worker died, try again" or a message for "this task cannot run", and for Ctrl-C ``stop_starting()`` (no file starts any
more: the tasks already handed out return their files as not started), ``abort()`` (the
files being worked on are abandoned, their temporary files removed) and ``kill()`` (when
a worker does not answer ``abort``); then ``close()``.
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

#: The report's words for the files a Ctrl-C left undone.
NOT_STARTED = "not started: the batch was interrupted (Ctrl-C)"
ABANDONED = "stopped by a second Ctrl-C before it was done; no output written"
LOST = "stopped by a second Ctrl-C; its worker was stopped before it answered (no partial output is left)"

Job = Callable[[str, str], object]

# In a worker (or this process): what says "start no more files", and whether a job runs now
# (a second Ctrl-C interrupts a running job only, never the pool's own bookkeeping).
_STOP = None
_BUSY = False
_ABORTED = False


def run_one(job: Job, src: str, dst: str) -> tuple[str, str, float]:
    """Run ``job(src, dst)``; return ``(status, message, seconds)``. Never raises for a bad
    input (KeyboardInterrupt, a second Ctrl-C, goes through)."""
    global _BUSY
    t0 = time.perf_counter()
    try:
        _BUSY = True
        try:
            Path(dst).parent.mkdir(parents=True, exist_ok=True)
            message = job(src, dst)
        finally:
            _BUSY = False
        return "ok", "" if message is None else str(message), time.perf_counter() - t0
    except Face3DError as exc:
        return "error", str(exc), time.perf_counter() - t0
    except Exception as exc:  # a bug or a system error in one file must not stop the batch
        return "error", f"{type(exc).__name__}: {exc}", time.perf_counter() - t0


def _stopped(stop) -> bool:
    stop = stop if stop is not None else _STOP
    return _ABORTED or (stop is not None and stop.is_set())


def run_chunk(job: Job, pairs, stop=None) -> list[tuple[str, str, float]]:
    """Run ``job`` on each ``(src, dst)`` of ``pairs`` in turn; one result per pair.

    Before each file the stop flag (``stop``, else the worker's) is looked at: once it is
    set the remaining files are returned as not started. A KeyboardInterrupt in a job (a
    second Ctrl-C) abandons that file (its atomic output is not written) and the rest."""
    out: list = []
    for i, (src, dst) in enumerate(pairs):
        if _stopped(stop):
            break
        before = _identity(dst)
        t0 = time.perf_counter()
        try:
            out.append(run_one(job, src, dst))
        except KeyboardInterrupt:
            # the Ctrl-C may have come just after the output was renamed into place
            done = _identity(dst) not in (before, None)
            out.append(("ok", "", time.perf_counter() - t0) if done else ("interrupted", ABANDONED, 0.0))
            break
    return out + [("interrupted", NOT_STARTED, 0.0)] * (len(pairs) - len(out))


def _identity(path: str):
    """(inode, mtime) of ``path``, or None: an atomic writer's rename changes it."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns


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


def _abort_handler(signum, frame):
    """SIGUSR1 in a worker: the parent's second Ctrl-C. Interrupts the running job only."""
    global _ABORTED
    _ABORTED = True
    if _BUSY:
        raise KeyboardInterrupt


def _worker_init(stop) -> None:
    """Pool workers ignore Ctrl-C: a terminal sends it to every process, and a worker
    interrupted while it hands a result back would leave the pool's queues broken. The
    parent decides: it sets ``stop`` (no file starts any more), and on a second Ctrl-C
    sends SIGUSR1, which abandons the running file."""
    global _STOP
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # blocked by the parent while it spawned us
    signal.signal(signal.SIGUSR1, _abort_handler)
    _STOP = stop


class _InProcess:
    """This process, one file at a time (``--jobs 1``). Ctrl-C is counted by the batch;
    :func:`run_chunk` looks at the count before each file, and a second Ctrl-C interrupts
    the running file (see :class:`face3d.batch._CtrlC`)."""

    window = 1
    chunk_s = 0.0
    max_chunk = 1

    def __init__(self):
        self.stop = None  # set by the batch: an object with is_set()

    def submit(self, job, pairs):
        return _Done(run_chunk(job, pairs, self.stop))

    def wait(self, pending, timeout=None):
        return list(pending)

    def outcome(self, fut):
        return fut

    def stop_starting(self):
        pass

    def abort(self):
        pass

    def kill(self):
        pass

    def close(self):
        pass


class _Done(list):
    """A finished in-process task (hashable, so that it can be a key of ``pending``)."""

    __hash__ = object.__hash__


class _LocalPool:
    """A process pool; a broken pool (a worker killed) is replaced and its tasks retried."""

    chunk_s = 0.05
    max_chunk = 64

    def __init__(self, workers: int):
        import multiprocessing

        self.workers = workers
        self.window = workers * AHEAD
        self._ctx = multiprocessing.get_context("spawn")
        self._stop = self._ctx.Event()
        self._pool = None
        self._new_pool()

    def _new_pool(self):
        from concurrent.futures import ProcessPoolExecutor

        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = ProcessPoolExecutor(self.workers, mp_context=self._ctx, initializer=_worker_init,
                                         initargs=(self._stop,))

    def _submit(self, job, pairs):
        # workers are started on demand here: SIGINT stays blocked while they start, so that a
        # Ctrl-C then does not kill one before it has learnt to ignore it (it reaches us after)
        old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            return self._pool.submit(run_chunk, job, pairs)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)

    def submit(self, job, pairs):
        from concurrent.futures.process import BrokenProcessPool

        try:
            return self._submit(job, pairs)
        except BrokenProcessPool:
            self._new_pool()
            return self._submit(job, pairs)

    def wait(self, pending, timeout=None):
        from concurrent.futures import FIRST_COMPLETED, wait

        return wait(pending, timeout=timeout, return_when=FIRST_COMPLETED).done

    def outcome(self, fut):
        from concurrent.futures.process import BrokenProcessPool

        try:
            return fut.result()
        except BrokenProcessPool:
            return None  # the worker died: retry

    def _pids(self):
        return [p.pid for p in list((self._pool._processes or {}).values()) if p.is_alive()]

    def stop_starting(self):
        self._stop.set()

    def abort(self):
        for pid in self._pids():
            try:
                os.kill(pid, signal.SIGUSR1)
            except OSError:
                pass

    def kill(self):
        for p in list((self._pool._processes or {}).values()):
            p.terminate()

    def close(self):
        self._pool.shutdown(wait=True, cancel_futures=True)


class _DaskStop:
    """The stop flag on a Dask worker: a Dask Event, looked at no more than every 50 ms
    (each look is a round trip to the scheduler)."""

    def __init__(self, name: str):
        self.name = name
        self._seen = False
        self._next = 0.0

    def __getstate__(self):
        return {"name": self.name}

    def __setstate__(self, state):
        self.__init__(state["name"])

    def is_set(self) -> bool:
        if not self._seen and time.monotonic() >= self._next:
            from distributed import Event

            try:
                self._seen = Event(self.name).is_set()
            except Exception:  # no scheduler to ask: go on as if not stopped
                self._seen = False
            self._next = time.monotonic() + 0.05
        return self._seen


class _Dask:
    """An existing Dask distributed cluster; the scheduler retries a task whose worker died."""

    chunk_s = 0.25  # each task is a round trip to the scheduler
    max_chunk = 256

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
        self.window = max(2, threads * AHEAD * 2)
        self._stop = _DaskStop(f"face3d-stop-{os.getpid()}-{time.time_ns()}")
        self._pending = []

    def submit(self, job, pairs):
        # a worker runs in its own folder: it gets the paths as absolute ones
        pairs = [(os.path.abspath(s), os.path.abspath(d)) for s, d in pairs]
        fut = self._client.submit(run_chunk, job, pairs, self._stop, pure=False)
        return fut

    def wait(self, pending, timeout=None):
        from distributed import wait

        self._pending = list(pending)
        try:
            return wait(self._pending, timeout=timeout, return_when="FIRST_COMPLETED").done
        except TimeoutError:
            return ()

    def outcome(self, fut):
        try:
            result = fut.result()
        except Exception as exc:  # KilledWorker (died too often), lost scheduler, a task that could not unpickle
            return f"the cluster could not run it: {type(exc).__name__}: {exc}"
        fut.release()
        return [tuple(r) for r in result]

    def stop_starting(self):
        from distributed import Event

        try:
            Event(self._stop.name, client=self._client).set()
        except Exception:
            pass

    def abort(self):
        """A task cannot be stopped on its worker: stop waiting for the ones handed out."""
        self._client.cancel(self._pending)

    def kill(self):
        pass

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
