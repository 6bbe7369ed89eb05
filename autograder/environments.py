"""The Gradescope environment, derived from the students' ``environment.yml``.

Gradescope grades on CPU, so the autograder gets the students' pins with torch swapped for its
CPU-only build: the default Linux wheel brings several gigabytes of CUDA libraries that would be
downloaded on every autograder build and never used. Otter adds its own
``otter-grader[grading,plugins]`` line when it merges this file into the zip's environment.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from .catalog import STUDENT_ENVIRONMENT
from .errors import UserError

CPU_INDEX = "--extra-index-url https://download.pytorch.org/whl/cpu"
GRADING_ONLY_DROPS = {"jupyterlab", "notebook", "otter-grader"}
PIN = re.compile(r"^([A-Za-z0-9_.\-\[\],]+)\s*==\s*([^\s;]+)$")


def load_student_environment(path: Path = STUDENT_ENVIRONMENT) -> dict:
    try:
        environment = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise UserError(f"{path}: cannot read the students' conda environment ({exc})") from exc
    if not isinstance(environment, dict) or "dependencies" not in environment:
        raise UserError(f"{path}: a conda environment needs a 'dependencies:' list")
    return environment


def pip_pins(environment: dict) -> dict[str, str]:
    """``{package: version}`` for the ``name==version`` lines of the pip section."""
    pins = {}
    for dependency in environment["dependencies"]:
        if isinstance(dependency, dict):
            for line in dependency.get("pip", []):
                match = PIN.match(line.strip())
                if match:
                    pins[match.group(1).split("[")[0].lower()] = match.group(2)
    return pins


def gradescope_environment(environment: dict | None = None) -> str:
    """The YAML text of the autograder's environment (CPU torch, nothing interactive)."""
    environment = environment or load_student_environment()
    conda, pip = [], [CPU_INDEX]
    for dependency in environment["dependencies"]:
        if isinstance(dependency, dict):
            for line in dependency.get("pip", []):
                match = PIN.match(line.strip())
                name = match.group(1).split("[")[0].lower() if match else line.strip()
                if name in GRADING_ONLY_DROPS:
                    continue
                if name == "torch" and match and "+" not in match.group(2):
                    line = f"torch=={match.group(2)}+cpu"
                pip.append(line)
        elif str(dependency).split("=")[0] not in GRADING_ONLY_DROPS:
            conda.append(dependency)
    result = {
        "name": "otter-env",
        "channels": environment.get("channels", ["conda-forge"]),
        "dependencies": [*conda, {"pip": pip}],
    }
    return yaml.safe_dump(result, sort_keys=False)
