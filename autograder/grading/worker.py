"""Grade one submission with Otter, in a process of its own (started by ``runner``).

Usage: ``python -m autograder.grading.worker AUTOGRADER_ZIP SUBMISSION OUT_DIR``. Writes
``OUT_DIR/results.json`` (Gradescope's format, as Otter makes it) and ``OUT_DIR/summary.json``
(per question and per test case, for the kit's own tools), and ``OUT_DIR/executed.ipynb`` (the
notebook as grading ran it, for review) when Otter returns it. Exits 0 when grading finished, 3
when Otter could not grade the submission (the reason is in summary.json). Whatever the submission
started is ended before it exits (it adopts orphans: ``otter_plugin.become_subreaper``).
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from pathlib import Path

EXECUTED = "executed.ipynb"


def summarise(results) -> dict:
    """The parts of Otter's GradingResults the kit uses, as plain JSON."""
    if results.has_catastrophic_failure():
        return {
            "error": f"{type(results.catastrophic_error).__name__}: {results.catastrophic_error}",
            "questions": {},
        }
    questions = {}
    for name in results.test_files:
        test_file = results.get_result(name)
        questions[name] = {
            "score": float(test_file.score),
            "possible": float(test_file.possible),
            "cases": [
                {
                    "name": r.test_case.name,
                    "hidden": bool(r.test_case.hidden),
                    "passed": bool(r.passed),
                    "message": (r.message or "").strip(),
                }
                for r in test_file.test_case_results
            ],
        }
    return {"error": None, "questions": questions}


def keep_executed(results, path: Path) -> None:
    """Write the executed notebook Otter kept with ``results``, if it did (not after a crash).
    Only for review: whatever goes wrong here leaves the grade as it is."""
    notebook = getattr(results, "notebook", None)
    if notebook is None:
        return
    try:  # as JSON, not nbformat.write: its validation takes seconds on a notebook of many cells
        path.write_text(json.dumps(notebook, ensure_ascii=False), encoding="utf-8")
    except Exception:  # an unwritable notebook costs the review copy, never the grade
        path.unlink(missing_ok=True)


def main(argv: list[str]) -> int:
    autograder_zip, submission, out_dir = (Path(a).resolve() for a in argv)
    out_dir.mkdir(parents=True, exist_ok=True)
    # The kernel is started by name ("python3"): make it this interpreter, whatever PATH says.
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    os.environ.setdefault("MPLBACKEND", "Agg")
    from autograder.grading.otter_plugin import become_subreaper, end_descendants

    become_subreaper()  # orphans of the kernel become this process's, and end with it
    try:
        from otter.run import main as otter_run

        results = otter_run(
            str(submission), autograder=str(autograder_zip), output_dir=str(out_dir), no_logo=True
        )
        summary = summarise(results)
        keep_executed(results, out_dir / EXECUTED)
        code = 0 if summary["error"] is None else 3
    except BaseException as exc:  # Otter's own errors: wrong assignment, no notebook, bad JSON
        summary = {"error": _one_line(exc), "questions": {}, "traceback": traceback.format_exc()}
        code = 3
    finally:
        end_descendants()
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    return code


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[-1] if text else ''}".rstrip(": ")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
