"""Grade a submission as Gradescope does, under Gradescope's default resources.

Gradescope unpacks the autograder zip into ``/autograder/source``, puts the submission in
``/autograder/submission``, runs ``run_autograder`` (which runs ``run_otter.py``) and reads
``/autograder/results/results.json``; by default the container has half a CPU and 768 MB. Here
the same layout is made in a temporary root, the zip's own ``run_otter.py`` is run with that
root in place of ``/autograder`` (so the zip's plugin is imported from its source folder, as
there), and, when this machine lets us (root, cgroup v1 ``cpu`` and ``memory`` controllers), the
process tree is confined to a CPU quota and a memory limit, and its CPU time and peak memory are
read back. Nothing from the grading process's environment is set for it beyond ``PATH``: what
grading needs (thread counts, the backend) must come from the zip itself.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
GRADESCOPE_CPUS = 0.5
GRADESCOPE_MEMORY_MB = 768


@dataclass
class SimulatedRun:
    score: float | None
    possible: float | None
    seconds: float
    cpu_seconds: float | None
    peak_mb: float | None
    limited: bool  # whether the CPU and memory limits were in force
    results: dict | None
    log: str


def simulate(
    autograder_zip: Path,
    submission: Path,
    *,
    cpus: float = GRADESCOPE_CPUS,
    memory_mb: int = GRADESCOPE_MEMORY_MB,
    timeout: float = 1800.0,
) -> SimulatedRun:
    """Grade ``submission`` (a notebook or a zip) in a fresh Gradescope-like root."""
    root = Path(tempfile.mkdtemp(prefix="gradescope-"))
    try:
        source = root / "source"
        with zipfile.ZipFile(autograder_zip) as archive:
            archive.extractall(source)
        (root / "submission").mkdir()
        (root / "results").mkdir()
        shutil.copy2(submission, root / "submission" / submission.name)
        (root / "submission_metadata.json").write_text("{}")
        runner = source / "run_otter.py"  # the zip's entry point takes the root as argument
        group = _Cgroup(cpus, memory_mb)
        env = {
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "HOME": os.environ.get("HOME", "/root"),
            "LANG": "C.UTF-8",
        }
        started = time.perf_counter()
        with open(root / "log.txt", "wb") as log:
            process = subprocess.Popen(
                [sys.executable, str(runner), str(root)],
                cwd=source,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=group.enter if group.available else None,
            )
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                group.kill(process.pid)
                process.wait()
        seconds = time.perf_counter() - started
        cpu_seconds, peak_mb = group.usage()
        group.remove()
        results_path = root / "results" / "results.json"
        results = json.loads(results_path.read_text()) if results_path.is_file() else None
        score = possible = None
        if results is not None:
            scored = [t for t in results.get("tests", []) if t.get("max_score") is not None]
            score = results.get("score", sum(t.get("score", 0) for t in scored))
            possible = sum(t["max_score"] for t in scored)
        log_text = (root / "log.txt").read_bytes()[-4000:].decode("utf-8", "replace")
        return SimulatedRun(
            score, possible, seconds, cpu_seconds, peak_mb, group.available, results, log_text
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)


class _Cgroup:
    """A cgroup v1 pair (cpu, memory) for one run; inert where this machine lacks them."""

    def __init__(self, cpus: float, memory_mb: int) -> None:
        name = f"gradescope-sim-{uuid.uuid4().hex[:8]}"
        self.cpu = CGROUP_ROOT / "cpu" / name
        self.memory = CGROUP_ROOT / "memory" / name
        self.cpuacct = CGROUP_ROOT / "cpuacct" / name
        self.available = False
        try:
            for group in self.groups:
                group.mkdir()
            period = 100_000
            (self.cpu / "cpu.cfs_period_us").write_text(str(period))
            (self.cpu / "cpu.cfs_quota_us").write_text(str(int(period * cpus)))
            limit = str(memory_mb * 1024 * 1024)
            (self.memory / "memory.limit_in_bytes").write_text(limit)
            swap = self.memory / "memory.memsw.limit_in_bytes"
            if swap.exists():
                swap.write_text(limit)
            self.available = True
        except OSError:
            self.remove()

    @property
    def groups(self) -> tuple[Path, ...]:
        return (self.cpu, self.cpuacct, self.memory)

    def enter(self) -> None:  # runs in the child, before exec
        for group in self.groups:
            (group / "cgroup.procs").write_text(str(os.getpid()))

    def usage(self) -> tuple[float | None, float | None]:
        if not self.available:
            return None, None
        cpu = None
        for folder in (self.cpu, self.cpuacct):
            usage = folder / "cpuacct.usage"
            if usage.exists():
                cpu = int(usage.read_text()) / 1e9
                break
        peak = int((self.memory / "memory.max_usage_in_bytes").read_text()) / 2**20
        return cpu, peak

    def kill(self, pid: int) -> None:
        procs = self.cpu / "cgroup.procs"
        pids = procs.read_text().split() if self.available and procs.exists() else [str(pid)]
        for each in pids:
            try:
                os.kill(int(each), 9)
            except (OSError, ValueError):
                pass

    def remove(self) -> None:
        for group in self.groups:
            for _ in range(50):
                try:
                    if group.exists():
                        group.rmdir()
                    break
                except OSError:  # processes still leaving
                    time.sleep(0.1)
