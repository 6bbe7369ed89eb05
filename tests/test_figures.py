"""`bench --figures`: the experiments' numbers under each seed, read from a real run."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from autograder.build import build
from autograder.cli import main
from autograder.errors import UserError
from autograder.figures import FIGURES_NAME, load_figures, run_seeds, table
from autograder.records import inputs_digest

FIGURES = """figures:
  the seed: rng_seed
  a step: float(step(np.array([-rng_seed]))[0])
  twice the seed: double(rng_seed)
  broken: undefined_name + 1
"""


def test_figures_are_read_per_seed_from_the_reference_run(tiny, tmp_path):
    (tiny.source_dir / FIGURES_NAME).write_text(FIGURES)
    built = build(tiny, tmp_path / "build")
    runs = run_seeds(built, [0, 5], jobs=2, timeout=120)
    assert [r.seed for r in runs] == [0, 5]
    assert [r.error for r in runs] == [None, None]
    assert runs[0].values["the seed"] == 0.0 and runs[1].values["the seed"] == 5.0
    assert runs[0].values["a step"] == 1.0 and runs[1].values["a step"] == 0.0
    assert runs[1].values["twice the seed"] == 10.0
    assert runs[0].values["broken"].startswith("NameError")  # one bad expression costs itself
    assert all(0 < r.graded_seconds <= r.seconds for r in runs)
    text = table(tiny.name, runs)
    assert "twice the seed" in text and "Run All (s)" in text and "graded cells (s)" in text


def test_a_failing_cell_is_reported_not_raised(tiny, tmp_path):
    master = tiny.master.read_text()
    # a cell of its own: the seed is set at the top of every cell, as the autograder sets it
    tiny.master.write_text(
        master.replace("rng_seed = 0\n", "rng_seed = 0\n\n# %%\n1 / (rng_seed - 3)\n")
    )
    (tiny.source_dir / FIGURES_NAME).write_text(FIGURES)
    built = build(tiny, tmp_path / "build")
    fine, broken = run_seeds(built, [0, 3], jobs=1, timeout=120)
    assert fine.error is None and fine.values["twice the seed"] == 0.0
    assert "ZeroDivisionError" in broken.error and broken.values == {}
    assert "seed 3 failed" in table(tiny.name, [fine, broken])


def test_figures_yml_is_not_an_input_of_the_proof(tiny):
    before = inputs_digest(tiny)
    (tiny.source_dir / FIGURES_NAME).write_text(FIGURES)
    assert inputs_digest(tiny) == before
    assert load_figures(tiny)["twice the seed"] == "double(rng_seed)"


def test_a_malformed_figures_file_is_a_clear_error(tiny):
    (tiny.source_dir / FIGURES_NAME).write_text("figures:\n  - rng_seed\n")
    with pytest.raises(UserError, match="mapping names to Python expressions"):
        load_figures(tiny)


def test_bench_figures_prints_the_table(tiny):
    (tiny.source_dir / FIGURES_NAME).write_text(FIGURES)
    result = CliRunner().invoke(
        main, ["bench", "--figures", "--seeds", "2", "-j", "2", "00_tiny"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert "00_tiny" in result.output and "twice the seed" in result.output
    assert "42" in result.output and "1042" in result.output  # the verify seeds
