"""The catalogues beside each master: known mistakes (mutants) and valid alternatives (variants).

``solutions/NN_topic/mutants.yml`` is a YAML list; each entry models one common student error::

    - name: forgotten_bias
      mistake: The neuron ignores its bias, so every boundary passes through the origin.
      find: "return activation(x @ w + b)"     # solution code, exactly once in the master
      replace: "return activation(x @ w)"
      questions: [q2]                          # exactly the questions that must lose points
      hint: bias                               # the failing test's message must say this
      hint_id: xor.neuron_bias                 # ...and show its tag, [hint: xor.neuron_bias]

``verify`` applies each edit to the reference notebook, grades the result, and fails when a named
question keeps its points, its failure message lacks the hint or the tag, or a question *not*
named loses points (one mistake costs one question).

``hint_id`` is required: it is the stable name of the diagnosis, which the test writes after the
hint's text with ``shared.testing.tagged`` (``... [hint: xor.neuron_bias]``), so that the class
report (``autograder.report``) can count who made which mistake however the wording changes.
Several mistakes may share one (the test cannot tell them apart); :func:`hint_ids` reads them back.

``solutions/NN_topic/variants.yml`` is the dual: valid solutions in other styles, each of which
must score 100% under every verify seed::

    - name: loops_not_vectorised
      style: A student who writes the forward pass with explicit Python loops.
      edits:                                   # one or more; or a single find/replace pair
        - find: "return activation(x @ w + b)"
          replace: |-
            out = [activation(row @ w + b) for row in x]
            return np.stack(out)

An entry may give one ``find``/``replace`` pair or a list of them under ``edits``; every ``find``
must occur exactly once in the master (and in the reference notebook's code).

A variant with ``prose_only: true`` is a solution written from the prose alone: it defines no
name, attribute or helper that the prose and docstrings do not ask for. Besides scoring 100%,
``verify`` runs it as a student would (*Restart & Run All*: every cell, ``otter_ignore`` ones
included) and fails on any cell that raises. Every assignment needs at least one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import nbformat
import yaml

from .errors import UserError
from .master import Master

MUTANT_KEYS = ("name", "mistake", "questions", "hint")
VARIANT_KEYS = ("name", "style")
# What shared.testing.tagged writes after a hint: "[hint: topic.name]" (kept in step by a test).
HINT_ID = re.compile(r"[a-z][a-z0-9]*\.[a-z][a-z0-9_]*")
HINT_TAG = re.compile(rf"\[hint: ({HINT_ID.pattern})\]")


def hint_tag(hint_id: str) -> str:
    """The tag a failure message shows for ``hint_id``: ``[hint: conv.size_ceil]``."""
    return f"[hint: {hint_id}]"


def hint_ids(text: str) -> list[str]:
    """The hint identifiers tagged in ``text`` (a failure message), each once, in order."""
    return list(dict.fromkeys(HINT_TAG.findall(text)))


@dataclass(frozen=True)
class Edit:
    find: str
    replace: str


@dataclass(frozen=True)
class Mutant:
    """A catalogued mistake: edits that must cost exactly ``questions``, showing ``hint`` and
    the tag of ``hint_id``."""

    name: str
    mistake: str
    edits: tuple[Edit, ...]
    questions: tuple[str, ...]
    hint: str
    hint_id: str = ""  # required in a catalogue (load_mutants); empty only in hand-made Mutants

    @property
    def label(self) -> str:
        return f"mutant {self.name}"


@dataclass(frozen=True)
class Variant:
    """A valid alternative solution: edits after which every question keeps all its points."""

    name: str
    style: str
    edits: tuple[Edit, ...]
    prose_only: bool = False  # defines only what the prose asks: run through every cell too

    @property
    def label(self) -> str:
        return f"variant {self.name}"


def load_mutants(master: Master) -> list[Mutant]:
    """The known-mistake catalogue of ``master``'s assignment, checked (empty if none)."""
    mutants = []
    for label, entry, edits in _entries(master, master.assignment.mutants, MUTANT_KEYS):
        questions = entry["questions"]
        questions = (questions,) if isinstance(questions, str) else tuple(map(str, questions))
        unknown = [q for q in questions if q not in master.question_names]
        if unknown:
            raise UserError(
                f"{label} names unknown question(s) {', '.join(unknown)}; "
                f"the master has {', '.join(master.question_names)}"
            )
        mutants.append(
            Mutant(
                str(entry["name"]),
                str(entry["mistake"]).strip(),
                edits,
                questions,
                str(entry["hint"]),
                _hint_id(entry, label),
            )
        )
    return mutants


def _hint_id(entry: dict, label: str) -> str:
    value = entry.get("hint_id")
    if value in (None, ""):
        raise UserError(
            f"{label} lacks hint_id: the stable name of the hint its failing test shows, as in "
            "that hint's tag [hint: topic.name] (written by shared.testing.tagged)"
        )
    if not isinstance(value, str) or not HINT_ID.fullmatch(value):
        raise UserError(
            f"{label}: hint_id {value!r} is not of the form topic.name (lower case, digits and "
            "underscores, e.g. conv.size_ceil)"
        )
    return value


def load_variants(master: Master) -> list[Variant]:
    """The valid-alternatives catalogue of ``master``'s assignment, checked (empty if none)."""
    return [
        Variant(
            str(entry["name"]), str(entry["style"]).strip(), edits, bool(entry.get("prose_only"))
        )
        for _, entry, edits in _entries(master, master.assignment.variants, VARIANT_KEYS)
    ]


def _entries(master: Master, path: Path, required: tuple[str, ...]):
    """(label, entry, edits) for each entry of the catalogue at ``path``, validated."""
    if not path.is_file():
        return []
    where = path.relative_to(path.parents[2]) if len(path.parents) > 2 else path
    try:
        entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    except yaml.YAMLError as exc:
        raise UserError(f"{where}: YAML does not parse ({str(exc).splitlines()[0]})") from exc
    if not isinstance(entries, list):
        raise UserError(f"{where}: expected a YAML list of entries ('- name: ...')")
    text = master.path.read_text(encoding="utf-8")
    out, names = [], set()
    for number, entry in enumerate(entries, start=1):
        label = f"{where}: entry {number}"
        if not isinstance(entry, dict):
            raise UserError(f"{label} is not a mapping of {', '.join(required)} and edits")
        missing = [k for k in required if entry.get(k) in (None, "", [])]
        if missing:
            raise UserError(f"{label} ({entry.get('name', '?')}) lacks {', '.join(missing)}")
        name = str(entry["name"])
        label = f"{label} ({name})"
        if name in names:
            raise UserError(f"{where}: the name {name!r} is used twice")
        names.add(name)
        out.append((label, entry, _edits(entry, label, text, master.path.name)))
    return out


def _edits(entry: dict, label: str, text: str, master_name: str) -> tuple[Edit, ...]:
    if "edits" in entry:
        raw = entry["edits"]
        if "find" in entry or not isinstance(raw, list) or not raw:
            raise UserError(f"{label}: give either find/replace or a non-empty list under edits")
    elif "find" in entry:
        raw = [entry]
    else:
        raise UserError(f"{label} lacks find/replace (or edits)")
    edits = []
    for item in raw:
        if not isinstance(item, dict) or not item.get("find") or "replace" not in item:
            raise UserError(f"{label}: every edit needs a non-empty find and a replace")
        count = text.count(item["find"])
        if count != 1:
            raise UserError(
                f"{label}: its 'find' text {_short(item['find'])!r} occurs {count} times in "
                f"{master_name}; it must occur exactly once (quote more of the line)"
            )
        edits.append(Edit(str(item["find"]), str(item["replace"] or "")))
    return tuple(edits)


def _short(text: str) -> str:
    first = text.strip().splitlines()[0] if text.strip() else text
    return first[:60]


def apply_edits(notebook: nbformat.NotebookNode, entry: Mutant | Variant) -> nbformat.NotebookNode:
    """A copy of ``notebook`` with ``entry``'s edits made to its code cells."""
    notebook = nbformat.from_dict(notebook)
    for edit in entry.edits:
        hits = [c for c in notebook.cells if c.cell_type == "code" and edit.find in c.source]
        if len(hits) != 1 or hits[0].source.count(edit.find) != 1:
            raise UserError(
                f"{entry.label}: its 'find' text {_short(edit.find)!r} occurs "
                f"{sum(c.source.count(edit.find) for c in hits)} times in the reference "
                "notebook's code; it must be code that occurs there exactly once"
            )
        hits[0].source = hits[0].source.replace(edit.find, edit.replace)
    return notebook
