"""Notebook conveniences: clear messages where an unfinished stub breaks a later cell, checks
that say when a claim was not judged, and the thread policy of every notebook.

A demonstration cell that uses a function you have not written yet fails deep inside
matplotlib or numpy (``'NoneType' object is not iterable``, ``'ellipsis' object is not
subscriptable``). :func:`explain_stub_errors` (run by each notebook's setup cell) makes such a
cell say what is going on first, then show the usual error.
"""

from __future__ import annotations

import re
from typing import Any

STUB_SIGNS = re.compile(r"NoneType|ellipsis|must not be None|is not defined")
ADVICE = (
    "This cell uses something that is still unfinished: a function above returned None or "
    "`...` (its stub is not filled in yet), or a name is not defined because its cell has not "
    "run. Fill in the `...` of the questions above, run their cells, then run this cell again."
)


def looks_like_a_stub(error: BaseException) -> bool:
    """Whether ``error`` is what an unfinished stub typically causes further down."""
    return isinstance(error, (TypeError, AttributeError, ValueError, NameError)) and bool(
        STUB_SIGNS.search(str(error))
    )


def explain_stub_errors() -> bool:
    """In IPython, print :data:`ADVICE` above errors that look caused by an unfinished stub.

    Returns whether it was installed (False outside IPython). The error itself is still shown
    and still stops the cell, exactly as before.
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None:
        return False

    def handler(shell, kind, value, traceback, tb_offset=None):
        if looks_like_a_stub(value):
            print(f"Note: {ADVICE}")
        shell.showtraceback((kind, value, traceback), tb_offset=tb_offset)

    shell.set_custom_exc((TypeError, AttributeError, ValueError, NameError), handler)
    return True


NOT_JUDGED_MARK = "✅ not judged:"  # what a gated claim's passing message starts with


def use_one_thread() -> None:
    """One thread for torch and the BLAS libraries, as grading uses.

    The networks here are small: one thread is as fast as several on a laptop, and on a shared
    server or Colab a thread per visible core makes training many times slower. Run by the setup
    cell; call ``torch.set_num_threads(n)`` afterwards to choose otherwise.
    """
    import torch

    torch.set_num_threads(1)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # numpy's BLAS then keeps its own default
        return
    threadpool_limits(1)


def _not_judged_text(result: Any) -> str | None:
    message = (getattr(result, "message", "") or "").strip()
    if result.passed and message.startswith(NOT_JUDGED_MARK):
        return message.removeprefix("✅").strip()
    return None


def _summary(test_file: Any, public_only: bool = False) -> str:
    """What ``grader.check`` prints: each case's outcome, hint tags left out, and a claim that
    was not judged shown as such (never as "All test cases passed!")."""
    from shared.testing import without_tags

    results = [r for r in test_file.test_case_results if not (public_only and r.test_case.hidden)]
    if all(r.passed and _not_judged_text(r) is None for r in results):
        return f"{test_file.name} results: All test cases passed!"
    lines = [f"{test_file.name} results:"]
    for result in results:
        judged = _not_judged_text(result)
        if judged is not None:
            lines.append(f"    {result.test_case.name}: {judged}")
        elif result.passed:
            lines.append(f"    {result.test_case.name}: passed")
        else:
            lines.append(f"    {result.test_case.name} result:")
            message = without_tags(result.message or "").strip()
            lines += [f"        {line}" for line in message.splitlines()]
    return "\n".join(lines)


def install_check_display() -> bool:
    """Make ``grader.check`` say "not judged" for a claim it did not judge, and hide hint tags.

    A gated test returns ``shared.testing.NotJudged`` when an earlier question fails; Otter
    ignores what a test returns and would print "All test cases passed!". Here (in the
    student's own notebook, where nothing is graded) Otter's exception-test runner keeps that
    value, and results print through :func:`_summary`. Grading does the same on its own side.
    Returns False when this Otter lacks what is patched (its results then print as Otter's).
    """
    try:
        from otter.test_files.abstract_test import TestCaseResult, TestFile
        from otter.test_files.exception_test import ExceptionTestFile
    except ImportError:
        return False
    if getattr(ExceptionTestFile.run, "_shows_not_judged", False):
        return True

    def call(test_case: Any, global_environment: dict) -> Any:
        # Same frame depth as Otter's call_func, which its error messages count on.
        names = test_case._get_func_params()
        arguments = {
            n: global_environment if n == "env" else global_environment.get(n) for n in names
        }
        return test_case.test_func(**arguments)

    def run(self: Any, global_environment: dict) -> None:
        self.test_case_results = []
        for case in self.test_cases:
            passed, message = True, "✅ Test case passed"
            try:
                outcome = call(case.body, global_environment)
            except Exception as error:
                passed, message = (
                    False,
                    "❌ Test case failed\n" + self._generate_error_message(error),
                )
            else:
                if isinstance(outcome, str) and type(outcome).__name__ == "NotJudged":
                    message = f"✅ {str.__str__(outcome)}"
            self.test_case_results.append(
                TestCaseResult(test_case=case, message=message, passed=passed)
            )

    def html(self: Any) -> str:
        import html as escape

        return f"<pre>{escape.escape(_summary(self))}</pre>"

    run._shows_not_judged = True
    ExceptionTestFile.run = run
    TestFile.summary = _summary
    TestFile._repr_html_ = html
    return True
