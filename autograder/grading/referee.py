"""The referee: runs an assignment's tests in the grading process and decides every verdict.

The test files (public and hidden), ``grader_only/`` and every oracle are loaded here, in a
process that never runs student code. A test receives the notebook's names as they are in the
student's kernel: data (arrays, tensors, numbers, strings) decoded without running code, the
referee's own modules for module names (``np``, ``torch``), and for everything else a
``remote.Remote`` whose calls run in the kernel and send back data (``autograder.grading.wire``).
Whatever the kernel sends is the student's answer, never a verdict: forging one needs computing
the right answer for inputs the referee chooses, which is doing the question.

The messages are the ones students have always read (where a test failed, and why), the same
in a notebook's ``grader.check`` and here. A test's calls of the student's code may bind the
referee's stand-ins in the kernel (``remote.StandIn``): stubs that run the referee's own function
here while the test case lasts.
"""

from __future__ import annotations

import inspect
import os
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass

MESSAGE_LIMIT = 8000
PASSED = "✅ Test case passed"
FAILED = "❌ Test case failed\n"


def safe_text(value, limit: int = MESSAGE_LIMIT) -> str:
    """``str(value)`` cut to ``limit`` characters (the referee's own objects: ``str`` is safe)."""
    try:
        text = str(value)
    except Exception:  # noqa: BLE001 -- a message must never cost the verdict
        text = f"<{type(value).__name__} whose message could not be shown>"
    if len(text) > limit:
        text = text[:limit] + f"... [{len(text) - limit:,} more characters cut by grading]"
    return text


@dataclass
class LoadedTest:
    """One test file, compiled in the referee."""

    name: str
    path: str
    source: str
    test_file: object  # otter.test_files.exception_test.ExceptionTestFile
    cases: list  # [(otter TestCase, function, parameter names)]


def load_tests(sources: Mapping[str, str]) -> dict[str, LoadedTest]:
    """Compile every test file (``{path: source}``), keyed by question name."""
    from otter.test_files.exception_test import ExceptionTestFile

    loaded = {}
    for path, source in sorted(sources.items()):
        test_file = ExceptionTestFile.from_string(source, path=path)
        test_file.source = source
        cases = []
        for case in test_file.test_cases:
            function = case.body.test_func
            cases.append((case, function, tuple(inspect.signature(function).parameters)))
        loaded[test_file.name] = LoadedTest(test_file.name, path, source, test_file, cases)
    return loaded


def crashed_message(question: str) -> str:
    return (
        f"❌ Test case failed\nThe tests of {question} crashed or hung the Python kernel when "
        "graded (a segfault, running out of memory, or code that broke Python itself), so they "
        "were not run again and score 0. Run them in your notebook to find out why."
    )


def run_case(test: LoadedTest, index: int, env: Mapping) -> tuple[bool, str]:
    """Run case ``index`` of ``test`` against ``env`` (a ``remote.RemoteNamespace``)."""
    case, function, parameters = test.cases[index]
    missing = [p for p in parameters if p != "env" and p not in env]
    if missing:
        names = ", ".join(f"`{p}`" for p in missing)
        return False, (
            f"❌ Test case failed\n{names} is not defined in your notebook. Did you delete, "
            "rename or skip the cell that defines it? Run every cell in order, top to bottom."
        )
    try:
        arguments = {p: env if p == "env" else env.get(p) for p in parameters}
        outcome = function(**arguments)
    except Exception as error:  # noqa: BLE001 -- the test failed: say where and why
        return False, FAILED + describe(test, error)
    finally:
        end_case = getattr(getattr(env, "session", None), "end_case", None)
        if end_case is not None:
            end_case()  # the case's stand-ins answer no more
    if isinstance(outcome, str) and type(outcome).__name__ == "NotJudged":
        # A gated claim that did not judge (shared.testing.NotJudged): it keeps its points.
        return True, "✅ " + safe_text(str.__str__(outcome), 500)
    return True, PASSED


def describe(test: LoadedTest, error: BaseException) -> str:
    """Where in the test file the failure was raised, and its message."""
    line_number = None
    path = os.path.normpath(test.path)
    for frame, number in traceback.walk_tb(error.__traceback__):
        if os.path.normpath(frame.f_code.co_filename) == path:
            line_number = number
    if line_number is not None:
        lines = test.source.split("\n")
        line = lines[line_number - 1].strip() if 0 < line_number <= len(lines) else ""
        where = f"Error at line {line_number} in test {test.name}:\n  {line}\n"
    else:
        where = f"Error in test {test.name}:\n"
    return safe_text(f"{where}{type(error).__name__}: {safe_text(error).strip(chr(39))}")


def judge(
    test: LoadedTest,
    env: Mapping,
    record: Callable[[int, bool, str], None],
    *,
    before_case: Callable[[int], None] | None = None,
) -> None:
    """Run every case of ``test``; ``record(index, passed, message)`` as each is decided, so a
    verdict reached before the kernel is lost is kept."""
    for index in range(len(test.cases)):
        if before_case is not None:
            before_case(index)
        passed, message = run_case(test, index, env)
        record(index, passed, message)
