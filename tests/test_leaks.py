"""The helper package ships to every student: verify finds solution code in it, however renamed."""

from __future__ import annotations

from autograder.leaks import shape, structural_leaks
from autograder.master import read_master

SOLUTION = "    return (np.asarray(x) >= 0).astype(float)\n"
LONGER = (
    "    values = np.asarray(x, dtype=float)\n"
    "    out = np.zeros_like(values)\n"
    "    out[values >= 0] = 1.0\n"
    "    return out\n"
)


def test_a_renamed_copy_of_a_solution_in_the_helper_package_is_found(tiny, tmp_path):
    master_path = tiny.master
    master_path.write_text(master_path.read_text().replace(SOLUTION, LONGER))
    master = read_master(tiny)
    package = tmp_path / "shared"
    package.mkdir()
    (package / "innocent.py").write_text(
        "import numpy as np\n\n"
        "def heaviside_like(arr):\n"
        '    """Looks like a plotting helper."""\n'
        "    print('plotting')\n"
        "    data = np.asarray(arr, dtype=float)\n"
        "    res = np.zeros_like(data)\n"
        "    res[data >= 0] = 1.0\n"
        "    return res\n"
    )
    (package / "other.py").write_text(
        "import numpy as np\n\n"
        "def mean_of(arr):\n"
        "    data = np.asarray(arr, dtype=float)\n"
        "    return data.mean()\n"
    )
    leaks = structural_leaks(master, package)
    assert len(leaks) == 1 and "innocent.py:3 (heaviside_like)" in leaks[0], leaks


def test_shapes_ignore_names_and_docstrings_but_not_operations():
    import ast

    def body(source: str):
        return ast.parse(source).body

    assert shape(body("y = a @ w + b\nreturn y")) == shape(body("out = x @ W + bias\nreturn out"))
    assert shape(body("y = a @ w + b\nreturn y")) != shape(body("y = a @ w - b\nreturn y"))
