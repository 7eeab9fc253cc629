"""Run one per-file job over many inputs: in this process, on a local process pool, or on
a Dask distributed cluster.

This module knows nothing of what the job does. A *job* is a picklable callable
``job(src, dst)`` (a module-level function, or a :func:`functools.partial` of one) that
reads the input path ``src`` and writes the output path ``dst`` atomically (with
:func:`face3d.fileio.atomic_path`), raising :class:`~face3d.errors.Face3DError` for a bad
input. :func:`discover` turns files and folders into sorted ``(input, output)`` pairs
that mirror the inputs' relative paths under an output folder; :func:`run_batch` runs
the job on each pair and writes ``OUTDIR/face3d-report.jsonl`` as it goes, one JSON
object per input (``input``, ``output``, ``status`` ``ok``/``error``/``skipped``/
``interrupted``, ``message``, ``seconds``).

A failing input is reported and the batch goes on. At most a small window of tasks is in
flight at any time (a task holds a few files when they are quick), so the parent's
memory stays bounded whatever the batch size. A worker that dies mid-task leaves no
output (outputs are atomic); on a local pool its files are tried once more in a fresh
pool, on Dask the scheduler retries the task elsewhere.
"""

from __future__ import annotations

import json
import signal
import sys
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from face3d.batch.discover import discover, up_to_date
from face3d.batch import runners
from face3d.batch.runners import Job, default_jobs, make_runner, remove_stale_temporaries, run_chunk, run_one
from face3d.errors import OutputError

__all__ = ["REPORT_NAME", "Summary", "BatchInterrupted", "Report", "discover", "up_to_date", "run_batch", "run_one", "run_chunk", "default_jobs"]

REPORT_NAME = "face3d-report.jsonl"


@dataclass
class Summary:
    """What a batch did: counts of each status, and where its report is."""

    ok: int = 0
    failed: int = 0
    skipped: int = 0
    interrupted: int = 0
    report: Path | None = None

    @property
    def total(self) -> int:
        return self.ok + self.failed + self.skipped + self.interrupted


class BatchInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped the batch; ``summary`` says what was done (the report lists each file)."""

    def __init__(self, summary: Summary):
        super().__init__()
        self.summary = summary


class Report:
    """``face3d-report.jsonl``, one line per input, flushed as each task finishes."""

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

    def flush(self) -> None:
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
    Ctrl-C (SIGINT, to this process or to its whole process group) stops the batch: files
    not started are dropped, running ones finish (a second Ctrl-C abandons them, leaving no
    output), and the report lists every input, the dropped ones as ``interrupted``; then
    :class:`BatchInterrupted` (a KeyboardInterrupt) is raised.
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
        elif status == "interrupted":
            summary.interrupted += 1
        else:
            summary.failed += 1
            if on_error is not None and bar is not None:
                with bar.external_write_mode(file=sys.stderr):
                    on_error(src, message)
            elif on_error is not None:
                on_error(src, message)

    def done(n):
        report.flush()
        if bar is not None:
            bar.set_postfix_str(f"{summary.failed} failed", refresh=False)
            bar.update(n)

    todo = []
    for src, dst in pairs:
        if skip_existing and up_to_date(src, dst):
            record(src, dst, "skipped", "output is newer than the input")
            done(1)
        else:
            todo.append((src, dst))
    runner = None
    interrupted = False
    try:
        if todo:
            runner = make_runner(len(todo), jobs, scheduler)
            interrupted = _pump(runner, todo, job, record, done)
    finally:
        if runner is not None:
            runner.close()
            remove_stale_temporaries(dst for _, dst in todo)
        if bar is not None:
            bar.close()
        report.close()
    if interrupted:
        raise BatchInterrupted(summary)
    return summary


class _CtrlC:
    """While a batch runs, Ctrl-C is counted instead of raised, so that it never lands
    inside a pool's own bookkeeping (which can then hang): :func:`_pump` stops handing out
    files at the first, and abandons the running ones at the second. Running files in this
    process (``--jobs 1``), the second Ctrl-C interrupts the running job (only a job: see
    :func:`face3d.batch.runners.run_one`)."""

    def __init__(self):
        self.count, self._old = 0, None

    def __enter__(self):
        try:
            self._old = signal.signal(signal.SIGINT, self._count)
        except ValueError:  # not the main thread: no Ctrl-C comes here
            self._old = None
        return self

    def is_set(self) -> bool:
        return self.count > 0

    def _count(self, signum, frame):
        self.count += 1
        if self.count >= 2 and runners._BUSY:
            raise KeyboardInterrupt

    def __exit__(self, *exc):
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)
        return False


def _chunk_size(runner, per_file: float | None, left: int) -> int:
    """Files per task: about ``runner.chunk_s`` seconds of work once a file's cost is known
    (one file before), spread so that every worker still gets some of what is left."""
    if per_file is None or runner.max_chunk <= 1:
        return 1
    size = int(runner.chunk_s / max(per_file, 1e-6))
    return max(1, min(runner.max_chunk, size, -(-left // runner.window)))


def _pump(runner, todo, job, record, done) -> bool:
    """Keep at most ``runner.window`` tasks in flight; record each file as its task finishes.

    Returns True when Ctrl-C stopped the batch (every file is recorded all the same: the
    ones not started as interrupted). A task whose worker died is tried again file by file,
    and a file whose worker died twice is reported as failed.
    """
    queue = deque((src, dst, 1) for src, dst in todo)
    pending: dict = {}
    per_file = None
    aborted_at = None
    with _CtrlC() as ctrl_c:
        if isinstance(runner, runners._InProcess):
            runner.stop = ctrl_c
        stopping = False
        while queue or pending:
            if ctrl_c.count and not stopping:
                stopping = True
                runner.stop_starting()
                for src, dst, _ in queue:
                    record(src, dst, "interrupted", runners.NOT_STARTED)
                done(len(queue))
                queue.clear()
            if ctrl_c.count >= 2 and aborted_at is None:
                aborted_at = time.monotonic()
                runner.abort()
            if aborted_at is not None and time.monotonic() - aborted_at > ABORT_GRACE_S:
                runner.kill()  # a worker that did not answer: stopped outright
                aborted_at = float("inf")
            while queue and len(pending) < runner.window:
                n = 1 if queue[0][2] > 1 else _chunk_size(runner, per_file, len(queue))
                items = [queue.popleft() for _ in range(min(n, len(queue)))]
                pending[runner.submit(job, [(str(s), str(d)) for s, d, _ in items])] = items
            for fut in runner.wait(pending, timeout=0.1):
                items = pending.pop(fut)
                results = runner.outcome(fut)
                if isinstance(results, list):
                    for (src, dst, _), result in zip(items, results):
                        record(src, dst, *result)
                    spent = [r[2] for r in results if r[0] != "interrupted"]
                    if spent:
                        mean = sum(spent) / len(spent)
                        per_file = mean if per_file is None else 0.7 * per_file + 0.3 * mean
                elif stopping:
                    for src, dst, _ in items:
                        record(src, dst, "interrupted", runners.LOST)
                elif results is None:  # the worker died: each of its files once more, alone
                    for src, dst, attempt in reversed(items):
                        if attempt >= 2:  # retries go alone: this file's second death
                            record(src, dst, "error",
                                   f"{src}: the worker process died twice on it (killed, or out of memory)")
                            done(1)
                        else:
                            queue.appendleft((src, dst, 2))
                    continue
                else:
                    for src, dst, _ in items:
                        record(src, dst, "error", results)
                done(len(items))
    return ctrl_c.count > 0


#: Seconds the workers have to abandon their files after a second Ctrl-C before they are stopped.
ABORT_GRACE_S = 3.0


def _bar(total: int, progress: bool):
    if not progress or total < 2 or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="file", file=sys.stderr, leave=False, dynamic_ncols=True, postfix="0 failed")
