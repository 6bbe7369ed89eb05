"""Other gradebooks' file formats: who submitted what (Gradescope's export), and scores to import
(Canvas's gradebook CSV).

**Gradescope's "Export Submissions"** is a folder holding ``submission_metadata.yml`` and one
folder per submission (``submission_123456/``, the files as uploaded). The YAML maps each folder
name to a record written with Ruby symbol keys::

    submission_123456:
      :submitters:
      - :name: Ada Lovelace
        :sid: '1001'
        :email: ada@example.edu
      :created_at: 2024-02-01 10:00:00.000000000 Z
      :score: 0.0
      :status: processed
      :results: {...}
      :history: [...]

A group submission lists every member under ``:submitters``. Only ``:submitters`` is read here.
(Format as parsed by Otter Grader's ``GradescopeParser``, otter/grade/metadata.py in
github.com/ucbds-infra/otter-grader, and seen in real exports.)

**Canvas's gradebook import** (Grades > Import) reads a CSV whose header starts ``Student, ID``
and whose student columns end with ``Section``; here ``Student, ID, SIS User ID, SIS Login ID,
Section``, then one column per assignment. A row whose first cell is ``Points Possible`` sets the
points of a new assignment column. Canvas finds each student by ``ID`` (its own user id), then
``SIS User ID``, then ``SIS Login ID``, then by name; an empty score changes nothing. An
assignment column named like an existing assignment (or ``Title (id)`` as Canvas exports it)
updates it, any other name creates one. (Canvas's importer, app/models/gradebook_importer.rb in
github.com/instructure/canvas-lms.)

**A roster** says who submitted files graded without a Gradescope export: a CSV with a header,
one row per student, columns ``file`` (the submission's file name as given to ``grade``),
``name``, ``sid``, ``email`` and ``canvas_id`` (Canvas's user id), any of them empty. Canvas's
own gradebook export (Grades > Export) is a roster as it stands: ``Student``, ``ID``, ``SIS User
ID`` and ``SIS Login ID`` are read as name, canvas_id, sid and email. A file from Canvas's
"Download Submissions" is named ``login_12345_67890_original.ipynb`` (``login_LATE_12345_...``
when late), where 12345 is the student's Canvas user id: such a file is matched by that id.
"""

from __future__ import annotations

import csv
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

METADATA = "submission_metadata.yml"
CANVAS_IMPORT = "canvas_import.csv"
CANVAS_STUDENT_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
# Canvas's "Download Submissions": login, LATE_ when late, user id, submission id, file name.
CANVAS_DOWNLOAD = re.compile(r"^[^_]+_(?:LATE_)?(\d+)_\d+_.")
ROSTER_COLUMNS = {  # the roster's fields, and the names Canvas's gradebook export gives them
    "file": ("file",),
    "name": ("name", "Student"),
    "sid": ("sid", "SIS User ID"),
    "email": ("email", "SIS Login ID"),
    "canvas_id": ("canvas_id", "ID"),
}


class ExportError(ValueError):
    """A Gradescope export that cannot be read; the message names the file and the problem."""


@dataclass(frozen=True)
class Student:
    name: str = ""
    email: str = ""
    sid: str = ""
    canvas_id: str = ""  # Canvas's user id, which its gradebook import matches first

    def __bool__(self) -> bool:
        return bool(self.name or self.email or self.sid or self.canvas_id)


class _ExportLoader(yaml.SafeLoader):
    """Safe YAML that reads Ruby-tagged values (``!ruby/object:BigDecimal``...) as plain data."""


def _untagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node):
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)


_ExportLoader.add_multi_constructor("!", _untagged)


def is_export(folder: Path) -> bool:
    return folder.is_dir() and (folder / METADATA).is_file()


def read_export(folder: Path) -> dict[str, list[Student]]:
    """The submitters of each submission folder of a Gradescope export, by folder name."""
    path = folder / METADATA
    where = str(path)
    try:
        metadata = yaml.load(path.read_text(encoding="utf-8"), Loader=_ExportLoader)
    except UnicodeDecodeError as exc:
        raise ExportError(f"{where}: not a text file ({exc.reason})") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ExportError(f"{where}: not valid YAML{at}: {problem}") from exc
    if not isinstance(metadata, dict) or not metadata:
        found = "nothing" if not metadata else f"a {type(metadata).__name__}"
        raise ExportError(
            f"{where}: expected a mapping from submission folders to their submitters "
            f"(submission_123456: {{:submitters: [...]}}), found {found}"
        )
    export: dict[str, list[Student]] = {}
    for key, record in metadata.items():
        name = str(key)
        if not name or name in (".", "..") or "/" in name or "\\" in name:
            raise ExportError(f"{where}: {name!r} is not the name of a submission folder")
        submitters = _field(record, "submitters") if isinstance(record, dict) else None
        if not isinstance(submitters, list):
            raise ExportError(
                f"{where}: {name} has no :submitters list (each submission needs one, with "
                ":name, :email and :sid per submitter)"
            )
        students = []
        for number, submitter in enumerate(submitters, start=1):
            student = (
                Student(
                    _text(_field(submitter, "name")),
                    _text(_field(submitter, "email")),
                    _text(_field(submitter, "sid")),
                )
                if isinstance(submitter, dict)
                else Student()
            )
            if not student:
                raise ExportError(
                    f"{where}: submitter {number} of {name} has no :name, :email or :sid"
                )
            students.append(student)
        export[name] = students
    return export


def _field(record: dict, key: str):
    """Gradescope writes Ruby symbols (``:name``); a hand-made file may not."""
    return record.get(f":{key}", record.get(key))


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def write_canvas_import(
    path: Path,
    assignment_column: str,
    points_possible: str,
    rows: list[tuple[Student, str, str]],
) -> None:
    """Write Canvas's gradebook import CSV atomically.

    ``rows``: (student, submission id, score) per student; a student with no name, email or ID
    is written under the submission id (Canvas will match it by name only, if at all), and an
    empty score leaves Canvas's grade as it is.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(dir=path.parent, prefix=".canvas-", suffix=".csv")
    with os.fdopen(handle, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow([*CANVAS_STUDENT_COLUMNS, assignment_column])
        writer.writerow(["Points Possible", "", "", "", "", points_possible])
        for student, submission, score in rows:
            writer.writerow(
                [
                    student.name or submission,
                    student.canvas_id,
                    student.sid,
                    student.email,
                    "",
                    score,
                ]
            )
    os.replace(partial, path)


class RosterError(ValueError):
    """A roster that cannot be read; the message names the file and the problem."""


@dataclass
class Roster:
    by_file: dict[str, Student]
    by_canvas_id: dict[str, Student]
    path: Path | None = None  # the CSV it was read from: never a submission, if it sits among them

    @property
    def students(self) -> set[Student]:
        return set(self.by_file.values()) | set(self.by_canvas_id.values())

    def find(self, file_name: str) -> Student | None:
        """The student who submitted ``file_name``: by the roster's ``file`` column, else by the
        Canvas user id in a Canvas download's name."""
        if file_name in self.by_file:
            return self.by_file[file_name]
        match = CANVAS_DOWNLOAD.match(file_name)
        return self.by_canvas_id.get(match.group(1)) if match else None


def read_roster(path: Path) -> Roster:
    """Read a roster CSV (see the module's docstring). Raises ``RosterError``."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            header = [h.strip() for h in reader.fieldnames or []]
            records = [
                {(k or "").strip(): (v or "").strip() for k, v in row.items()} for row in reader
            ]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise RosterError(f"{path}: not a readable CSV file ({exc})") from exc
    found = {
        field: next((n for n in names if n in header), None)
        for field, names in ROSTER_COLUMNS.items()
    }
    if not found["file"] and not found["canvas_id"]:
        raise RosterError(
            f"{path}: a roster needs a 'file' column (the submission's file name) or a Canvas "
            f"user id ('canvas_id', or 'ID' as in Canvas's gradebook export); its columns are "
            f"{', '.join(header) or 'none'}"
        )
    roster = Roster({}, {}, path)
    for line, record in enumerate(records, start=2):
        value = {field: record.get(column, "") if column else "" for field, column in found.items()}
        if value["name"] == "Points Possible" or not any(value.values()):
            continue  # Canvas's export has a points row under its header
        student = Student(value["name"], value["email"], value["sid"], value["canvas_id"])
        for key, table in (("file", roster.by_file), ("canvas_id", roster.by_canvas_id)):
            if not value[key]:
                continue
            if value[key] in table and table[value[key]] != student:
                raise RosterError(f"{path}, line {line}: {key} {value[key]!r} is listed twice")
            table[value[key]] = student
    return roster
