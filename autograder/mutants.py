"""The catalogue of known mistakes ("mutants") beside each master, and applying one.

``solutions/NN_topic/mutants.yml`` is a YAML list; each entry models one common student error::

    - name: forgotten_bias
      mistake: The neuron ignores its bias, so every boundary passes through the origin.
      find: "return activation(x @ w + b)"     # solution code, exactly once in the master
      replace: "return activation(x @ w)"
      questions: [q2]                          # must lose points
      hint: bias                               # the failing test's message must say this

``verify`` applies each edit to the reference notebook, grades it, and fails when a named
question keeps its points or its failure message lacks the hint.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import nbformat
import yaml

from .errors import UserError
from .master import Master

REQUIRED = ("name", "mistake", "find", "replace", "questions", "hint")


@dataclass(frozen=True)
class Mutant:
    name: str
    mistake: str
    find: str
    replace: str
    questions: tuple[str, ...]
    hint: str


def load_mutants(master: Master) -> list[Mutant]:
    """The catalogue of ``master``'s assignment, checked against the master (empty if none)."""
    path = master.assignment.mutants
    if not path.is_file():
        return []
    where = path.relative_to(path.parents[2]) if len(path.parents) > 2 else path
    try:
        entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    except yaml.YAMLError as exc:
        raise UserError(f"{where}: YAML does not parse ({str(exc).splitlines()[0]})") from exc
    if not isinstance(entries, list):
        raise UserError(f"{where}: expected a YAML list of mutants ('- name: ...')")
    text = master.path.read_text(encoding="utf-8")
    mutants, names = [], set()
    for number, entry in enumerate(entries, start=1):
        label = f"{where}: mutant {number}"
        if not isinstance(entry, dict):
            raise UserError(f"{label} is not a mapping of {', '.join(REQUIRED)}")
        missing = [k for k in REQUIRED if entry.get(k) in (None, "", [])]
        if missing:
            raise UserError(f"{label} ({entry.get('name', '?')}) lacks {', '.join(missing)}")
        name = str(entry["name"])
        if name in names:
            raise UserError(f"{label}: the name {name!r} is used twice")
        names.add(name)
        questions = entry["questions"]
        questions = (questions,) if isinstance(questions, str) else tuple(map(str, questions))
        unknown = [q for q in questions if q not in master.question_names]
        if unknown:
            raise UserError(
                f"{label} ({name}) names unknown question(s) {', '.join(unknown)}; "
                f"the master has {', '.join(master.question_names)}"
            )
        count = text.count(entry["find"])
        if count != 1:
            raise UserError(
                f"{label} ({name}): its 'find' text occurs {count} times in {master.path.name}; "
                "it must occur exactly once (quote more of the line)"
            )
        mutants.append(
            Mutant(
                name,
                str(entry["mistake"]).strip(),
                entry["find"],
                entry["replace"],
                questions,
                str(entry["hint"]),
            )
        )
    return mutants


def apply_mutant(reference: Path, mutant: Mutant, destination: Path) -> Path:
    """Write ``reference`` with ``mutant``'s edit made to its code to ``destination``."""
    notebook = nbformat.read(reference, as_version=4)
    hits = [
        cell for cell in notebook.cells if cell.cell_type == "code" and mutant.find in cell.source
    ]
    if len(hits) != 1 or hits[0].source.count(mutant.find) != 1:
        raise UserError(
            f"mutant {mutant.name}: its 'find' text occurs "
            f"{sum(c.source.count(mutant.find) for c in hits)} "
            "times in the reference notebook's code; it must be solution code that occurs once"
        )
    hits[0].source = hits[0].source.replace(mutant.find, mutant.replace)
    destination.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, destination)
    return destination
