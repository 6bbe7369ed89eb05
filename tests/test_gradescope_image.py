"""The Gradescope image the autograder zip builds: only what grading needs, and exactly the pins.

Building it for real takes minutes (a fresh environment with torch): that trial is
``tests/gradescope_image_trial.sh``, run by hand. These checks read the files the zip carries.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from autograder.environments import (
    CPU_INDEX,
    gradescope_image_files,
    load_student_environment,
    pip_pins,
)
from autograder.zips import EXECUTABLE

FILES = {name: data.decode() for name, data in gradescope_image_files().items()}
SETUP = FILES["setup.sh"]
RUN = FILES["run_autograder"]
REQUIREMENTS = FILES["requirements.txt"]
# What Otter's stock setup.sh installs and grading does not need (PDF export is off).
NOT_NEEDED = (
    "libcurl4-gnutls-dev",
    "libxml2-dev",
    "libssl-dev",
    "libgit2-dev",
    "build-essential",
    "r-base",
    "playwright",
    "chromium",
    "texlive",
    "pandoc",
    "tinytex",
    "miniforge",
    "mamba",
    "conda",
    "nb_conda_kernels",
    "wget",
    "jq",
)


def commands(script: str) -> str:
    """The script without its comments."""
    return "\n".join(line.split("#")[0] for line in script.splitlines())


def requirement_lines() -> list[str]:
    return [line for line in REQUIREMENTS.splitlines() if line and not line.startswith("#")]


@pytest.mark.parametrize("word", NOT_NEEDED)
def test_the_image_installs_nothing_grading_does_not_need(word):
    for name in ("setup.sh", "run_autograder"):
        assert word not in commands(FILES[name]).lower(), f"{name} mentions {word}"


def test_setup_installs_only_the_environments_python_and_the_requirements():
    version = next(
        str(d).split("=")[-1]
        for d in load_student_environment()["dependencies"]
        if str(d).startswith("python=")
    )
    apt = [c.strip() for c in re.findall(r"apt-get install ([^\n|]*)", SETUP)]
    assert apt == [
        '-y --no-install-recommends "$python" "$python-venv"',
        # only where the base image's Ubuntu packages no such Python: the deadsnakes archive
        "-y --no-install-recommends software-properties-common gpg-agent",
    ]
    assert "add-apt-repository -y ppa:deadsnakes/ppa" in SETUP
    assert f'python="python{version}"' in SETUP
    pip = re.findall(r"-m pip install[^\n]*\n?[^\n]*", SETUP)
    assert len(pip) == 1 and '-r "$root/source/requirements.txt"' in pip[0], pip


def test_requirements_are_exactly_the_student_pins_with_cpu_torch():
    student = pip_pins(load_student_environment())
    expected = {
        name: version for name, version in student.items() if name not in {"jupyterlab", "notebook"}
    }
    expected["torch"] = f"{student['torch']}+cpu"
    lines = requirement_lines()
    assert lines[0] == CPU_INDEX
    installed = {}
    for line in lines[1:]:
        name, version = re.fullmatch(r"([A-Za-z0-9_.\-]+)(\[[a-z,]+\])?==(\S+)", line).group(1, 3)
        installed[name.lower()] = version
    assert installed == expected
    assert "otter-grader[grading]==" in REQUIREMENTS, "grading needs Otter's kernel client"
    assert "plugins" not in REQUIREMENTS, "Otter's cloud clients are not needed"


def test_run_autograder_runs_the_zips_entry_point_with_the_environments_python():
    assert '"$env_dir/bin/python" "$root/source/run_otter.py" "$root"' in RUN
    assert re.search(r'env_dir="\$\{OTTER_ENV:-(/[^}]+)\}"', RUN).group(1) == re.search(
        r'env_dir="\$\{OTTER_ENV:-(/[^}]+)\}"', SETUP
    ).group(1), "setup.sh and run_autograder must agree on the environment's place"


def test_the_scripts_are_executable_bash_that_parses():
    assert {"setup.sh", "run_autograder"} <= EXECUTABLE
    bash = shutil.which("bash")
    for name in ("setup.sh", "run_autograder"):
        assert FILES[name].startswith("#!/usr/bin/env bash\n")
        result = subprocess.run([bash, "-n"], input=FILES[name], capture_output=True, text=True)
        assert result.returncode == 0, f"{name}: {result.stderr}"
