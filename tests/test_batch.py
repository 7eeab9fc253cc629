"""Batches (``face3d export`` over folders) end to end with the real CLI in subprocesses:
a local process pool, resume, Ctrl-C, and a real Dask cluster (scheduler and workers as
processes on 127.0.0.1) with a worker killed mid-batch."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import soundfile as sf

from _audio_helpers import ROOT, run_cli, speak

REPORT = "face3d-report.jsonl"
KEYS = {"input", "output", "status", "message", "seconds"}

LINES = ["Hello there.", "Where is the key?", "Open the door slowly.", "Move along, nothing to see.",
         "We ride at dawn.", "Who goes there?"]


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    """in/ with nested folders of speech (WAV and FLAC) and two broken files; their CSVs
    exported one file at a time (one process each) in ref/."""
    base = tmp_path_factory.mktemp("batch")
    src = base / "in"
    layout = ["act1/guard/l1.wav", "act1/guard/l2.wav", "act1/hero/l3.wav", "act2/l4.wav", "act2/deep/er/l5.flac",
              "l6.wav"]
    for rel, text in zip(layout, LINES):
        p = src / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        x, rate = speak(text, p.with_suffix(".wav"))
        if p.suffix == ".flac":
            p.with_suffix(".wav").unlink()
            sf.write(str(p), x, rate)
    (src / "act1" / "guard" / "broken.wav").write_text("this is not audio\n" * 10)
    (src / "act2" / "empty.ogg").write_bytes(b"")
    (src / "act2" / "notes.txt").write_text("not an input: not an audio extension\n")
    ref = base / "ref"
    good = {}
    for rel in layout:
        dst = ref / Path(rel).with_suffix(".csv")
        dst.parent.mkdir(parents=True, exist_ok=True)
        r = run_cli("export", src / rel, "-o", dst)
        assert r.returncode == 0, r.stderr
        good[Path(rel).with_suffix(".csv").as_posix()] = dst.read_bytes()
    broken = {"act1/guard/broken.csv", "act2/empty.csv"}
    return src, good, broken


def read_report(outdir: Path) -> dict[str, dict]:
    recs = {}
    for line in (outdir / REPORT).read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        assert set(rec) == KEYS, rec
        assert rec["input"] not in recs, f"{rec['input']} reported twice"
        recs[rec["input"]] = rec
    return recs


def outputs(outdir: Path) -> dict[str, bytes]:
    """Every file under ``outdir`` but the report (hidden temporaries included)."""
    return {p.relative_to(outdir).as_posix(): p.read_bytes() for p in sorted(outdir.rglob("*"))
            if p.is_file() and p.name != REPORT}


def check_batch(r, outdir: Path, tree, cmd="export"):
    """A batch over the tree: every good output byte-identical to one file at a time, the
    broken ones reported (exit 1, one summary line naming how many and the report)."""
    src, good, broken = tree
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert outputs(outdir) == good
    lines = r.stderr.strip().splitlines()
    assert lines[-1] == f"face3d {cmd}: 2 of 8 files failed; see {outdir / REPORT}", r.stderr
    assert "Traceback" not in r.stderr and "\r" not in r.stderr  # no progress bar when not on a terminal
    recs = read_report(outdir)
    assert len(recs) == 8
    for rec in recs.values():
        rel = Path(rec["output"]).relative_to(outdir).as_posix()
        assert Path(rec["input"]).relative_to(src).with_suffix(".csv").as_posix() == rel
        if rel in broken:
            assert rec["status"] == "error" and Path(rec["input"]).name in rec["message"], rec
            assert any(Path(rec["input"]).name in line for line in lines[:-1]), r.stderr
        else:
            assert rec["status"] == "ok" and rec["seconds"] > 0, rec
    assert {Path(rec["output"]).relative_to(outdir).as_posix() for rec in recs.values()} == set(good) | broken


def test_jobs_2_same_bytes_as_one_at_a_time_and_failures_reported(tree, tmp_path):
    src, _, _ = tree
    out = tmp_path / "out"
    check_batch(run_cli("export", src, "-o", f"{out}/", "--jobs", "2", timeout=180), out, tree)
    out1 = tmp_path / "out1"
    check_batch(run_cli("export", src, "-o", out1, "--jobs", "1", timeout=180), out1, tree)


def test_one_progress_bar_on_a_terminal(tree, tmp_path):
    """stderr on a terminal: one bar for the batch (files done of all, failures, time left)."""
    import fcntl
    import pty
    import struct
    import termios

    src, _, _ = tree
    out = tmp_path / "out"
    main, sub = pty.openpty()
    fcntl.ioctl(sub, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))  # a 120-column terminal
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "face3d", "export", str(src), "-o", f"{out}/", "--jobs", "2"],
                            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=sub)
    os.close(sub)
    chunks = []
    while True:
        try:
            data = os.read(main, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(main)
    assert proc.wait(timeout=120) == 1
    text = b"".join(chunks).decode("utf-8", "replace")
    # n/8 [elapsed<time left, rate, k failed], with a failure counted by the time it is drawn again
    assert re.search(r"[1-8]/8 \[\d\d:\d\d<\d\d:\d\d, +[\d.]+file/s, [12] failed\]", text), text
    assert text.strip().splitlines()[-1].endswith(f"2 of 8 files failed; see {out / REPORT}"), text


@pytest.mark.parametrize("fmt, ext", [("rhubarb-tsv", ".tsv"), ("glb", ".glb")])
def test_other_formats_in_a_batch_same_bytes_as_one_at_a_time(tree, tmp_path, fmt, ext):
    """--format in a batch: each output takes the format's extension (glb: the head loaded
    once per worker) and is byte-identical to exporting that file alone."""
    src, _, _ = tree
    out = tmp_path / "out"
    r = run_cli("export", src / "act2", src / "l6.wav", "-o", f"{out}/", "--format", fmt, "--jobs", "2", timeout=180)
    assert r.returncode == 1 and "empty.ogg" in r.stderr, r.stderr
    made = outputs(out)
    assert sorted(made) == sorted(["deep/er/l5" + ext, "l4" + ext, "l6" + ext])
    for rel, one in [("deep/er/l5" + ext, src / "act2/deep/er/l5.flac"), ("l6" + ext, src / "l6.wav")]:
        alone = tmp_path / ("alone" + ext)
        r = run_cli("export", one, "-o", alone, "--format", fmt)
        assert r.returncode == 0, r.stderr
        assert made[rel] == alone.read_bytes(), rel


RENDER = ["--size", "160x120", "--fps", "10"]


@pytest.fixture(scope="module")
def rendered(tree, tmp_path_factory):
    """act2/ of the tree (two voice lines, one empty file) rendered one file at a time."""
    src, _, _ = tree
    ref = tmp_path_factory.mktemp("render-ref")
    good = {}
    for rel in ("l4.wav", "deep/er/l5.flac"):
        dst = ref / Path(rel).with_suffix(".mp4")
        dst.parent.mkdir(parents=True, exist_ok=True)
        r = run_cli("render", src / "act2" / rel, "-o", dst, *RENDER, timeout=180)
        assert r.returncode == 0, r.stderr
        good[Path(rel).with_suffix(".mp4").as_posix()] = dst.read_bytes()
    return src / "act2", good


def check_render_batch(r, out: Path, rendered):
    src, good = rendered
    assert r.returncode == 1, r.stderr
    assert r.stderr.strip().splitlines()[-1] == f"face3d render: 1 of 3 files failed; see {out / REPORT}", r.stderr
    assert outputs(out) == good
    recs = read_report(out)
    assert sorted(rec["status"] for rec in recs.values()) == ["error", "ok", "ok"]
    assert "empty.ogg" in recs[str(src / "empty.ogg")]["message"]
    assert all("frames" in rec["message"] for rec in recs.values() if rec["status"] == "ok")  # what render said


def test_render_batch_jobs_2_same_bytes_as_one_at_a_time(rendered, tmp_path):
    src, _ = rendered
    out = tmp_path / "videos"
    r = run_cli("render", src, "-o", f"{out}/", "--jobs", "2", *RENDER, timeout=300)
    check_render_batch(r, out, rendered)
    r = run_cli("render", src, "-o", f"{out}/", "--jobs", "2", "--curves", src / "x.csv", *RENDER)
    assert r.returncode == 2 and "--curves" in r.stderr


def test_skip_existing_rewrites_nothing_and_redoes_a_touched_input(tree, tmp_path):
    src, good, _ = tree
    out = tmp_path / "out"
    check_batch(run_cli("export", src, "-o", f"{out}/", "--jobs", "2", timeout=180), out, tree)
    stamp = {rel: (os.stat(out / rel).st_ino, os.stat(out / rel).st_mtime_ns) for rel in good}
    r = run_cli("export", src, "-o", out, "--jobs", "2", "--skip-existing", timeout=180)
    assert r.returncode == 1, r.stderr  # the broken ones are tried again and fail again
    assert {rel: (os.stat(out / rel).st_ino, os.stat(out / rel).st_mtime_ns) for rel in good} == stamp
    recs = read_report(out)
    assert sorted(rec["status"] for rec in recs.values()) == ["error"] * 2 + ["skipped"] * 6
    time.sleep(0.05)
    (src / "act1" / "hero" / "l3.wav").touch()
    r = run_cli("export", src, "-o", out, "--skip-existing", timeout=180)
    assert r.returncode == 1, r.stderr
    after = {rel: (os.stat(out / rel).st_ino, os.stat(out / rel).st_mtime_ns) for rel in good}
    assert {rel for rel in good if after[rel] != stamp[rel]} == {"act1/hero/l3.csv"}
    assert outputs(out) == good
    assert read_report(out)[str(src / "act1" / "hero" / "l3.wav")]["status"] == "ok"


def test_a_killed_writers_temporary_file_is_removed_when_its_output_is_done_again(tree, tmp_path):
    src, good, _ = tree
    out = tmp_path / "out"
    out.mkdir()
    stale = [out / ".l4.csv.k3j9x0aa.csv", out / ".l4.csv.q7w2e5rt", out / ".l4.csv.q7w2e5rt.tmp.csv"]
    others = [out / ".l4.csv.x.csv.k3j9x0aa.csv", out / ".l4.csv.k3j9.csv", out / "notes.txt"]
    for p in stale + others:
        p.write_text("half a file")
    r = run_cli("export", src / "act2", "-o", out, "--jobs", "1")
    assert r.returncode == 1, r.stderr  # act2/empty.ogg
    assert (out / "l4.csv").read_bytes() == good["act2/l4.csv"]
    assert not any(p.exists() for p in stale) and all(p.exists() for p in others)


def test_bad_usage_exits_2_before_anything_runs(tree, tmp_path):
    src, _, _ = tree
    out = tmp_path / "out"
    for args, words in [
        ([src / "nope", "-o", f"{out}/"], "does not exist"),
        ([src / "act1", src / "act1", "-o", f"{out}/"], "both write"),
        ([tmp_path, "-o", f"{out}/"], "holds no files"),
        ([src, "-o", f"{out}/", "--jobs", "0"], "--jobs"),
        ([src, "-o", f"{out}/", "--jobs", "1.5"], "--jobs"),
        ([src, "-o", f"{out}/", "--jobs", "2", "--scheduler", "tcp://127.0.0.1:1"], "--jobs and --scheduler"),
        ([src / "l6.wav", "-o", tmp_path / "x.csv", "--scheduler", "tcp://127.0.0.1:1"], "--scheduler"),
    ]:
        r = run_cli("export", *args)
        assert r.returncode == 2, (args, r.stderr)
        err = r.stderr.strip().splitlines()
        assert len(err) == 1 and words in err[0], (args, r.stderr)
        assert not out.exists(), args


class _FakeRunner:
    """Stands in for a pool: counts the tasks in flight; ``dies`` names inputs whose worker dies."""

    window = 3
    chunk_s = 0.05
    max_chunk = 64

    def __init__(self, dies=()):
        self.in_flight, self.most, self.biggest, self.dies, self.tries = 0, 0, 0, set(dies), {}
        self.n = 0

    def submit(self, job, pairs):
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        self.biggest = max(self.biggest, len(pairs))
        for src, _ in pairs:
            self.tries[src] = self.tries.get(src, 0) + 1
        self.n += 1
        return (self.n, tuple(src for src, _ in pairs))

    def wait(self, pending, timeout=None):
        self.in_flight -= 1
        return [next(iter(pending))]

    def outcome(self, fut):
        return None if set(fut[1]) & self.dies else [("ok", "", 0.01)] * len(fut[1])

    def stop_starting(self):
        pass

    def abort(self):
        pass

    def kill(self):
        pass

    def close(self):
        pass


def test_memory_bounded_window_and_one_retry_for_a_dead_worker(tmp_path, monkeypatch):
    """However long the batch, at most the runner's window of tasks (of a few files each)
    is in flight; results go to the report only; quick files go several to a task; the
    files of a task whose worker died are tried once more, alone, then reported."""
    import face3d.batch as batch

    dead = str(tmp_path / "in" / "f00007.wav")
    fake = _FakeRunner(dies={dead})
    monkeypatch.setattr(batch, "make_runner", lambda n, jobs, scheduler: fake)
    pairs = [(tmp_path / "in" / f"f{i:05d}.wav", tmp_path / f"f{i:05d}.csv") for i in range(20000)]
    s = batch.run_batch(pairs, None, tmp_path, jobs=2)
    assert (s.ok, s.failed, s.skipped) == (19999, 1, 0)
    assert fake.most == 3 and fake.tries[dead] == 2
    assert fake.biggest == 5  # 0.05 s of 0.01 s files
    recs = read_report(tmp_path)
    assert len(recs) == 20000 and "died twice" in recs[dead]["message"]
    assert all(r["status"] == "ok" for k, r in recs.items() if k != dead)


def _long_speech_batch(base: Path, n: int) -> tuple[Path, bytes]:
    """``n`` copies of a few seconds of speech in two folders, and the CSV one of them gives."""
    one = base / "one.wav"
    speak(" ".join(LINES), one)
    src = base / "many"
    for i in range(n):
        d = src / f"part{i % 2}"
        d.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(one, d / f"line{i:03d}.wav")
    r = run_cli("export", one, "-o", base / "one.csv")
    assert r.returncode == 0, r.stderr
    return src, (base / "one.csv").read_bytes()


def _interrupt(cmd: list[str], out: Path, who: str, at: int, suffix: str, timeout: float = 120):
    """Start ``face3d CMD`` in a session of its own, wait for ``at`` outputs, and send the
    signal as ``who`` says: Ctrl-C from a terminal reaches every process of the group (once,
    or twice), or SIGINT reaches the parent alone, or the parent is killed outright.
    Returns (process, stderr, how many outputs existed when the signal went)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("DISPLAY", None)
    proc = subprocess.Popen([sys.executable, "-m", "face3d", *cmd], env=env, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        before = 0
        while time.monotonic() < deadline and proc.poll() is None:
            before = len(list(out.rglob("*" + suffix))) if out.is_dir() else 0
            if before >= at:
                break
            time.sleep(0.01)
        assert proc.poll() is None, "the batch finished before it could be interrupted"
        if who.startswith("terminal"):
            os.killpg(proc.pid, signal.SIGINT)
            if who == "terminal twice":
                time.sleep(0.01)
                os.killpg(proc.pid, signal.SIGINT)
        else:
            proc.send_signal(signal.SIGINT if who == "parent" else signal.SIGKILL)
        proc.wait(timeout=60)
        time.sleep(0.5)  # a worker still running would write now
    finally:
        if who == "kill -9" or proc.poll() is None:  # the orphaned workers hold stderr open
            os.killpg(proc.pid, signal.SIGKILL)
    _, err = proc.communicate(timeout=60)
    return proc, err, before


def check_interrupted(proc, err, out: Path, inputs: int, before: int, workers: int, who: str, cmd: str):
    """Exit 130 and one line that says so; every input in the report, each output whole and
    reported ok, the rest reported interrupted without an output; after one Ctrl-C no file
    abandoned and none started after it (at most the ones running then finish)."""
    made = outputs(out)
    assert not [k for k in made if Path(k).name.startswith(".")], "a temporary file was left"
    assert proc.returncode == 130, err
    lines = err.strip().splitlines()
    assert "Traceback" not in err and lines[-1].startswith(f"face3d {cmd}: interrupted: "), err
    assert "--skip-existing" in lines[-1], err
    recs = read_report(out)
    assert len(recs) == inputs, len(recs)
    by_status = {}
    for rec in recs.values():
        by_status.setdefault(rec["status"], set()).add(Path(rec["output"]).relative_to(out).as_posix())
    assert set(by_status) <= {"ok", "interrupted"}, by_status.keys()
    assert by_status.get("ok", set()) == set(made)
    abandoned = [r for r in recs.values() if r["status"] == "interrupted" and "second Ctrl-C" in r["message"]]
    if who != "terminal twice":
        assert not abandoned, abandoned
        assert all("not started" in r["message"] for r in recs.values() if r["status"] == "interrupted")
        # the files running when the signal came finish; none starts after it
        assert before <= len(made) <= before + 2 * workers + 1, (before, len(made))
    assert len(made) < inputs
    return made


@pytest.mark.parametrize("who, jobs", [("terminal", 2), ("terminal twice", 2), ("parent", 2), ("kill -9", 2),
                                       ("terminal", 1), ("terminal twice", 1)])
def test_ctrl_c_leaves_only_complete_outputs_and_a_report_of_what_happened(tmp_path, who, jobs):
    """Ctrl-C during an export batch, as a terminal sends it (to the whole process group,
    once or twice) or to the parent alone: files not started are dropped, running ones
    finish (a second Ctrl-C abandons them, leaving no partial file), and the report lists
    every input. Even a parent killed outright has its report written up to the last few
    tasks (it is written as the batch goes), and a second run with --skip-existing
    completes the batch."""
    src, ref = _long_speech_batch(tmp_path, 160)
    out = tmp_path / "out"
    proc, err, before = _interrupt(["export", str(src), "-o", f"{out}/", "--jobs", str(jobs)], out, who, 20, ".csv")
    if who != "kill -9":
        made = check_interrupted(proc, err, out, 160, before, jobs, who, "export")
        assert all(b == ref for b in made.values())
        return
    made = {k: b for k, b in outputs(out).items() if not Path(k).name.startswith(".")}
    assert 20 <= len(made) < 160 and all(b == ref for b in made.values())
    assert proc.returncode == -signal.SIGKILL
    recs = read_report(out)
    assert all(r["status"] == "ok" for r in recs.values())
    reported = {Path(r["output"]).relative_to(out).as_posix() for r in recs.values()}
    # unreported: the tasks in flight (a few files each) and what the orphaned workers finished
    assert reported <= set(made) and len(made) - len(reported) <= 40, (len(made), len(reported))
    # resume: only what is missing is done, and the batch ends complete and clean
    r = run_cli("export", src, "-o", out, "--jobs", "2", "--skip-existing", timeout=180)
    assert r.returncode == 0, r.stderr
    again = outputs(out)
    assert len(again) == 160 and all(b == ref for b in again.values())
    recs = read_report(out)
    assert sum(r["status"] == "skipped" for r in recs.values()) == len(made)


@pytest.mark.parametrize("who", ["terminal", "terminal twice", "parent"])
def test_ctrl_c_during_a_render_batch(tmp_path, who):
    """The same for ``face3d render lines/ -o videos/ --jobs 2`` (whose videos install their
    own interrupt handlers): the running videos finish (or, twice, are abandoned with no
    partial file), none starts after, the report lists each."""
    src, _ = _long_speech_batch(tmp_path, 12)
    out = tmp_path / "videos"
    proc, err, before = _interrupt(["render", str(src), "-o", f"{out}/", "--jobs", "2", "--size", "160x120",
                                    "--fps", "15"], out, who, 2, ".mp4", timeout=240)
    made = check_interrupted(proc, err, out, 12, before, 2, who, "render")
    for b in made.values():
        assert b[4:8] == b"ftyp" and len(b) > 1000


def test_local_worker_killed_mid_batch_loses_and_corrupts_nothing(tmp_path):
    """A pool worker killed (as by the kernel's out-of-memory killer): its files are done again
    in a fresh pool, and every output is whole."""
    psutil = pytest.importorskip("psutil", reason="psutil is not installed (it comes with face3d[test])")

    src, ref = _long_speech_batch(tmp_path, 160)
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "face3d", "export", str(src), "-o", f"{out}/", "--jobs", "2"],
                            env=env, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if out.is_dir() and len(list(out.rglob("line*.csv"))) >= 20:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the batch finished before a worker could be killed"
    workers = [c for c in psutil.Process(proc.pid).children() if "spawn_main" in " ".join(c.cmdline())]
    assert len(workers) == 2, workers
    workers[0].kill()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    made = outputs(out)
    assert len(made) == 160 and all(b == ref for b in made.values())
    recs = read_report(out)
    assert len(recs) == 160 and all(r["status"] == "ok" for r in recs.values())


# ---------------------------------------------------------------- Dask

from _dask_helpers import dask_cluster, free_port  # noqa: E402


def need_dask():
    pytest.importorskip("distributed", reason="Dask distributed is not installed (pip install 'face3d[dask]')")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    need_dask()
    with dask_cluster(2, tmp_path_factory.mktemp("dask")) as c:
        yield c


def executed(address: str) -> int:
    """How many tasks the cluster's workers have run so far."""
    from distributed import Client

    with Client(address, timeout="10s", set_as_default=False) as client:
        return sum(client.run(lambda dask_worker: dask_worker.state.executed_count).values())


def test_dask_cluster_export_same_bytes_as_local(tree, cluster, tmp_path):
    src, _, _ = tree
    out = tmp_path / "out"
    before = executed(cluster.address)
    check_batch(run_cli("export", src, "-o", f"{out}/", "--scheduler", cluster.address, timeout=180), out, tree)
    assert executed(cluster.address) - before == 8  # one task per input, all run by the cluster
    # relative paths: the workers run in another folder (the repository), so they get absolute ones
    rel_out = tmp_path / "rel"
    r = run_cli("export", os.path.relpath(src, tmp_path), "-o", "rel/", "--scheduler", cluster.address,
                cwd=tmp_path, timeout=180)
    assert r.returncode == 1 and outputs(rel_out) == tree[1], r.stderr
    assert len(read_report(rel_out)) == 8


def test_dask_cluster_render_same_bytes_as_local(rendered, cluster, tmp_path):
    src, _ = rendered
    out = tmp_path / "videos"
    before = executed(cluster.address)
    r = run_cli("render", src, "-o", f"{out}/", "--scheduler", cluster.address, *RENDER, timeout=300)
    check_render_batch(r, out, rendered)
    assert executed(cluster.address) - before == 3


def test_dask_worker_killed_mid_batch_loses_and_corrupts_nothing(tmp_path):
    need_dask()
    src, ref = _long_speech_batch(tmp_path, 120)
    out = tmp_path / "out"
    with dask_cluster(2, tmp_path / "dask") as c:
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        proc = subprocess.Popen([sys.executable, "-m", "face3d", "export", str(src), "-o", f"{out}/",
                                 "--scheduler", c.address], env=env, stderr=subprocess.PIPE, text=True)
        report = out / REPORT
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if report.exists() and len(report.read_text().splitlines()) >= 10:
                break
            time.sleep(0.02)
        assert proc.poll() is None, "the batch finished before a worker could be killed"
        victim = c.workers[0]
        os.kill(victim.pid, signal.SIGKILL)
        _, err = proc.communicate(timeout=240)
        assert victim.wait(timeout=10) == -signal.SIGKILL
        assert executed(c.address) >= 1  # the surviving worker ran tasks (the batch ran on the cluster)
    assert proc.returncode == 0, err
    made = outputs(out)
    assert len(made) == 120, sorted(set(made))[:5]
    assert all(b == ref for b in made.values())
    recs = read_report(out)
    assert len(recs) == 120 and all(r["status"] == "ok" for r in recs.values())


def test_unreachable_scheduler_is_bad_usage(tree, tmp_path):
    need_dask()
    src, _, _ = tree
    r = run_cli("export", src, "-o", f"{tmp_path / 'out'}/", "--scheduler", f"tcp://127.0.0.1:{free_port()}",
                timeout=120)
    assert r.returncode == 2, r.stderr
    err = r.stderr.strip().splitlines()
    assert len(err) == 1 and "--scheduler" in err[0] and "dask scheduler" in err[0], r.stderr
