"""Answers hidden in the helper package: solution code that ships to students under other names.

The line-by-line leak check in ``verify`` finds solution lines copied into student files. The
helper package is different: it ships with every assignment, it is full of legitimate code, and
a helper that solves a graded question rarely shares its lines with the reference (other names,
other layout). Here both sides are compared by structure: each solution block of the master
(the statements between ``# BEGIN SOLUTION`` and ``# END SOLUTION``) and every run of as many
statements in the body of a helper-package function are parsed, docstrings dropped, and every
name renamed in order of first use; equal dumps are a leak. Blocks too small to be an answer
(fewer than ``MIN_NODES`` syntax nodes) are skipped.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

from .master import CODE_BEGIN, CODE_END, Master

MIN_NODES = 12


class _Renamer(ast.NodeTransformer):
    """Every identifier becomes v0, v1, ... in order of first appearance."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}

    def _new(self, name: str) -> str:
        return self.names.setdefault(name, f"v{len(self.names)}")

    def visit_Name(self, node: ast.Name) -> ast.AST:
        return ast.copy_location(ast.Name(self._new(node.id), node.ctx), node)

    def visit_arg(self, node: ast.arg) -> ast.AST:
        node.arg = self._new(node.arg)
        node.annotation = None
        return node

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        self.generic_visit(node)
        node.attr = self._new(node.attr)
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        node.name = self._new(node.name)
        node.body = _without_docstring(node.body)
        node.returns = None
        node.decorator_list = []
        self.generic_visit(node)
        return node


def _without_docstring(body: list[ast.stmt]) -> list[ast.stmt]:
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        if isinstance(body[0].value.value, str):
            return body[1:] or [ast.Pass()]
    return body


def shape(statements: list[ast.stmt]) -> str:
    """A dump of ``statements`` that ignores names, docstrings and layout."""
    module = ast.Module(body=[_copy(s) for s in statements], type_ignores=[])
    return ast.dump(_Renamer().visit(module), annotate_fields=False)


def _copy(node: ast.AST) -> ast.AST:
    return ast.parse(ast.unparse(node)).body[0]


def _size(statements: list[ast.stmt]) -> int:
    return sum(1 for s in statements for _ in ast.walk(s))


def solution_blocks(master: Master) -> list[tuple[str, list[ast.stmt]]]:
    """(first line, statements) of each parseable solution block in the master's code."""
    blocks = []
    for cell in master.notebook.cells:
        if cell.cell_type != "code":
            continue
        inside, lines = False, []
        for line in cell.source.splitlines():
            if CODE_BEGIN.match(line):
                inside, lines = True, []
            elif CODE_END.match(line):
                inside = False
                block = _parse(textwrap.dedent("\n".join(lines)))
                if block and _size(block) >= MIN_NODES:
                    blocks.append((next(x.strip() for x in lines if x.strip()), block))
            elif inside:
                lines.append(line)
    return blocks


def _parse(source: str) -> list[ast.stmt] | None:
    try:
        return ast.parse(source).body
    except SyntaxError:
        return None


def helper_bodies(package: Path) -> list[tuple[str, list[ast.stmt]]]:
    """(where, body) of every function in the package's Python files."""
    bodies = []
    for path in sorted(package.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        tree = _parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(ast.Module(body=tree or [], type_ignores=[])):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                where = f"{path.relative_to(package.parent)}:{node.lineno} ({node.name})"
                bodies.append((where, _without_docstring(node.body)))
    return bodies


def structural_leaks(master: Master, package: Path) -> list[str]:
    """Where a helper-package function contains a solution block of ``master``, by structure."""
    wanted = {}
    for first_line, block in solution_blocks(master):
        wanted.setdefault(len(block), {})[shape(block)] = first_line
    leaks = []
    for where, body in helper_bodies(package):
        for length, shapes in wanted.items():
            for start in range(len(body) - length + 1):
                found = shapes.get(shape(body[start : start + length]))
                if found:
                    leaks.append(f"{where} solves what `{found[:50]}` answers")
                    break
    return leaks
