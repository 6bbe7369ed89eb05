"""The students' environment.yml and the development pins agree (the Gradescope image's pins:
tests/test_gradescope_image.py)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib

import pytest

from autograder.catalog import ROOT
from autograder.environments import load_student_environment, pip_pins


def project_pins() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = {}
    for requirement in project["dependencies"]:
        name, version = re.match(r"^([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?==(.+)$", requirement).groups()
        pins[name.lower()] = version
    return pins


def test_every_student_pin_matches_the_development_pin():
    student = pip_pins(load_student_environment())
    project = project_pins()
    assert student, "environment.yml has no pinned pip packages"
    shared = set(student) & set(project)
    assert {"torch", "numpy", "matplotlib", "scikit-learn", "otter-grader"} <= shared
    mismatched = {n: (student[n], project[n]) for n in shared if student[n] != project[n]}
    assert not mismatched, f"environment.yml and pyproject.toml disagree: {mismatched}"


def test_every_student_package_is_pinned_exactly():
    environment = load_student_environment()
    pip = next(d["pip"] for d in environment["dependencies"] if isinstance(d, dict))
    loose = [line for line in pip if "==" not in line]
    assert not loose, f"unpinned pip packages in environment.yml: {loose}"


def venv_recipe(*variables: str) -> str:
    """What `make venv` would run from scratch (make -n: nothing is run)."""
    command = ["make", "-n", "-B", "-C", str(ROOT), ".venv/.installed", *variables]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


@pytest.mark.skipif(sys.platform != "linux" or not shutil.which("make"), reason="Linux make")
def test_make_venv_asks_pytorchs_cpu_index_for_the_pinned_torch_first():
    recipe = venv_recipe()
    pin = f"torch=={project_pins()['torch']}"
    assert f'--extra-index-url "https://download.pytorch.org/whl/cpu" "{pin}"' in recipe
    assert "timeout=5" in recipe, "an index that does not answer must be skipped quickly"
    assert "--extra-index-url" not in venv_recipe("TORCH_INDEX=")
