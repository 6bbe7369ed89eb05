"""Reading a master, checking its structure, and preparing it for Otter Assign.

A master is a jupytext percent-format notebook (``solutions/NN_topic/NN_topic.py``) in Otter
Assign's v1 format. The checks here catch the mistakes Otter reports badly or not at all (an
unclosed solution block, a question without tests, a config naming another assignment) and say
where they are: ``file:line``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

import nbformat
import yaml

from .catalog import GRADER_ONLY, GRADER_SUPPORT, ROOT, Assignment
from .errors import UserError
from .grading.otter_plugin import PLUGIN_NAME

TEMPLATES = Path(__file__).resolve().parent / "templates"
OTTER_VERSION = "7.0.0"
CELL_START = re.compile(r"^# %%")
SUBMIT_PROSE = """## Submission

Run the whole notebook from the top first (*Kernel → Restart & Run All*) and save it. Then
upload **`{notebook}`** to Gradescope: that file is all the autograder needs. The cell below
checks your work once more and, in Jupyter, also makes a zip of the notebook that Gradescope
accepts as well; on Colab it tells you how to download the notebook."""

# Raw-cell block markers and the blocks they open and close.
BLOCK_MARKERS = {
    "BEGIN QUESTION": ("question", True),
    "END QUESTION": ("question", False),
    "BEGIN SOLUTION": ("solution", True),
    "END SOLUTION": ("solution", False),
    "BEGIN TESTS": ("tests", True),
    "END TESTS": ("tests", False),
    "BEGIN PROMPT": ("prompt", True),
    "END PROMPT": ("prompt", False),
}
CODE_BEGIN = re.compile(r"^\s*# BEGIN SOLUTION\b")
CODE_END = re.compile(r"^\s*# END SOLUTION\b")
SOLUTION_SUFFIX = re.compile(r"#\s*SOLUTION\s*$")
HIDDEN_CONFIG = re.compile(r"# BEGIN TEST CONFIG.*?hidden:\s*true.*?# END TEST CONFIG", re.S)
# Where the prose states a question's points: its heading and the overview table's row.
PROSE_POINTS = re.compile(r"\bQuestion\s+(\w+)\s*\(\s*(\d+(?:\.\d+)?)\s+points?\s*\)", re.I)
TABLE_ROW = re.compile(r"^\s*\|\s*(q\w+)\s*\|.*\|\s*(\d+(?:\.\d+)?)\s*\|\s*$")


@dataclass
class Question:
    name: str
    points: float | list | None
    line: int
    has_solution: bool = False
    has_tests: bool = False


@dataclass
class Master:
    """A parsed, structurally valid master."""

    assignment: Assignment
    notebook: nbformat.NotebookNode
    config: dict
    questions: list[Question] = field(default_factory=list)
    cell_lines: list[int] = field(default_factory=list)

    @property
    def path(self) -> Path:
        return self.assignment.master

    @property
    def question_names(self) -> list[str]:
        return [q.name for q in self.questions]

    def where(self, cell_index: int, offset: int = 0) -> str:
        line = self.cell_lines[cell_index] + offset if cell_index < len(self.cell_lines) else 0
        return f"{_relative(self.path)}:{line}"


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def _raw_marker(source: str) -> str | None:
    first = source.strip().splitlines()[0].strip() if source.strip() else ""
    first = first.lstrip("#").strip()
    if first == "ASSIGNMENT CONFIG":
        return first
    return first if first in BLOCK_MARKERS else None


def _marker_body(source: str) -> str:
    """The YAML under a raw marker line."""
    lines = source.strip().splitlines()[1:]
    return "\n".join(lines)


def read_master(assignment: Assignment) -> Master:
    """Parse and check ``assignment``'s master; any structural mistake raises a UserError."""
    path = assignment.master
    where = _relative(path)
    if not path.is_file():
        raise UserError(f"{where}: master not found; create it (see solutions/*/ for examples)")
    text = path.read_text(encoding="utf-8")
    try:
        import jupytext

        notebook = jupytext.reads(text, fmt="py:percent")
    except Exception as exc:  # jupytext raises many types for malformed input
        raise UserError(f"{where}: not a readable jupytext percent notebook ({exc})") from exc

    cell_lines = [i + 1 for i, line in enumerate(text.splitlines()) if CELL_START.match(line)]
    master = Master(assignment, notebook, {}, [], cell_lines)
    _check_structure(master)
    return master


def _check_structure(master: Master) -> None:
    cells = master.notebook.cells
    name = master.assignment.name
    open_blocks: dict[str, int] = {}
    current: Question | None = None
    seen_names: set[str] = set()

    for index, cell in enumerate(cells):
        if cell.cell_type == "raw":
            marker = _raw_marker(cell.source)
            if marker is None:
                continue
            here = master.where(index)
            if marker == "ASSIGNMENT CONFIG":
                master.config = _load_yaml(cell.source, here, "ASSIGNMENT CONFIG")
                continue
            block, opening = BLOCK_MARKERS[marker]
            if opening:
                if block in open_blocks:
                    raise UserError(
                        f"{here}: '# {marker}' inside an open {block} block (opened at line "
                        f"{open_blocks[block]}); close it with '# END {block.upper()}' first"
                    )
                if block != "question" and current is None:
                    raise UserError(
                        f"{here}: '# {marker}' outside a question; put it between "
                        "'# BEGIN QUESTION' and '# END QUESTION'"
                    )
                open_blocks[block] = (
                    master.cell_lines[index] if index < len(master.cell_lines) else 0
                )
                if block == "question":
                    config = _load_yaml(cell.source, here, "BEGIN QUESTION")
                    qname = config.get("name")
                    if not qname:
                        raise UserError(f"{here}: question has no 'name:'; add e.g. 'name: q1'")
                    if qname in seen_names:
                        raise UserError(
                            f"{here}: question name {qname!r} is used twice; rename one"
                        )
                    seen_names.add(qname)
                    current = Question(qname, config.get("points"), open_blocks[block])
                elif block == "solution":
                    current.has_solution = True
                elif block == "tests":
                    current.has_tests = True
            else:
                if block not in open_blocks:
                    raise UserError(
                        f"{here}: '# {marker}' without a matching '# BEGIN {block.upper()}'; "
                        "add the opening marker or delete this one"
                    )
                del open_blocks[block]
                if block == "question":
                    others = [b for b in open_blocks]
                    if others:
                        raise UserError(
                            f"{here}: question {current.name!r} ends while its {others[0]} block "
                            f"is open; add '# END {others[0].upper()}' before '# END QUESTION'"
                        )
                    if not current.has_tests:
                        raise UserError(
                            f"{here}: question {current.name!r} has no '# BEGIN TESTS' block; "
                            "every graded question needs tests"
                        )
                    master.questions.append(current)
                    current = None
        elif cell.cell_type == "code":
            _check_code_markers(master, index, cell.source)

    if open_blocks:
        block, line = next(iter(open_blocks.items()))
        raise UserError(
            f"{_relative(master.path)}:{line}: '# BEGIN {block.upper()}' is never closed; "
            f"add '# END {block.upper()}'"
        )
    if not master.config:
        raise UserError(
            f"{_relative(master.path)}: no '# ASSIGNMENT CONFIG' raw cell; add one at the top "
            "(see solutions/01_perceptron_xor/ for the format)"
        )
    if master.config.get("name") != name:
        raise UserError(
            f"{_relative(master.path)}: ASSIGNMENT CONFIG has name: "
            f"{master.config.get('name')!r} but the folder is {name!r}; set 'name: {name}'"
        )
    if not master.questions:
        raise UserError(f"{_relative(master.path)}: no questions; add a '# BEGIN QUESTION' block")
    _check_points(master)


def total_points(points: float | list | None) -> float | None:
    """A question's points as its config gives them (a list: one value per test case)."""
    if isinstance(points, bool):
        return None
    if isinstance(points, int | float):
        return float(points)
    if isinstance(points, list) and all(
        isinstance(p, int | float) and not isinstance(p, bool) for p in points
    ):
        return float(sum(points))
    return None


def _check_points(master: Master) -> None:
    """Points are written in the question's config; where the prose repeats them (the question's
    heading, the overview table) it must say the same, or the build stops here."""
    configured = {q.name: total_points(q.points) for q in master.questions}
    table: dict[str, tuple[float, int, int]] = {}
    current: str | None = None
    for index, cell in enumerate(master.notebook.cells):
        if cell.cell_type == "raw":
            marker = _raw_marker(cell.source)
            if marker == "BEGIN QUESTION":
                current = _load_yaml(cell.source, master.where(index), marker).get("name")
            elif marker == "END QUESTION":
                current = None
            continue
        if cell.cell_type != "markdown":
            continue
        for offset, line in enumerate(cell.source.splitlines(), start=1):
            row = TABLE_ROW.match(line)
            if row and current is None:
                table[row.group(1)] = (float(row.group(2)), index, offset)
            for match in PROSE_POINTS.finditer(line):
                if current is None or configured.get(current) is None:
                    continue
                if f"q{match.group(1)}".lower() != current.lower():
                    continue  # "Question 3" quoted inside another question's prose
                stated, wanted = float(match.group(2)), configured[current]
                if stated != wanted:
                    raise UserError(
                        f"{master.where(index, offset)}: the prose says Question "
                        f"{match.group(1)} is worth {_points(stated)} but {current}'s "
                        f"config says points: {_number(wanted)}; make them agree (the config "
                        "decides what Otter grades)"
                    )
    if not table:
        return
    for name, (stated, index, offset) in table.items():
        if name not in configured:
            raise UserError(
                f"{master.where(index, offset)}: the overview table lists {name}, which is not "
                f"a question of this master (questions: {', '.join(configured)})"
            )
        wanted = configured[name]
        if wanted is not None and stated != wanted:
            raise UserError(
                f"{master.where(index, offset)}: the overview table gives {name} "
                f"{_points(stated)} but its config says points: {_number(wanted)}; "
                "make them agree (the config decides what Otter grades)"
            )
    missing = [name for name in configured if name not in table]
    if missing:
        raise UserError(
            f"{_relative(master.path)}: the overview table has no row for "
            f"{', '.join(missing)}; add one ('| {missing[0]} | ... | points |')"
        )


def _number(value: float) -> str:
    return f"{value:g}"


def _points(value: float) -> str:
    return f"{value:g} point" + ("" if value == 1 else "s")


def _check_code_markers(master: Master, index: int, source: str) -> None:
    depth, opened_at = 0, 0
    for offset, line in enumerate(source.splitlines(), start=1):
        if CODE_BEGIN.match(line):
            if depth:
                raise UserError(
                    f"{master.where(index, offset)}: '# BEGIN SOLUTION' inside another solution "
                    f"(opened at line {master.where(index, opened_at).split(':')[-1]}); "
                    "close the first with '# END SOLUTION'"
                )
            depth, opened_at = 1, offset
        elif CODE_END.match(line):
            if not depth:
                raise UserError(
                    f"{master.where(index, offset)}: '# END SOLUTION' without a matching "
                    "'# BEGIN SOLUTION'; add the opening marker or delete this one"
                )
            depth = 0
    if depth:
        raise UserError(
            f"{master.where(index, opened_at)}: '# BEGIN SOLUTION' is never closed; add "
            "'# END SOLUTION' at the same indentation after the solution code"
        )


def _load_yaml(source: str, where: str, what: str) -> dict:
    try:
        value = yaml.safe_load(_marker_body(source)) or {}
    except yaml.YAMLError as exc:
        problem = str(exc).splitlines()[0]
        raise UserError(
            f"{where}: the {what} YAML does not parse ({problem}); fix its syntax"
        ) from exc
    if not isinstance(value, dict):
        raise UserError(f"{where}: the {what} block must be YAML 'key: value' lines")
    return value


def for_otter(master: Master, *, environment: str) -> nbformat.NotebookNode:
    """The notebook handed to ``otter assign``: the master plus what every assignment shares.

    Every assignment gets the helper package as support files, the same Gradescope environment,
    no PDF, and the kit's own setup cell (instead of Otter's init cell) so that the notebook also
    works on a fresh Colab runtime.
    """
    notebook = nbformat.from_dict(master.notebook)
    config = dict(master.config)
    config["files"] = sorted(set(config.get("files", [])) | {"shared"})
    # Oracles and hidden cases: in the autograder zip's support files, never the student's.
    extra = set(config.get("autograder_files", [])) | {GRADER_SUPPORT.name}
    if master.assignment.grader_only.is_dir():
        extra.add(GRADER_ONLY)
    config["autograder_files"] = sorted(extra)
    config["environment"] = environment
    config["init_cell"] = False
    config["run_tests"] = False  # verify grades the reference itself, on every build
    settings = master.assignment.settings
    generate = dict(config.get("generate") or {})
    # Per-question scores and outcomes reach students once grades are published; hidden
    # tests' messages are replaced by their outcome (autograder/submission.py).
    generate["show_hidden"] = True
    generate["plugins"] = [
        {
            PLUGIN_NAME: {
                "cell_timeout": settings.cell_timeout,
                "test_timeout": settings.test_timeout,
                "submission_timeout": settings.submission_timeout,
            }
        }
    ]
    config["generate"] = generate
    # The kit's own submission cell (below) replaces Otter's, which raises on Colab.
    config["export_cell"] = False
    for cell in notebook.cells:
        if cell.cell_type == "raw" and _raw_marker(cell.source) == "ASSIGNMENT CONFIG":
            cell.source = "# ASSIGNMENT CONFIG\n" + yaml.safe_dump(config, sort_keys=False)
            break
    first_markdown = next(
        (i for i, c in enumerate(notebook.cells) if c.cell_type == "markdown"), -1
    )
    notebook.cells.insert(
        first_markdown + 1, nbformat.v4.new_code_cell(setup_cell(master.assignment))
    )
    notebook.cells += [
        nbformat.v4.new_markdown_cell(
            SUBMIT_PROSE.format(notebook=master.assignment.notebook_name)
        ),
        nbformat.v4.new_code_cell(_template("submit_cell.py", master.assignment)),
    ]
    notebook.metadata.setdefault(
        "kernelspec", {"display_name": "Python 3", "language": "python", "name": "python3"}
    )
    return notebook


def setup_cell(assignment: Assignment) -> str:
    return _template("setup_cell.py", assignment)


def _template(name: str, assignment: Assignment) -> str:
    template = Template((TEMPLATES / name).read_text(encoding="utf-8"))
    return template.substitute(
        otter_version=OTTER_VERSION,
        name=assignment.name,
        notebook=assignment.notebook_name,
        student_zip=f"{assignment.name}-student.zip",
    ).strip()


def solution_lines(master: Master) -> set[str]:
    """Stripped lines of solution code (inside solution markers, or ending '# SOLUTION')."""
    lines: set[str] = set()
    for cell in master.notebook.cells:
        if cell.cell_type != "code":
            continue
        inside = False
        for line in cell.source.splitlines():
            if CODE_BEGIN.match(line):
                inside = True
            elif CODE_END.match(line):
                inside = False
            elif inside or SOLUTION_SUFFIX.search(line):
                lines.add(SOLUTION_SUFFIX.sub("", line).strip())
    return lines


def public_lines(master: Master) -> set[str]:
    """Stripped lines that students are meant to see: prose, stub code and public tests."""
    lines: set[str] = set()
    in_tests = False
    for cell in master.notebook.cells:
        if cell.cell_type == "raw":
            marker = _raw_marker(cell.source)
            if marker in ("BEGIN TESTS", "END TESTS"):
                in_tests = marker == "BEGIN TESTS"
            continue
        if cell.cell_type == "code" and in_tests and HIDDEN_CONFIG.search(cell.source):
            continue
        inside = False
        for line in cell.source.splitlines():
            if CODE_BEGIN.match(line):
                inside = True
            elif CODE_END.match(line):
                inside = False
            elif not inside and not SOLUTION_SUFFIX.search(line):
                lines.add(line.strip())
    return lines
