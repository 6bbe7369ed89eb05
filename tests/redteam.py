"""The red-team corpus: broken and adversarial submissions made from any assignment.

Each case takes an assignment's reference and stub notebooks and returns a submission that
does something real classes submit (an endless loop, ``os._exit``, a segfault, megabytes of
printing, deleting the tests, replacing ``np.allclose``...), with the outcome grading must give:
a score relative to the reference's, and text that must appear in the results. Cases find the
cells they edit from the notebook's structure (the ``grader.check`` cells), so every new
assignment is covered with no extra work.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass

import nbformat

CHECK = re.compile(r"""^\s*grader\.check\(\s*["']([^"']+)["']\s*\)""", re.M)
DEF = re.compile(r"^def (\w+)\(", re.M)

# Score expectations, relative to the reference's score R and the points P of the question edited.
FULL = "full"  # exactly R: the attack changed nothing
ZERO = "zero"  # exactly 0 of the full possible
LOSES_QUESTION = "loses question"  # that question below its points, and some points elsewhere


@dataclass(frozen=True)
class Case:
    name: str
    description: str
    make: Callable[[nbformat.NotebookNode, nbformat.NotebookNode], nbformat.NotebookNode]
    score: str
    message: str = ""  # text that must appear in the results (notes or the question's failures)
    slow: bool = False  # waits for a time limit
    every_assignment: bool = True  # False: only on the kit's tiny fixture (combined elsewhere)
    needs_def: bool = False  # edits the first answer cell that defines a function


def questions(notebook) -> list[tuple[str, int]]:
    """(question, index of its check cell) in order."""
    found = []
    for index, cell in enumerate(notebook.cells):
        match = CHECK.search(cell.source) if cell.cell_type == "code" else None
        if match and match.group(1) not in [q for q, _ in found]:
            found.append((match.group(1), index))
    return found


ANSWER_TAG = "otter_answer_cell"


def tag_answers(reference, stub) -> nbformat.NotebookNode:
    """The reference with the stub's answer-cell tags copied over (Otter tags only the stub)."""
    tagged = copy.deepcopy(reference)
    assert len(tagged.cells) == len(stub.cells), "reference and stub differ in their cells"
    for mine, theirs in zip(tagged.cells, stub.cells, strict=True):
        if ANSWER_TAG in theirs.metadata.get("tags", []):
            mine.metadata.setdefault("tags", []).append(ANSWER_TAG)
    return tagged


def solution_cell(notebook, *, needs_def: bool = False) -> tuple[str, nbformat.NotebookNode]:
    """The first question with an answer cell (one defining a function, if ``needs_def``), and
    that question's first such cell."""
    waiting = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        if ANSWER_TAG in cell.metadata.get("tags", []):
            if not needs_def or DEF.search(cell.source):
                waiting.append(cell)
            continue
        match = CHECK.search(cell.source)
        if match:
            if waiting:
                return match.group(1), waiting[0]
            waiting = []
    raise LookupError("no answer cell before any grader.check cell")


def first_code_cell(notebook) -> nbformat.NotebookNode:
    """The first code cell after the setup cell (the imports)."""
    code = [
        c for c in notebook.cells if c.cell_type == "code" and "otter.Notebook(" not in c.source
    ]
    return code[0]


def edit(which: str, where: str, code: str):
    """A ``make`` that puts ``code`` into the reference or the stub.

    ``where`` is ``"<cell> <place>"``: the cell is ``first`` (the imports) or ``solution`` (the
    first question's code); the place is ``start`` or ``end`` of that cell, or ``after`` it, in a
    cell of its own (so that attacks can be combined without one cutting another short).
    """

    def make(reference, stub):
        notebook = copy.deepcopy(reference if which == "reference" else stub)
        target, place = where.split()
        if target == "solution":
            cell = solution_cell(notebook)[1]
        else:
            cell = first_code_cell(notebook)
        if place == "start":
            cell.source = code + "\n" + cell.source
        elif place == "end":
            cell.source = cell.source + "\n" + code
        else:
            index = notebook.cells.index(cell)
            notebook.cells.insert(index + 1, nbformat.v4.new_code_cell(code))
        return notebook

    return make


def combine(*cases: Case):
    """A ``make`` applying several cases' edits, in order, to one notebook."""

    def make(reference, stub):
        notebook = None
        for case in cases:  # the first edit picks reference or stub; the rest build on it
            notebook = case.make(notebook or reference, notebook or stub)
        return notebook

    return make


def _delete_solution(reference, stub):
    notebook = copy.deepcopy(reference)
    cell = solution_cell(notebook)[1]
    notebook.cells.remove(cell)
    return notebook


def _move_solution_to_end(reference, stub):
    notebook = copy.deepcopy(reference)
    cell = solution_cell(notebook)[1]
    notebook.cells.remove(cell)
    notebook.cells.append(cell)
    return notebook


def _slow_when_tested(reference, stub):
    notebook = copy.deepcopy(reference)
    cell = solution_cell(notebook, needs_def=True)[1]
    name = DEF.findall(cell.source)[-1]
    cell.source += (
        f"\n_real_{name} = {name}\n"
        f"def {name}(*args, **kwargs):\n"
        "    import time\n"
        "    time.sleep(10_000)\n"
    )
    return notebook


def _overwrite_tests(reference, stub):
    notebook = copy.deepcopy(stub)
    code = (
        "import glob\n"
        "for _path in glob.glob('tests/*.py'):\n"
        "    _name = _path.split('/')[-1][:-3]\n"
        "    open(_path, 'w').write(\n"
        "        'from otter.test_files import test_case\\nOK_FORMAT = False\\n'\n"
        "        f'name = {_name!r}\\npoints = 100\\n'\n"
        "        '@test_case()\\ndef test_pass():\\n    pass\\n')\n"
    )
    first_code_cell(notebook).source += "\n" + code
    return notebook


TAMPER_NUMPY = (
    "import numpy as np\n"
    "np.allclose = lambda *a, **k: True\n"
    "np.isclose = lambda *a, **k: True\n"
    "np.array_equal = lambda *a, **k: True\n"
    "np.testing.assert_allclose = lambda *a, **k: None\n"
)
TAMPER_TORCH = (
    "import torch\n"
    "torch.allclose = lambda *a, **k: True\n"
    "torch.equal = lambda *a, **k: True\n"
    "torch.testing.assert_close = lambda *a, **k: None\n"
)
TAMPER_HELPERS = (
    "import shared.checks\n"
    "shared.checks.assert_close = lambda *a, **k: None\n"
    "shared.checks.check_implemented = lambda *a, **k: None\n"
    "shared.checks.assert_shape = lambda *a, **k: None\n"
)
TAMPER_BUILTINS = (
    "import builtins\n"
    "builtins.all = lambda *a: True\n"
    "builtins.abs = lambda x: 0\n"
    "builtins.round = lambda *a: 0\n"
)
BREAK_PYTHON = "import builtins\nbuiltins.isinstance = lambda *a: True\n"
TAMPER_MODULES = (
    "import sys, types\n"
    "_fake = types.ModuleType('numpy')\n"
    "_fake.allclose = lambda *a, **k: True\n"
    "sys.modules['numpy'] = _fake\n"
)
FAKE_GRADER = (
    "class _AlwaysPasses:\n"
    "    def check(self, *args, **kwargs):\n"
    "        return None\n"
    "    def check_all(self, *args, **kwargs):\n"
    "        return None\n"
    "grader = _AlwaysPasses()\n"
)
FORGE_RESULTS = (
    "from otter.execute import Checker\n"
    "Checker.get_results = classmethod(lambda cls: [])\n"
    "Checker.check_if_not_already_checked = classmethod(lambda cls, *a, **k: None)\n"
    "Checker.check = classmethod(lambda cls, *a, **k: None)\n"
)

SURVIVABLE = [
    Case(
        "os_exit",
        "os._exit(1) in a cell",
        edit("reference", "first after", "import os\nos._exit(1)"),
        FULL,
        "os._exit()",
        every_assignment=False,
    ),
    Case(
        "sys_exit",
        "sys.exit() in a cell",
        edit("reference", "first after", "import sys\nsys.exit(3)"),
        FULL,
        every_assignment=False,
    ),
    Case(
        "keyboard_interrupt",
        "raise KeyboardInterrupt after the first question's code",
        edit("reference", "solution after", "raise KeyboardInterrupt"),
        FULL,
        every_assignment=False,
    ),
    Case(
        "ipython_exit",
        "exit() in a cell (IPython would end the kernel)",
        edit("reference", "first after", "exit()"),
        FULL,
        "exit()",
        every_assignment=False,
    ),
    Case(
        "huge_output",
        "20 MB of printing in a cell",
        edit("reference", "first after", "print('x' * 20_000_000)"),
        FULL,
        "printed more than grading keeps",
        every_assignment=False,
    ),
    Case(
        "delete_tests",
        "shutil.rmtree('tests') in a cell",
        edit(
            "reference", "first after", "import shutil\nshutil.rmtree('tests', ignore_errors=True)"
        ),
        FULL,
        every_assignment=False,
    ),
    Case(
        "tamper_in_reference",
        "the reference replaces numpy.allclose too: it keeps its points",
        edit("reference", "first after", TAMPER_NUMPY),
        FULL,
        "numpy.allclose",
        every_assignment=False,
    ),
]
TAMPERING = [
    Case(
        "overwrite_tests",
        "the stub rewrites every test file to pass",
        _overwrite_tests,
        ZERO,
        every_assignment=False,
    ),
    Case(
        "numpy_comparisons",
        "the stub replaces numpy's comparisons",
        edit("stub", "first after", TAMPER_NUMPY),
        ZERO,
        "numpy.allclose",
        every_assignment=False,
    ),
    Case(
        "torch_comparisons",
        "the stub replaces torch's comparisons",
        edit("stub", "first after", TAMPER_TORCH),
        ZERO,
        "torch.allclose",
        every_assignment=False,
    ),
    Case(
        "helper_checks",
        "the stub replaces the helper package's checks",
        edit("stub", "first after", TAMPER_HELPERS),
        ZERO,
        "shared.checks.assert_close",
        every_assignment=False,
    ),
    Case(
        "builtins",
        "the stub patches builtins",
        edit("stub", "first after", TAMPER_BUILTINS),
        ZERO,
        "builtins.all",
        every_assignment=False,
    ),
    Case(
        "sys_modules",
        "the stub swaps numpy for a fake in sys.modules",
        edit("stub", "first after", TAMPER_MODULES),
        ZERO,
        "sys.modules['numpy']",
        every_assignment=False,
    ),
    Case(
        "fake_grader",
        "the stub redefines `grader` to always pass",
        edit("stub", "first after", FAKE_GRADER),
        ZERO,
        every_assignment=False,
    ),
    Case(
        "forged_results",
        "the stub replaces Otter's Checker to report nothing",
        edit("stub", "first after", FORGE_RESULTS),
        ZERO,
        "Checker.check",
        every_assignment=False,
    ),
]

CASES = [
    Case(
        "reference",
        "the reference itself, under the red-team time limits",
        lambda reference, stub: copy.deepcopy(reference),
        FULL,
    ),
    *SURVIVABLE,
    Case(
        "survivable_mix",
        "every survivable attack above, each in a cell of its own",
        combine(*SURVIVABLE),
        FULL,
        "numpy.allclose",
    ),
    *TAMPERING,
    Case(
        "tampering_mix",
        "every tampering attack above on the stub, each in a cell of its own",
        combine(*TAMPERING),
        ZERO,
        "shared.checks.assert_close",
    ),
    Case(
        "endless_loop",
        "an endless loop before the first question's code",
        edit("reference", "solution start", "while True:\n    pass"),
        LOSES_QUESTION,
        "limit for one cell",
        slow=True,
    ),
    Case(
        "slow_under_test",
        "the first function students write sleeps whenever a test calls it",
        _slow_when_tested,
        LOSES_QUESTION,
        "limit for one test",
        slow=True,
        needs_def=True,
    ),
    Case(
        "segfault",
        "a segfault after the first question's code, in the same cell",
        edit("reference", "solution end", "import ctypes\nctypes.string_at(0)"),
        LOSES_QUESTION,
        "crashed the Python kernel",
    ),
    Case(
        "killed",
        "the kernel killed by SIGKILL, as the out-of-memory killer does",
        edit(
            "reference",
            "solution end",
            "import ctypes, os, signal\nctypes.CDLL(None).kill(os.getpid(), signal.SIGKILL)",
        ),
        LOSES_QUESTION,
        "crashed the Python kernel",
    ),
    Case(
        "broken_python",
        "the stub makes isinstance always True, which hangs IPython itself",
        edit("stub", "first after", BREAK_PYTHON),
        ZERO,
        "stop responding",
        slow=True,
        every_assignment=False,
    ),
    Case(
        "missing_function",
        "the first question's solution cell deleted",
        _delete_solution,
        LOSES_QUESTION,
        "is not defined in your notebook",
    ),
    Case(
        "reordered_cells",
        "the first question's solution cell moved to the end",
        _move_solution_to_end,
        LOSES_QUESTION,
        "is not defined in your notebook",
    ),
]
