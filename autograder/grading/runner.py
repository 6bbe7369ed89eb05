"""Grading one notebook with Otter, isolated in its own process with a time limit.

Every tool that grades (``verify``, ``grade``, ``bench``) goes through ``grade_notebook``: the
submission runs in a fresh process (and Otter's fresh kernel) so that nothing it does reaches
the caller, and a submission that runs past its limit is killed with its whole process tree.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from . import warm
from .otter_plugin import STARTED_VARIABLE, TIMEOUT_VARIABLE

DEFAULT_TIMEOUT = 600.0
LOG_HEAD = 200_000  # bytes of the grading log kept from its start...
LOG_TAIL = 200_000  # ...and from its end: whatever a submission prints, the log stays small


@dataclass
class CaseResult:
    name: str
    hidden: bool
    passed: bool
    message: str


@dataclass
class QuestionResult:
    name: str
    score: float
    possible: float
    cases: list[CaseResult] = field(default_factory=list)

    @property
    def failures(self) -> str:
        """The messages of the failing test cases, public first."""
        failing = sorted((c for c in self.cases if not c.passed), key=lambda c: c.hidden)
        return "\n\n".join(f"{c.name}: {c.message}" for c in failing)


@dataclass
class GradeResult:
    """What grading one submission gave: scores per question, or why there are none."""

    submission: Path
    status: str  # "graded", "error" or "timeout"
    seconds: float
    questions: dict[str, QuestionResult] = field(default_factory=dict)
    error: str | None = None
    results_json: dict | None = None
    log: str = ""
    fast: bool = False  # graded by fastgrade (forked, unguarded) rather than in full

    @property
    def total(self) -> float:
        return sum(q.score for q in self.questions.values())

    @property
    def possible(self) -> float:
        return sum(q.possible for q in self.questions.values())


def grade_notebook(
    autograder_zip: Path,
    submission: Path,
    out_dir: Path,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    env: dict[str, str] | None = None,
    sandbox: bool = False,
) -> GradeResult:
    """Grade ``submission`` against ``autograder_zip``; results and logs go to ``out_dir``.

    ``sandbox``: run the grading inside bubblewrap (see ``autograder.grading.sandbox``) when it is
    available here; without it, grading runs as before.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in ("results.json", "summary.json", "grading.log"):
        (out_dir / stale).unlink(missing_ok=True)
    # The worker finds this package by a path of its own, not PYTHONPATH: the kernel it starts
    # inherits the environment, and must import the helper package from the grading folder (as
    # on Gradescope), not from this repository.
    root = str(Path(__file__).resolve().parents[2])
    bootstrap = (
        "import sys; sys.path.insert(0, sys.argv.pop(1)); "
        "from autograder.grading.worker import main; sys.exit(main(sys.argv[1:]))"
    )
    arguments = [str(autograder_zip), str(submission), str(out_dir)]
    command = [sys.executable, "-c", bootstrap, root, *arguments]
    # Thread counts are set by the grading plugin (otter_plugin.GRADING_ENVIRONMENT), inside
    # the autograder zip, so that Gradescope grades exactly as this does.
    # The plugin fits its restarts and backstops inside this limit (otter_plugin.TIMEOUT_VARIABLE).
    process_env = {**os.environ, **(env or {}), TIMEOUT_VARIABLE: f"{timeout:g}"}
    # The grading's temporary folders (the plugin's, the kernel's attempt folders) go in one
    # folder of this call's, removed below even when the worker had to be killed.
    scratch = Path(tempfile.mkdtemp(prefix="grading-"))
    os.chmod(scratch, 0o711)  # the kernel's user passes through to its attempt folder
    process_env["TMPDIR"] = str(scratch)
    try:
        return _run_worker(
            command, arguments, process_env, out_dir, timeout, sandbox, autograder_zip, submission
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _run_worker(
    command: list[str],
    arguments: list[str],
    process_env: dict[str, str],
    out_dir: Path,
    timeout: float,
    sandbox: bool,
    autograder_zip: Path,
    submission: Path,
) -> GradeResult:
    wrapped = False
    if sandbox:
        from . import sandbox as bubblewrap

        if bubblewrap.available()[0]:
            command = bubblewrap.wrap(
                command, writable=[out_dir], readable=[autograder_zip, submission]
            )
            wrapped = True
    started = time.perf_counter()
    log_path = out_dir / "grading.log"
    # The limit counts from here: the plugin subtracts what the worker spends before it starts.
    process_env = {**process_env, STARTED_VARIABLE: f"{time.time():.3f}"}
    # A worker forked from this process's warm server (see warm.py), or started cold.
    process = None if wrapped else warm.SERVER.start(arguments, process_env)
    if process is None:
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=process_env,
            start_new_session=True,
        )
    copier = threading.Thread(target=_copy_capped, args=(process.stdout, log_path), daemon=True)
    copier.start()
    try:
        process.wait(timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        kill_tree(process.pid)
        process.wait()
        timed_out = True
    kill_group(process.pid)  # what the worker left in its own process group
    copier.join(timeout=10)
    seconds = time.perf_counter() - started
    log_text = _tail(log_path)
    if timed_out:
        return GradeResult(
            submission,
            "timeout",
            seconds,
            log=log_text,
            error=f"grading stopped after the {timeout:g} s limit for a whole submission",
        )
    return _read_results(submission, out_dir, seconds, process.returncode, log_text)


def _copy_capped(stream, log_path: Path) -> None:
    """Copy the worker's output to ``log_path``: its first and last bytes, never all of it."""
    head, tail, cut = 0, deque(), 0
    tail_size = 0
    with open(log_path, "wb") as log:
        for chunk in iter(lambda: stream.read(65536), b""):
            if head < LOG_HEAD:
                kept = chunk[: LOG_HEAD - head]
                log.write(kept)
                head += len(kept)
                chunk = chunk[len(kept) :]
            if chunk:
                tail.append(chunk)
                tail_size += len(chunk)
                while tail_size - len(tail[0]) >= LOG_TAIL:
                    cut += len(tail[0])
                    tail_size -= len(tail.popleft())
        if cut:
            log.write(f"\n[... {cut:,} bytes of output cut by grading ...]\n".encode())
        for chunk in tail:
            log.write(chunk)
    stream.close()


def kill_group(pid: int) -> None:
    """Kill what is left of the process group the worker led (it is over by now)."""
    try:
        os.killpg(pid, 9)
    except (ProcessLookupError, PermissionError):
        pass


def kill_tree(pid: int) -> None:
    """Kill a process and every descendant (Otter's kernel runs in a session of its own)."""
    try:
        parent = psutil.Process(pid)
        family = parent.children(recursive=True) + [parent]
    except psutil.NoSuchProcess:
        return
    for process in family:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(family, timeout=10)


def _read_results(
    submission: Path, out_dir: Path, seconds: float, returncode: int, log_text: str
) -> GradeResult:
    summary_path = out_dir / "summary.json"
    if not summary_path.is_file():
        return GradeResult(
            submission,
            "error",
            seconds,
            log=log_text,
            error=f"the grading process died (exit status {returncode}) before reporting",
        )
    summary = json.loads(summary_path.read_text())
    results_path = out_dir / "results.json"
    results_json = json.loads(results_path.read_text()) if results_path.is_file() else None
    if summary.get("error"):
        return GradeResult(
            submission,
            "error",
            seconds,
            error=summary["error"],
            results_json=results_json,
            log=log_text,
        )
    questions = {
        name: QuestionResult(name, q["score"], q["possible"], [CaseResult(**c) for c in q["cases"]])
        for name, q in summary["questions"].items()
    }
    return GradeResult(
        submission, "graded", seconds, questions, results_json=results_json, log=log_text
    )


def _tail(path: Path, limit: int = 20_000) -> str:
    if not path.is_file():
        return ""
    with open(path, "rb") as f:
        f.seek(max(0, path.stat().st_size - limit))
        return f.read().decode("utf-8", errors="replace")
