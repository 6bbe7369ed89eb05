"""Unit tests of the grading guard's pieces that need no kernel: labels, notes, the plugin's
settings, and the Gradescope results validator."""

from __future__ import annotations

import nbformat
import pytest

from autograder.gradescope import validate_results
from autograder.grading.otter_plugin import GradingGuard, describe_events, label_cells


def notebook(*sources: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])


def test_cells_are_labelled_and_belong_to_the_next_checked_question():
    nb = notebook(
        '# Setup\n# `grader.check("q1")` runs the public tests\ngrader = otter.Notebook()',
        "def f(x):\n    return x",
        'grader.check("q1")',
        "def g(x):\n    return 2 * x",
        "y = g(1)",
        'grader.check("q2")',
        "print('done')",
    )
    questions = label_cells(nb)
    assert all(c.source.rstrip().endswith(f"# graded-cell {i}") for i, c in enumerate(nb.cells))
    assert questions == {0: "q1", 1: "q1", 2: "q1", 3: "q2", 4: "q2", 5: "q2"}
    assert label_cells(nb) == questions, "labelling twice must not add a second label"
    assert nb.cells[1].source.count("# graded-cell") == 1


def test_notes_name_the_question_and_the_limit():
    events = [
        {"event": "cell_timeout", "cell": 3, "question": "q2", "limit": 30.0},
        {"event": "cell_timeout", "cell": 3, "question": "q2", "limit": 30.0},
        {"event": "exit_blocked", "what": "os._exit()", "cell": 1},
        {"event": "output_truncated", "cell": 4, "bytes": 10},
        {"event": "unknown"},
    ]
    crashes = [{"cell": 7, "question": "q3", "hung": False}, {"test": "q4", "question": "q4"}]
    notes = describe_events(events, crashes)
    texts = [text for _, text in notes]
    assert [q for q, _ in notes] == ["q3", "q4", "q2", "", ""]
    assert "A cell (question q3) crashed the Python kernel" in texts[0]
    assert "The tests of q4 crashed" in texts[1]
    assert "(question q2) ran past the 30 s limit" in texts[2]
    assert "os._exit()" in texts[3] and "printed more than grading keeps" in texts[4]


def test_plugin_refuses_unknown_settings():
    with pytest.raises(ValueError, match="unknown GradingGuard settings"):
        GradingGuard(None, {}, {"cell_timout": 3})
    guard = GradingGuard(None, {}, {"cell_timeout": 3})
    assert guard.config["cell_timeout"] == 3 and guard.config["test_timeout"] == 60


def test_the_deadline_counts_from_when_the_runner_started(monkeypatch):
    """The runner's limit began before the worker's imports: a guard made 20 s into a 100 s
    limit has 20 s fewer (the reserve for the tests is 15 s of a 100 s limit)."""
    import time

    monkeypatch.setenv("GRADING_SUBMISSION_TIMEOUT", "100")
    monkeypatch.delenv("GRADING_SUBMISSION_STARTED", raising=False)
    assert GradingGuard(None, {}, {}).time_left() == pytest.approx(85, abs=1)
    monkeypatch.setenv("GRADING_SUBMISSION_STARTED", f"{time.time() - 20:.3f}")
    assert GradingGuard(None, {}, {}).time_left() == pytest.approx(65, abs=1)
    monkeypatch.setenv("GRADING_SUBMISSION_STARTED", f"{time.time() - 500:.3f}")  # at most half
    assert GradingGuard(None, {}, {}).time_left() == pytest.approx(35, abs=1)


def test_cells_skipped_for_time_leave_the_executed_notebook():
    """Otter pickles the executed notebook before it writes the results: the cells skipped
    for time are left out of it (with one note saying how many), the others kept in order."""
    guard = GradingGuard(None, {}, {})
    results = type("Results", (), {})()
    results.notebook = notebook("a = 1", "pass", "pass", "b = 2")
    guard.skipped_for_time_cells = {1, 2}
    guard._drop_cells_skipped_for_time(results)
    sources = [cell.source for cell in results.notebook.cells]
    assert sources[:2] == ["a = 1", "b = 2"] and "2 cells were not run" in sources[2]
    results.notebook = notebook("a = 1")
    guard.skipped_for_time_cells = set()
    guard._drop_cells_skipped_for_time(results)
    assert [cell.source for cell in results.notebook.cells] == ["a = 1"]


def test_plugin_inserts_the_guard_first_and_skips_crashed_cells():
    guard = GradingGuard(None, {}, {})
    nb = notebook("import numpy as np", "def f():\n    return 1", 'grader.check("q1")')
    guard.skip_cells = {1}
    out = guard.before_execution(nb)
    assert "_guard_namespace['install']" in out.cells[0].source
    # the guard is told where to send its notes, and nothing of the tests
    assert "'record_path'" in out.cells[0].source and "'test_dir'" not in out.cells[0].source
    assert "crashed the Python kernel when graded and was skipped" in out.cells[2].source
    assert "def f()" not in out.cells[2].source
    assert "import numpy as np" in out.cells[1].source


def test_gradescope_validator_accepts_the_documented_format():
    good = {
        "score": 3.0,
        "output": "notes",
        "stdout_visibility": "hidden",
        "tests": [
            {"name": "q1", "score": 2, "max_score": 2, "visibility": "hidden", "output": "ok"},
            {"name": "Public Tests", "status": "passed", "visibility": "visible", "output": ""},
        ],
    }
    assert validate_results(good) == []


@pytest.mark.parametrize(
    ("results", "problem"),
    [
        ([], "must be a JSON object"),
        ({"tests": [{"name": "q1", "score": "2"}]}, "tests[0].score: expected Real, got str"),
        ({"tests": [{"name": "q1", "score": 3, "max_score": 2}]}, "exceeds max_score"),
        ({"tests": [{"name": "q1", "status": "ok"}]}, "status 'ok' not in"),
        ({"score": 1, "visibility": "sometimes"}, "visibility: 'sometimes' not in"),
        ({"score": 1, "grade": 1}, "unknown field 'grade'"),
        ({"tests": [{"name": "q1"}]}, "needs a score or a status"),
        ({"score": True}, "results.score: expected Real, got bool"),
    ],
)
def test_gradescope_validator_names_each_departure(results, problem):
    assert any(problem in p for p in validate_results(results)), validate_results(results)


# -- the guard's record of events, and the verdicts (issue 17; verdicts: the referee's only) ----


def _guard_module():
    """kernel_guard, loaded as the plugin loads it: a namespace of its own."""
    from autograder.grading.otter_plugin import GUARD_SOURCE

    namespace = {"__name__": "_grading_guard"}
    exec(compile(GUARD_SOURCE.read_text(), "grading-guard", "exec"), namespace)
    return namespace


def test_record_accepts_signed_events_only_and_the_path_is_gone(tmp_path):
    import os

    from autograder.grading.otter_plugin import RecordReader

    reader = RecordReader(tmp_path, 0)
    record = _guard_module()["_Record"](str(reader.path), str(reader.key_path))
    assert not reader.path.exists() and not reader.key_path.exists()
    record.send(kind="event", event="exit_blocked", what="exit()", cell=3)
    forged = b'{"kind": "event", "event": "cell_timeout", "seq": 9}\tx\n'
    os.write(record.fd, forged)
    reader.close()
    assert [e["event"] for e in reader.events] == ["exit_blocked"]
    assert reader.rejected == 1


def test_only_the_referee_s_verdicts_score_and_unrun_tests_fail(tmp_path, monkeypatch):
    """A verdict line on the guard's record, even signed with its key (code in the kernel can
    reach the guard's objects), counts for nothing: the score is the referee's."""
    guard = GradingGuard(None, {}, {})
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "q1.py").write_text(
        "from otter.test_files import test_case\nOK_FORMAT = False\nname = 'q1'\npoints = 2\n"
        "@test_case()\ndef test_a():\n    pass\n@test_case()\ndef test_b():\n    pass\n"
    )
    from autograder.grading.otter_plugin import RecordReader, read_tests

    guard.test_sources = read_tests(tmp_path / "tests")
    reader = RecordReader(tmp_path, 0)
    guard.readers.append(reader)
    record = _guard_module()["_Record"](str(reader.path), str(reader.key_path))
    record.send(kind="case", test="q1", index=1, case="test_b", passed=True, message="forged")
    reader.close()
    guard.referee_verdicts[("q1", 0)] = (True, "✅ Test case passed")
    results = guard.judged_results()
    assert results.total == 1 and results.possible == 2
    assert "never ran" in results.results["q1"].test_case_results[1].message
    assert reader.events == []


def test_in_the_kernel_otter_s_checks_do_nothing(monkeypatch):
    """The kernel's folder holds no test: a check cell must not fail there (the referee judges
    the check from the grading process)."""
    from otter.execute import Checker

    for name in ("check", "check_if_not_already_checked", "get_results"):
        monkeypatch.setattr(Checker, name, vars(Checker)[name])  # put back afterwards
    _guard_module()["_Guard"].quiet_checks()
    assert Checker.check("tests/q1.py", None) is None
    assert Checker.check_if_not_already_checked("tests/q1.py") is None
    assert Checker.get_results() == []


def test_submission_folder_keeps_only_the_notebook_and_declared_files(tmp_path):
    from autograder.grading.otter_plugin import remove_undeclared

    for name in ("hw.ipynb", "ipykernel_launcher.py", ".OTTER_LOG", "notes.txt"):
        (tmp_path / name).write_text("x")
    (tmp_path / "shared").mkdir()
    (tmp_path / "tests").mkdir()
    remove_undeclared(tmp_path, {"hw.ipynb", "tests", "notes.txt"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hw.ipynb", "notes.txt", "tests"]


def test_orphans_are_ended():
    """A daemonised grandchild is adopted and ended (in a process of its own: the sweep ends
    every descendant of the process that runs it)."""
    import subprocess
    import sys

    script = (
        "import os, subprocess, time\n"
        "from autograder.grading.otter_plugin import (\n"
        "    become_subreaper, descendants, end_descendants)\n"
        "become_subreaper()\n"
        "subprocess.Popen(['sh', '-c', 'setsid sleep 300 & exit 0']).wait()\n"
        "deadline = time.monotonic() + 20\n"
        "while not descendants(os.getpid()) and time.monotonic() < deadline:\n"
        "    time.sleep(0.1)\n"
        "assert descendants(os.getpid()), 'the orphan was not adopted'\n"
        "end_descendants()\n"
        "assert not descendants(os.getpid())\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_notes_for_a_swallowed_limit_and_a_final_crash():
    notes = describe_events(
        [{"event": "limit_swallowed", "of": "cell", "name": "q1"}, {"event": "installed"}],
        [{"final": True, "question": "q2", "hung": True}],
    )
    texts = [text for _, text in notes]
    assert "stopped responding" in texts[0] and "keeps its result" in texts[0]
    assert "kept running after its time limit" in texts[1]
    assert len(notes) == 2


def test_runner_log_keeps_head_and_tail_only(tmp_path):
    import io

    from autograder.grading.runner import LOG_HEAD, LOG_TAIL, _copy_capped

    stream = io.BytesIO(b"a" * LOG_HEAD + b"b" * 50_000_000 + b"end")
    _copy_capped(stream, tmp_path / "log")
    data = (tmp_path / "log").read_bytes()
    assert len(data) < LOG_HEAD + LOG_TAIL + 200_000 and data.endswith(b"end")
    assert b"bytes of output cut" in data


def test_a_kernel_that_dies_while_starting_is_started_again(monkeypatch):
    """A kernel that never came up (its port taken by another kernel meanwhile) ran no code of
    the notebook: grading starts another instead of failing the submission."""
    from autograder.grading import otter_plugin

    monkeypatch.setattr(otter_plugin, "end_descendants", lambda: None)
    guard = GradingGuard(None, {}, {})
    tries = []

    def original():
        tries.append(1)
        if len(tries) == 1:
            raise RuntimeError("Kernel died before replying to kernel_info")
        return "graded"

    assert guard._grade_with_restarts(original) == "graded" and len(tries) == 2

    def broken():  # Otter's own failure before the guard ran is still raised
        raise RuntimeError("no notebook found")

    with pytest.raises(RuntimeError, match="no notebook found"):
        guard._grade_with_restarts(broken)
    assert otter_plugin.kernel_start_failed(RuntimeError("Kernel didn't respond in 60 seconds"))
    assert not otter_plugin.kernel_start_failed(ValueError("Kernel died before replying"))


@pytest.mark.slow
def test_a_gated_claim_is_graded_as_not_judged_and_keeps_its_points(tiny, tmp_path):
    """Through the full grading path (referee, results): a claim whose upstream question
    fails keeps its points and says it was not judged; students see no hint tags."""
    from autograder.build import build
    from autograder.grading.runner import grade_notebook
    from autograder.submission import student_summary

    tiny.master.write_text(
        tiny.master.read_text().replace(
            "def test_double(double):\n    from shared.checks import assert_close\n",
            "def test_double(double, step, np):\n    from shared.checks import assert_close\n"
            "    from shared.testing import gate\n\n"
            "    def q1():\n        assert step(np.array([0.0]))[0] == 1.0\n\n"
            "    skipped = gate({'q1': q1})\n    if skipped is not None:\n        return skipped\n",
            1,
        )
    )
    built = build(tiny, tmp_path / "build")
    wrong = tmp_path / "sub" / "00_tiny.ipynb"
    wrong.parent.mkdir()
    wrong.write_text(
        built.solution_notebook.read_text().replace(
            "return (np.asarray(x) >= 0).astype(float)", "return (np.asarray(x) > 0).astype(float)"
        )
    )
    result = grade_notebook(built.autograder_zip, wrong, tmp_path / "out")
    assert result.status == "graded", result.error
    q1, q2 = result.questions["q1"], result.questions["q2"]
    assert q1.score < q1.possible and q2.score == q2.possible == 1
    assert q2.cases[0].message.startswith("✅ not judged: q1 fails first")
    outputs = {t["name"]: t.get("output", "") for t in result.results_json["tests"]}
    assert "not judged: q1 fails first" in outputs["q2"]

    class View:  # what student_summary reads, from the kit's own result
        name = "q1"
        cases = [
            type("R", (), {"passed": c.passed, "message": c.message, "test_case": c})()
            for c in q1.cases
        ]

    assert "[hint:" not in student_summary(View) and "is 0 a step up" in student_summary(View)
