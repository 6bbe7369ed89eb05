"""The grading guard that runs inside the kernel executing a submission.

``otter_plugin.GradingGuard`` inserts this module's source as the first cell of every graded
notebook, before any student code, and calls ``install``. From then on:

- every cell has a time limit (``cell_timeout``) and every test case one of its own
  (``test_timeout``); a cell or test past its limit is stopped with a message naming the
  question and the limit, and grading goes on;
- ``os._exit``, ``os.abort``, IPython's ``exit()`` and signals a notebook sends to its own
  kernel raise an exception instead of ending the kernel; any exception a test provokes,
  ``SystemExit`` and ``KeyboardInterrupt`` included, fails that test case only;
- output beyond ``output_limit`` bytes per cell is dropped, with one notice;
- tests are read once, before student code runs, so deleting or editing ``tests/`` changes
  nothing; results are kept where ``Checker``'s public list cannot forge them;
- comparison functions (numpy's, torch's, ``math.isclose``, the helper package's checks),
  core builtins and the modules holding them are recorded before student code runs, checked
  before and after every test case, and put back when a submission replaced them; the test
  case that ran with a replaced function fails and the report names what was replaced;
- a test whose parameter names something the notebook never defined fails with a message
  saying so, instead of calling ``None``.

Everything noteworthy is appended, as JSON lines, to a report file that the plugin reads after
grading; the last cell or test started is written to a progress file so that, if the kernel
dies anyway (a segfault, the out-of-memory killer), the plugin can grade again without it.

This is a guard against accidents and casual tampering, not a sandbox: code in the kernel can
reach these objects too (see the README's "What grading withstands").
"""

# This file is executed as a cell: it must stay self-contained (stdlib, plus whatever of otter,
# numpy, torch and the helper package is importable), and define nothing in the student's
# namespace (the plugin runs it in a namespace of its own).

import builtins
import importlib
import inspect
import json
import os
import re
import signal
import sys
import time
import traceback

CELL_LABEL = re.compile(r"^# graded-cell (\d+)\s*$", re.M)
CORE_BUILTINS = (
    "abs all any bool callable dict enumerate float getattr hasattr hash id int isinstance "
    "issubclass iter len list map max min next open print range repr round set setattr sorted "
    "str sum tuple type zip AssertionError BaseException Exception ValueError TypeError"
).split()
COMPARISONS = {
    "numpy": ["allclose", "isclose", "array_equal", "array_equiv", "all", "any", "abs", "max"],
    "numpy.testing": [
        "assert_allclose",
        "assert_array_equal",
        "assert_array_almost_equal",
        "assert_almost_equal",
        "assert_equal",
    ],
    "torch": ["allclose", "isclose", "equal", "all", "any", "abs", "max"],
    "torch.testing": ["assert_close"],
    "math": ["isclose"],
}
HELPER_MODULES = ("shared.checks", "shared.gradcheck", "shared.forbid")


class TimeLimitExceeded(BaseException):
    """Raised by the grader's timer; a BaseException so that ``except Exception`` cannot hide it."""


class KernelExitBlocked(SystemExit):
    """Raised instead of ending the kernel."""


class _Guard:
    def __init__(self, config):
        self.cell_timeout = float(config["cell_timeout"])
        self.test_timeout = float(config["test_timeout"])
        self.output_limit = int(config["output_limit"])
        self.report_path = config["report_path"]
        self.progress_path = config["progress_path"]
        self.cell_questions = {int(k): v for k, v in config.get("cell_questions", {}).items()}
        self.skip_tests = set(config.get("skip_tests", []))
        self.current_cell = None
        self.timer_owner = None
        self.recorded = {}
        self.modules = {}
        self.results = []
        self.test_sources = {}

    # -- reporting ---------------------------------------------------------------------------
    def report(self, **event):
        with open(self.report_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(event) + "\n")

    def progress(self, text):
        with open(self.progress_path, "w", encoding="utf-8") as f:
            f.write(text)

    def question_of_cell(self, label):
        return self.cell_questions.get(label, "")

    # -- timers ------------------------------------------------------------------------------
    def on_alarm(self, signum, frame):
        owner = self.timer_owner
        if owner is None:
            return
        kind, name, limit = owner
        # Fire again soon: code that swallows the exception is interrupted until it stops.
        signal.setitimer(signal.ITIMER_REAL, 2.0)
        if kind == "cell":
            where = f" (question {name})" if name else ""
            raise TimeLimitExceeded(
                f"Grading stopped this cell after the {limit:g} s limit for one cell{where}. "
                "What the cell had not defined yet is missing, so tests that need it fail; the "
                "rest of the notebook is graded as usual. Look for an endless loop or work that "
                "is far too slow."
            )
        raise TimeLimitExceeded(
            f"this test case ran past the {limit:g} s limit for one test of {name}: the code it "
            "calls loops forever or is far too slow."
        )

    def arm(self, kind, name, limit):
        self.timer_owner = (kind, name, limit)
        signal.signal(signal.SIGALRM, self.on_alarm)
        signal.setitimer(signal.ITIMER_REAL, limit)

    def disarm(self):
        signal.setitimer(signal.ITIMER_REAL, 0)
        self.timer_owner = None

    # -- cells -------------------------------------------------------------------------------
    def pre_run_cell(self, info):
        match = CELL_LABEL.search(getattr(info, "raw_cell", "") or "")
        self.current_cell = int(match.group(1)) if match else None
        if self.current_cell is not None:
            self.progress(f"cell {self.current_cell}")
        self.stdout.reset()
        self.stderr.reset()
        self.check_integrity("found when the next cell started")
        if self.current_cell is not None:
            self.arm("cell", self.question_of_cell(self.current_cell), self.cell_timeout)

    def post_run_cell(self, result):
        timed_out = isinstance(getattr(result, "error_in_exec", None), TimeLimitExceeded)
        self.disarm()
        if timed_out:
            self.report(
                event="cell_timeout",
                cell=self.current_cell,
                question=self.question_of_cell(self.current_cell),
                limit=self.cell_timeout,
            )
        for stream in (self.stdout, self.stderr):
            if stream.dropped:
                self.report(event="output_truncated", cell=self.current_cell, bytes=stream.dropped)
                stream.dropped = 0

    # -- exits -------------------------------------------------------------------------------
    def block_exits(self, shell):
        guard = self

        def blocked(what):
            def refuse(*args, **kwargs):
                guard.report(event="exit_blocked", what=what, cell=guard.current_cell)
                raise KernelExitBlocked(
                    f"{what} was called: grading does not let a notebook end its own kernel"
                )

            return refuse

        os._exit = blocked("os._exit()")
        os.abort = blocked("os.abort()")
        real_kill, real_killpg = os.kill, os.killpg
        own = {0, -1, os.getpid(), os.getppid()}

        def kill(pid, sig):
            if pid in own or pid == -os.getpgid(0):
                return blocked(f"os.kill({pid}, {sig})")()
            return real_kill(pid, sig)

        def killpg(pgid, sig):
            if pgid in (0, os.getpgid(0)):
                return blocked(f"os.killpg({pgid}, {sig})")()
            return real_killpg(pgid, sig)

        os.kill, os.killpg = kill, killpg
        if shell is not None:
            shell.ask_exit = blocked("exit()")

    # -- integrity ---------------------------------------------------------------------------
    def record(self):
        """Remember the comparison functions, builtins and modules tests rely on."""
        for module_name, names in COMPARISONS.items():
            try:
                module = importlib.import_module(module_name)
            except ImportError:
                continue
            self.modules[module_name] = module
            for name in names:
                if hasattr(module, name):
                    self.recorded[(module_name, name)] = (module, getattr(module, name))
        for name in CORE_BUILTINS:
            self.recorded[("builtins", name)] = (builtins, getattr(builtins, name))
        for module_name in HELPER_MODULES:
            try:
                module = importlib.import_module(module_name)
            except ImportError:
                continue
            self.modules[module_name] = module
            for name, value in vars(module).items():
                if callable(value) and not name.startswith("_"):
                    self.recorded[(module_name, name)] = (module, value)
        self.modules["builtins"] = builtins

    def record_class(self, owner, label, names):
        for name in names:
            self.recorded[(label, name)] = (owner, owner.__dict__[name])

    def check_integrity(self, when):
        """Put back whatever a submission replaced; returns what was replaced."""
        replaced = []
        for name, module in self.modules.items():
            if sys.modules.get(name) is not module:
                sys.modules[name] = module
                replaced.append(f"sys.modules[{name!r}]")
        for (label, name), (owner, original) in self.recorded.items():
            current = owner.__dict__.get(name) if isinstance(owner, type) else getattr(owner, name)
            if current is not original:
                setattr(owner, name, original)
                replaced.append(f"{label}.{name}")
        if signal.getsignal(signal.SIGALRM) != self.on_alarm and self.timer_owner is None:
            signal.signal(signal.SIGALRM, self.on_alarm)
        if replaced:
            self.report(event="tampering", replaced=replaced, when=when, cell=self.current_cell)
        return replaced

    # -- tests -------------------------------------------------------------------------------
    def load_tests(self, test_dir):
        """Read every test file now, before student code can delete or edit one."""
        if not os.path.isdir(test_dir):
            return
        for name in sorted(os.listdir(test_dir)):
            path = os.path.join(test_dir, name)
            if name.endswith(".py") and os.path.isfile(path):
                with open(path, encoding="utf-8") as f:
                    self.test_sources[os.path.normpath(os.path.abspath(path))] = f.read()

    def create_test_file(self, path, nbmeta_config=None, test_name=None):
        from otter.test_files.exception_test import ExceptionTestFile

        source = self.test_sources.get(os.path.normpath(os.path.abspath(path)))
        if source is None:
            return self.original_create_test_file(path, nbmeta_config, test_name=test_name)
        return ExceptionTestFile.from_string(source, path=path)

    def run_test_file(self, test_file, global_environment):
        from otter.test_files.abstract_test import TestCaseResult

        self.progress(f"test {test_file.name}")
        test_file.test_case_results = []
        self.check_integrity(f"before the tests of {test_file.name}")
        saved_timer = self.timer_owner
        remaining = signal.setitimer(signal.ITIMER_REAL, 0)[0] if saved_timer else 0.0
        started = time.monotonic()
        try:
            for case in test_file.test_cases:
                passed, message = self.run_case(test_file, case, global_environment)
                test_file.test_case_results.append(
                    TestCaseResult(test_case=case, message=message, passed=passed)
                )
        finally:
            self.disarm()
            if saved_timer:
                left = max(0.05, remaining - (time.monotonic() - started))
                self.timer_owner = saved_timer
                signal.setitimer(signal.ITIMER_REAL, left)
        self.progress(f"cell {self.current_cell}")

    def run_case(self, test_file, case, global_environment):
        if test_file.name in self.skip_tests:
            return False, (
                f"❌ Test case failed\nThe tests of {test_file.name} crashed or hung the Python "
                "kernel when graded (a segfault, running out of memory, or code that broke Python "
                "itself), so they were not run again and score 0. Run them in your notebook to "
                "find out why."
            )
        function = case.body.test_func
        parameters = list(inspect.signature(function).parameters)
        missing = [p for p in parameters if p != "env" and p not in global_environment]
        if missing:
            names = ", ".join(f"`{p}`" for p in missing)
            return False, (
                f"❌ Test case failed\n{names} is not defined in your notebook. Did you delete, "
                "rename or skip the cell that defines it? Run every cell in order, top to bottom."
            )
        self.arm("test", test_file.name, self.test_timeout)
        error = None
        try:
            case.body.call_func(global_environment)
        except BaseException as exc:  # a test must not end grading, whatever it provokes
            error = exc
        finally:
            self.disarm()
        replaced = self.check_integrity(f"while {case.name} ran")
        if replaced:
            return False, (
                f"❌ Test case failed\nWhile this test ran, the code it called replaced "
                f"{', '.join(replaced)}. The originals were put back and this test scores 0."
            )
        if error is None:
            return True, "✅ Test case passed"
        return False, "❌ Test case failed\n" + self.describe(test_file, error)

    def describe(self, test_file, error):
        line_number, line = None, ""
        for frame, number in traceback.walk_tb(error.__traceback__):
            if os.path.normpath(frame.f_code.co_filename) == os.path.normpath(test_file.path):
                line_number = number
        if line_number is not None:
            lines = getattr(test_file, "source", "").split("\n")
            line = lines[line_number - 1].strip() if 0 < line_number <= len(lines) else ""
            where = f"Error at line {line_number} in test {test_file.name}:\n  {line}\n"
        else:
            where = f"Error in test {test_file.name}:\n"
        text = str(error).strip("'")
        return f"{where}{type(error).__name__}: {text}"

    def install_checker(self):
        from otter.execute import checker as checker_module
        from otter.test_files.exception_test import ExceptionTestFile

        guard = self
        Checker = checker_module.Checker
        self.original_create_test_file = checker_module.create_test_file

        def run(test_file, global_environment):
            guard.run_test_file(test_file, global_environment)

        def check(cls, nb_or_test_path, nbmeta_config=None, test_name=None, global_env=None):
            test = guard.create_test_file(nb_or_test_path, nbmeta_config, test_name=test_name)
            if global_env is None:
                global_env = inspect.currentframe().f_back.f_globals
            guard.run_test_file(test, global_env)
            guard.results = [t for t in guard.results if t.path != test.path] + [test]
            return test

        def check_if_not_already_checked(cls, test_path, global_env=None):
            if any(
                t.path == os.path.normpath(test_path) or t.path == test_path for t in guard.results
            ):
                return None
            if global_env is None:
                global_env = inspect.currentframe().f_back.f_globals
            return cls.check(test_path, None, global_env=global_env)

        def get_results(cls):
            return list(guard.results)

        ExceptionTestFile.run = run
        Checker.check = classmethod(check)
        Checker.check_if_not_already_checked = classmethod(check_if_not_already_checked)
        Checker.get_results = classmethod(get_results)
        create_test_file = self.create_test_file  # one bound method, so identity checks hold
        checker_module.create_test_file = create_test_file
        self.record_class(ExceptionTestFile, "ExceptionTestFile", ["run"])
        self.record_class(
            Checker, "Checker", ["check", "check_if_not_already_checked", "get_results"]
        )
        self.recorded[("otter.execute.checker", "create_test_file")] = (
            checker_module,
            create_test_file,
        )


class _LimitedStream:
    """A stdout/stderr that drops what a cell prints past a byte limit, with one notice."""

    def __init__(self, stream, limit):
        self._stream, self._limit = stream, limit
        self.written = self.dropped = 0

    def reset(self):
        self.written = 0

    def write(self, text):
        size = len(text.encode("utf-8", errors="replace")) if isinstance(text, str) else len(text)
        if self.written >= self._limit:
            self.dropped += size
            return len(text)
        self.written += size
        if self.written >= self._limit:
            self._stream.write(
                f"\n[grading: output of this cell cut after {self._limit:,} bytes]\n"
            )
        return self._stream.write(text)

    def __getattr__(self, name):
        return getattr(self._stream, name)


def install(config):
    """Start guarding this kernel; called once, before any student code runs."""
    guard = _Guard(config)
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:
        shell = None
    guard.stdout = sys.stdout = _LimitedStream(sys.stdout, guard.output_limit)
    guard.stderr = sys.stderr = _LimitedStream(sys.stderr, guard.output_limit)
    guard.load_tests(config.get("test_dir", "tests"))
    guard.install_checker()
    guard.record()
    guard.block_exits(shell)
    signal.signal(signal.SIGALRM, guard.on_alarm)
    if shell is not None:
        shell.events.register("pre_run_cell", guard.pre_run_cell)
        shell.events.register("post_run_cell", guard.post_run_cell)
    return guard
