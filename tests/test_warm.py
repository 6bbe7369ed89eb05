"""Warm starts (autograder.grading.warm): a forked worker grades exactly as a cold one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from autograder.grading import warm
from autograder.grading.otter_plugin import GRADING_ENVIRONMENT
from autograder.grading.runner import grade_notebook

ROOT = Path(__file__).resolve().parents[1]


def _summary(result) -> dict:
    return {
        name: (q.score, q.possible, [(c.name, c.hidden, c.passed, c.message) for c in q.cases])
        for name, q in result.questions.items()
    }


def _scores(results_json: dict) -> list:
    keys = ("name", "score", "max_score", "visibility")
    return [results_json.get("score")] + [
        tuple(t.get(k) for k in keys) for t in results_json["tests"]
    ]


@pytest.mark.slow
def test_a_warm_worker_grades_as_a_cold_one(tiny_build, tmp_path, monkeypatch):
    """The reference and a wrong notebook: the same verdicts, messages and results.json, and the
    warm one really was forked by this process's server (not started by the runner)."""
    wrong = tmp_path / "wrong" / "00_tiny.ipynb"
    wrong.parent.mkdir()
    wrong.write_text(
        tiny_build.solution_notebook.read_text().replace(
            "return (np.asarray(x) >= 0).astype(float)", "return (np.asarray(x) > 0).astype(float)"
        )
    )
    # A server started earlier in this process has the environment of then; another test may
    # have changed a startup variable since (PATH), and it would answer "cold" to every request.
    warm.SERVER.stop()
    started = []
    original = warm.SERVER.start

    def recording(argv, env):
        process = original(argv, env)
        started.append(process)
        return process

    monkeypatch.setattr(warm.SERVER, "start", recording)
    results = {}
    for how in ("warm", "cold"):
        monkeypatch.setenv(warm.SWITCH, "1" if how == "warm" else "0")
        for label, notebook in (("reference", tiny_build.solution_notebook), ("wrong", wrong)):
            out = tmp_path / f"{how}-{label}"
            results[how, label] = grade_notebook(tiny_build.autograder_zip, notebook, out)
    assert [type(p).__name__ for p in started] == ["WarmProcess", "WarmProcess"] + ["NoneType"] * 2
    for label in ("reference", "wrong"):
        hot, cold = results["warm", label], results["cold", label]
        assert hot.status == cold.status == "graded", (hot.error, cold.error)
        assert _summary(hot) == _summary(cold)
        assert _scores(hot.results_json) == _scores(cold.results_json)
    assert results["warm", "reference"].total == 3
    assert results["warm", "wrong"].questions["q1"].score < 2


def test_a_request_from_another_environment_starts_cold(monkeypatch):
    """What the server's imports read from the environment cannot differ from a cold start:
    a request whose environment differs (other than a grading's own variables) is refused."""
    monkeypatch.delenv(warm.SWITCH, raising=False)
    env = dict(os.environ)
    assert warm._comparable({**env, "TMPDIR": "/x", warm.TIMEOUT_VARIABLE: "9"}) == (
        warm._comparable(env)
    )
    server = warm.WarmServer()
    try:
        assert server.start(["a", "b", "c"], {**env, "PYTHONHASHSEED": "7"}) is None
        assert server.start(["a", "b", "c"], {**env, "TORCH_SHOW_CPP_STACKTRACES": "1"}) is None
        assert warm._comparable({**env, "PYTEST_CURRENT_TEST": "x"}) == warm._comparable(env)
        monkeypatch.setenv(warm.SWITCH, "0")
        assert server.start(["a", "b", "c"], env) is None
    finally:
        server.stop()


def test_the_server_imports_no_helper_package_and_forks_single_threaded():
    """The preloaded modules leave the helper package to each grading's folder, and start no
    thread (a fork copies only the forking one)."""
    probe = (
        "import os, sys, importlib; sys.path.insert(0, sys.argv[1]);"
        "from autograder.grading.warm import PRELOAD;"
        "[importlib.import_module(m) for m in PRELOAD];"
        "print(len(os.listdir('/proc/self/task')),"
        " sorted(m for m in sys.modules if m.split('.')[0] in ('shared', 'grader_support')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, str(ROOT)],
        env={**os.environ, **GRADING_ENVIRONMENT},  # as the server starts
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split(maxsplit=1)
    assert out == ["1", "[]\n"]


def test_the_server_ends_with_its_caller(tmp_path):
    """A caller that exits (even killed) leaves no server behind."""
    script = (
        "import sys, json; sys.path.insert(0, sys.argv[1]);"
        "from autograder.grading import warm; warm.SERVER._spawn();"
        "print(warm.SERVER.pid, flush=True); import time; time.sleep(60)"
    )
    caller = subprocess.Popen(
        [sys.executable, "-c", script, str(ROOT)], stdout=subprocess.PIPE, text=True
    )
    server = psutil.Process(int(caller.stdout.readline()))
    assert server.is_running()
    caller.kill()
    caller.wait()
    deadline = time.monotonic() + 60  # the server notices once its imports are done
    while time.monotonic() < deadline:
        try:
            if server.status() == psutil.STATUS_ZOMBIE:
                break
        except psutil.NoSuchProcess:
            break
        time.sleep(0.2)
    else:
        pytest.fail(f"the server outlived its caller: {json.dumps(server.cmdline())}")
