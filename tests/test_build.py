"""Build: reproducible zips with the right contents, and nothing secret in the student's."""

from __future__ import annotations

import json
import zipfile

import pytest

from autograder import catalog
from autograder.build import build, stale_files

pytestmark = pytest.mark.slow


def test_same_sources_give_byte_identical_zips(tiny, tmp_path):
    first = build(tiny, tmp_path / "one")
    second = build(tiny, tmp_path / "two")
    assert first.student_zip.read_bytes() == second.student_zip.read_bytes()
    assert first.autograder_zip.read_bytes() == second.autograder_zip.read_bytes()
    assert first.student_notebook.read_bytes() == second.student_notebook.read_bytes()


def test_a_changed_master_changes_the_zips(tiny, tmp_path):
    first = build(tiny, tmp_path / "one")
    tiny.master.write_text(tiny.master.read_text().replace("Twice x.", "Two times x."))
    second = build(tiny, tmp_path / "two")
    assert first.student_zip.read_bytes() != second.student_zip.read_bytes()


def test_student_zip_holds_notebook_public_tests_helpers_and_environment(tiny_build):
    with zipfile.ZipFile(tiny_build.student_zip) as zf:
        names = set(zf.namelist())
        notebook = json.loads(zf.read("00_tiny/00_tiny.ipynb"))
        public_tests = zf.read("00_tiny/tests/q1.py").decode()
    assert {
        "00_tiny/00_tiny.ipynb",
        "00_tiny/tests/q1.py",
        "00_tiny/tests/q2.py",
        "00_tiny/environment.yml",
        "00_tiny/shared/__init__.py",
        "00_tiny/shared/checks.py",
    } <= names
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
    assert "test_step_public" in public_tests
    assert "test_step_hidden" not in public_tests
    sources = ["".join(c["source"]) for c in notebook["cells"]]
    assert not any("astype(float)" in s and "return" in s for s in sources), "solution leaked"
    assert any('grader = otter.Notebook("00_tiny.ipynb")' in s for s in sources)
    assert notebook["metadata"]["otter"]["assignment_name"] == "00_tiny"
    assert [c["id"] for c in notebook["cells"]][:2] == ["cell-000", "cell-001"]


def test_autograder_zip_is_gradescope_ready(tiny_build):
    with zipfile.ZipFile(tiny_build.autograder_zip) as zf:
        names = set(zf.namelist())
        config = json.loads(zf.read("otter_config.json"))
        requirements = zf.read("requirements.txt").decode()
        setup = zf.read("setup.sh").decode()
        hidden = zf.read("tests/q1.py").decode()
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in zf.infolist()}
        dates = {i.date_time for i in zf.infolist()}
    assert {
        "run_autograder",
        "setup.sh",
        "run_otter.py",
        "otter_config.json",
        "requirements.txt",
        "tests/q1.py",
        "files/shared/__init__.py",
    } <= names
    assert config["assignment_name"] == "00_tiny"
    assert config["seed"] == 42 and config["seed_variable"] == "rng_seed"
    assert "torch==2.13.0+cpu" in requirements, "Gradescope must get the CPU-only torch"
    assert "otter-grader[grading]==7.0.0" in requirements
    assert "environment.yml" not in names, "the image installs requirements.txt, not Otter's env"
    assert "requirements.txt" in setup and "playwright" not in setup, "the kit's lean setup.sh"
    assert "test_step_hidden" in hidden
    assert modes["run_autograder"] == modes["setup.sh"] == 0o755 and modes["tests/q1.py"] == 0o644
    assert dates == {(1980, 1, 1, 0, 0, 0)}


def test_autograder_zip_carries_the_plugin_where_otter_imports_it(tiny_build, tmp_path):
    """Gradescope imports the plugin named in otter_config.json from /autograder/source: the
    zip must hold it, and everything it imports of the kit, at the paths that name gives."""
    import subprocess
    import sys

    from autograder.grading.otter_plugin import PLUGIN_NAME

    with zipfile.ZipFile(tiny_build.autograder_zip) as zf:
        config = json.loads(zf.read("otter_config.json"))
        zf.extractall(tmp_path / "source")
    assert [p for p in config["plugins"] if PLUGIN_NAME in p], config["plugins"]
    module, _, cls = PLUGIN_NAME.rpartition(".")
    assert (tmp_path / "source" / (module.replace(".", "/") + ".py")).is_file()
    # In a process of its own, importing from the unpacked zip first: the plugin, the modules it
    # imports when grading, and the zip's entry point all come from the zip.
    script = (
        "import importlib, sys\n"
        f"sys.path.insert(0, {str(tmp_path / 'source')!r})\n"
        f"assert hasattr(importlib.import_module({module!r}), {cls!r})\n"
        "for name in ('kernel', 'referee', 'serve', 'remote', 'agent', 'wire'):\n"
        "    importlib.import_module('autograder.grading.' + name)\n"
        "importlib.import_module('autograder.submission')\n"
        "elsewhere = sorted(n for n, m in sys.modules.items() if n.split('.')[0] == 'autograder'\n"
        f"                   and not (m.__file__ or '').startswith({str(tmp_path)!r}))\n"
        "assert not elsewhere, elsewhere\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr


def test_stale_assignment_folder_is_detected(tiny, tmp_path):
    built = build(tiny, tmp_path / "b")
    assert stale_files(built) == ["00_tiny.ipynb", "tests/q1.py", "tests/q2.py"]
    from autograder.build import publish

    publish(built)
    assert stale_files(built) == []
    assert catalog.Assignment("00_tiny").student_zip.is_file()
    (tiny.student_dir / "tests" / "q2.py").write_text("# edited by hand\n")
    assert stale_files(built) == ["tests/q2.py"]
