"""Proof that the prose suffices: a student who writes exactly what it asks gets through.

Three checks, which ``verify`` runs on every assignment:

- :func:`uncompilable_cells`: every code cell of the student notebook compiles as it is handed
  out (a stub whose ``...`` leaves an indented block behind does not, and the student's first
  *Run All* stops before they have typed anything);
- :func:`unasked_reads`: no cell that is neither an answer nor a test reads a name that only the
  reference's answer code defines, unless a question asks for it (its stub binds the name, or a
  test reads it). Otherwise a correct notebook written from the prose stops with ``NameError``
  in a given figure cell;
- :func:`run_every_cell`: a notebook (a ``prose_only`` variant) run as *Restart & Run All*
  does, every cell including ``otter_ignore`` ones, raises nowhere. This catches what names
  cannot show: an attribute the prose never asked for (``translator.d_model``), a shape it left
  free.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .catalog import HELPER_PACKAGE

ANSWER_TAG = "otter_assign_solution_cell"  # Otter Assign's tag on every answer cell
CHECK_OR_EXPORT = re.compile(r"\bgrader\.(check|check_all|export)\(")
MAGIC = re.compile(r"^\s*[%!]")


def python_source(source: str) -> str:
    """A cell's source with IPython's line magics and shell escapes blanked (same lines)."""
    return "\n".join("" if MAGIC.match(line) else line for line in source.splitlines())


def _first_line(source: str) -> str:
    for line in source.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            return line.strip()[:70]
    return "(empty)"


def uncompilable_cells(notebook: nbformat.NotebookNode) -> list[str]:
    """Each code cell of ``notebook`` that does not compile: 'cell N (first line): error'."""
    problems = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        try:
            compile(python_source(cell.source), f"cell {index}", "exec")
        except SyntaxError as error:
            problems.append(
                f"cell {index} ({_first_line(cell.source)}): {type(error).__name__}: "
                f"{error.msg} at line {error.lineno}"
            )
    return problems


def bound_names(tree: ast.AST) -> set[str]:
    """Names a cell binds at its top level (inside loops, ``if``, ``with`` and ``try`` too, not
    inside functions or classes): assignments, definitions, imports, loop and ``as`` targets."""
    names: set[str] = set()
    stack = list(ast.iter_child_nodes(tree))
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            continue  # what the body binds is local to it
        if isinstance(node, ast.Lambda):
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            names.add(node.id)
        stack.extend(ast.iter_child_nodes(node))
    return names


def loaded_names(tree: ast.AST) -> set[str]:
    """Names ``tree`` reads that it does not bind anywhere itself (its free names)."""
    loads = {
        n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
    }
    stores = {
        n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)
    }
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            stores |= {a.arg for a in ast.walk(node.args) if isinstance(a, ast.arg)}
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            stores.add(node.name)
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            stores |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return loads - stores


def _parse(source: str) -> ast.Module | None:
    try:
        return ast.parse(python_source(source))
    except SyntaxError:
        return None


def names_tests_read(test_sources: list[str]) -> set[str]:
    """What tests take from the notebook: their parameters, and ``env["x"]`` / ``env.get("x")``."""
    names: set[str] = set()
    for source in test_sources:
        tree = _parse(source)
        if tree is None:
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith(
                "test"
            ):
                names |= {a.arg for a in node.args.args + node.args.kwonlyargs}
            elif isinstance(node, ast.Subscript) and _is_env(node.value):
                if isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
                    names.add(node.slice.value)
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "get"
                and _is_env(node.func.value)
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                names.add(node.args[0].value)
    return names


def _is_env(node: ast.AST) -> bool:
    return isinstance(node, ast.Name) and node.id == "env"


def unasked_reads(
    reference: nbformat.NotebookNode, student: nbformat.NotebookNode, test_sources: list[str]
) -> list[str]:
    """Names that a given (ungraded) cell reads although only the reference's answers define
    them and no question asks for them: 'cell N (first line) reads `name` (defined by ...)'.

    ``reference`` and ``student`` are the two notebooks Otter Assign makes from one master
    (cell for cell the same, the answer cells tagged). A name counts as asked for when the
    student's stub binds it (``x = ...``, ``def f(...): ...``) or a test reads it.
    """
    if len(reference.cells) != len(student.cells):
        return [
            f"the reference has {len(reference.cells)} cells and the student notebook "
            f"{len(student.cells)}: they cannot be compared cell for cell"
        ]
    given: set[str] = set()  # bound by a cell that is the same for every student
    answered: dict[str, int] = {}  # bound by the reference's answer code: name -> cell
    asked = names_tests_read(test_sources)
    for index, (ref, stub) in enumerate(zip(reference.cells, student.cells, strict=True)):
        if ref.cell_type != "code":
            continue
        ref_tree, stub_tree = _parse(ref.source), _parse(stub.source)
        if ANSWER_TAG in ref.metadata.get("tags", []):
            if stub_tree is not None:
                asked |= bound_names(stub_tree)
            if ref_tree is not None:
                for name in bound_names(ref_tree):
                    answered.setdefault(name, index)
        elif ref_tree is not None:
            given |= bound_names(ref_tree)
    solution_only = {name: i for name, i in answered.items() if name not in given | asked}
    problems = []
    for index, cell in enumerate(student.cells):
        if cell.cell_type != "code" or ANSWER_TAG in reference.cells[index].metadata.get(
            "tags", []
        ):
            continue
        if CHECK_OR_EXPORT.search(cell.source):
            continue
        tree = _parse(cell.source)
        if tree is None:
            continue
        for name in sorted(loaded_names(tree) & set(solution_only)):
            problems.append(
                f"cell {index} ({_first_line(cell.source)}) reads `{name}`, which only the "
                f"reference's answer in cell {solution_only[name]} defines and no question asks "
                "for: a notebook written from the prose stops there with NameError"
            )
    return problems


@dataclass
class CellError:
    index: int
    first_line: str
    error: str

    def __str__(self) -> str:
        return f"cell {self.index} ({self.first_line}) raised {self.error}"


def run_every_cell(
    notebook: nbformat.NotebookNode,
    notebook_name: str,
    tests_dir: Path,
    *,
    timeout: float = 600.0,
) -> list[CellError]:
    """Run ``notebook`` as *Restart & Run All* does, in a fresh kernel in a folder laid out as
    the student zip (the notebook, ``tests/``, ``shared/``); the cells that raised.

    Every code cell runs, ``otter_ignore`` ones and the ``grader.check`` cells included; only
    the Submission cell's ``grader.export`` is left out (it zips the notebook, and re-runs
    every check, which the cells above have already run). Execution goes on after an error, so
    that every broken cell is reported, not only the first.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    notebook = nbformat.from_dict(notebook)
    folder = Path(tempfile.mkdtemp(prefix="prose-only-"))
    try:
        shutil.copytree(tests_dir, folder / "tests")
        shutil.copytree(
            HELPER_PACKAGE, folder / "shared", ignore=shutil.ignore_patterns("__pycache__")
        )
        cells = [c for c in notebook.cells if "grader.export(" not in c.source]
        notebook.cells = cells
        nbformat.write(notebook, folder / notebook_name)
        os.environ["PATH"] = (
            f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
        )
        client = NotebookClient(
            notebook,
            timeout=int(timeout),
            kernel_name="python3",
            allow_errors=True,
            resources={"metadata": {"path": str(folder)}},
        )
        errors = []
        environment = {"MPLBACKEND": "Agg", "PYTHONHASHSEED": "0"}
        saved = {k: os.environ.get(k) for k in environment}
        os.environ.update(environment)
        try:
            with client.setup_kernel(cwd=str(folder)):
                for index, cell in enumerate(notebook.cells):
                    if cell.cell_type != "code":
                        continue
                    try:
                        client.execute_cell(cell, index)
                    except CellExecutionError as error:  # allow_errors leaves few of these
                        errors.append(CellError(index, _first_line(cell.source), str(error)[:300]))
                        continue
                    for output in cell.get("outputs", []):
                        if output.get("output_type") == "error":
                            text = f"{output.get('ename')}: {output.get('evalue')}"
                            errors.append(CellError(index, _first_line(cell.source), text[:300]))
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        return errors
    finally:
        shutil.rmtree(folder, ignore_errors=True)
