"""Fixtures for the kit's own tests: a scratch copy of the repository layout, and a tiny master."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from autograder import catalog

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def kit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scratch repository root holding the tiny assignment ``00_tiny``; the tools point at it."""
    solutions = tmp_path / "solutions"
    shutil.copytree(FIXTURES / "00_tiny", solutions / "00_tiny")
    monkeypatch.setattr(catalog, "SOLUTIONS", solutions)
    monkeypatch.setattr(catalog, "ASSIGNMENTS", tmp_path / "assignments")
    monkeypatch.setattr(catalog, "DIST", tmp_path / "dist")
    return tmp_path


@pytest.fixture
def tiny(kit: Path) -> catalog.Assignment:
    return catalog.Assignment("00_tiny")


@pytest.fixture(scope="session")
def tiny_build(tmp_path_factory: pytest.TempPathFactory):
    """One build of ``00_tiny``, shared by the tests that only read it."""
    from autograder.build import build

    root = tmp_path_factory.mktemp("tiny-kit")
    shutil.copytree(FIXTURES / "00_tiny", root / "solutions" / "00_tiny")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(catalog, "SOLUTIONS", root / "solutions")
        patch.setattr(catalog, "ASSIGNMENTS", root / "assignments")
        patch.setattr(catalog, "DIST", root / "dist")
        built = build(catalog.Assignment("00_tiny"), root / "staging")
    return built


# The slowest tests first, so that on two xdist workers (`make test`) neither finishes its
# share long before the other. Each assignment's verification runs on whichever worker is free;
# every other test runs on the worker that runs the rest of its module (or, in the red team, of
# its assignment), so that a module-scoped fixture (a graded class, a red team's gradings, the
# Gradescope simulation) is computed once, not once per worker. (xdist's own loadgroup cannot
# do this with pytest 9, whose node ids no longer take its group suffix.)
LONGEST_FIRST = (
    "test_verify.py::test_assignment_verifies_and_its_committed_record_holds",
    "test_redteam.py::test_redteam_case",
    "test_verify.py::test_the_fast_path_gives_the_scores_of_full_gradings",
    "test_report.py",
    "test_gradescope_sim.py",
)


def pytest_collection_modifyitems(config, items):
    def rank(position_and_item) -> tuple[int, int]:
        position, item = position_and_item
        kind = next((i for i, key in enumerate(LONGEST_FIRST) if key in item.nodeid), 99)
        # verifying a later assignment costs more (they train networks): those first
        return kind, -position if kind == 0 else 0

    items[:] = [item for _, item in sorted(enumerate(items), key=rank)]  # stable otherwise


def scope_of(nodeid: str) -> str:
    """The unit of work one xdist worker takes whole (see above)."""
    module, _, test = nodeid.partition("::")
    if test.startswith("test_redteam_case["):
        return "redteam " + test.removeprefix("test_redteam_case[").split("-", 1)[0]
    if module.endswith("test_verify.py"):
        return nodeid
    return module


def pytest_xdist_make_scheduler(config, log):
    """With ``--dist loadscope``: scopes from :func:`scope_of`, in collection order."""
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ByScope(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return scope_of(nodeid)

    config.option.loadscopereorder = False  # keep the slowest first
    return ByScope(config, log)
