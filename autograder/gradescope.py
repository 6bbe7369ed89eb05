"""Gradescope's ``results.json`` format, checked field by field.

The fields and their types follow Gradescope's autograder specification (the "Output format"
page of its autograder documentation). ``validate_results`` lists every departure, so a test can
assert that what Otter and the grading plugin write is something Gradescope will accept.
"""

from __future__ import annotations

from numbers import Real

VISIBILITIES = {"hidden", "after_due_date", "after_published", "visible"}
OUTPUT_FORMATS = {"text", "html", "simple_format", "md", "ansi"}
STATUSES = {"passed", "failed"}
TOP_LEVEL = {
    "score": Real,
    "execution_time": Real,
    "output": str,
    "output_format": str,
    "test_output_format": str,
    "test_name_format": str,
    "visibility": str,
    "stdout_visibility": str,
    "extra_data": dict,
    "tests": list,
    "leaderboard": list,
}
PER_TEST = {
    "score": Real,
    "max_score": Real,
    "status": str,
    "name": str,
    "name_format": str,
    "number": str,
    "output": str,
    "output_format": str,
    "tags": list,
    "visibility": str,
    "extra_data": dict,
}


def validate_results(results: object) -> list[str]:
    """Every way ``results`` departs from Gradescope's results.json format (empty if none)."""
    if not isinstance(results, dict):
        return [f"results must be a JSON object, not {type(results).__name__}"]
    problems = _check_fields(results, TOP_LEVEL, "results")
    if "score" not in results and "tests" not in results:
        problems.append("results need a 'score' or 'tests' with scores")
    for index, test in enumerate(results.get("tests", []) or []):
        where = f"tests[{index}]"
        if not isinstance(test, dict):
            problems.append(f"{where} must be an object")
            continue
        problems += _check_fields(test, PER_TEST, where)
        if "score" in test and "max_score" in test and isinstance(test["score"], Real):
            if isinstance(test["max_score"], Real) and test["score"] > test["max_score"] + 1e-9:
                problems.append(f"{where}: score {test['score']} exceeds max_score")
        if "status" in test and test["status"] not in STATUSES:
            problems.append(f"{where}: status {test['status']!r} not in {sorted(STATUSES)}")
        if "score" not in test and "status" not in test:
            problems.append(f"{where}: a test needs a score or a status")
    return problems


def _check_fields(values: dict, schema: dict, where: str) -> list[str]:
    problems = []
    for key, value in values.items():
        if key not in schema:
            problems.append(f"{where}: unknown field {key!r}")
            continue
        expected = schema[key]
        if isinstance(value, bool) or not isinstance(value, expected):
            problems.append(
                f"{where}.{key}: expected {expected.__name__}, got {type(value).__name__}"
            )
    for key in ("visibility", "stdout_visibility"):
        if key in values and values[key] not in VISIBILITIES:
            problems.append(f"{where}.{key}: {values[key]!r} not in {sorted(VISIBILITIES)}")
    for key in ("output_format", "test_output_format"):
        if key in values and values[key] not in OUTPUT_FORMATS:
            problems.append(f"{where}.{key}: {values[key]!r} not in {sorted(OUTPUT_FORMATS)}")
    return problems
