"""The Otter plugin that makes grading survive what a submission does.

Shipped at the top of every autograder zip (``autograder/otter_plugin.py`` beside Otter's
``run_otter.py``, so Gradescope imports it from ``/autograder/source``) and used by the local
tools the same way: it is named in ``otter_config.json``'s ``plugins``. It uses Otter's own
events:

- ``before_execution``: labels each code cell, and puts ``kernel_guard`` in a first cell, so the
  kernel enforces time limits, blocks self-inflicted exits, caps output, keeps tests and results
  out of reach, and restores replaced comparison functions (see ``kernel_guard``);
- ``before_grading``: wraps Otter's ``grade_notebook`` so that if the kernel dies anyway (a
  segfault, the out-of-memory killer) the submission is graded again without the cell or the
  tests that killed it, up to ``max_restarts`` times;
- ``after_grading``: turns what the guard reported into messages on the questions concerned and
  a summary at the top of the Gradescope results.

Only the standard library, nbformat and otter are imported here: this module runs inside the
Gradescope image.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path

try:
    from otter.plugins import AbstractOtterPlugin
except ImportError:  # imported for its constants by tools that do not grade
    AbstractOtterPlugin = object

PLUGIN_NAME = "autograder.otter_plugin.GradingGuard"
DEFAULTS = {
    "cell_timeout": 120.0,
    "test_timeout": 60.0,
    "output_limit": 1_000_000,
    "max_restarts": 3,
}
CHECK_CALL = re.compile(r"""^\s*grader\.check\(\s*["']([^"']+)["']\s*\)""", re.M)
GUARD_SOURCE = Path(__file__).with_name("kernel_guard.py")
# One thread for every math library, wherever grading runs: local batches grade one notebook
# per core, and Gradescope's default container has half a CPU, where a thread per visible core
# made a training cell several times slower (04 lost points to the cell limit). Set here, before
# Otter starts the kernel, so the kernel inherits them on Gradescope exactly as locally.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
GRADING_ENVIRONMENT = {**dict.fromkeys(THREAD_VARIABLES, "1"), "MPLBACKEND": "Agg"}
BACKSTOP_GRACE = 30.0  # seconds past the guard's own limit before the kernel is given up


def count_test_cases(test_dir: str = "tests") -> int:
    """Test cases in the grading folder's test files (at least 1)."""
    total = 0
    for path in Path(test_dir).glob("*.py"):
        total += path.read_text(encoding="utf-8", errors="replace").count("@test_case(")
    return max(1, total)


class GradingGuard(AbstractOtterPlugin):
    """Time limits, crash isolation and integrity checks for every graded notebook."""

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
        self.skip_tests: set[str] = set()
        self.crashes: list[dict] = []
        self.cell_questions: dict[int, str] = {}

    @property
    def workdir(self) -> Path:
        """A private folder for the guard's report and progress files (made when first needed)."""
        if self._workdir is None:
            self._workdir = Path(tempfile.mkdtemp(prefix="grading-guard-"))
        return self._workdir

    @property
    def report_path(self) -> Path:
        return self.workdir / "report.jsonl"

    @property
    def progress_path(self) -> Path:
        return self.workdir / "progress.txt"

    # -- events -------------------------------------------------------------------------------
    def during_generate(self, otter_config, assignment):
        """Nothing to change at build time; declared so Otter Generate does not complain."""

    def before_grading(self, config):
        """Use the autograder's own support files, and survive a dying kernel.

        Runs in the submission folder. A zip submission may carry its own ``shared/`` (say,
        with checks that always pass), and Otter keeps a submitted file over the autograder's
        copy; here every support file is put back from the autograder's source.
        """
        from otter.run.run_autograder.runners import python_runner

        os.environ.update(GRADING_ENVIRONMENT)
        restore_support_files(Path("../source/files"), Path("."))

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
        guard = {
            "cell_timeout": self.config["cell_timeout"],
            "test_timeout": self.config["test_timeout"],
            "output_limit": self.config["output_limit"],
            "report_path": str(self.report_path),
            "progress_path": str(self.progress_path),
            "cell_questions": {str(k): v for k, v in self.cell_questions.items()},
            "skip_tests": sorted(self.skip_tests),
            "test_dir": "tests",
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
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def generate_report(self):
        return "\n".join(note for _, note in getattr(self, "notes", []))

    # -- restarts -----------------------------------------------------------------------------
    def _grade_with_restarts(self, original, *args, **kwargs):
        """Grade; if the kernel dies or hangs, grade again without what was running then."""
        import nbconvert.preprocessors
        from nbclient.exceptions import CellTimeoutError, DeadKernelError

        attempts = int(self.config["max_restarts"]) + 1
        real = nbconvert.preprocessors.ExecutePreprocessor
        nbconvert.preprocessors.ExecutePreprocessor = self._backstopped(real)
        try:
            for attempt in range(attempts):
                self.progress_path.unlink(missing_ok=True)
                self.report_path.unlink(missing_ok=True)
                try:
                    return original(*args, **kwargs)
                except (DeadKernelError, CellTimeoutError) as error:
                    where = self.progress_path.read_text() if self.progress_path.is_file() else ""
                    hung = isinstance(error, CellTimeoutError)
                    if attempt == attempts - 1 or not self._skip(where, hung=hung):
                        raise
        finally:
            nbconvert.preprocessors.ExecutePreprocessor = real

    def _backstopped(self, base):
        """``base`` with a per-cell time limit that ends a kernel the guard could not stop.

        The guard's own timers stop slow cells and tests from inside the kernel; a kernel that
        stops answering (a notebook that broke ``isinstance`` can hang IPython itself) is ended
        by this limit instead, and then handled like a crash.
        """
        cell_limit = float(self.config["cell_timeout"]) + BACKSTOP_GRACE
        tests_limit = float(self.config["test_timeout"]) * count_test_cases() + BACKSTOP_GRACE

        def limit(cell):
            source = cell.get("source", "")
            runs_tests = "check_if_not_already_checked" in source or ".check(" in source
            return int(max(cell_limit, tests_limit) if runs_tests else cell_limit)

        class Backstopped(base):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                self.timeout_func = limit

        return Backstopped

    def _skip(self, where: str, *, hung: bool = False) -> bool:
        """Skip what was running when the kernel died; False if that cannot be known."""
        kind, _, value = where.partition(" ")
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

    def events(self) -> list[dict]:
        if not self.report_path.is_file():
            return []
        events = []
        for line in self.report_path.read_text(encoding="utf-8").splitlines():
            try:
                events.append(json.loads(line))
            except ValueError:
                continue
        return events


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
        elif kind == "exit_blocked":
            text = f"The notebook called {event['what']}; grading blocked it and went on."
        elif kind == "output_truncated":
            text = "A cell printed more than grading keeps; the excess output was dropped."
        elif kind == "tampering":
            replaced = ", ".join(event.get("replaced", []))
            text = (
                f"The submission replaced {replaced} ({event.get('when', '')}); grading put the "
                "originals back, and any test that ran with a replacement scores 0."
            )
        else:
            continue
        if (question, text) not in seen:
            seen.add((question, text))
            notes.append((question, text))
    return notes
