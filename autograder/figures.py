"""Experiment figures: the numbers an assignment's experiments report, under every verify seed.

A notebook's claims ("the LSTM reaches 0.9", "PCA is ~18x better") are thresholds checked by
tests under the seeds ``verify`` uses. This module runs the reference as a student's *Restart
& Run All* would, once per seed (the seed variable set at the top of every code cell, as the
autograder sets it), and reads back the expressions listed in the assignment's
``figures.yml``::

    # name: a Python expression evaluated in the notebook after its last cell
    figures:
      LSTM accuracy (q7 needs >= 0.9): memory_acc["lstm"]

It also times every cell, so the table shows what the graded training costs (the cells the
autograder runs, ``otter_ignore`` ones left out) next to the whole run. Nothing here grades:
``figures.yml`` is not an input of the verification record (``records``), and the figures are
printed, never asserted (``python -m autograder bench --figures``).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import yaml

from .build import Built
from .catalog import HELPER_PACKAGE, Assignment
from .errors import UserError

FIGURES_NAME = "figures.yml"
MARKER = "EXPERIMENT-FIGURES "
IGNORED_TAG = "otter_ignore"


def figures_path(assignment: Assignment) -> Path:
    return assignment.source_dir / FIGURES_NAME


def load_figures(assignment: Assignment) -> dict[str, str]:
    """``{name: expression}`` from the assignment's ``figures.yml`` ({} when it has none)."""
    path = figures_path(assignment)
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    figures = data.get("figures") if isinstance(data, dict) else None
    if not isinstance(figures, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in figures.items()
    ):
        raise UserError(f"{path}: expected `figures:` mapping names to Python expressions")
    return figures


@dataclass
class SeedRun:
    seed: int
    values: dict[str, float | str] = field(default_factory=dict)
    seconds: float = 0.0  # every cell, as Run All
    graded_seconds: float = 0.0  # the cells the autograder runs (otter_ignore left out)
    slowest: tuple[float, str] = (0.0, "")  # the slowest graded cell: seconds, first line
    error: str | None = None


def seed_variable(built: Built) -> str | None:
    return (built.master.config.get("generate") or {}).get("seed_variable")


def run_seeds(
    built: Built, seeds: list[int], *, jobs: int = 1, timeout: float = 600.0
) -> list[SeedRun]:
    """The reference run once per seed (``jobs`` kernels at once); the figures of each run."""
    expressions = load_figures(built.assignment)
    variable = seed_variable(built)
    if variable is None and len(seeds) > 1:
        raise UserError(f"{built.assignment.name} has no seed variable: one seed is all there is")
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        runs = pool.map(
            lambda seed: run_once(built, seed, variable, expressions, timeout=timeout), seeds
        )
        return list(runs)


def run_once(
    built: Built,
    seed: int,
    variable: str | None,
    expressions: dict[str, str],
    *,
    timeout: float = 600.0,
) -> SeedRun:
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    run = SeedRun(seed)
    notebook = nbformat.read(built.solution_notebook, as_version=4)
    notebook.cells = [
        c for c in notebook.cells if c.cell_type == "code" and "grader.export(" not in c.source
    ]
    if variable is not None:
        for cell in notebook.cells:
            if not cell.source.startswith("%%"):
                cell.source = f"{variable} = {seed}\n{cell.source}"
    folder = Path(tempfile.mkdtemp(prefix=f"figures-{built.assignment.name}-"))
    try:
        shutil.copytree(built.student_dir / "tests", folder / "tests")
        shutil.copytree(
            HELPER_PACKAGE, folder / "shared", ignore=shutil.ignore_patterns("__pycache__")
        )
        nbformat.write(notebook, folder / built.assignment.notebook_name)  # Otter's grader reads it
        os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
        os.environ.setdefault("MPLBACKEND", "Agg")
        client = NotebookClient(
            notebook,
            timeout=int(timeout),
            kernel_name="python3",
            resources={"metadata": {"path": str(folder)}},
        )
        with client.setup_kernel(cwd=str(folder)):
            for index, cell in enumerate(notebook.cells):
                started = time.perf_counter()
                try:
                    client.execute_cell(cell, index)
                except CellExecutionError as error:
                    run.error = f"cell {index} ({_first_line(cell.source)}): {str(error)[-300:]}"
                    return run
                seconds = time.perf_counter() - started
                run.seconds += seconds
                if IGNORED_TAG not in cell.get("metadata", {}).get("tags", []):
                    run.graded_seconds += seconds
                    if seconds > run.slowest[0]:
                        run.slowest = (seconds, _first_line(cell.source, skip=variable))
            notebook.cells.append(nbformat.v4.new_code_cell(_reader(expressions)))
            cell = client.execute_cell(notebook.cells[-1], len(notebook.cells) - 1)
        text = "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stdout")
        line = next((x for x in text.splitlines() if x.startswith(MARKER)), None)
        run.values = json.loads(line[len(MARKER) :]) if line else {}
        return run
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _reader(expressions: dict[str, str]) -> str:
    """A cell that prints every expression's value (a number where it is one) on one line."""
    return "\n".join(
        [
            "import json as _json",
            "def _figure(_source):",
            "    try:",
            "        _value = eval(_source)",
            "    except Exception as _error:",
            "        return f'{type(_error).__name__}: {_error}'[:80]",
            "    try:",
            "        return float(_value)",
            "    except Exception:",
            "        return repr(_value)[:80]",
            f"print({MARKER!r} + _json.dumps({{_k: _figure(_v) for _k, _v in "
            f"{expressions!r}.items()}}))",
        ]
    )


def _first_line(source: str, skip: str | None = None) -> str:
    lines = [x for x in source.splitlines() if x.strip() and not x.lstrip().startswith("#")]
    if skip is not None and lines and lines[0].startswith(f"{skip} = "):
        lines = lines[1:]
    return (lines[0] if lines else "")[:60]


def table(assignment: str, runs: list[SeedRun]) -> str:
    """One row per figure, one column per seed, then the spread; the times below."""
    names = list(dict.fromkeys(name for run in runs for name in run.values))
    width = max([len(n) for n in names] + [len("graded cells (s)"), 24])
    lines = [f"{assignment}", "  " + "figure".ljust(width) + "".join(f"{r.seed:>10}" for r in runs)]
    lines[-1] += f"{'min':>10}{'max':>10}"

    def row(name: str, values: list) -> str:
        cells = "".join(f"{_show(v):>10}" for v in values)
        numbers = [v for v in values if isinstance(v, float)]
        spread = f"{_show(min(numbers)):>10}{_show(max(numbers)):>10}" if numbers else ""
        return "  " + name.ljust(width) + cells + spread

    for name in names:
        lines.append(row(name, [r.values.get(name, "-") for r in runs]))
    lines.append(row("Run All (s)", [round(r.seconds, 1) for r in runs]))
    lines.append(row("graded cells (s)", [round(r.graded_seconds, 1) for r in runs]))
    slowest = max(runs, key=lambda r: r.slowest[0])
    if slowest.slowest[0]:
        median = statistics.median(r.slowest[0] for r in runs)
        lines.append(
            f"  slowest graded cell: {median:.1f} s (median over seeds): {slowest.slowest[1]}"
        )
    for run in runs:
        if run.error:
            lines.append(f"  seed {run.seed} failed: {run.error}")
    return "\n".join(lines)


def _show(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)[:9]
