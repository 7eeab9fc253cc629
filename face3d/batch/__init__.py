"""Run one per-file job over many inputs: in this process, on a local process pool, or on
a Dask distributed cluster.

This module knows nothing of what the job does. A *job* is a picklable callable
``job(src, dst)`` (a module-level function, or a :func:`functools.partial` of one) that
reads the input path ``src`` and writes the output path ``dst`` atomically (with
:func:`face3d.fileio.atomic_path`), raising :class:`~face3d.errors.Face3DError` for a bad
input. :func:`discover` turns files and folders into sorted ``(input, output)`` pairs
that mirror the inputs' relative paths under an output folder; :func:`run_batch` runs
the job on each pair and writes ``OUTDIR/face3d-report.jsonl`` as it goes, one JSON
object per input (``input``, ``output``, ``status`` ``ok``/``error``/``skipped``,
``message``, ``seconds``).

A failing input is reported and the batch goes on. At most a small window of tasks is in
flight at any time, so the parent's memory stays bounded whatever the batch size. A
worker that dies mid-task leaves no output (outputs are atomic); on a local pool the
task is tried once more in a fresh pool, on Dask the scheduler retries it elsewhere.
"""

from __future__ import annotations

import contextlib
import json
import signal
import sys
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from face3d.batch.discover import discover, up_to_date
from face3d.batch.runners import Job, default_jobs, make_runner, remove_stale_temporaries, run_one
from face3d.errors import OutputError

__all__ = ["REPORT_NAME", "Summary", "Report", "discover", "up_to_date", "run_batch", "run_one", "default_jobs"]

REPORT_NAME = "face3d-report.jsonl"


@dataclass
class Summary:
    """What a batch did: counts of each status, and where its report is."""

    ok: int = 0
    failed: int = 0
    skipped: int = 0
    report: Path | None = None

    @property
    def total(self) -> int:
        return self.ok + self.failed + self.skipped


class Report:
    """``face3d-report.jsonl``, one line per input, flushed as each input finishes."""

    def __init__(self, path: Path):
        self.path = path
        try:
            self._fh = open(path, "w", encoding="utf-8")
        except OSError as exc:
            raise OutputError(f"cannot write the batch report {path}: {exc.strerror}; choose another -o") from None

    def add(self, src, dst, status: str, message: str = "", seconds: float = 0.0) -> None:
        rec = {"input": str(src), "output": str(dst), "status": status, "message": message,
               "seconds": round(float(seconds), 4)}
        self._fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
        self._fh.flush()

    def close(self) -> None:
        self._fh.close()


def run_batch(pairs: Sequence[tuple[Path, Path]], job: Job, outdir: Path, *, jobs: int | None = None,
              scheduler: str | None = None, skip_existing: bool = False, progress: bool = True,
              on_error: Callable[[Path, str], None] | None = None) -> Summary:
    """Run ``job`` over ``pairs``, writing ``outdir/face3d-report.jsonl`` as the batch goes.

    ``jobs``: local worker processes (None: the CPU count; 1: this process);
    ``scheduler``: a Dask scheduler address (its workers must see the same paths).
    ``skip_existing``: an input whose output is newer than it is reported as skipped.
    ``on_error(input, message)`` is called for each failed input as it is known.
    KeyboardInterrupt stops the batch: tasks not started are dropped, running ones finish
    (a second Ctrl-C stops them, leaving no output), finished ones are in the report; then
    it is raised.
    """
    summary = Summary(report=outdir / REPORT_NAME)
    report = Report(summary.report)
    bar = _bar(len(pairs), progress)

    def record(src, dst, status, message="", seconds=0.0):
        report.add(src, dst, status, message, seconds)
        if status == "ok":
            summary.ok += 1
        elif status == "skipped":
            summary.skipped += 1
        else:
            summary.failed += 1
            if on_error is not None and bar is not None:
                with bar.external_write_mode(file=sys.stderr):
                    on_error(src, message)
            elif on_error is not None:
                on_error(src, message)
        if bar is not None:
            bar.set_postfix_str(f"{summary.failed} failed", refresh=False)
            bar.update(1)

    todo = []
    for src, dst in pairs:
        if skip_existing and up_to_date(src, dst):
            record(src, dst, "skipped", "output is newer than the input")
        else:
            todo.append((src, dst))
    runner = None
    try:
        if todo:
            runner = make_runner(len(todo), jobs, scheduler)
            _pump(runner, todo, job, record)
    finally:
        if runner is not None:
            runner.close()
            remove_stale_temporaries(dst for _, dst in todo)
        if bar is not None:
            bar.close()
        report.close()
    return summary


class _CtrlC:
    """While a pool or cluster works, Ctrl-C is counted instead of raised, so that it never
    lands inside the pool's own bookkeeping (which can then hang); :func:`_pump` stops."""

    def __init__(self):
        self.count, self._old = 0, None

    def __enter__(self):
        try:
            self._old = signal.signal(signal.SIGINT, self._count)
        except ValueError:  # not the main thread: no Ctrl-C comes here
            self._old = None
        return self

    def _count(self, signum, frame):
        self.count += 1

    def __exit__(self, *exc):
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)
        return False


def _pump(runner, todo, job, record) -> None:
    """Keep at most ``runner.window`` tasks in flight; record each as it finishes.

    In this process (window 1) Ctrl-C interrupts the running job (its output is not
    written). With workers, it stops handing out tasks, lets the running ones finish
    (a second Ctrl-C stops them), records them and raises KeyboardInterrupt.
    """
    queue = deque((src, dst, 1) for src, dst in todo)
    pending: dict = {}
    with _CtrlC() if runner.window > 1 else contextlib.nullcontext() as ctrl_c:
        while (queue or pending) and not (ctrl_c and ctrl_c.count):
            while queue and len(pending) < runner.window:
                src, dst, attempt = queue.popleft()
                pending[runner.submit(job, str(src), str(dst))] = (src, dst, attempt)
            for fut in runner.wait(pending, timeout=0.2):
                src, dst, attempt = pending.pop(fut)
                result = runner.outcome(fut)
                if result is None and attempt < 2:
                    queue.appendleft((src, dst, attempt + 1))
                elif result is None:
                    record(src, dst, "error", f"{src}: the worker process died twice on it (killed, or out of memory)")
                else:
                    record(src, dst, *result)
        if not (ctrl_c and ctrl_c.count):
            return
        runner.stop(list(pending), ctrl_c)
        for fut, (src, dst, _) in pending.items():
            try:
                result = fut.done() and not fut.cancelled() and runner.outcome(fut)
            except Exception:
                result = None
            if result and result[0] == "ok":
                record(src, dst, *result)
    raise KeyboardInterrupt


def _bar(total: int, progress: bool):
    if not progress or total < 2 or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="file", file=sys.stderr, leave=False, dynamic_ncols=True, postfix="0 failed")
