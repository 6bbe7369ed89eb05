"""Where assignments live, and the paths the tools read and write for each."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from pathlib import Path

import yaml

from .errors import UserError

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
ASSIGNMENTS = ROOT / "assignments"
DIST = ROOT / "dist"
HELPER_PACKAGE = ROOT / "shared"
GRADER_SUPPORT = (
    ROOT / "autograder" / "grader_support"
)  # in every autograder zip, never a student's
STUDENT_ENVIRONMENT = ROOT / "environment.yml"

GRADER_ONLY = "grader_only"
# The grading-time package (autograder/grading): shipped in every autograder zip, hashed into
# every proof.
GRADING_FILES = tuple(sorted(p.name for p in (ROOT / "autograder" / "grading").glob("*.py")))
NAME_PATTERN = re.compile(r"^\d\d_[a-z0-9_]+$")


@dataclass(frozen=True)
class Settings:
    """Per-assignment grading settings, from the optional ``solutions/NN_topic/grading.yml``."""

    verify_seeds: int = 3
    """seeds under which ``verify`` requires the reference to score 100%"""
    variant_seeds: int = 0
    """of those, how many (the first ones) also grade every variant; 0: all of them"""
    submission_timeout: float = 600.0
    """seconds one whole submission may take to grade locally"""
    cell_timeout: float = 120.0
    """seconds one notebook cell may run while grading"""
    test_timeout: float = 60.0
    """seconds one test case may run while grading"""


def load_settings(path: Path) -> Settings:
    if not path.is_file():
        return Settings()
    try:
        values = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise UserError(f"{path}: YAML does not parse ({str(exc).splitlines()[0]})") from exc
    known = [f.name for f in fields(Settings)]
    if not isinstance(values, dict) or set(values) - set(known):
        unknown = sorted(set(values) - set(known)) if isinstance(values, dict) else values
        raise UserError(f"{path}: unknown settings {unknown}; known: {', '.join(known)}")
    for key, value in values.items():
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
            raise UserError(f"{path}: {key} must be a positive number, got {value!r}")
    return Settings(**values)


@dataclass(frozen=True)
class Assignment:
    """One assignment, named like ``01_perceptron_xor``."""

    name: str

    @property
    def source_dir(self) -> Path:
        return SOLUTIONS / self.name

    @property
    def master(self) -> Path:
        """The one file a person edits: a jupytext percent-format Otter Assign master."""
        return self.source_dir / f"{self.name}.py"

    @property
    def mutants(self) -> Path:
        return self.source_dir / "mutants.yml"

    @property
    def variants(self) -> Path:
        return self.source_dir / "variants.yml"

    @property
    def grader_only(self) -> Path:
        """Modules only the autograder zip carries (oracles, hidden cases): ``grader_only.*``."""
        return self.source_dir / GRADER_ONLY

    @property
    def settings(self) -> Settings:
        return load_settings(self.source_dir / "grading.yml")

    @property
    def student_dir(self) -> Path:
        """The committed copy of what students get (notebook and public tests)."""
        return ASSIGNMENTS / self.name

    @property
    def notebook_name(self) -> str:
        return f"{self.name}.ipynb"

    @property
    def student_zip(self) -> Path:
        return DIST / f"{self.name}-student.zip"

    @property
    def autograder_zip(self) -> Path:
        return DIST / f"{self.name}-autograder.zip"

    @property
    def solutions_notebook(self) -> Path:
        """The reference notebook, to release after the deadline (no hidden tests in it)."""
        return DIST / f"{self.name}-solutions.ipynb"


def all_assignments() -> list[Assignment]:
    """Every assignment that has a master, in order."""
    if not SOLUTIONS.is_dir():
        return []
    return [
        Assignment(d.name)
        for d in sorted(SOLUTIONS.iterdir())
        if d.is_dir() and NAME_PATTERN.match(d.name) and (d / f"{d.name}.py").is_file()
    ]


def resolve(names: tuple[str, ...] | list[str]) -> list[Assignment]:
    """The assignments named (all of them when none is), or a UserError naming the unknown one."""
    known = all_assignments()
    if not names:
        if not known:
            raise UserError(f"no assignment masters found under {SOLUTIONS}")
        return known
    by_name = {a.name: a for a in known}
    by_number = {a.name[:2]: a for a in known}
    chosen = []
    for name in names:
        name = name.strip().rstrip("/").split("/")[-1]
        found = by_name.get(name) or by_number.get(name.zfill(2) if name.isdigit() else "")
        if found is None:
            listing = ", ".join(by_name) or "none"
            raise UserError(
                f"unknown assignment {name!r}: expected one of {listing} "
                f"(a folder solutions/NAME/ holding NAME.py)"
            )
        chosen.append(found)
    return chosen
