"""The class report: what a graded class got wrong, counted by the hint tags its failures show.

A synthetic class of 200 results (made here, no grading) checks the numbers and the speed; a small
real class of 03_conv_output_sizes (the reference, the stub, planted mutants and broken files,
graded once for the module) checks them against the gradebook; a headless Chromium renders the
page when it is installed.
"""

from __future__ import annotations

import csv
import json
import random
import re
import shutil
import statistics
import subprocess
import textwrap
import time
from collections import Counter
from pathlib import Path
from urllib.parse import unquote

import nbformat
import pytest
from click.testing import CliRunner

from autograder import catalog
from autograder.mutants import Edit, Mutant, hint_ids
from autograder.report import analyse, build_report, fewest_diagnoses, load_class, parse_cases
from shared.testing import tagged

QUESTIONS = {"q1": 3.0, "q2": 2.0, "q3": 4.0}
CASES = 3  # test cases per question
# (question, hint_id, hint text, chance): diagnoses a synthetic failure can print
DIAGNOSES = [
    ("q1", "syn.ceil", "you round up (ceil); PyTorch rounds down", 0.2),
    ("q1", "syn.plus_one", "you forgot the + 1", 0.1),
    ("q2", "syn.bias", "count the bias: one per output channel", 0.25),
    ("q3", "syn.flip", "you flipped the kernel", 0.15),
    ("q3", "syn.untold", "a hint no catalogued mistake names", 0.05),
]
MUTANTS = [
    Mutant("ceil", "Rounds up.", (Edit("a", "b"),), ("q1",), "ceil", "syn.ceil"),
    Mutant("ceil_again", "Rounds up, elsewhere.", (Edit("c", "d"),), ("q1",), "ceil", "syn.ceil"),
    Mutant("plus_one", "Forgets + 1.", (Edit("e", "f"),), ("q1",), "+ 1", "syn.plus_one"),
    Mutant("bias", "No bias.", (Edit("g", "h"),), ("q2",), "bias", "syn.bias"),
    Mutant("flip", "Flips.", (Edit("i", "j"),), ("q3",), "flip", "syn.flip"),
    Mutant("never_made", "Nobody does this.", (Edit("k", "l"),), ("q2",), "x", "syn.never"),
]


def otter_output(question: str, failures: dict[int, str]) -> str:
    """A question's output as Otter writes it into results.json."""
    if not failures:
        return f"{question} results: All test cases passed!"
    lines = [f"{question} results:"]
    for number in range(1, CASES + 1):
        lines.append(f"    {question} - {number} result:")
        if number in failures:
            lines.append("        ❌ Test case failed")
            lines += [f"        {line}" for line in failures[number].splitlines()]
        else:
            lines.append("        ✅ Test case passed")
        lines.append("")
    return "\n".join(lines).rstrip()


def failure(question: str, number: int, text: str) -> str:
    return f"Error at line {10 + number} in test {question}:\n  t.check(student)\n{text}"


def synthetic_class(folder: Path, count: int = 200, seed: int = 7) -> dict:
    """``count`` submissions as ``grade`` leaves them (gradebook.csv, results/ID.json), and
    what the report must find in them."""
    rng = random.Random(seed)
    (folder / "results").mkdir(parents=True)
    expect = {
        "ids": Counter(),
        "uncatalogued": Counter(),
        "time-out": Counter(),
        "crash": Counter(),
        "graded": 0,
        "ungradable": [],
        "scores": {q: [] for q in QUESTIONS},
    }
    rows = []
    for index in range(count):
        ident = f"student_{index:03d}_nb.ipynb"
        roll = rng.random()
        if roll < 0.03:
            reason = f"{ident}: not valid notebook JSON (line 1, column 2: Expecting value)"
            rows.append({"submission": ident, "status": "error", "score": "", "error": reason})
            expect["ungradable"].append(("error", reason))
            continue
        if roll < 0.05:
            reason = "grading stopped after the 600 s limit for a whole submission"
            rows.append({"submission": ident, "status": "timeout", "score": "0", "error": reason})
            expect["ungradable"].append(("timeout", reason))
            continue
        tests, row = [], {"submission": ident, "status": "graded", "error": ""}
        for question, possible in QUESTIONS.items():
            fails: dict[int, str] = {}
            for q, hint_id, text, chance in DIAGNOSES:
                if q == question and rng.random() < chance:
                    message = f"AssertionError: wrong. Hint: {tagged(hint_id, text)}"
                    fails.setdefault(rng.randint(1, CASES), failure(question, 1, message))
            if question == "q2" and rng.random() < 0.1:  # an uncatalogued failure, numbers vary
                message = f"AssertionError: f returned {rng.randint(5, 99)}, expected 4"
                fails.setdefault(3, failure(question, 3, message))
            if question == "q3" and rng.random() < 0.02:
                fails.setdefault(2, "Grading stopped this cell after the 120 s limit for one cell.")
            if question == "q3" and rng.random() < 0.02:
                fails.setdefault(1, "This test never ran: grading of the notebook stopped.")
            for message in fails.values():
                for hint_id in hint_ids(message):
                    expect["ids"][question, hint_id] += 1
                expect["uncatalogued"][question] += "f returned" in message
                expect["time-out"][question] += "s limit for one cell" in message
                expect["crash"][question] += "never ran" in message
            score = round(possible * (CASES - len(fails)) / CASES, 4)
            expect["scores"][question].append(score)
            row[question] = f"{score:g}"
            tests.append(
                {
                    "name": question,
                    "score": score,
                    "max_score": possible,
                    "visibility": "after_published",
                    "output": otter_output(question, fails),
                }
            )
        total = sum(t["score"] for t in tests)
        row.update(score=f"{total:g}", possible="9", seconds=f"{rng.uniform(5, 30):.1f}")
        rows.append(row)
        expect["graded"] += 1
        public = {"name": "Public Tests", "visibility": "visible", "output": "q1 results: ..."}
        (folder / "results" / f"{ident}.json").write_text(json.dumps({"tests": [public, *tests]}))
    columns = ["submission", "status", "score", "possible", *QUESTIONS, "seconds", "error"]
    with open(folder / "gradebook.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns, restval="")
        writer.writeheader()
        writer.writerows(rows)
    return expect


def groups_of(report, question: str) -> dict[str, int]:
    return {
        (g.hint_id or f"{g.kind}:{g.test}:{g.message}"): g.count for g in report.failures[question]
    }


def test_hint_tags_written_by_shared_are_read_by_the_autograder():
    from autograder import mutants
    from shared import testing

    assert testing.HINT_ID.pattern == mutants.HINT_ID.pattern
    message = f"boom. Hint: {tagged('conv.size_ceil', 'you round up')}; {tagged('x.y_2', 'b.')}"
    assert message == "boom. Hint: you round up [hint: conv.size_ceil]; b. [hint: x.y_2]"
    assert hint_ids(message + " again [hint: x.y_2]") == ["conv.size_ceil", "x.y_2"]
    with pytest.raises(ValueError, match="topic.name"):
        tagged("Not An Id", "text")


def written_hint_ids(*paths: Path) -> set[str]:
    """The string constants of ``paths`` that are hint identifiers (what tagged is given)."""
    import ast

    from autograder.mutants import HINT_ID

    found = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if HINT_ID.fullmatch(node.value):
                    found.add(node.value)
    return found


@pytest.mark.parametrize("assignment", [a.name for a in catalog.all_assignments()])
def test_every_catalogued_hint_id_is_written_by_a_hint(assignment):
    """A typo in mutants.yml fails here, before verify grades anything."""
    import yaml

    from autograder.catalog import HELPER_PACKAGE, SOLUTIONS

    source = SOLUTIONS / assignment
    topic = HELPER_PACKAGE / "testing" / f"{assignment[3:]}.py"
    kit_wide = HELPER_PACKAGE / "testing" / "__init__.py"  # kit.* hints, e.g. kit.not_defined
    written = written_hint_ids(
        kit_wide, topic, source / f"{assignment}.py", *sorted(source.glob("grader_only/*.py"))
    )
    catalogue = yaml.safe_load((source / "mutants.yml").read_text(encoding="utf-8"))
    missing = {e["name"]: e.get("hint_id") for e in catalogue if e.get("hint_id") not in written}
    assert not missing, f"hint_id written by no tagged(...) hint: {missing}"


@pytest.mark.parametrize(
    ("entry", "error"),
    [
        ("", "lacks hint_id"),
        ("  hint_id: Not.An-Id\n", "is not of the form topic.name"),
    ],
)
def test_a_catalogue_entry_needs_a_well_formed_hint_id(kit, entry, error):
    from autograder.catalog import Assignment
    from autograder.errors import UserError
    from autograder.master import read_master
    from autograder.mutants import load_mutants

    assignment = Assignment("00_tiny")
    assignment.mutants.write_text(
        "- name: strict\n  mistake: m\n  find: 'return (np.asarray(x) >= 0).astype(float)'\n"
        "  replace: 'return (np.asarray(x) > 0).astype(float)'\n  questions: [q1]\n"
        "  hint: step up\n" + entry
    )
    with pytest.raises(UserError, match=error):
        load_mutants(read_master(assignment))


def test_a_submission_counts_under_the_fewest_diagnoses_that_explain_its_failures():
    # "the jump is missing; the dilation is missing" beside a failure that shows only the jump
    assert fewest_diagnoses([{"jump"}, {"jump", "dilation"}]) == {"jump"}
    # two diagnoses that no failure tells apart count together
    assert fewest_diagnoses([{"padding_once", "plus_one"}]) == {"padding_once", "plus_one"}
    assert fewest_diagnoses([{"ceil"}, {"flip"}, {"ceil", "flip"}]) == {"ceil", "flip"}
    assert fewest_diagnoses([]) == set()


def test_otter_output_is_split_into_cases():
    output = otter_output("q1", {2: "Error at line 3 in test q1:\n  f()\nAssertionError: no"})
    cases = parse_cases(output)
    assert [(c.name, c.passed) for c in cases] == [
        ("q1 - 1", True),
        ("q1 - 2", False),
        ("q1 - 3", True),
    ]
    assert cases[1].message.endswith("AssertionError: no")
    assert parse_cases("q1 results: All test cases passed!") == []


def test_synthetic_class_of_200_counts_every_diagnosis(tmp_path):
    expect = synthetic_class(tmp_path / "gradebook")
    started = time.perf_counter()
    report = build_report(
        "99_synthetic", tmp_path / "gradebook", tmp_path / "out", MUTANTS, list(QUESTIONS)
    )
    seconds = time.perf_counter() - started
    print(f"\nclass report of 200 synthetic results: {seconds:.2f} s")
    assert seconds < 10  # about 0.5 s on the development machine; generous for a loaded one

    assert len(report.submissions) == 200
    assert len(report.graded) == expect["graded"]
    assert sorted((s.status, s.error) for s in report.ungradable) == sorted(expect["ungradable"])
    for stat in report.questions:
        scores = expect["scores"][stat.name]
        assert stat.possible == QUESTIONS[stat.name]
        assert stat.mean == pytest.approx(statistics.fmean(scores))
        assert stat.median == pytest.approx(statistics.median(scores))
        full = sum(s == QUESTIONS[stat.name] for s in scores) / len(scores)
        assert stat.full_marks == pytest.approx(full)
    for (question, hint_id), count in expect["ids"].items():
        group = next(g for g in report.failures[question] if g.hint_id == hint_id)
        assert group.count == count, (question, hint_id)
        assert group.kind == ("diagnosed" if hint_id == "syn.untold" else "catalogued")
    ceil = next(g for g in report.failures["q1"] if g.hint_id == "syn.ceil")
    assert [m.name for m in ceil.mutants] == ["ceil", "ceil_again"]  # one tag, listed together
    uncatalogued = [g for g in report.failures["q2"] if g.kind == "uncatalogued"]
    assert len(uncatalogued) == 1  # "f returned 17" and "f returned 80": one group
    assert uncatalogued[0].count == expect["uncatalogued"]["q2"]
    assert uncatalogued[0].test == "q2 - 3"
    q3 = report.questions[2]
    assert (q3.time_outs, q3.crashes) == (expect["time-out"]["q3"], expect["crash"]["q3"])
    assert [m.name for m in report.unseen["q2"]] == ["never_made"]
    counts = [g.count for g in report.failures["q1"]]
    assert counts == sorted(counts, reverse=True)

    with open(tmp_path / "out" / "report-failures.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert {(r["question"], r["hint_id"]): int(r["submissions"]) for r in rows if r["hint_id"]} == {
        key: value for key, value in expect["ids"].items()
    }
    page = (tmp_path / "out" / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 3 and "http" not in page.replace(
        "http-equiv", ""
    )
    assert "student_" not in page  # no identifier without names=True
    for name in ("failures", "ungradable", "times", "questions", "distribution"):
        assert "student_" not in (tmp_path / "out" / f"report-{name}.csv").read_text()
    assert "&lt;submission&gt;: not valid notebook JSON" in page


def test_names_show_identifiers_and_a_gradescope_folder_reads_the_same(tmp_path):
    synthetic_class(tmp_path / "gradebook", count=40)
    named = build_report("99", tmp_path / "gradebook", tmp_path / "named", MUTANTS, names=True)
    page = (tmp_path / "named" / "report.html").read_text()
    assert "student_" in page
    assert "student_" in (tmp_path / "named" / "report-failures.csv").read_text()

    # A Gradescope download: one folder per submission holding its results.json, no gradebook.
    export = tmp_path / "export"
    for path in (tmp_path / "gradebook" / "results").glob("*.json"):
        (export / path.stem).mkdir(parents=True)
        shutil.copy(path, export / path.stem / "results.json")
    (export / "broken").mkdir()
    (export / "broken" / "results.json").write_text('{"score": 0, "output": "No notebook."}')
    from_export = analyse("99", load_class(export), MUTANTS, list(QUESTIONS))
    assert len(from_export.graded) == len(named.graded)
    assert [(s.id, s.error) for s in from_export.ungradable] == [("broken", "No notebook.")]
    for question in QUESTIONS:
        assert groups_of(from_export, question) == groups_of(named, question)


def test_an_empty_score_and_a_zero_score_of_an_ungradable_row_are_alike(tmp_path):
    folder = tmp_path / "gradebook"
    folder.mkdir()
    (folder / "gradebook.csv").write_text(
        "submission,status,score,possible,percent,q1,seconds,error\n"
        "a.ipynb,error,,,,,0,a.ipynb: the file is empty\n"
        "b.ipynb,error,0,,0,,0,b.ipynb: not a notebook (.py)\n"
        "c.ipynb,graded,2,3,66.7,2,4.5,\n"
        "c.ipynb,graded,2,3,66.7,2,4.5,\n"  # a second member of a group submission
    )
    (folder / "results").mkdir()
    test = {"name": "q1", "score": 2, "max_score": 3, "output": otter_output("q1", {1: "no"})}
    (folder / "results" / "c.ipynb.json").write_text(json.dumps({"tests": [test]}))
    report = analyse("99", load_class(folder), MUTANTS, ["q1"])
    assert [s.status for s in report.submissions] == ["error", "error", "graded"]
    assert report.percents == [pytest.approx(100 * 2 / 3)]
    assert report.questions[0].scores == [2.0]


# ---------------------------------------------------------------------------------------------
# A real class, graded once for the module

PLANTED = {  # mutant of 03_conv_output_sizes -> how many submissions make it
    "ceil_instead_of_floor": 2,
    "bias_not_counted": 1,
    "receptive_field_without_jump": 1,
    "true_convolution_flipped_kernel": 1,
}


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    """03_conv_output_sizes graded for a class: the reference, the stub, planted mutants, an
    invalid file and another assignment's notebook; and the report of it, with and without
    names."""
    from autograder.build import build
    from autograder.catalog import resolve
    from autograder.grade import grade_batch
    from autograder.master import read_master
    from autograder.mutants import apply_edits, load_mutants

    root = tmp_path_factory.mktemp("class")
    (assignment,) = resolve(["03"])
    built = build(assignment, root / "build")
    master = read_master(assignment)
    mutants = {m.name: m for m in load_mutants(master)}
    reference = nbformat.read(built.solution_notebook, as_version=4)
    submissions = root / "submissions"
    submissions.mkdir()
    shutil.copy(built.solution_notebook, submissions / "ada_lovelace.ipynb")
    shutil.copy(built.student_notebook, submissions / "bob_stub.ipynb")
    number = 0
    for name, count in PLANTED.items():
        for _ in range(count):
            number += 1
            nbformat.write(
                apply_edits(reference, mutants[name]), submissions / f"carol_{number}.ipynb"
            )
    (submissions / "dave_broken.ipynb").write_text('{"cells": [')
    other = nbformat.read(built.solution_notebook, as_version=4)
    other.metadata["otter"]["assignment_name"] = "01_perceptron_xor"
    nbformat.write(other, submissions / "erin_other.ipynb")
    out = root / "gradebook"
    started = time.perf_counter()
    grade_batch(
        assignment,
        built.autograder_zip,
        [submissions],
        out,
        questions=master.question_names,
        jobs=1,
        timeout=300,
        progress=False,
    )
    print(f"\ngraded the test class in {time.perf_counter() - started:.0f} s")
    catalogue = list(mutants.values())
    report = build_report(assignment.name, out, root / "report", catalogue, master.question_names)
    print(f"class report of the test class: {report.seconds:.2f} s")
    named = build_report(
        assignment.name, out, root / "named", catalogue, master.question_names, names=True
    )
    return {
        "root": root,
        "gradebook": out,
        "report": report,
        "named": named,
        "mutants": mutants,
        "submissions": sorted(p.name for p in submissions.iterdir()),
    }


def gradebook_rows(folder: Path) -> dict[str, dict[str, str]]:
    with open(folder / "gradebook.csv", newline="", encoding="utf-8") as f:
        return {row["submission"]: row for row in csv.DictReader(f)}


@pytest.mark.slow
def test_real_class_counts_each_planted_mistake(graded_class):
    report, mutants = graded_class["report"], graded_class["mutants"]
    rows = gradebook_rows(graded_class["gradebook"])
    graded = [r for r in rows.values() if r["status"] == "graded"]
    assert len(report.submissions) == len(rows) == len(graded_class["submissions"])
    assert len(report.graded) == len(graded) == 2 + sum(PLANTED.values())
    for name in PLANTED:
        mutant = mutants[name]
        (question,) = mutant.questions
        group = next(g for g in report.failures[question] if g.hint_id == mutant.hint_id)
        assert group.kind == "catalogued"
        planted = sum(n for m, n in PLANTED.items() if mutants[m].hint_id == mutant.hint_id)
        assert group.count == planted, (name, group.submissions)
        assert name in [m.name for m in group.mutants]
    catalogued = Counter()  # no other catalogued mistake is counted, the stub's included
    for groups in report.failures.values():
        catalogued.update({g.hint_id: g.count for g in groups if g.kind == "catalogued"})
    assert catalogued == Counter({mutants[name].hint_id: count for name, count in PLANTED.items()})
    ceil = next(g for g in report.failures["q1"] if g.hint_id == "conv.size_ceil")
    assert {m.name for m in ceil.mutants} == {
        "ceil_instead_of_floor",
        "ceil_with_conv2d_sized_by_q1",
    }  # two catalogue entries share the tag: listed together
    stub_groups = [g for gs in report.failures.values() for g in gs if g.kind == "not implemented"]
    assert stub_groups and all(g.count == 1 for g in stub_groups)
    for stat in report.questions:  # the numbers of the gradebook
        scores = [float(r[stat.name]) for r in graded]
        assert stat.mean == pytest.approx(statistics.fmean(scores))
        assert stat.median == pytest.approx(statistics.median(scores))
    percents = [float(r["percent"]) for r in graded]
    assert statistics.fmean(report.percents) == pytest.approx(statistics.fmean(percents), abs=0.1)


@pytest.mark.slow
def test_real_class_lists_the_ungradable_without_naming_anyone(graded_class):
    root, report = graded_class["root"], graded_class["report"]
    rows = gradebook_rows(graded_class["gradebook"])
    ungradable = {k: r for k, r in rows.items() if r["status"] != "graded"}
    assert (
        sorted(s.id for s in report.ungradable)
        == sorted(ungradable)
        == [
            "dave_broken.ipynb",
            "erin_other.ipynb",
        ]
    )
    page = (root / "report" / "report.html").read_text()
    with open(root / "report" / "report-ungradable.csv", newline="") as f:
        reasons = sorted(row["reason"] for row in csv.DictReader(f))
    assert reasons == sorted(r["error"].replace(k, "<submission>") for k, r in ungradable.items())
    assert "not valid notebook JSON" in page and "this is a notebook for assignment" in page
    texts = [page] + [p.read_text() for p in (root / "report").glob("*.csv")]
    for submission in graded_class["submissions"]:
        stem = Path(submission).stem
        assert all(stem not in text for text in texts), stem
    named = (root / "named" / "report.html").read_text()
    assert all(Path(s).stem in named for s in ungradable)


@pytest.mark.slow
def test_report_command_writes_the_page(graded_class, monkeypatch):
    from autograder.cli import main

    out = graded_class["root"] / "from-cli"
    result = CliRunner().invoke(
        main, ["report", "03", str(graded_class["gradebook"]), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "report.html" in result.output
    assert (out / "report.html").is_file() and (out / "report-failures.csv").is_file()


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.slow
@pytest.mark.skipif(
    chromium() is None, reason="chromium is not installed (apt-get install chromium)"
)
def test_the_page_renders_in_a_headless_browser(graded_class, tmp_path):
    import numpy as np
    from matplotlib.image import imread

    page = graded_class["root"] / "report" / "report.html"
    shot = tmp_path / "report.png"
    subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",  # root in a container: Chromium's own sandbox cannot start
            "--disable-gpu",
            "--hide-scrollbars",
            f"--screenshot={shot}",
            "--window-size=1280,2000",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    pixels = imread(shot)
    assert pixels.shape[:2] == (2000, 1280)
    grey = pixels[..., :3].mean(axis=2)
    assert grey.std() > 0.05  # text, tables and plots, not a blank page
    assert len(np.unique((pixels[..., :3] * 255).astype(int).reshape(-1, 3), axis=0)) > 50


# ---------------------------------------------------------------------------------------------
# Time limits, identities, hidden tests and executed notebooks: results as grading writes them

PASSED = "✅ Test case passed"
FAILED = "❌ Test case failed"
NOT_DEFINED = (
    f"{FAILED}\n`conv_output_size` is not defined in your notebook. Did you delete, rename or "
    "skip the cell that defines it? Run every cell in order, top to bottom."
)
NEVER_RAN = (  # otter_plugin.NOT_RUN
    f"{FAILED}\nThis test never ran: grading of the notebook stopped before it (the kernel "
    "crashed or ran out of time, or the notebook kept Otter from running its tests). Run the "
    "whole notebook top to bottom and then this question's check."
)


def otter_summary(question: str, cases: list[tuple], public_only: bool = False) -> str:
    """Otter's ``TestFile.summary``; each case is (name, hidden, passed, message)."""
    shown = [c for c in cases if not (public_only and c[1])]
    if all(passed for _, _, passed, _ in shown):
        return f"{question} results: All test cases passed!"
    blocks = [f"{name} result:\n" + textwrap.indent(m.strip(), "    ") for name, _, _, m in shown]
    return f"{question} results:\n" + textwrap.indent("\n\n".join(blocks), "    ")


def case(question: str, number: int, passed: bool = True, message: str = "", hidden=False):
    text = PASSED if passed else (message if FAILED in message else f"{FAILED}\n{message}")
    return (f"{question} - {number}", hidden, passed, text)


def otter_results(questions: dict[str, list[tuple]], output: str = "") -> dict:
    """A results.json as Otter writes it locally: a "Public Tests" summary, then per question
    its score and every case (the kit's grading plugin puts its notes before a verdict)."""
    tests = [
        {
            "name": "Public Tests",
            "visibility": "visible",
            "output": "\n\n".join(
                otter_summary(q, c, public_only=True) for q, c in questions.items()
            ),
        }
    ]
    for question, cases in questions.items():
        possible = QUESTIONS[question]
        score = possible * sum(c[2] for c in cases) / len(cases)
        tests.append(
            {
                "name": question,
                "score": round(score, 5),
                "max_score": possible,
                "visibility": "after_published",
                "output": otter_summary(question, cases),
            }
        )
    return {"tests": tests, "output": output}


def kit_results(questions: dict[str, list[tuple]]) -> dict:
    """The same as the kit's Gradescope entry point leaves it (``submission.finish_results``):
    students' summaries without hidden messages or tags, the full text in an instructors-only
    entry."""
    from types import SimpleNamespace

    from autograder.submission import HIDDEN_DETAILS, hint_ids_of, student_summary

    def view(question, cases):
        return SimpleNamespace(
            name=question,
            cases=[
                SimpleNamespace(passed=p, message=m, test_case=SimpleNamespace(name=n, hidden=h))
                for n, h, p, m in cases
            ],
        )

    data = otter_results(questions)
    data["tests"][0]["output"] = "\n\n".join(
        student_summary(view(q, c), public_only=True) for q, c in questions.items()
    )
    details = []
    for test in data["tests"][1:]:
        cases = questions[test["name"]]
        if any(h for _, h, _, _ in cases) or hint_ids_of(test["output"]):
            details.append(test["output"])
        if hint_ids_of(test["output"]):
            test["extra_data"] = {"hint_ids": hint_ids_of(test["output"])}
        test["output"] = student_summary(view(test["name"], cases))
    data["tests"].append({"name": HIDDEN_DETAILS, "output": "\n\n".join(details)})
    return data


def write_gradebook(folder: Path, entries: dict[str, dict | tuple], **extra: dict) -> Path:
    """gradebook.csv and results/ID.json: an entry is a results.json, or (status, error)."""
    (folder / "results").mkdir(parents=True)
    rows = []
    for ident, entry in entries.items():
        row = {"submission": ident, **extra.get(ident, {})}
        if isinstance(entry, tuple):
            row.update(
                status=entry[0], error=entry[1], seconds="600" if entry[0] == "timeout" else "0"
            )
        else:
            row.update(status="graded", seconds="12.5")
            (folder / "results" / f"{ident}.json").write_text(json.dumps(entry))
        rows.append(row)
    columns = ["submission", "status", "score", "seconds", "error", "executed"]
    with open(folder / "gradebook.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns, restval="")
        writer.writeheader()
        writer.writerows(rows)
    return folder


def all_passing(question: str, hidden: int = 0) -> list[tuple]:
    return [case(question, n, hidden=n > CASES - hidden) for n in range(1, CASES + 1)]


def test_a_cell_stopped_by_its_time_limit_is_a_time_out_of_its_question(tmp_path):
    # The plugin puts its note before the verdict: the case must still read as failed.
    note = (
        "A cell (question q1) ran past the 20 s limit for one cell and was stopped; the rest of "
        "the notebook was graded as usual."
    )
    cell_limit = {
        "q1": [case("q1", n, False, f"{note}\n\n{NOT_DEFINED}") for n in (1, 2, 3)],
        "q2": all_passing("q2"),
    }
    test_limit = {
        "q1": [
            case("q1", 1),
            case(
                "q1",
                2,
                False,
                "Error at line 25 in test q1:\n  t.check(f)\nTimeLimitExceeded: this test case "
                "ran past the 20 s limit for one test of q1: the code it calls loops forever.",
            ),
            case("q1", 3),
        ],
        "q2": all_passing("q2"),
    }
    folder = write_gradebook(
        tmp_path / "gradebook",
        {
            "cell.ipynb": otter_results(cell_limit, f"Grading notes:\n- {note}"),
            "test.ipynb": otter_results(test_limit),
        },
    )
    report = analyse("99", load_class(folder), MUTANTS, ["q1", "q2"])
    cells = load_class(folder)[0].questions["q1"].cases
    assert [c.passed for c in cells] == [False, False, False]
    assert (
        cells[0].message.startswith("`conv_output_size` is not defined")
        and note in cells[0].message
    )
    q1, q2 = report.questions
    assert (q1.time_outs, q1.crashes, q2.time_outs) == (2, 0, 0)
    (group,) = report.failures["q1"]
    assert group.kind == "time-out" and group.submissions == {"cell.ipynb", "test.ipynb"}
    assert group.message == note  # the note that says why, not "is not defined"


def test_a_submission_stopped_by_its_deadline_counts_time_outs_not_crashes(tmp_path):
    deadline = (
        "The Python kernel stopped responding while grading (question q1), with no time or "
        "attempts left to grade again; every test decided before then keeps its result, and "
        "tests that had not run score 0."
    )
    crashed = deadline.replace("stopped responding", "ended")
    folder = write_gradebook(
        tmp_path / "gradebook",
        {
            f"{name}.ipynb": otter_results(
                {
                    "q1": [case("q1", 1)]
                    + [case("q1", n, False, f"{note}\n\n{NEVER_RAN}") for n in (2, 3)],
                    "q2": [case("q2", n, False, NEVER_RAN) for n in (1, 2, 3)],
                },
                f"Grading notes:\n- {note}",
            )
            for name, note in (("slow", deadline), ("segfault", crashed))
        }
        | {
            "endless.ipynb": (
                "timeout",
                "grading stopped after the 600 s limit for a whole submission",
            )
        },
    )
    report = build_report("99", folder, tmp_path / "out", MUTANTS, ["q1", "q2"])
    for stat in report.questions:
        assert (stat.time_outs, stat.crashes) == (1, 1), stat.name
    time_outs = [g for g in report.failures["q2"] if g.kind == "time-out"]
    assert [g.submissions for g in time_outs] == [{"slow.ipynb"}]
    page = (tmp_path / "out" / "report.html").read_text()
    assert "1 submission was stopped by the whole-submission time limit" in page


def test_hiding_names_replaces_only_a_submissions_own_identifier(tmp_path):
    # Most students keep the assignment's notebook name; the gradebook folder has it too.
    assignment = "03_conv_output_sizes"
    folder = write_gradebook(
        tmp_path / assignment,
        {
            f"{assignment}.ipynb": (
                "error",
                f"{assignment}.ipynb: the file is empty; submit the saved {assignment}.ipynb",
            ),
            "alice_smith.ipynb": (
                "error",
                "alice_smith.ipynb: not valid notebook JSON (line 1, column 2: Expecting value)",
            ),
            "carol.zip": (
                "error",
                "carol.ipynb is the notebook of assignment '01_perceptron_xor', not "
                f"'{assignment}': upload this assignment's notebook.",
            ),
            "model.ipynb": otter_results({"q1": all_passing("q1")}),
            "dan_b.ipynb": otter_results(
                {"q1": [case("q1", 1, False, "AssertionError: model(x) returned 3, expected 4")]}
            ),
        },
    )
    build_report(assignment, folder, tmp_path / "out", MUTANTS, ["q1"])
    out = tmp_path / "out"
    page = (out / "report.html").read_text()
    assert f"read from <code>{assignment}</code>" in page
    with open(out / "report-ungradable.csv", newline="") as f:
        reasons = sorted(row["reason"] for row in csv.DictReader(f))
    assert reasons == [
        f"{assignment}.ipynb: the file is empty; submit the saved {assignment}.ipynb",
        "<submission> is the notebook of assignment '01_perceptron_xor', not "
        f"'{assignment}': upload this assignment's notebook.",
        "<submission>: not valid notebook JSON (line 1, column 2: Expecting value)",
    ]
    with open(out / "report-failures.csv", newline="") as f:
        (failure,) = csv.DictReader(f)
    assert failure["message"] == "AssertionError: model(x) returned 3, expected 4"
    texts = [page] + [p.read_text() for p in out.glob("*.csv")]
    for name in ("alice_smith", "carol", "dan_b"):
        assert all(name not in text for text in texts), name


def test_submissions_that_passed_public_tests_and_failed_hidden_ones_are_listed(tmp_path):
    ceil = f"AssertionError: 3 != 4. Hint: {tagged('syn.ceil', 'you round up (ceil)')}"
    hidden_ceil = [case("q1", 1), case("q1", 2), case("q1", 3, False, ceil, hidden=True)]
    q2 = all_passing("q2", hidden=1)
    folder = write_gradebook(
        tmp_path / "gradebook",
        {
            "stu_one.ipynb": otter_results({"q1": hidden_ceil, "q2": q2}),
            "stu_five.ipynb": otter_results({"q1": hidden_ceil, "q2": q2}),
            "stu_two.ipynb": otter_results(  # a public failure: not among them
                {"q1": [case("q1", 1, False, "wrong"), case("q1", 2), hidden_ceil[2]], "q2": q2}
            ),
            "stu_three.ipynb": otter_results({"q1": all_passing("q1", 1), "q2": q2}),
            "stu_four.ipynb": kit_results(  # graded on Gradescope by the kit's entry point
                {
                    "q1": [
                        case("q1", 1),
                        case("q1", 2),
                        case("q1", 3, False, "AssertionError: shape (4, 5), expected (5, 4)", True),
                    ],
                    "q2": q2,
                }
            ),
        },
    )
    report = build_report("99", folder, tmp_path / "out", MUTANTS, ["q1", "q2"])
    q1, q2_stat = report.questions
    assert q1.hidden_only == {"stu_one.ipynb", "stu_five.ipynb", "stu_four.ipynb"}
    assert q2_stat.hidden_only == set()
    assert groups_of(report, "q1")["syn.ceil"] == 3  # every failure, public or hidden
    hidden = {(g.kind, g.hint_id): g.submissions for g in report.hidden["q1"]}
    assert hidden == {
        ("catalogued", "syn.ceil"): {"stu_one.ipynb", "stu_five.ipynb"},
        ("uncatalogued", ""): {"stu_four.ipynb"},
    }
    out = tmp_path / "out"
    with open(out / "report-hidden-only.csv", newline="") as f:
        assert [(r["question"], r["submissions"]) for r in csv.DictReader(f)] == [
            ("q1", "3"),
            ("q2", "0"),
        ]
    with open(out / "report-hidden-failures.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["kind"], r["hint_id"], r["submissions"]) for r in rows] == [
        ("catalogued", "syn.ceil", "2"),
        ("uncatalogued", "", "1"),
    ]
    assert rows[1]["message"] == "AssertionError: shape (4, 5), expected (5, 4)"
    page = (out / "report.html").read_text()
    assert "Passed every public test, failed a hidden one: 3</b> (60% of the graded)" in page
    assert "stu_" not in page
    build_report("99", folder, tmp_path / "named", MUTANTS, ["q1", "q2"], names=True)
    named = (tmp_path / "named" / "report.html").read_text()
    assert '<span class="ids">stu_five.ipynb, stu_four.ipynb, stu_one.ipynb</span>' in named

    # Results without a "Public Tests" summary cannot tell: the table says so, not 0.
    bare = tmp_path / "bare"
    bare.mkdir()
    data = otter_results({"q1": hidden_ceil})
    data["tests"] = data["tests"][1:]
    (bare / "x.json").write_text(json.dumps(data))
    unknown = build_report("99", bare, tmp_path / "bare-out", MUTANTS, ["q1"])
    assert unknown.questions[0].hidden_only is None


def test_names_link_each_submission_to_its_executed_notebook(tmp_path):
    folder = tmp_path / "gradebook"
    failing = otter_results({"q1": [case("q1", 1, False, "AssertionError: no")]})
    write_gradebook(
        folder,
        {
            "ann.ipynb": failing,
            "ben.ipynb": (
                "timeout",
                "grading stopped after the 600 s limit for a whole submission",
            ),
            "cid.ipynb": failing,  # an older gradebook: no executed notebook
        },
        **{"ben.ipynb": {"executed": "kept/ben run.ipynb"}},
    )
    (folder / "executed").mkdir()
    (folder / "executed" / "ann.ipynb").write_text("{}")
    (folder / "kept").mkdir()
    (folder / "kept" / "ben run.ipynb").write_text("{}")
    for out in (folder / "report", tmp_path / "elsewhere" / "deep"):
        build_report("99", folder, out, MUTANTS, ["q1"], names=True)
        page = (out / "report.html").read_text()
        links = {text: href for href, text in re.findall(r'<a href="([^"]+)">([^<]+)</a>', page)}
        assert set(links) == {"ann.ipynb", "ben.ipynb"}, links  # cid has none: not linked
        for ident, kept in (
            ("ann.ipynb", "executed/ann.ipynb"),
            ("ben.ipynb", "kept/ben run.ipynb"),
        ):
            assert (out / unquote(links[ident])).resolve() == (folder / kept).resolve()
    assert links["ann.ipynb"] == "../../gradebook/executed/ann.ipynb"
    build_report("99", folder, tmp_path / "anonymous", MUTANTS, ["q1"])
    assert "<a href" not in (tmp_path / "anonymous" / "report.html").read_text()


def test_removed_submissions_are_not_part_of_the_class(tmp_path):
    """grade keeps a row for a submission that left the folder (status removed): the report
    counts it neither as graded nor as ungradable."""
    passing = otter_results({"q1": [case("q1", 1, True)]})
    folder = write_gradebook(
        tmp_path / "gradebook",
        {"ann.ipynb": passing, "gone.ipynb": ("removed", "no longer among the submissions")},
    )
    assert [s.id for s in load_class(folder)] == ["ann.ipynb"]
