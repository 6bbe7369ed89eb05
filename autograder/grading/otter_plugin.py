"""The Otter plugin that grades a submission through the referee and survives what it does.

Shipped in every autograder zip (``autograder/grading/otter_plugin.py`` beside Otter's
``run_otter.py``, so Gradescope imports it from ``/autograder/source``) and used by the local
tools the same way: it is named in ``otter_config.json``'s ``plugins``. It runs in the grading
process, and every verdict it reports is the referee's (``autograder.grading``): the tests are
loaded here before the notebook runs, never copied into the kernel's folder, and run wherever
the notebook calls ``grader.check`` (and at the end, for the questions it never checked).
It uses Otter's own events:

- ``before_grading``: keeps only the notebook of a submission, loads the tests and the kit's
  modules for the referee, closes the grading folders to the kernel, and wraps Otter's
  ``grade_notebook`` so that if the kernel dies or hangs (a segfault, the out-of-memory killer,
  a call deaf to the referee's stop) the submission is graded again, in a fresh sandboxed
  kernel, without the cell or the question's tests that were running, up to ``max_restarts``
  times;
- ``before_execution``: labels each code cell, and puts ``kernel_guard`` in a first cell, which
  keeps per-cell time limits, blocks self-inflicted exits, caps output and removes IPython hooks
  from inside the kernel (a convenience for the notebook's robustness: no verdict comes from
  it; see ``kernel_guard``);
- ``after_grading``: turns the guard's events and the crashes seen here into messages on the
  questions concerned and a summary at the top of the Gradescope results.

Only the standard library, nbformat and otter are imported here: this module runs inside the
Gradescope image.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import os
import re
import select
import shutil
import signal
import tempfile
import threading
import time
from pathlib import Path

try:
    from otter.plugins import AbstractOtterPlugin
except ImportError:  # imported for its constants by tools that do not grade
    AbstractOtterPlugin = object

PLUGIN_NAME = "autograder.grading.otter_plugin.GradingGuard"
DEFAULTS = {
    "cell_timeout": 120.0,
    "test_timeout": 60.0,
    "output_limit": 1_000_000,
    "max_restarts": 3,
    "submission_timeout": 600.0,
    "student_files": [],
}
# Folders of the grading side: never copied into the kernel's working folder, and closed to the
# kernel's user.
GRADER_FOLDERS = ("tests", "grader_only", "grader_support")
EXPORT_START = "from otter.execute import Checker"  # otter.execute.preprocessor's last cell
REFEREE_MARK = "grading_referee"  # metadata of the cell that serves the referee's calls
TEST_RESERVE = 60.0  # seconds kept for the tests once the deadline nears (10% of short limits)
CHECK_CALL = re.compile(r"""^\s*grader\.check\(\s*["']([^"']+)["']\s*\)""", re.M)
# The check cells Otter adds after a cell whose metadata names its tests.
OTTER_CHECK = re.compile(r"""^notebook_\w+\(\)\.check\(\s*["']([^"']+)["']\s*\)""", re.M)
GUARD_SOURCE = Path(__file__).with_name("kernel_guard.py")
# One thread for every math library, wherever grading runs: local batches grade one notebook
# per core, and Gradescope's default container has half a CPU, where a thread per visible core
# made a training cell several times slower (04 lost points to the cell limit). Set here, before
# Otter starts the kernel, so the kernel inherits them on Gradescope exactly as locally.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
GRADING_ENVIRONMENT = {**dict.fromkeys(THREAD_VARIABLES, "1"), "MPLBACKEND": "Agg"}
# The kernel starts in the submission folder: without this, Python would put that folder first
# on sys.path and a submitted ``ipykernel_launcher.py`` would run before the guard.
SAFE_PATH = {"PYTHONSAFEPATH": "1"}
TIMEOUT_VARIABLE = "GRADING_SUBMISSION_TIMEOUT"  # set by the local runner to its own limit
STARTED_VARIABLE = "GRADING_SUBMISSION_STARTED"  # when the local runner's limit began (epoch s)
BACKSTOP_GRACE = 30.0  # seconds past the guard's own limit before the kernel is given up
REFIRE_ALLOWANCE = 10.0  # the guard's re-fires of a swallowed limit before it ends the kernel
MIN_ATTEMPT = 20.0  # seconds an attempt needs; with less left, grading keeps what was judged
NOTEBOOK_OUTPUT_LIMIT = 5_000_000  # bytes of outputs kept in the executed notebook
RECORD_LIMIT = 16 * 2**20  # bytes read from the guard's record per attempt
RECORD_LINE_LIMIT = 256 * 2**10
NOT_JUDGED = "✅ not judged:"  # a gated claim's message (grading.referee; submission.NOT_JUDGED)
NOT_RUN = (
    "❌ Test case failed\nThis test never ran: grading of the notebook stopped before it (the "
    "kernel crashed or ran out of time, or the notebook kept Otter from running its tests). "
    "Run the whole notebook top to bottom and then this question's check."
)


class RecordReader:
    """The grading process's end of the guard's record of events: a FIFO, drained by a thread.

    The guard opens the FIFO and deletes it (and the key file) before any student code runs;
    each line it writes is signed with the key. Only events are read (they become grading
    notes); nothing on this channel is a verdict, so a line of any other kind is ignored.
    """

    def __init__(self, directory: Path, attempt: int):
        self.path = directory / f"record-{attempt}"
        self.key_path = directory / f"key-{attempt}"
        self.key = os.urandom(32)
        descriptor = os.open(self.key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as f:
            f.write(self.key)
        os.mkfifo(self.path, 0o600)
        self.fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)
        # A writer of our own, so that the pipe never reads as ended before the guard opens it.
        self.keepalive = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
        self.events: list[dict] = []
        self.sequence = 0
        self.received = 0
        self.buffer = b""
        self.rejected = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._drain, name="grading-record", daemon=True)
        self.thread.start()

    def _drain(self) -> None:
        while not self.stopping.is_set():
            ready, _, _ = select.select([self.fd], [], [], 0.2)
            if ready:
                self._read_available()
        self._read_available()

    def _read_available(self) -> None:
        while True:
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                return
            except OSError:
                return
            if not data:
                return
            if self.received >= RECORD_LIMIT:
                continue  # drained and dropped: a flood cannot grow this process
            self.received += len(data)
            self.buffer += data
            *lines, self.buffer = self.buffer.split(b"\n")
            if len(self.buffer) > RECORD_LINE_LIMIT:
                self.buffer = b""
            for line in lines:
                self._accept(line)

    def _accept(self, line: bytes) -> None:
        body, _, mac = line.rpartition(b"\t")
        expected = hmac.new(self.key, body, hashlib.sha256).hexdigest().encode()
        if not body or not hmac.compare_digest(expected, mac.strip()):
            self.rejected += 1
            return
        try:
            entry = json.loads(body)
        except ValueError:
            self.rejected += 1
            return
        if not isinstance(entry, dict) or not isinstance(entry.get("seq"), int):
            return
        if entry["seq"] <= self.sequence:
            self.rejected += 1
            return
        self.sequence = entry["seq"]
        if entry.get("kind") == "event" and len(self.events) < 1000:
            self.events.append(entry)

    def close(self) -> None:
        if self.stopping.is_set():
            return
        self.stopping.set()
        self.thread.join(timeout=10)
        for descriptor in (self.fd, self.keepalive):
            try:
                os.close(descriptor)
            except OSError:
                pass
        for path in (self.path, self.key_path):
            path.unlink(missing_ok=True)


class _JudgedResults:
    """Stands in for ``pickle`` in ``otter.execute``: the results are the referee's verdicts.

    Otter would unpickle a file the notebook wrote (and could forge, or use to run code in the
    grading process); nothing of it is read.
    """

    def __init__(self, guard: GradingGuard):
        self.guard = guard

    def load(self, file):
        return self.guard.judged_results()


class GradingGuard(AbstractOtterPlugin):
    """Verdicts from the referee, time limits and crash isolation for every graded notebook."""

    def __init__(self, submission_path, submission_metadata, plugin_config):
        self.submission_path = submission_path
        self.submission_metadata = submission_metadata
        config = dict(DEFAULTS)
        config.update(plugin_config or {})
        unknown = set(config) - set(DEFAULTS)
        if unknown:
            raise ValueError(f"unknown GradingGuard settings: {sorted(unknown)}")
        self.config = config
        self._workdir: Path | None = None
        self.skip_cells: set[int] = set()
        self.skip_tests: set[str] = set()  # questions whose tests crashed or hung the kernel
        self.crashes: list[dict] = []
        self.cell_questions: dict[int, str] = {}
        self.readers: list[RecordReader] = []
        self.test_sources: dict[str, str] = {}
        self.attempt = None  # grading.kernel.Attempt of the kernel now running
        self.executing: tuple[str, str] = ("", "")  # what the executor runs: ("cell", label)...
        self._referee_tests: dict = {}  # question -> grading.referee.LoadedTest
        self._loader: threading.Thread | None = None
        self._load_error: BaseException | None = None
        self.referee_verdicts: dict[tuple[str, int], tuple[bool, str]] = {}
        self.judged: set[str] = set()  # questions the referee judged in this attempt
        self.skipped_for_time = 0
        limit = float(config["submission_timeout"])
        if os.environ.get(TIMEOUT_VARIABLE):
            limit = min(limit, float(os.environ[TIMEOUT_VARIABLE]))
        # What grading needs after the notebook stops (ending the kernel, the tests, the
        # results) takes seconds whatever the limit, and longer on a loaded machine: reserve at
        # least 10 s of it (15% of a long limit, at most 60 s, never more than half).
        reserve = min(60.0, max(10.0, 0.15 * limit), 0.5 * limit)
        # The runner's limit began when it started this process: the seconds spent since then
        # (the interpreter, Otter's imports, unzipping; several on a loaded machine) are spent.
        spent = 0.0
        if os.environ.get(STARTED_VARIABLE):
            spent = min(max(0.0, time.time() - float(os.environ[STARTED_VARIABLE])), 0.5 * limit)
        self.deadline = time.monotonic() - spent + limit - reserve
        self.skipped_for_time_cells: set[int] = set()  # indices, in the notebook executed
        self.limit = limit

    @property
    def workdir(self) -> Path:
        """A private folder for the kernels' folders and channels (made when first needed)."""
        if self._workdir is None:
            self._workdir = Path(tempfile.mkdtemp(prefix="grading-guard-"))
        return self._workdir

    def time_left(self) -> float:
        return self.deadline - time.monotonic()

    def out_of_time(self) -> bool:
        """Whether the notebook's cells must stop so that its tests still run in time: once
        the time left falls below what the tests may need, further cells are skipped (a
        notebook of endless small cells then keeps the points of what it answered)."""
        return self.time_left() < min(TEST_RESERVE, 0.1 * self.limit)

    def unjudged(self) -> list[str]:
        return [q for q in self.referee_tests if q not in self.judged]

    # -- events -------------------------------------------------------------------------------
    def during_generate(self, otter_config, assignment):
        """Nothing to change at build time; declared so Otter Generate does not complain."""

    def before_grading(self, config):
        """Use the autograder's own files, take only the notebook, and survive a dying kernel.

        Runs in the submission folder. A zip submission may carry its own ``shared/`` (say,
        with checks that always pass), a module named like the kernel's launcher, or Otter's
        pickled log; here everything but the notebook (and the files the assignment declares)
        is removed, and every support file is put back from the autograder's source.
        """
        from otter.run.run_autograder.runners import python_runner

        os.environ.update(GRADING_ENVIRONMENT)
        os.environ.update(SAFE_PATH)
        become_subreaper()
        keep = {Path(self.submission_path).name, "tests", "__init__.py"}
        keep |= set(self.config["student_files"])
        support = Path("../source/files")
        if support.is_dir():
            keep |= {p.name for p in support.iterdir()}
        remove_undeclared(Path("."), keep)
        restore_support_files(support, Path("."))
        self.test_sources = read_tests(Path("tests"))
        self._prepare_referee()

        original = python_runner.grade_notebook
        if getattr(original, "_grading_guard", False):
            original = original._original

        def grade_notebook(*args, **kwargs):
            return self._grade_with_restarts(original, *args, **kwargs)

        grade_notebook._grading_guard = True
        grade_notebook._original = original
        python_runner.grade_notebook = grade_notebook

    def before_execution(self, submission):
        import nbformat

        if isinstance(submission, str):  # a .py submission: nothing to label
            return submission
        notebook = nbformat.from_dict(json.loads(json.dumps(submission)))
        self.cell_questions = label_cells(notebook)
        for cell in notebook.cells:
            label = cell_label(cell)
            if label in self.skip_cells:
                question = self.cell_questions.get(label, "")
                cell.source = (
                    f"# This cell crashed the Python kernel when graded and was skipped.\n"
                    f"# graded-cell {label}\n"
                )
                cell.metadata["grading_skipped"] = question
        from autograder.grading.kernel import make_attempt

        os.chmod(self.workdir, 0o711)  # the kernel's user may pass through, not list or write
        self.attempt = make_attempt(
            self.workdir / "kernels", len(self.readers), Path("."), exclude=set(GRADER_FOLDERS)
        )
        self.judged = set()
        self.skipped_for_time_cells = set()  # this attempt's notebook is the one kept
        reader = RecordReader(self.attempt.channel, len(self.readers))
        for path in (reader.path, reader.key_path):
            self.attempt.give(path)
        self.readers.append(reader)
        guard = {
            "cell_timeout": self.config["cell_timeout"],
            "output_limit": self.config["output_limit"],
            "record_path": str(reader.path),
            "key_path": str(reader.key_path),
            "cell_questions": {str(k): v for k, v in self.cell_questions.items()},
        }
        source = (
            f"_guard_namespace = {{'__name__': '_grading_guard'}}\n"
            f"exec(compile({GUARD_SOURCE.read_text(encoding='utf-8')!r}, 'grading-guard', 'exec'),"
            f" _guard_namespace)\n"
            f"_guard_namespace['install']({guard!r})\n"
            f"del _guard_namespace\n"
        )
        notebook.cells.insert(0, nbformat.v4.new_code_cell(source))
        return notebook

    def after_grading(self, results):
        for reader in self.readers:
            reader.close()
        events = self.events()
        notes = describe_events(events, self.crashes)
        by_question: dict[str, list[str]] = {}
        for question, note in notes:
            by_question.setdefault(question, []).append(note)
        for question, messages in by_question.items():
            if not question or question not in getattr(results, "results", {}):
                continue
            for case_result in results.results[question].test_case_results:
                if not case_result.passed:
                    case_result.message = "\n".join(messages) + "\n\n" + (case_result.message or "")
        if notes:
            summary = "Grading notes:\n" + "\n".join(f"- {note}" for _, note in notes)
            results.set_output(summary)
        self.notes = notes
        self._drop_cells_skipped_for_time(results)
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def _drop_cells_skipped_for_time(self, results) -> None:
        """Leave the cells skipped for time out of the executed notebook Otter keeps: it is
        pickled (and, locally, written for review) before the results are written, and a
        notebook of endless cells would spend there the seconds kept for the results."""
        notebook = getattr(results, "notebook", None)
        skipped = self.skipped_for_time_cells
        if not skipped or notebook is None or not hasattr(notebook, "cells"):
            return
        import nbformat

        kept = [cell for index, cell in enumerate(notebook.cells) if index not in skipped]
        note = nbformat.v4.new_markdown_cell(
            f"*{len(skipped)} cells were not run: the submission's time was nearly spent, and "
            "what was left of it went to the tests.*"
        )
        notebook.cells = kept + [note]

    def generate_report(self):
        return "\n".join(note for _, note in getattr(self, "notes", []))

    # -- events and verdicts ------------------------------------------------------------------
    def events(self) -> list[dict]:
        """What the guard reported, every attempt's (notes only: never a verdict)."""
        return [event for reader in self.readers for event in reader.events]

    def judged_results(self):
        """Otter's GradingResults, built here from the test files and the referee's verdicts
        (a case decided in a later attempt replaces the earlier; one never reached fails)."""
        from otter.test_files import GradingResults
        from otter.test_files.abstract_test import TestCaseResult
        from otter.test_files.exception_test import ExceptionTestFile

        verdicts = self.referee_verdicts
        test_files = []
        for path, source in sorted(self.test_sources.items()):
            test_file = ExceptionTestFile.from_string(source, path=path)
            test_file.source = source
            results = []
            for index, case in enumerate(test_file.test_cases):
                passed, message = verdicts.get((test_file.name, index), (False, NOT_RUN))
                if passed and message.startswith(NOT_JUDGED):  # Otter shows success messages
                    case = dataclasses.replace(
                        case, success_message=message.removeprefix("✅").strip()
                    )
                results.append(TestCaseResult(test_case=case, message=message, passed=passed))
            test_file.test_case_results = results
            test_files.append(test_file)
        return GradingResults(test_files)

    # -- restarts -----------------------------------------------------------------------------
    def _grade_with_restarts(self, original, *args, **kwargs):
        """Grade; if the kernel dies or hangs, grade again without what was running then, while
        attempts and time remain; then keep the verdicts the referee reached."""
        import nbconvert.preprocessors
        import otter.execute
        from nbclient.exceptions import CellTimeoutError, DeadKernelError

        attempts = int(self.config["max_restarts"]) + 1
        real, real_pickle = nbconvert.preprocessors.ExecutePreprocessor, otter.execute.pickle
        real_server = otter.execute.start_server
        nbconvert.preprocessors.ExecutePreprocessor = self._backstopped(real)
        otter.execute.pickle = _JudgedResults(self)
        otter.execute.start_server = refused_log_server
        try:
            for attempt in range(attempts):
                try:
                    return original(*args, **kwargs)
                except Exception as error:
                    # A dead or hung kernel, or one whose messages broke (a notebook can corrupt
                    # its own channels): grade again without what was running, or keep the
                    # verdicts reached. Errors before the guard ran are Otter's own: raise them,
                    # except a kernel that died while starting (another kernel took its port
                    # between jupyter_client choosing it and the kernel binding it), which no
                    # code of the notebook has touched yet: start another.
                    installed = any(event.get("event") == "installed" for event in self.events())
                    if (
                        not installed
                        and kernel_start_failed(error)
                        and attempt < attempts - 1
                        and self.time_left() >= MIN_ATTEMPT
                    ):
                        continue
                    if not isinstance(error, (DeadKernelError, CellTimeoutError)) and not installed:
                        raise
                    where = self.where_it_stopped()
                    hung = isinstance(error, CellTimeoutError)
                    last = attempt == attempts - 1 or self.time_left() < MIN_ATTEMPT
                    if last or not self._skip(where, hung=hung):
                        self._skip(where, hung=hung, final=True)
                        break
                finally:
                    end_descendants()
            results = self.judged_results()
            self.after_grading(results)
            return results
        finally:
            nbconvert.preprocessors.ExecutePreprocessor = real
            otter.execute.pickle = real_pickle
            otter.execute.start_server = real_server

    def where_it_stopped(self) -> str:
        """What was running when the kernel died or hung, as this process saw it: a cell, or
        the referee's tests of a question. Nothing the kernel writes is asked."""
        kind, value = self.executing
        return f"{kind} {value}" if kind in ("cell", "test") else ""

    @property
    def referee_tests(self) -> dict:
        """question -> ``grading.referee.LoadedTest``, once the loader has finished."""
        if self._loader is not None:
            self._loader.join()
            self._loader = None
        if self._load_error is not None:
            raise self._load_error
        return self._referee_tests

    def _prepare_referee(self) -> None:
        """Close the grading folders to the kernel, then load the tests and the kit's modules
        into this process on a thread of their own: the imports (torch, the helper package)
        overlap the kernel's start and the notebook's first cells, and the referee waits for
        them before it judges (:attr:`referee_tests`). The tests' sources were read already
        (``before_grading``), before any student code could run. Modules the tests import as
        they run come from the submission folder's support files, put back from the
        autograder's source and not writable by the kernel's user."""
        import sys

        for name in GRADER_FOLDERS:
            if Path(name).is_dir():
                os.chmod(name, 0o700)
        if Path("../source").is_dir():  # Gradescope's copy of the autograder zip: tests too
            os.chmod("../source", 0o700)
        here = os.getcwd()
        if here not in sys.path:
            sys.path.insert(0, here)
        self._loader = threading.Thread(target=self._load_referee, name="referee-loader")
        self._loader.start()

    def _load_referee(self) -> None:
        import importlib

        try:
            from autograder.grading.referee import load_tests

            for package_name in ("shared", "grader_only", "grader_support"):
                try:
                    importlib.import_module(package_name)
                except ImportError:
                    continue
            self._referee_tests = load_tests(self.test_sources)
        except BaseException as error:  # noqa: BLE001 -- raised where the tests are needed
            self._load_error = error

    def _backstopped(self, base):
        """``base`` with per-cell time limits that end a kernel the guard could not stop, and
        a cap on the outputs it keeps.

        The guard's own timers stop slow cells from inside the kernel, and end the kernel when
        a limit is swallowed; a kernel that stops answering (a C call that never returns, a
        notebook that broke IPython itself) is ended by this limit instead, and then handled
        like a crash. The cell that serves the referee may run as long as its test cases may.
        No limit reaches past the submission's own deadline.
        """
        guard = self
        cell_limit = float(self.config["cell_timeout"]) + REFIRE_ALLOWANCE + BACKSTOP_GRACE
        per_test = float(self.config["test_timeout"]) + REFIRE_ALLOWANCE

        def limit(cell):
            if REFEREE_MARK in cell.get("metadata", {}):
                wanted = cell_limit + per_test * max(1, int(cell.metadata[REFEREE_MARK]))
            else:
                wanted = cell_limit
            return int(max(1.0, min(wanted, guard.time_left())))

        class Backstopped(base):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                self.timeout_func = limit
                self._kept_output = 0

            def create_kernel_manager(self):
                from autograder.grading.kernel import kernel_manager_class

                self.km = kernel_manager_class(guard.attempt)(
                    kernel_name=self.kernel_name or "python3", config=self.config
                )
                return self.km

            def preprocess_cell(self, cell, resources, index):
                source = cell.get("source", "") if cell.get("cell_type") == "code" else ""
                label = cell_label(cell)
                export = is_export_cell(source)
                checked = CHECK_CALL.findall(source) + OTTER_CHECK.findall(source)
                if export:
                    guard.executing = ("export", "")
                elif label is not None:
                    guard.executing = ("cell", str(label))
                else:
                    guard.executing = ("", "")
                if source and not export and not checked and guard.out_of_time():
                    guard.skipped_for_time += 1  # keep the time left for the tests
                    guard.skipped_for_time_cells.add(index)
                    return cell, self.resources
                if export:  # the referee judges what the notebook never checked
                    self._referee(guard.unjudged(), index)
                    return cell, self.resources
                result = super().preprocess_cell(cell, resources, index)
                if checked:
                    self._referee([q for q in checked if q not in guard.judged], index)
                return result

            def _referee(self, questions, index):
                from autograder.grading.serve import run_referee

                if questions:
                    run_referee(guard, self, questions, index)

            def output(self, outs, msg, display_id, cell_index):
                content = msg.get("content", {})
                size = len(str(content.get("text", ""))) + len(str(content.get("evalue", "")))
                size += sum(len(str(v)) for v in content.get("data", {}).values())
                size += sum(len(str(v)) for v in content.get("traceback", []))
                self._kept_output += size
                if self._kept_output > NOTEBOOK_OUTPUT_LIMIT:
                    return None
                return super().output(outs, msg, display_id, cell_index)

        return Backstopped

    def _skip(self, where: str, *, hung: bool = False, final: bool = False) -> bool:
        """Skip what was running when the kernel died; False if that cannot be known.

        ``final``: no attempt follows; note what ended grading, and keep the verdicts reached.

        A question whose tests were running is named in ``skip_tests``: the referee scores it 0
        in every later attempt without calling the kernel (``grading.serve``)."""
        kind, _, value = where.partition(" ")
        if final:
            label = int(value) if kind == "cell" and value.isdigit() else None
            question = self.cell_questions.get(label, "") if label is not None else value
            self.crashes.append({"final": True, "question": question, "hung": hung})
            return False
        if kind == "cell" and value.isdigit() and int(value) not in self.skip_cells:
            label = int(value)
            self.skip_cells.add(label)
            question = self.cell_questions.get(label, "")
            self.crashes.append({"cell": label, "question": question, "hung": hung})
            return True
        if kind == "test" and value and value not in self.skip_tests:
            self.skip_tests.add(value)
            self.crashes.append({"test": value, "question": value, "hung": hung})
            return True
        return False


def is_export_cell(source: str) -> bool:
    """Whether ``source`` is the cell Otter appends to run every test not run yet."""
    return source.startswith(EXPORT_START) and "check_if_not_already_checked" in source


def kernel_start_failed(error: BaseException) -> bool:
    """Whether ``error`` is nbclient giving up on a kernel that never came up."""
    text = str(error)
    return isinstance(error, RuntimeError) and (
        "before replying to kernel_info" in text or "didn't respond" in text
    )


def refused_log_server():
    """Stands in for Otter's logging server, which unpickles whatever reaches its port (code
    from the notebook would run in the grading process): a port that refuses connections, so
    the kernel's log records are dropped."""
    import socket

    placeholder = socket.socket()
    placeholder.bind(("127.0.0.1", 0))  # bound, never listening
    host, port = placeholder.getsockname()
    return (host, port), placeholder.close


def read_tests(test_dir: Path) -> dict[str, str]:
    """The assignment's test files, read before the notebook runs (Otter copied them here)."""
    if not test_dir.is_dir():
        return {}
    return {
        os.path.join("tests", p.name): p.read_text(encoding="utf-8")
        for p in sorted(test_dir.glob("*.py"))
    }


def remove_undeclared(submission: Path, keep: set[str]) -> None:
    """Remove everything a submission brought but the notebook and the declared files."""
    for entry in submission.iterdir():
        if entry.name in keep:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


def become_subreaper() -> None:
    """Adopt every orphan the kernel leaves (Linux), so that ``end_descendants`` finds it."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        pass


def descendants(pid: int) -> list[int]:
    """Every process below ``pid``, from /proc (empty where there is no /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            stat = (entry / "stat").read_text()
            parent = int(stat.rpartition(")")[2].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def end_descendants() -> None:
    """Kill whatever the submission started that is still running (grading is over)."""
    for _ in range(3):  # a fork during the sweep is caught by the next one
        found = descendants(os.getpid())
        if not found:
            return
        for pid in found:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        # Reap until they are gone: a kill lands a moment later, and a zombie still shows in
        # /proc until its parent (this process, the subreaper, for orphans) reaps it.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                while os.waitpid(-1, os.WNOHANG)[0] > 0:
                    pass
            except ChildProcessError:
                pass
            if not set(found) & set(descendants(os.getpid())):
                break
            time.sleep(0.02)


def restore_support_files(source: Path, submission: Path) -> None:
    """Replace whatever the submission holds under the support files' names with the originals."""
    if not source.is_dir():
        return
    for original in source.iterdir():
        target = submission / original.name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif target.exists() or target.is_symlink():
            target.unlink()
        if original.is_dir():
            shutil.copytree(original, target)
        else:
            shutil.copy2(original, target)


def cell_label(cell) -> int | None:
    match = re.search(r"^# graded-cell (\d+)\s*$", cell.get("source", ""), re.M)
    return int(match.group(1)) if match else None


def label_cells(notebook) -> dict[int, str]:
    """Append ``# graded-cell N`` to each code cell; map N to the question it belongs to.

    A cell belongs to the question of the next ``grader.check("qN")`` below it.
    """
    labels, pending = {}, []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        if cell_label(cell) is None:
            cell.source = cell.source.rstrip("\n") + f"\n# graded-cell {index}"
        label = cell_label(cell)
        pending.append(label)
        match = CHECK_CALL.search(cell.source)
        if match:
            for waiting in pending:
                labels[waiting] = match.group(1)
            pending = []
    return labels


def describe_events(events: list[dict], crashes: list[dict]) -> list[tuple[str, str]]:
    """(question, message) for everything worth telling the student and the instructor."""
    notes = []
    for crash in crashes:
        question = crash.get("question", "")
        if crash.get("final"):
            where = f" (question {question})" if question else ""
            how = "stopped responding" if crash.get("hung") else "ended"
            notes.append(
                (
                    question,
                    f"The Python kernel {how} while grading{where}, with no time or attempts "
                    "left to grade again; every test decided before then keeps its result, and "
                    "tests that had not run score 0.",
                )
            )
            continue
        what = (
            "made the Python kernel stop responding"
            if crash.get("hung")
            else "crashed the Python kernel (segfault, os._exit or out of memory)"
        )
        if "test" in crash:
            notes.append(
                (
                    question,
                    f"The tests of {crash['test']} {what}; they score 0 and the rest was "
                    "graded without them.",
                )
            )
        else:
            where = f" (question {question})" if question else ""
            notes.append(
                (
                    question,
                    f"A cell{where} {what}; it was skipped and the rest of the notebook was "
                    "graded without it.",
                )
            )
    seen = set()
    for event in events:
        kind = event.get("event")
        question = event.get("question", "")
        if kind == "cell_timeout":
            where = f" (question {question})" if question else ""
            text = (
                f"A cell{where} ran past the {event['limit']:g} s limit for one cell and was "
                "stopped; the rest of the notebook was graded as usual."
            )
        elif kind == "limit_swallowed":
            where = f" (a {event.get('of')} of {event.get('name')})" if event.get("name") else ""
            text = (
                f"Code{where} kept running after its time limit, catching the stop again and "
                "again; grading ended the kernel and kept the verdicts decided until then."
            )
        elif kind == "exit_blocked":
            text = f"The notebook called {event['what']}; grading blocked it and went on."
        elif kind == "output_truncated":
            text = "A cell printed more than grading keeps; the excess output was dropped."
        else:
            continue
        if (question, text) not in seen:
            seen.add((question, text))
            notes.append((question, text))
    return notes
