"""Fast grading of many edits of one notebook: what ``verify`` uses for mutants and variants.

A full grading (``grading.runner.grade_notebook``) starts a process, unpacks the autograder
zip, starts a kernel, installs the guard and executes the whole notebook: seconds to minutes
each, and a catalogue of twenty edits of one notebook repeats almost all of that work. Here one
process grades them all:

1. The autograder zip is unpacked once, as Otter lays it out (support files and ``tests/``
   beside the notebook), and every notebook is turned into the cells Otter would execute
   (``otter_ignore`` cells dropped, the seed variable set at the top of every cell, checks
   added), exactly as Otter's ``GradingPreprocessor`` does.
2. One in-process IPython shell executes the reference's cells in order, with Otter's own
   grading mode on, so ``grader.check("qN")`` runs the autograder's tests where the notebook
   calls it, and the end of the notebook runs the remaining ones (Otter's export logic); the
   tests see the notebook through the referee's proxies, as in a full grading.
3. Just before the first cell at which an edited notebook differs from the reference, the
   process forks: the child holds exactly the state a fresh run of the edited notebook would
   have there, executes the edited notebook's remaining cells, grades, writes its summary and
   exits. Up to ``jobs`` children run at once.

What this path leaves out is what the real path exists to prove: the guard, the kernel and
the zip's own bootstrap. So ``verify`` keeps full gradings for the reference under every seed
and the stub, and re-grades in full anything this path could not finish (a child that timed
out or died). ``tests/test_fastgrade.py`` proves on a whole catalogue that both paths give the
same scores.

Run as ``python -m autograder.fastgrade AUTOGRADER_ZIP JOBS_JSON OUT_DIR WORKERS TIMEOUT``
(``fast_grade`` does this): a process of its own, so forks never copy the caller.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import nbformat

from .grading.otter_plugin import GRADING_ENVIRONMENT
from .grading.runner import CaseResult, GradeResult, QuestionResult

NOTEBOOK_NAME = "notebook"  # the name Otter's grading mode gives the notebook's checks


def fast_grade(
    autograder_zip: Path,
    notebooks: dict[str, nbformat.NotebookNode],
    reference: str,
    work: Path,
    *,
    jobs: int = 1,
    timeout: float = 600.0,
) -> dict[str, GradeResult]:
    """Grade every notebook in ``notebooks`` (all edits of ``notebooks[reference]``).

    Returns a result per label: status "graded" with scores, or "error"/"timeout" for a
    notebook this path could not finish (grade those in full).
    """
    work.mkdir(parents=True, exist_ok=True)
    spec = work / "jobs.json"
    spec.write_text(
        json.dumps(
            {
                "reference": reference,
                "notebooks": {label: nbformat.writes(nb) for label, nb in notebooks.items()},
            }
        )
    )
    out = work / "out"
    root = str(Path(__file__).resolve().parent.parent)
    bootstrap = (
        "import sys; sys.path.insert(0, sys.argv.pop(1)); "
        "from autograder.fastgrade import main; sys.exit(main(sys.argv[1:]))"
    )
    # As the grading plugin sets them; one thread also means no OpenMP pool for forks to break.
    env = {**os.environ, **GRADING_ENVIRONMENT, "DL_DEVICE": "cpu"}
    started = time.perf_counter()
    log = work / "fastgrade.log"
    with open(log, "wb") as sink:
        process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                bootstrap,
                root,
                str(autograder_zip),
                str(spec),
                str(out),
                str(jobs),
                str(timeout),
            ],
            stdout=sink,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
        try:
            process.wait(timeout=timeout * (len(notebooks) + 1))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    seconds = time.perf_counter() - started
    results = {}
    for label in notebooks:
        path = out / f"{_slug(label)}.json"
        summary = json.loads(path.read_text()) if path.is_file() else None
        results[label] = _result(label, summary, seconds, log)
    return results


def _result(label: str, summary: dict | None, seconds: float, log: Path) -> GradeResult:
    if summary is None:
        tail = log.read_bytes()[-2000:].decode("utf-8", "replace") if log.is_file() else ""
        return GradeResult(Path(label), "error", seconds, error="no result", log=tail)
    if summary.get("status") != "graded":
        return GradeResult(
            Path(label),
            summary.get("status", "error"),
            summary.get("seconds", 0.0),
            error=summary.get("error"),
        )
    questions = {
        name: QuestionResult(name, q["score"], q["possible"], [CaseResult(**c) for c in q["cases"]])
        for name, q in summary["questions"].items()
    }
    return GradeResult(Path(label), "graded", summary["seconds"], questions, fast=True)


def _slug(label: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in label)


# -- the worker process -----------------------------------------------------------------------


def main(argv: list[str]) -> int:
    autograder_zip, spec_path, out_dir = (Path(a).resolve() for a in argv[:3])
    workers, timeout = int(argv[3]), float(argv[4])
    spec = json.loads(spec_path.read_text())
    out_dir.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="fastgrade-"))
    try:
        config = _unpack(autograder_zip, folder)
        os.chdir(folder / "submission")
        sys.path.insert(0, os.getcwd())
        cells = {
            label: grading_cells(nbformat.reads(text, as_version=4), config)
            for label, text in spec["notebooks"].items()
        }
        _warm_up()
        _judge_through_the_referee(folder / "submission" / "tests")
        _run_tree(cells, spec["reference"], out_dir, workers, timeout)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


def _judge_through_the_referee(test_dir: Path) -> None:
    """Make Otter's checks judge as a full grading does, through the referee: the tests see the
    notebook through ``autograder.grading``'s proxies (every value crosses the same codec, every
    object is a handle), served by an agent on a thread of this process.

    The process boundary and the sandbox are what this path leaves out (a full grading proves
    them); what a test can see and do is the same, so the scores are too."""
    import socket
    import threading

    from otter.execute import Checker
    from otter.test_files.abstract_test import TestCaseResult

    from .grading import agent, referee
    from .grading.otter_plugin import read_tests
    from .grading.remote import RemoteNamespace, Session

    tests = referee.load_tests(read_tests(test_dir))
    results: dict[str, object] = {}

    def run(path, global_env):
        name = Path(str(path)).stem
        test = tests.get(name)
        if test is None:
            return None
        listening = Path(tempfile.mkdtemp(prefix="referee-")) / "socket"
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        agent.unix_address(str(listening), listener.bind)
        listener.listen(1)
        server = threading.Thread(
            target=agent.serve,
            args=(str(listening), global_env),
            kwargs={"thread_only": True},
            name="agent",
            daemon=True,
        )
        server.start()
        connection, _ = listener.accept()
        listener.close()
        session = Session(connection, call_timeout=3600.0)
        outcomes = []
        try:
            referee.judge(
                test,
                RemoteNamespace(session),
                lambda index, passed, message: outcomes.append((index, passed, message)),
            )
        finally:
            session.close()
            server.join(timeout=10)
            shutil.rmtree(listening.parent, ignore_errors=True)
        shown = type(test.test_file)(
            test.name, test.path, list(test.test_file.test_cases), test.test_file.all_or_nothing
        )
        shown.test_case_results = [
            TestCaseResult(test_case=test.cases[index][0], message=message, passed=passed)
            for index, passed, message in outcomes
        ]
        results[name] = shown
        return shown

    def check(cls, nb_or_test_path, nbmeta_config=None, test_name=None, global_env=None):
        return run(nb_or_test_path, global_env if global_env is not None else _caller_globals())

    def check_if_not_already_checked(cls, test_path, global_env=None):
        if Path(str(test_path)).stem in results:
            return None
        return run(test_path, global_env if global_env is not None else _caller_globals())

    Checker.check = classmethod(check)
    Checker.check_if_not_already_checked = classmethod(check_if_not_already_checked)
    Checker.get_results = classmethod(lambda cls: list(results.values()))


def _caller_globals() -> dict:
    """The notebook's namespace: the globals of the cell that called the check."""
    frame = sys._getframe(2)
    return frame.f_globals


def _warm_up() -> None:
    """Import, once before forking, what torch otherwise imports on first use in every child.

    The first ``optimizer.step()`` of a process imports ``torch._dynamo`` (about 1.2 s); a child
    forked before the notebook's first step would pay that again, once per edit. Importing is all
    this does: no tensor is made and no random number drawn, so every result is unchanged.
    """
    try:
        import torch._dynamo  # noqa: F401
    except ImportError:  # an assignment without torch
        pass


def _unpack(autograder_zip: Path, folder: Path) -> dict:
    """Lay the zip out as Otter does; return its otter_config.json."""
    source = folder / "source"
    with zipfile.ZipFile(autograder_zip) as archive:
        archive.extractall(source)
    submission = folder / "submission"
    submission.mkdir()
    if (source / "files").is_dir():
        shutil.copytree(source / "files", submission, dirs_exist_ok=True)
    shutil.copytree(source / "tests", submission / "tests")
    return json.loads((source / "otter_config.json").read_text())


def grading_cells(notebook: nbformat.NotebookNode, config: dict) -> list[str]:
    """The code cells Otter executes when it grades ``notebook``, first to last."""
    from otter.execute.preprocessor import GradingPreprocessor

    preprocessor = GradingPreprocessor(
        seed=config.get("seed"), seed_variable=config.get("seed_variable"), test_dir="./tests"
    )
    preprocessor._notebook_name = NOTEBOOK_NAME
    preprocessor.filter_ignored_cells(notebook)
    preprocessor.add_checks(notebook)
    preprocessor.add_seeds(notebook)
    init = (
        f"from otter import Notebook as {NOTEBOOK_NAME}\n"
        f'{NOTEBOOK_NAME}.init_grading_mode("./tests")\n'
    )
    return [init] + [cell.source for cell in notebook.cells if cell.cell_type == "code"]


def _divergence(cells: list[str], reference: list[str]) -> int:
    for index, (mine, theirs) in enumerate(zip(cells, reference, strict=False)):
        if mine != theirs:
            return index
    return min(len(cells), len(reference))


def _run_tree(
    cells: dict[str, list[str]], reference: str, out_dir: Path, workers: int, timeout: float
) -> None:
    """Execute the reference; fork a child for each other notebook where it diverges."""
    shell = _shell()
    base = cells[reference]
    starts: dict[int, list[str]] = {}
    for label, mine in cells.items():
        if label != reference:
            starts.setdefault(_divergence(mine, base), []).append(label)
    running: dict[int, tuple[str, float]] = {}
    started = time.perf_counter()
    for index in range(len(base) + 1):
        for label in starts.get(index, []):
            _wait_for_slot(running, workers, timeout, out_dir)
            pid = os.fork()
            if pid == 0:  # the child: the edited notebook from here on
                _child(shell, cells[label][index:], label, out_dir, time.perf_counter())
            running[pid] = (label, time.perf_counter())
        if index < len(base):
            shell.run_cell(base[index], store_history=False)
    _write(out_dir, reference, _grade(shell, started))
    _wait_for_slot(running, 1, timeout, out_dir)


def _shell():
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.enabled = False  # no history thread: the process forks
    return InteractiveShell.instance(config=config)


def _child(shell, cells: list[str], label: str, out_dir: Path, started: float) -> None:
    code = 0
    try:
        for source in cells:
            shell.run_cell(source, store_history=False)
        _write(out_dir, label, _grade(shell, started))
    except BaseException as exc:  # report, never fall back into the parent's loop
        _write(out_dir, label, {"status": "error", "error": f"{type(exc).__name__}: {exc}"})
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _grade(shell, started: float) -> dict:
    """Otter's export cell: the tests not yet run (in the notebook's namespace), summarised;
    ``seconds`` counts from ``started`` (a ``perf_counter`` reading) to the end of the tests."""
    from glob import glob

    from otter.execute import Checker
    from otter.test_files import GradingResults

    from .grading.worker import summarise

    tests = json.dumps(sorted(glob("./tests/*.py")))
    shell.run_cell(
        f"from otter.execute import Checker as _Checker\n"
        f"for _test in {tests}:\n    _Checker.check_if_not_already_checked(_test)\n",
        store_history=False,
    )
    summary = summarise(GradingResults(Checker.get_results()))
    seconds = time.perf_counter() - started
    if summary["error"]:
        return {"status": "error", "error": summary["error"], "seconds": seconds}
    return {"status": "graded", "seconds": seconds, "questions": summary["questions"]}


def _write(out_dir: Path, label: str, summary: dict) -> None:
    path = out_dir / f"{_slug(label)}.json"
    partial = path.with_suffix(".part")
    partial.write_text(json.dumps(summary))
    partial.replace(path)


def _wait_for_slot(
    running: dict[int, tuple[str, float]], workers: int, timeout: float, out_dir: Path
) -> None:
    """Reap children until fewer than ``workers`` run; kill any past ``timeout``."""
    while len(running) >= workers:
        pid, _ = os.waitpid(-1, os.WNOHANG)
        if pid:
            running.pop(pid, None)
            continue
        now = time.perf_counter()
        for child, (label, began) in list(running.items()):
            if now - began > timeout:
                os.kill(child, signal.SIGKILL)
                os.waitpid(child, 0)
                running.pop(child)
                _write(
                    out_dir,
                    label,
                    {"status": "timeout", "error": f"past {timeout:g} s", "seconds": now - began},
                )
        time.sleep(0.02)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
