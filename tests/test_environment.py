"""The students' environment.yml, the development pins and the Gradescope image agree."""

from __future__ import annotations

import re
import tomllib

import yaml

from autograder.catalog import ROOT
from autograder.environments import gradescope_environment, load_student_environment, pip_pins


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


def test_gradescope_gets_cpu_torch_and_no_interactive_tools():
    environment = yaml.safe_load(gradescope_environment())
    pip = next(d["pip"] for d in environment["dependencies"] if isinstance(d, dict))
    assert "torch==2.13.0+cpu" in pip
    assert any(line.startswith("--extra-index-url") and "cpu" in line for line in pip)
    assert "jupyterlab" not in environment["dependencies"]
    assert not any(line.startswith("otter-grader") for line in pip), "Otter adds its own pin"
    assert "python=3.11" in environment["dependencies"]
