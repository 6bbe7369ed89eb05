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
