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

# Where a case runs. The whole corpus runs on the kit's tiny fixture. What depends on an
# assignment's own tests (the mixes of survivable, tampering, forging and deep-comparison attacks,
# a reloaded helper) runs on every real assignment too. What the guard and the runner handle the
# same way whatever the tests (time limits, crashes, a missing or misplaced function) also runs on
# one real assignment, GENERIC_WITNESS, so the suite's cost grows by seven gradings per
# assignment, not seventeen.
EVERY = "every"
GENERIC = "generic"
TINY = "tiny"
GENERIC_WITNESS = "03_conv_output_sizes"  # the cheapest real assignment to grade

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
    scope: str = "every"  # EVERY assignment, GENERIC (tiny + one witness), TINY or WITNESS only
    needs_def: bool = False  # edits the first answer cell that defines a function
    absent: str = ""  # text that must not appear in the results (a false alarm)
    extra_files: tuple[tuple[str, str], ...] = ()  # beside the notebook, in a zip submission
    question: str = ""  # the question LOSES_QUESTION means, when not the first answer's


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


def _replace_first_function(reference, body: str):
    """The reference whose first function is replaced by one running ``body`` (where
    ``_original`` is the function it replaces); returns the notebook and the edited cell."""
    notebook = copy.deepcopy(reference)
    cell = solution_cell(notebook, needs_def=True)[1]
    name = DEF.findall(cell.source)[-1]
    cell.source += f"\n_original_{name} = {name}\ndef {name}(*args, **kwargs):\n" + body.replace(
        "_original", f"_original_{name}"
    )
    return notebook, cell


def _slow_when_tested(reference, stub):
    return _replace_first_function(reference, "    import time\n    time.sleep(10_000)\n")[0]


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
        scope=TINY,
    ),
    Case(
        "sys_exit",
        "sys.exit() in a cell",
        edit("reference", "first after", "import sys\nsys.exit(3)"),
        FULL,
        scope=TINY,
    ),
    Case(
        "keyboard_interrupt",
        "raise KeyboardInterrupt after the first question's code",
        edit("reference", "solution after", "raise KeyboardInterrupt"),
        FULL,
        scope=TINY,
    ),
    Case(
        "ipython_exit",
        "exit() in a cell (IPython would end the kernel)",
        edit("reference", "first after", "exit()"),
        FULL,
        "exit()",
        scope=TINY,
    ),
    Case(
        "huge_output",
        "20 MB of printing in a cell",
        edit("reference", "first after", "print('x' * 20_000_000)"),
        FULL,
        "printed more than grading keeps",
        scope=TINY,
    ),
    Case(
        "delete_tests",
        "shutil.rmtree('tests') in a cell",
        edit(
            "reference", "first after", "import shutil\nshutil.rmtree('tests', ignore_errors=True)"
        ),
        FULL,
        scope=TINY,
    ),
    Case(
        "tamper_in_reference",
        "the reference replaces numpy.allclose too: it keeps its points",
        edit("reference", "first after", TAMPER_NUMPY),
        FULL,
        scope=TINY,
    ),
]
TAMPERING = [
    Case(
        "overwrite_tests",
        "the stub rewrites every test file to pass",
        _overwrite_tests,
        ZERO,
        scope=TINY,
    ),
    Case(
        "numpy_comparisons",
        "the stub replaces numpy's comparisons",
        edit("stub", "first after", TAMPER_NUMPY),
        ZERO,
        scope=TINY,
    ),
    Case(
        "torch_comparisons",
        "the stub replaces torch's comparisons",
        edit("stub", "first after", TAMPER_TORCH),
        ZERO,
        scope=TINY,
    ),
    Case(
        "helper_checks",
        "the stub replaces the helper package's checks",
        edit("stub", "first after", TAMPER_HELPERS),
        ZERO,
        scope=TINY,
    ),
    Case(
        "builtins",
        "the stub patches builtins",
        edit("stub", "first after", TAMPER_BUILTINS),
        ZERO,
        scope=TINY,
    ),
    Case(
        "sys_modules",
        "the stub swaps numpy for a fake in sys.modules",
        edit("stub", "first after", TAMPER_MODULES),
        ZERO,
        scope=TINY,
    ),
    Case(
        "fake_grader",
        "the stub redefines `grader` to always pass",
        edit("stub", "first after", FAKE_GRADER),
        ZERO,
        scope=TINY,
    ),
    Case(
        "forged_results",
        "the stub replaces Otter's Checker to report nothing",
        edit("stub", "first after", FORGE_RESULTS),
        ZERO,
        scope=TINY,
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
    ),
    *TAMPERING,
    Case(
        "tampering_mix",
        "every tampering attack above on the stub, each in a cell of its own",
        combine(*TAMPERING),
        ZERO,
    ),
    Case(
        "endless_loop",
        "an endless loop before the first question's code",
        edit("reference", "solution start", "while True:\n    pass"),
        LOSES_QUESTION,
        "limit for one cell",
        slow=True,
        scope=GENERIC,
    ),
    Case(
        "slow_under_test",
        "the first function students write sleeps whenever a test calls it",
        _slow_when_tested,
        LOSES_QUESTION,
        "limit for one test",
        slow=True,
        needs_def=True,
        scope=GENERIC,
    ),
    Case(
        "segfault",
        "a segfault after the first question's code, in the same cell",
        edit("reference", "solution end", "import ctypes\nctypes.string_at(0)"),
        LOSES_QUESTION,
        "crashed the Python kernel",
        scope=GENERIC,
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
        scope=GENERIC,
    ),
    Case(
        "broken_python",
        "the stub makes isinstance always True, which hangs IPython itself",
        edit("stub", "first after", BREAK_PYTHON),
        ZERO,
        "stop responding",
        slow=True,
        scope=TINY,
    ),
    Case(
        "missing_function",
        "the first question's solution cell deleted",
        _delete_solution,
        LOSES_QUESTION,
        "is not defined in your notebook",
        scope=GENERIC,
    ),
    Case(
        "reordered_cells",
        "the first question's solution cell moved to the end",
        _move_solution_to_end,
        LOSES_QUESTION,
        "is not defined in your notebook",
        scope=GENERIC,
    ),
]


# -- Grading integrity (issue 17): each class the held-out corpus found, with cases of our own. --


def _wrong_first_answer(reference):
    """The reference whose first function answers wrongly (its value plus one, or None)."""
    return _replace_first_function(
        reference,
        "    out = _original(*args, **kwargs)\n"
        "    try:\n"
        "        return out + 1\n"
        "    except Exception:\n"
        "        return None\n",
    )


def wrong_answer_then(*codes: str):
    """A ``make``: the first function answers wrongly, and each of ``codes`` runs in a cell of
    its own right after its answer cell (before its check), trying to make the wrong answer
    pass."""

    def make(reference, stub):
        notebook, cell = _wrong_first_answer(reference)
        at = notebook.cells.index(cell) + 1
        notebook.cells[at:at] = [nbformat.v4.new_code_cell(code) for code in codes]
        return notebook

    return make


def stub_then_at_end(code: str):
    """A ``make``: the untouched stub with ``code`` in a last cell of its own (``QUESTIONS`` in
    ``code`` becomes the list of the notebook's questions)."""

    def make(reference, stub):
        notebook = copy.deepcopy(stub)
        names = [q for q, _ in questions(notebook)]
        notebook.cells.append(nbformat.v4.new_code_cell(code.replace("QUESTIONS", repr(names))))
        return notebook

    return make


def raise_in_first_answer(exception_code: str):
    """A ``make``: the first function raises what ``exception_code`` binds to ``Raised``."""

    def make(reference, stub):
        notebook = copy.deepcopy(reference)
        cell = solution_cell(notebook, needs_def=True)[1]
        name = DEF.findall(cell.source)[-1]
        cell.source += f"\n{exception_code}\ndef {name}(*args, **kwargs):\n    raise Raised\n"
        return notebook

    return make


def append_to(which: str, code: str):
    """A ``make``: ``code`` in a last cell of its own, after every answer and check."""

    def make(reference, stub):
        notebook = copy.deepcopy(reference if which == "reference" else stub)
        notebook.cells.append(nbformat.v4.new_code_cell(code))
        return notebook

    return make


FLIP_RESULTS = """\
for _q in QUESTIONS:
    _r = grader.check(_q)
    try:
        for _c in _r.test_case_results:
            _c.passed = True
        _r.update_score(_r.possible)
    except Exception:
        pass
from otter.execute import Checker
for _t in Checker.get_results():
    for _c in _t.test_case_results:
        _c.passed = True
"""
FORGE_RESULT_CLASSES = """\
import otter.test_files.abstract_test as _abstract
import otter.test_files.exception_test as _exception
class _Passed(_abstract.TestCaseResult):
    def __init__(self, test_case, message, passed):
        super().__init__(test_case, message, True)
_abstract.TestCaseResult = _exception.TestCaseResult = _Passed
_exception.ExceptionTestFile.run = lambda self, env: setattr(
    self, 'test_case_results', [_Passed(c, 'ok', True) for c in self.test_cases])
_exception.test_case.call_func = lambda self, env: None
"""
FORGE_PICKLE = """\
import pickle
_real_dump = pickle.dump
def _forged_dump(obj, file, *args, **kwargs):
    for _t in getattr(obj, 'results', {}).values():
        for _c in _t.test_case_results:
            _c.passed = True
    return _real_dump(obj, file, *args, **kwargs)
pickle.dump = _forged_dump
"""
FORGE_TRANSFORMER = """\
_FORGE = '''
from otter.execute import Checker
for _t in Checker.get_results():
    for _c in _t.test_case_results:
        _c.passed = True
'''
def _rewrite(lines):
    text = ''.join(lines)
    if 'pickle.dump' in text:
        text = text.replace('import pickle', _FORGE + '\\nimport pickle')
    return text.splitlines(True)
get_ipython().input_transformers_post.append(_rewrite)
get_ipython().input_transformers_cleanup.append(_rewrite)
"""
FORGE_HOOK = """\
def _after(result=None):
    from otter.execute import Checker
    for _t in Checker.get_results():
        for _c in _t.test_case_results:
            _c.passed = True
    get_ipython().events.register('post_run_cell', _after)
get_ipython().events.register('post_run_cell', _after)
get_ipython().events.register('pre_run_cell', lambda info: _after())
"""
FORGE_RECORD = """\
import json, os, stat
for _fd in range(3, 200):
    try:
        if stat.S_ISFIFO(os.fstat(_fd).st_mode):  # the pipes: one of them reaches the grader
            for _q in QUESTIONS:
                for _i in range(10):
                    _line = {'kind': 'case', 'test': _q, 'index': _i, 'passed': True, 'seq': 10**9}
                    os.write(_fd, (json.dumps(_line) + '\\tforged\\n').encode())
    except OSError:
        pass
"""
SKIP_ASSERTS = """\
import sys, linecache
def _skip(frame, event, arg):
    if event == 'line':
        line = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
        if line.startswith('assert'):
            try:
                frame.f_lineno = frame.f_lineno + 1
            except Exception:
                pass
    return _skip
def _trace(frame, event, arg):
    return _skip if 'tests' in frame.f_code.co_filename else None
sys.settrace(_trace)
"""
NUMPY_INTERNALS = """\
import sys, numpy
for _name, _module in list(sys.modules.items()):
    if _name.startswith('numpy') and _module is not None:
        for _attr in ('isclose', 'allclose', 'array_equal', 'where', 'all', 'isfinite'):
            if hasattr(_module, _attr):
                try:
                    setattr(_module, _attr, lambda *a, **k: numpy.True_)
                except Exception:
                    pass
"""
TENSOR_METHODS = """\
try:
    import torch
    torch.Tensor.allclose = lambda self, *a, **k: True
    torch.Tensor.equal = lambda self, *a, **k: True
    torch.Tensor.all = lambda self, *a, **k: torch.tensor(True)
    torch.Tensor.__eq__ = lambda self, other: torch.ones_like(self, dtype=torch.bool)
except ImportError:
    pass
import numpy.testing
numpy.testing.assert_allclose.__globals__['assert_array_compare'] = lambda *a, **k: None
"""
HELPER_INTERNALS = """\
import sys
for _name, _module in list(sys.modules.items()):
    if _name.startswith('shared') and _module is not None:
        for _attr, _value in list(vars(_module).items()):
            if callable(_value) and not isinstance(_value, type):
                setattr(_module, _attr, lambda *a, **k: None)
"""
BAD_STR = """\
class Raised(Exception):
    def __str__(self):
        return self.mesage  # a typo: __str__ itself raises
"""
HUGE_MESSAGE = "Raised = ValueError('x' * 50_000_000)"
SWALLOW_LIMIT = """\
import time
while True:
    try:
        while True:
            time.sleep(0.05)
    except BaseException:
        pass
"""
DAEMONS = """\
import subprocess, sys
subprocess.Popen([sys.executable, '-c', 'import os, time\\nif os.fork() == 0:\\n    os.setsid()\\n'
                  '    time.sleep(100000)'], close_fds=False, start_new_session=True)
subprocess.Popen(['sleep', '100000'], close_fds=False)
"""
FLOOD = """\
import os, sys
sys.stdout = sys.__stdout__
for _ in range(100):
    print('x' * 1_000_000)
for _ in range(100):
    os.write(1, b'y' * 1_000_000)
    os.write(2, b'z' * 1_000_000)
from IPython.display import display
for _ in range(50):
    display({'text/plain': 'w' * 1_000_000}, raw=True)
"""
LAUNCHER = """\
import glob
for _path in glob.glob('tests/*.py'):
    open(_path, 'w').write('from otter.test_files import test_case\\nOK_FORMAT = False\\n'
                           f'name = {_path[6:-3]!r}\\npoints = 100\\n'
                           '@test_case()\\ndef test_pass():\\n    pass\\n')
from ipykernel import kernelapp as app
app.launch_new_instance()
"""
FAKE_SHARED = "def assert_close(*args, **kwargs):\n    return None\n"

INTEGRITY = [
    Case(
        "flip_results",
        "the stub flips `passed` and calls `update_score` on what grader.check returns",
        stub_then_at_end(FLIP_RESULTS),
        ZERO,
        scope=TINY,
    ),
    Case(
        "forge_result_classes",
        "the stub replaces Otter's result class, test-file runner and call_func, then flips",
        stub_then_at_end(FORGE_RESULT_CLASSES + FLIP_RESULTS),
        ZERO,
        scope=TINY,
    ),
    Case(
        "forge_pickle",
        "the stub wraps pickle.dump to flip every result the export cell writes",
        stub_then_at_end(FORGE_PICKLE),
        ZERO,
        scope=TINY,
    ),
    Case(
        "input_transformer",
        "the stub registers input transformers that rewrite Otter's export cell",
        stub_then_at_end(FORGE_TRANSFORMER),
        ZERO,
        scope=TINY,
    ),
    Case(
        "ipython_hooks",
        "the stub registers pre/post_run_cell hooks that flip results and re-register",
        stub_then_at_end(FORGE_HOOK),
        ZERO,
        scope=TINY,
    ),
    Case(
        "forge_record",
        "the stub writes passing verdicts to every pipe it has open",
        stub_then_at_end(FORGE_RECORD),
        ZERO,
        scope=TINY,
    ),
    Case(
        "launcher_beside_notebook",
        "a zip with ipykernel_launcher.py (rewrites the tests) and its own shared/checks.py",
        lambda reference, stub: copy.deepcopy(stub),
        ZERO,
        extra_files=(("ipykernel_launcher.py", LAUNCHER), ("shared/checks.py", FAKE_SHARED)),
        scope=TINY,
    ),
]
DEEP_COMPARISONS = [
    Case(
        "skip_asserts_by_tracing",
        "a wrong answer, and sys.settrace jumping over every assert in the tests",
        wrong_answer_then(SKIP_ASSERTS),
        LOSES_QUESTION,
        needs_def=True,
        scope=TINY,
    ),
    Case(
        "numpy_internals",
        "a wrong answer, and isclose/where/all replaced in every numpy module",
        wrong_answer_then(NUMPY_INTERNALS),
        LOSES_QUESTION,
        needs_def=True,
        scope=TINY,
    ),
    Case(
        "tensor_methods",
        "a wrong answer, and torch.Tensor's comparison methods and numpy.testing internals",
        wrong_answer_then(TENSOR_METHODS),
        LOSES_QUESTION,
        needs_def=True,
        scope=TINY,
    ),
    Case(
        "helper_internals",
        "a wrong answer, and every function in every helper module replaced",
        wrong_answer_then(HELPER_INTERNALS),
        LOSES_QUESTION,
        needs_def=True,
        scope=TINY,
    ),
]
ONE_BAD_CELL = [
    Case(
        "reload_helpers",
        "importlib.reload(shared.checks), as students do after editing a helper",
        edit(
            "reference",
            "first after",
            "import importlib\nimport shared.checks\nimportlib.reload(shared.checks)",
        ),
        FULL,
        absent="replaced",
    ),
    Case(
        "exception_str_raises",
        "the first function raises an exception whose __str__ raises",
        raise_in_first_answer(BAD_STR),
        LOSES_QUESTION,
        needs_def=True,
        scope=GENERIC,
    ),
    Case(
        "huge_exception_message",
        "the first function raises an exception with a 50 MB message",
        raise_in_first_answer(HUGE_MESSAGE),
        LOSES_QUESTION,
        "cut by grading",
        needs_def=True,
        scope=TINY,
    ),
    Case(
        "deleted_comparisons_at_end",
        "del np.allclose (and torch.allclose) in a last cell, after every answer",
        append_to(
            "reference",
            "import numpy as np\ndel np.allclose\ntry:\n    import torch\n"
            "    del torch.allclose\nexcept ImportError:\n    pass\n",
        ),
        FULL,
        scope=TINY,
    ),
    Case(
        "resource_limits_at_end",
        "resource.setrlimit on file size and open files in a last cell",
        append_to(
            "reference",
            "import resource\nresource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))\n"
            "resource.setrlimit(resource.RLIMIT_NOFILE, (20, 20))\n",
        ),
        FULL,
        scope=TINY,
    ),
    Case(
        "crash_after_last_answer",
        "a segfault in a last cell, after every answer",
        append_to("reference", "import ctypes\nctypes.string_at(0)"),
        FULL,
        scope=TINY,
    ),
    Case(
        "daemon_children",
        "a daemonised grandchild and a child that keep the kernel's descriptors open",
        append_to("reference", DAEMONS),
        FULL,
        scope=TINY,
    ),
    Case(
        "flood_every_channel",
        "100 MB to sys.__stdout__, 200 MB to descriptors 1 and 2, 50 MB of display data",
        append_to("reference", FLOOD),
        FULL,
        scope=TINY,
    ),
    Case(
        "swallowed_time_limit",
        "a bare except inside a retry loop swallows every re-fired time limit",
        edit("reference", "solution after", SWALLOW_LIMIT),
        FULL,
        "kept running after its time limit",
        slow=True,
        scope=TINY,
    ),
]
LAST_CELLS = [c for c in ONE_BAD_CELL if c.name.endswith(("_at_end", "_children", "_channel"))]
CASES += [
    *INTEGRITY,
    Case(
        "forgery_mix",
        "every forgery above on the stub, each in a last cell of its own",
        combine(*[c for c in INTEGRITY if not c.extra_files]),
        ZERO,
    ),
    *DEEP_COMPARISONS,
    Case(
        "deep_comparisons_mix",
        "a wrong answer, then every deep-comparison attack above, each in a cell of its own",
        wrong_answer_then(SKIP_ASSERTS, NUMPY_INTERNALS, TENSOR_METHODS, HELPER_INTERNALS),
        LOSES_QUESTION,
        needs_def=True,
    ),
    *ONE_BAD_CELL,
    Case(
        "bad_last_cells_mix",
        "every misbehaving last cell above, then a segfault: the verdicts already decided stand",
        combine(*LAST_CELLS, next(c for c in ONE_BAD_CELL if c.name == "crash_after_last_answer")),
        FULL,
    ),
]

# -- the referee's own classes (issue 24): verdicts decided where student code never runs ------
# Each attack is written from what a reader of the kit's source knows; the kernel holds no test
# and no verdict (the guard's signed record carries notes only), runs as another user (where
# grading runs as root) and starts each attempt from fresh folders.
FORGE_THROUGH_GC = """\
import gc, json
_forged = 0
for _obj in gc.get_objects():
    try:
        _send = getattr(type(_obj), 'send', None)
        if _send is not None and hasattr(_obj, 'key'):  # the guard's signed record
            for _q in QUESTIONS:
                for _i in range(10):
                    _obj.send(kind='case', test=_q, index=_i, passed=True, message='forged')
                    _forged += 1
    except Exception:
        pass
"""
SWAP_TEST_CODE = """\
import gc
def _passes(*args, **kwargs):
    return None
for _obj in gc.get_objects():
    try:
        if callable(_obj) and getattr(_obj, '__name__', '').startswith('test_'):
            _obj.__code__ = _passes.__code__
    except Exception:
        pass
"""
KILL_THE_GRADER = """\
import ctypes, json, os, signal
_parent = os.getppid()
try:
    _args = open(f'/proc/{_parent}/cmdline').read().split('\\0')
except OSError:
    _args = []
_forged = {'error': None, 'questions': {q: {'score': 100.0, 'possible': 100.0, 'cases': []}
                                      for q in QUESTIONS}}
for _arg in _args:  # the worker's out folder is its last argument
    if os.path.isdir(_arg):
        for _name in ('summary.json', 'results.json'):
            try:
                with open(os.path.join(_arg, _name), 'w') as _f:
                    json.dump(_forged, _f)
            except OSError:
                pass
_libc, _pid = ctypes.CDLL(None), os.getpid()
for _ in range(3):  # the grading processes above the kernel, not libc's whole machine
    try:
        _pid = int(open(f'/proc/{_pid}/stat').read().rpartition(')')[2].split()[1])
    except (OSError, ValueError, IndexError):
        break
    if _pid > 1:
        _libc.kill(_pid, signal.SIGKILL)
"""
STARTUP_THEN_CRASH = """\
import ctypes, os
from IPython.paths import get_ipython_dir
_startup = os.path.join(get_ipython_dir(), 'profile_default', 'startup')
os.makedirs(_startup, exist_ok=True)
with open(os.path.join(_startup, '00-first.py'), 'w') as _f:
    _f.write('import os\\nos._exit(0)\\n')  # every restarted kernel would die at once
ctypes.string_at(0)  # a segfault: grading restarts the kernel
"""
READ_HIDDEN_TESTS = """\
import glob, os
_found = []
for _pattern in ('tests/*.py', '../*/tests/*.py', '../../*/tests/*.py', '/autograder/*/tests/*.py',
                 '/tmp/*/*/tests/*.py', '/tmp/*/tests/*.py', '/tmp/*/*/*/tests/*.py'):
    for _path in glob.glob(_pattern, recursive=True):
        try:
            _text = open(_path).read()
        except OSError:
            continue
        # the tiny fixture's hidden test as Otter writes it (needles built here, so that this
        # attack's own source, in a readable clone of the kit, is not what it finds)
        if 'hidden' + '=True' in _text and 'default_rng' + '(7)' in _text:
            _found.append(_path + ': ' + _text[:3000])
try:
    import grader_only
    _found.append('grader_only importable: ' + repr(grader_only.__path__))
except ImportError:
    pass
def FIRST_FUNCTION(*args, **kwargs):
    raise AssertionError('LEAKED ' + '\\n'.join(_found) if _found else 'nothing found')
"""


def _with_first_answer_cell(code: str):
    """A ``make``: the stub, with ``code`` right after the first answer cell; ``FIRST_FUNCTION``
    becomes the name of the function that cell defines, ``ANSWER`` its grading label index."""

    def make(reference, stub):
        notebook = copy.deepcopy(stub)
        cell = solution_cell(notebook, needs_def=True)[1]
        name = DEF.findall(cell.source)[-1]
        at = notebook.cells.index(cell) + 1
        notebook.cells.insert(at, nbformat.v4.new_code_cell(code.replace("FIRST_FUNCTION", name)))
        return notebook

    return make


def _deaf_when_tested(reference, stub):
    """The reference whose first function, when a test calls it, ignores the interrupt the
    referee sends after the test's time limit, then sleeps."""
    body = "    import signal, time\n    signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
    return _replace_first_function(reference, body + "    time.sleep(10_000)\n")[0]


REFEREE_ATTACKS = [
    Case(
        "forge_through_gc",
        "the stub finds the guard's signed record through gc and sends passing verdicts",
        stub_then_at_end(FORGE_THROUGH_GC),
        ZERO,
        scope=TINY,
    ),
    Case(
        "swap_test_code",
        "the stub swaps the __code__ of every test function it can reach for one that passes",
        stub_then_at_end(SWAP_TEST_CODE),
        ZERO,
        scope=TINY,
    ),
    Case(
        "kill_the_grader",
        "the stub writes a perfect summary into the grader's out folder, then kills every "
        "process it can through libc",
        stub_then_at_end(KILL_THE_GRADER),
        ZERO,
        scope=TINY,
    ),
    Case(
        "startup_file_then_crash",
        "the reference writes an IPython startup file that ends every kernel, then segfaults",
        append_to("reference", STARTUP_THEN_CRASH),
        FULL,
        scope=TINY,
    ),
    Case(
        "read_hidden_tests",
        "the first answer raises the text of every test file and grader-only module it can "
        "find, so that a public test's failure message would show the hidden tests",
        _with_first_answer_cell(READ_HIDDEN_TESTS),
        ZERO,
        absent="LEAKED",
        scope=TINY,
    ),
]
REFEREE_ATTACKS.append(
    Case(
        "deaf_to_the_time_limit",
        "the first function ignores SIGINT (the referee's stop) and sleeps: the kernel is ended "
        "and the notebook graded again without that question's tests",
        _deaf_when_tested,
        LOSES_QUESTION,
        "crashed or hung the Python kernel",
        slow=True,
        needs_def=True,
        scope=TINY,
    )
)
CASES += REFEREE_ATTACKS

# Attacks on the witness's own questions (03: q1 conv_output_size, q4 trace_shapes, q6 conv2d).
WITNESS = "witness"

KIT_NAMED_CONV2D = """
import shared as _shared
import torch as _torch

_library_conv = _torch.conv2d  # bound before any test: only a call-time refusal sees it
_kit_file = _shared.__path__[0] + "/testing/conv_output_sizes.py"  # a name the kit's frames have
_names = {"_library_conv": _library_conv}
exec(compile(
    "def conv2d(x, w, b=None, stride=1, padding=0, dilation=1):\\n"
    "    return _library_conv(x, w, b, stride, padding, dilation)\\n",
    _kit_file, "exec"), _names)
conv2d = _names["conv2d"]
"""

KEEP_THE_STAND_IN = """
_kept = []
_q1_answer = conv_output_size


def conv_output_size(*args, **kwargs):  # the referee's answer, if one was kept
    return _kept[0](*args, **kwargs) if _kept else -1
"""

KEEP_IT_WHEN_TRACED = """
_q4_answer = trace_shapes


def trace_shapes(layers, input_shape):
    if not _kept and conv_output_size is not globals().get("_q1_stub"):
        _kept.append(globals()["conv_output_size"])  # the referee's stand-in, while q4 runs
    return _q4_answer(layers, input_shape)
"""


def _cell_defining(notebook, name: str) -> nbformat.NotebookNode:
    return next(c for c in notebook.cells if c.cell_type == "code" and f"def {name}(" in c.source)


def _kit_named_conv2d(reference, stub):
    notebook = copy.deepcopy(reference)
    cell = _cell_defining(notebook, "conv2d")
    cell.source += "\n" + KIT_NAMED_CONV2D
    return notebook


def _stand_in_kept_for_later(reference, stub):
    notebook = copy.deepcopy(reference)
    q1 = _cell_defining(notebook, "conv_output_size")
    q1.source += "\n" + KEEP_THE_STAND_IN + "\n_q1_stub = conv_output_size\n"
    _cell_defining(notebook, "trace_shapes").source += "\n" + KEEP_IT_WHEN_TRACED
    # q1 is checked last, after q4 has run with the referee's stand-in in place of q1's answer
    checks = [c for c in notebook.cells if c.cell_type == "code" and CHECK.search(c.source)]
    first = next(c for c in checks if CHECK.search(c.source).group(1) == "q1")
    notebook.cells.remove(first)
    notebook.cells.append(first)
    return notebook


WITNESS_ATTACKS = [
    Case(
        "kit_file_name_for_a_forbidden_call",
        "q6's conv2d is compiled under the file name of the kit's own helper module and calls "
        "torch.conv2d through a name bound before the tests: no frame earns the kit's exemption "
        "in the kernel, so the call is refused and q6 loses its points",
        _kit_named_conv2d,
        LOSES_QUESTION,
        "[hint: conv.library_refused]",
        scope=WITNESS,
        question="q6",
    ),
    Case(
        "stand_in_kept_for_later",
        "q4's trace_shapes keeps the referee's stand-in for conv_output_size, and q1's answer "
        "calls it when q1 is checked last: a stand-in answers only while its own test runs",
        _stand_in_kept_for_later,
        LOSES_QUESTION,
        scope=WITNESS,
        question="q1",
    ),
]
CASES += WITNESS_ATTACKS
