"""The grading guard that runs inside the kernel executing a submission.

``otter_plugin.GradingGuard`` inserts this module's source as the first cell of every graded
notebook, before any student code, and calls ``install``. From then on:

- **the verdict leaves the kernel at once.** Each test case's outcome is written, the moment it
  is decided, to a pipe that the grading process reads (``record_path``: a FIFO the guard opens
  and unlinks before any student code runs), each line signed with a key read from a file that
  is deleted at the same moment. The grading process computes the score from that record alone;
  what ``grader.check`` returns, Otter's results pickle and every object in the kernel are for
  display only. Tests are compiled from sources read at install, and called through references
  captured then, so no name a notebook can rebind lies between a test's call and its record;
- every cell has a time limit (``cell_timeout``) and every test case one of its own
  (``test_timeout``); the limit re-fires every 2 s if swallowed, and after ``MAX_REFIRES`` the
  guard ends its own kernel (the plugin then grades on from the record);
- ``os._exit``, ``os.abort``, IPython's ``exit()`` and signals a notebook sends to its own
  kernel raise an exception instead of ending the kernel; any exception a test provokes fails
  that test case only, and a failure message is built without trusting the exception (an
  ``__str__`` that raises, a 50 MB message) and capped;
- output is capped per cell on ``sys.stdout``/``sys.stderr``, on ``sys.__stdout__`` and
  ``sys.__stderr__``, on the kernel's file descriptors 1 and 2 and on display data;
- every attribute of the modules tests rely on (numpy, torch, math, builtins, the helper
  package, the tests' own globals, and the classes they define) is snapshotted before student
  code runs, put back before each test file, and compared after each test case: a case that ran
  with anything replaced fails and the report names it. Reloading a helper module from its
  unchanged file is not a replacement;
- tracing and profiling hooks are off while a test runs, and IPython hooks and input
  transformers a notebook registers are removed after each cell;
- a test whose parameter names something the notebook never defined fails with a message
  saying so, instead of calling ``None``.

Noteworthy events go to the same record; the last cell or test started is written to a progress
file so that, if the kernel dies anyway, the plugin can grade again without it.

Code in the kernel can still reach the guard's own objects (see the README's "What grading
withstands"): what the guard guarantees is that a test's verdict, once recorded, cannot change.
"""

# This file is executed as a cell: it must stay self-contained (stdlib, plus whatever of otter,
# numpy, torch and the helper package is importable), and define nothing in the student's
# namespace (the plugin runs it in a namespace of its own).

import builtins
import hashlib
import hmac
import importlib
import inspect
import json
import operator
import os
import re
import signal
import sys
import threading
import time
import traceback

# The guard's own names for every builtin, bound now: a notebook that replaces ``builtins.all``
# (say) changes what its own code calls, not what the guard calls.
globals().update({name: getattr(builtins, name) for name in dir(builtins) if name[:1] != "_"})
_sys_modules = sys.modules
_is = operator.is_
_isfunction, _ismodule = inspect.isfunction, inspect.ismodule
_STARTED = time.time()
_CWD = os.path.join(os.getcwd(), "")
LIBRARY_ROOTS = tuple(
    sorted({os.path.join(os.path.realpath(p), "") for p in (sys.prefix, sys.base_prefix)})
    + sorted({os.path.join(p, "") for p in (sys.prefix, sys.base_prefix)})
)

CELL_LABEL = re.compile(r"^# graded-cell (\d+)\s*$", re.M)
# Every loaded module under these packages, and the classes they define, is snapshotted.
TRUSTED_PACKAGES = frozenset(
    "numpy torch scipy sklearn math cmath builtins operator functools itertools random "
    "statistics collections copy shared".split()
)
# Parts of torch that set themselves up lazily, patching their own classes on first use, and
# that no test compares with: left out of the snapshot (their changes are not tampering).
UNTRUSTED_NOISE = (
    "torch._C._distributed",
    "torch.distributed",
    "torch.compiler",
    "torch._dynamo",
    "torch._inductor",
    "torch.fx",
    "torch._export",
    "torch.export",
    "torch.onnx",
    "torch._functorch",
    "torch._higher_order_ops",
    "torch._subclasses",
    "torch._library",
    "torch._prims",
    "torch._refs",
    "torch._decomp",
    "torch.utils._sympy",
    "torch.testing._internal",
)
MAX_REFIRES = 3  # a swallowed time limit fires this many more times, then the kernel is ended
REFIRE_SECONDS = 2.0
MESSAGE_LIMIT = 4_000  # characters of a failure message kept
DISPLAY_LIMIT = 1_000_000  # bytes of display data per cell
FD_LIMIT = 1_000_000  # bytes written to the kernel's file descriptors 1 and 2, in all
IMMUTABLE_TYPE = 1 << 8  # Py_TPFLAGS_IMMUTABLETYPE: such a class cannot be patched


class TimeLimitExceeded(BaseException):
    """Raised by the grader's timer; a BaseException so that ``except Exception`` cannot hide it."""


class KernelExitBlocked(SystemExit):
    """Raised instead of ending the kernel."""


def _safe_text(value, limit=MESSAGE_LIMIT):
    """``str(value)`` cut to ``limit`` characters, or a stand-in when ``__str__`` itself fails."""
    try:
        text = str.__str__(value) if type(value) is str else str(value)
        if type(text) is not str:
            raise TypeError
    except BaseException:  # noqa: BLE001 -- a student's __str__ may raise anything
        try:
            text = f"<{type(value).__name__} whose message could not be shown>"
        except BaseException:  # noqa: BLE001
            text = "<a message that could not be shown>"
    if len(text) > limit:
        text = text[:limit] + f"... [{len(text) - limit:,} more characters cut by grading]"
    return text


def _equivalent(old, new):
    """Whether ``new`` is what reloading ``old``'s unchanged module gives (same code)."""
    if old is new:
        return True
    try:
        if _isfunction(old) and _isfunction(new):
            return old.__code__ == new.__code__ and old.__module__ == new.__module__
        if isinstance(old, type) and isinstance(new, type):
            if (old.__module__, old.__qualname__) != (new.__module__, new.__qualname__):
                return False
            if set(old.__dict__) != set(new.__dict__):
                return False
            return all(
                not _isfunction(value) or _equivalent(value, new.__dict__[name])
                for name, value in old.__dict__.items()
            )
        if type(old) is type(new) and isinstance(old, (int, float, str, bytes, tuple, frozenset)):
            return bool(old == new)
        return type(old).__name__ in ("ModuleSpec", "SourceFileLoader") and type(old) is type(new)
    except BaseException:  # noqa: BLE001
        return False


class _Snapshot:
    """The attributes of trusted modules and classes as they were before student code ran."""

    def __init__(self):
        self.entries = []  # [owner, label, is_class, keys, values]
        self.seen = set()
        self.modules = {}  # sys.modules entries of trusted modules

    def take(self, extra_namespaces=()):
        for name, module in list(_sys_modules.items()):
            if (
                module is not None
                and name.partition(".")[0] in TRUSTED_PACKAGES
                and not name.startswith(UNTRUSTED_NOISE)
            ):
                self.modules.setdefault(name, module)
                self.add(module, name, False)
        for label, namespace in extra_namespaces:
            self.add(namespace, label, False)

    def add(self, owner, label, is_class):
        if id(owner) in self.seen:
            return
        self.seen.add(id(owner))
        try:
            namespace = owner if isinstance(owner, dict) else vars(owner)
        except TypeError:
            return
        self.entries.append([owner, label, is_class, list(namespace), list(namespace.values())])
        for value in list(namespace.values()):
            if (
                isinstance(value, type)
                and not value.__flags__ & IMMUTABLE_TYPE
                and str(getattr(value, "__module__", "")).partition(".")[0] in TRUSTED_PACKAGES
                and not str(getattr(value, "__module__", "")).startswith(UNTRUSTED_NOISE)
            ):
                self.add(value, f"{getattr(value, '__module__', '')}.{value.__qualname__}", True)

    def restore(self):
        """Put back every replaced or deleted attribute; returns the names replaced."""
        replaced = []
        is_ = _is
        for name, module in self.modules.items():
            if _sys_modules.get(name) is not module:
                _sys_modules[name] = module
                replaced.append(f"sys.modules[{name!r}]")
        for entry in self.entries:
            owner, label, is_class, keys, values = entry
            namespace = owner if isinstance(owner, dict) else owner.__dict__
            if len(namespace) == len(keys) and all(map(is_, namespace.values(), values)):
                continue
            for key, value in zip(keys, values, strict=True):
                current = namespace.get(key, _MISSING)
                if current is value:
                    continue
                if current is not _MISSING and (
                    not _guarded(key, value, owner)
                    or _equivalent(value, current)
                    or _library_code(current, key)
                ):
                    continue  # used state, a reload, or the library's own lazy set-up
                replaced.append(f"{label}.{key}")
                self.put(owner, namespace, key, value)
            if is_class:
                known = set(keys)
                added = [k for k in namespace if k not in known]
                for key in added:
                    value = namespace[key]
                    if _guarded(key, value, owner) and not _library_code(value, key):
                        replaced.append(f"{label}.{key}")
                        try:
                            delattr(owner, key)
                        except BaseException:  # noqa: BLE001
                            pass
            entry[3], entry[4] = list(namespace), list(namespace.values())
        return replaced

    @staticmethod
    def put(owner, namespace, key, value):
        try:
            if isinstance(owner, dict):
                owner[key] = value
            else:
                setattr(owner, key, value)
        except BaseException:  # noqa: BLE001
            try:
                namespace[key] = value
            except BaseException:  # noqa: BLE001
                pass


_MISSING = object()


# Builtins that IPython and ipykernel themselves rebind around every cell (input forwarding,
# the exit trap, display hooks): changing them is not tampering.
KERNEL_BUILTINS = frozenset(
    "input raw_input getpass exit quit get_ipython display copyright credits license help".split()
)


def _library_code(value, key):
    """Whether ``value`` is a function named ``key`` (or a descriptor of one) from an installed
    library file that has not changed since the guard started: what numpy and torch set up
    lazily (an optimizer's ``step`` hook, say). Code from the notebook, from a file written since,
    or a library function of another name put in this one's place, is not."""
    for attribute in ("__func__", "fget"):
        value = getattr(value, attribute, None) or value
    code = getattr(value, "__code__", None)
    if code is None or not _isfunction(value) or value.__name__ != key:
        return False
    path = code.co_filename
    if not path.startswith(LIBRARY_ROOTS) or path.startswith(_CWD):
        return False
    try:
        return os.stat(path).st_mtime <= _STARTED
    except OSError:
        return False


def _guarded(key, value, owner=None):
    """Whether changing this attribute can change a verdict: functions, classes, modules,
    descriptors and public constants are; a library's private state (caches, counters) is not."""
    if owner is builtins and key in KERNEL_BUILTINS:
        return False
    if callable(value) or hasattr(value, "__get__") or _ismodule(value):
        return True
    public = not str(key).startswith("_")
    return public and isinstance(value, (bool, int, float, complex, str, bytes, tuple))


class _Record:
    """The signed, append-only channel to the grading process (a pipe it reads)."""

    def __init__(self, path, key_path):
        self.fd = None
        self.key = b""
        self.sequence = 0
        self._write, self._new, self._dumps = os.write, hmac.new, json.dumps
        self._sha256 = hashlib.sha256
        self._lock = threading.Lock()
        if key_path:
            with open(key_path, "rb") as f:
                self.key = f.read()
            os.unlink(key_path)
        if path:
            self.fd = os.open(path, os.O_WRONLY)
            os.unlink(path)  # from now on only this descriptor reaches the grading process

    def send(self, **entry):
        if self.fd is None:
            return
        with self._lock:
            self.sequence += 1
            entry["seq"] = self.sequence
            body = self._dumps(entry, ensure_ascii=True)
            mac = self._new(self.key, body.encode(), self._sha256).hexdigest()
            data = (body + "\t" + mac + "\n").encode()
            try:
                while data:
                    data = data[self._write(self.fd, data) :]
            except OSError:
                pass


class _Guard:
    def __init__(self, config):
        self.cell_timeout = float(config["cell_timeout"])
        self.test_timeout = float(config["test_timeout"])
        self.output_limit = int(config["output_limit"])
        self.progress_path = config["progress_path"]
        self.cell_questions = {int(k): v for k, v in config.get("cell_questions", {}).items()}
        self.skip_tests = set(config.get("skip_tests", []))
        self.record = _Record(config.get("record_path"), config.get("key_path"))
        self.current_cell = None
        self.timer_owner = None
        self.refires = 0
        self.results = []
        self.tests = {}  # normalised path -> (test file, [(case, parameters)])
        self.snapshot = _Snapshot()
        self.display_bytes = 0
        # Captured now: a notebook may replace or delete any of these later.
        self._setitimer, self._signal, self._getsignal = (
            signal.setitimer,
            signal.signal,
            signal.getsignal,
        )
        self._kill, self._getpid, self._monotonic = os.kill, os.getpid, time.monotonic
        self._settrace, self._setprofile = sys.settrace, sys.setprofile
        self._threading_settrace, self._threading_setprofile = (
            threading.settrace,
            threading.setprofile,
        )
        self._walk_tb, self._normpath, self._abspath = (
            traceback.walk_tb,
            os.path.normpath,
            os.path.abspath,
        )

    # -- reporting ---------------------------------------------------------------------------
    def report(self, **event):
        self.record.send(kind="event", **event)

    def progress(self, text):
        try:
            with open(self.progress_path, "w", encoding="utf-8") as f:
                f.write(text)
        except BaseException:  # noqa: BLE001 -- a notebook may limit file sizes or descriptors
            pass

    def question_of_cell(self, label):
        return self.cell_questions.get(label, "")

    # -- timers ------------------------------------------------------------------------------
    def on_alarm(self, signum, frame):
        owner = self.timer_owner
        if owner is None:
            return
        kind, name, limit = owner
        self.refires += 1
        if self.refires > MAX_REFIRES + 1:
            # The stop was swallowed again and again: end the kernel. What was recorded stands,
            # and the plugin grades the rest without this cell or test.
            try:
                self.report(event="limit_swallowed", of=kind, name=name, cell=self.current_cell)
            finally:
                self._kill(self._getpid(), signal.SIGKILL)
        self._setitimer(signal.ITIMER_REAL, REFIRE_SECONDS)
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
        self.refires = 0
        self._signal(signal.SIGALRM, self.on_alarm)
        self._setitimer(signal.ITIMER_REAL, limit)

    def disarm(self):
        self._setitimer(signal.ITIMER_REAL, 0)
        self.timer_owner = None

    # -- cells -------------------------------------------------------------------------------
    def pre_run_cell(self, info):
        match = CELL_LABEL.search(getattr(info, "raw_cell", "") or "")
        self.current_cell = int(match.group(1)) if match else None
        if self.current_cell is not None:
            self.progress(f"cell {self.current_cell}")
        self.stdout.reset()
        self.stderr.reset()
        self.display_bytes = 0
        replaced = self.otter_snapshot.restore()
        if replaced:
            self.report(event="tampering", replaced=replaced, when="before a cell", cell=None)
        if self.current_cell is not None:
            self.arm("cell", self.question_of_cell(self.current_cell), self.cell_timeout)
        elif self._getsignal(signal.SIGALRM) != self.on_alarm:
            self._signal(signal.SIGALRM, self.on_alarm)

    def post_run_cell(self, result):
        timed_out = isinstance(getattr(result, "error_in_exec", None), TimeLimitExceeded)
        self.disarm()
        self.remove_student_hooks()
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

    # -- IPython hooks ---------------------------------------------------------------------------
    def capture_hooks(self, shell):
        self.shell = shell
        self.hooks = None
        if shell is None:
            return
        events = shell.events
        self.hooks = {
            "events": events,
            "callbacks": {name: list(funcs) for name, funcs in events.callbacks.items()},
            "lists": {
                name: list(getattr(shell, name))
                for name in ("input_transformers_post", "ast_transformers")
                if isinstance(getattr(shell, name, None), list)
            },
            "cleanup": list(shell.input_transformer_manager.cleanup_transforms),
            "line": list(shell.input_transformer_manager.line_transforms),
            "token": list(shell.input_transformer_manager.token_transformers),
            "manager": shell.input_transformer_manager,
        }

    def remove_student_hooks(self):
        """Keep only the hooks and input transformers that existed before student code ran."""
        hooks, shell = self.hooks, self.shell
        if not hooks:
            return
        try:
            shell.events = hooks["events"]
            for name, funcs in hooks["callbacks"].items():
                shell.events.callbacks[name] = list(funcs)
            for name, funcs in hooks["lists"].items():
                setattr(shell, name, list(funcs))
            manager = shell.input_transformer_manager = hooks["manager"]
            manager.cleanup_transforms = list(hooks["cleanup"])
            manager.line_transforms = list(hooks["line"])
            manager.token_transformers = list(hooks["token"])
        except BaseException:  # noqa: BLE001
            pass

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
        own_group = os.getpgid(0)

        def kill(pid, sig):
            if pid in own or pid == -own_group:
                return blocked(f"os.kill({pid}, {sig})")()
            return real_kill(pid, sig)

        def killpg(pgid, sig):
            if pgid in (0, own_group):
                return blocked(f"os.killpg({pgid}, {sig})")()
            return real_killpg(pgid, sig)

        os.kill, os.killpg = kill, killpg
        if shell is not None:
            shell.ask_exit = blocked("exit()")

    # -- integrity ---------------------------------------------------------------------------
    def check_integrity(self, when):
        """Put back whatever a submission replaced; returns what was replaced."""
        self.snapshot.take()  # trusted modules first imported since: from their own files
        replaced = self.snapshot.restore()
        if replaced:
            self.report(
                event="tampering", replaced=replaced[:20], when=when, cell=self.current_cell
            )
        return replaced

    # -- tests -------------------------------------------------------------------------------
    def load_tests(self, test_dir):
        """Compile every test file now, before student code can delete, edit or patch one."""
        from otter.test_files.exception_test import ExceptionTestFile

        if not os.path.isdir(test_dir):
            return
        for name in sorted(os.listdir(test_dir)):
            path = os.path.join(test_dir, name)
            if not (name.endswith(".py") and os.path.isfile(path)):
                continue
            with open(path, encoding="utf-8") as f:
                source = f.read()
            test_file = ExceptionTestFile.from_string(source, path=path)
            cases = []
            for case in test_file.test_cases:
                function = case.body.test_func
                parameters = tuple(inspect.signature(function).parameters)
                cases.append((case, function, parameters))
            self.tests[self.key_of(path)] = (test_file, cases)

    def key_of(self, path):
        return self._normpath(self._abspath(str(path)))

    def globals_of_tests(self):
        namespaces = []
        for test_file, cases in self.tests.values():
            for _, function, _ in cases:
                namespaces.append((f"the tests of {test_file.name}", function.__globals__))
        return namespaces

    def display_copy(self, test_file, outcomes):
        """A fresh results object for display: changing it changes nothing that is graded."""
        from otter.test_files.abstract_test import TestCaseResult

        shown = type(test_file)(
            test_file.name, test_file.path, list(test_file.test_cases), test_file.all_or_nothing
        )
        shown.source = getattr(test_file, "source", "")
        shown.test_case_results = [
            TestCaseResult(test_case=case, message=message, passed=passed)
            for case, passed, message in outcomes
        ]
        return shown

    def run_tests(self, path, global_environment):
        """Run one test file and record each case's verdict; returns a display copy."""
        loaded = self.tests.get(self.key_of(path))
        if loaded is None:
            return None  # not a test of this assignment: nothing is graded from it
        test_file, cases = loaded
        self.progress(f"test {test_file.name}")
        saved_timer = self.timer_owner
        remaining = self._setitimer(signal.ITIMER_REAL, 0)[0] if saved_timer else 0.0
        started = self._monotonic()
        outcomes = []
        try:
            self.check_integrity(f"before the tests of {test_file.name}")
            for index, (case, function, parameters) in enumerate(cases):
                try:
                    passed, message = self.run_case(
                        test_file, case, function, parameters, global_environment
                    )
                except BaseException as exc:  # noqa: BLE001 -- never lose a verdict
                    passed, message = False, "❌ Test case failed\n" + _safe_text(exc)
                self.record.send(
                    kind="case",
                    test=test_file.name,
                    index=index,
                    case=case.name,
                    passed=bool(passed),
                    message=_safe_text(message),
                )
                outcomes.append((case, passed, message))
        finally:
            self.disarm()
            if saved_timer:
                left = max(0.05, remaining - (self._monotonic() - started))
                self.timer_owner = saved_timer
                self._setitimer(signal.ITIMER_REAL, left)
            self.progress(f"cell {self.current_cell}")
        shown = self.display_copy(test_file, outcomes)
        self.results = [t for t in self.results if t.path != shown.path] + [shown]
        return shown

    def run_case(self, test_file, case, function, parameters, global_environment):
        if test_file.name in self.skip_tests:
            return False, (
                f"❌ Test case failed\nThe tests of {test_file.name} crashed or hung the Python "
                "kernel when graded (a segfault, running out of memory, or code that broke Python "
                "itself), so they were not run again and score 0. Run them in your notebook to "
                "find out why."
            )
        missing = [p for p in parameters if p != "env" and p not in global_environment]
        if missing:
            names = ", ".join(f"`{p}`" for p in missing)
            return False, (
                f"❌ Test case failed\n{names} is not defined in your notebook. Did you delete, "
                "rename or skip the cell that defines it? Run every cell in order, top to bottom."
            )
        arguments = {
            p: global_environment if p == "env" else global_environment.get(p) for p in parameters
        }
        self.arm("test", test_file.name, self.test_timeout)
        error = outcome = None
        try:
            self._settrace(None)
            self._setprofile(None)
            outcome = function(**arguments)
        except BaseException as exc:  # noqa: BLE001 -- a test must not end grading
            error = exc
        finally:
            self.disarm()
            self._settrace(None)
            self._setprofile(None)
        # A notebook's tracer is not put back: it could rewrite a test's frames.
        replaced = self.check_integrity(f"while {case.name} ran")
        if replaced:
            shown = ", ".join(replaced[:10]) + (" ..." if len(replaced) > 10 else "")
            return False, (
                f"❌ Test case failed\nWhile this test ran, the code it called replaced "
                f"{shown}. The originals were put back and this test scores 0."
            )
        if error is None:
            # A gated claim returns shared.testing.NotJudged when an earlier question fails: it
            # keeps its points (that question has lost them) and says it was not judged. Only
            # the test's own return statement can produce it.
            if isinstance(outcome, str) and type(outcome).__name__ == "NotJudged":
                return True, "✅ " + _safe_text(str.__str__(outcome), 500)
            return True, "✅ Test case passed"
        return False, "❌ Test case failed\n" + self.describe(test_file, error)

    def describe(self, test_file, error):
        try:
            line_number = None
            path = self._normpath(test_file.path)
            for frame, number in self._walk_tb(error.__traceback__):
                if self._normpath(frame.f_code.co_filename) == path:
                    line_number = number
        except BaseException:  # noqa: BLE001
            line_number = None
        if line_number is not None:
            lines = getattr(test_file, "source", "").split("\n")
            line = lines[line_number - 1].strip() if 0 < line_number <= len(lines) else ""
            where = f"Error at line {line_number} in test {test_file.name}:\n  {line}\n"
        else:
            where = f"Error in test {test_file.name}:\n"
        try:
            kind = type(error).__name__
        except BaseException:  # noqa: BLE001
            kind = "Exception"
        return _safe_text(f"{where}{_safe_text(kind, 200)}: {_safe_text(error).strip(chr(39))}")

    def install_checker(self):
        from otter.execute import checker as checker_module

        guard = self
        Checker = checker_module.Checker
        currentframe = inspect.currentframe

        def check(cls, nb_or_test_path, nbmeta_config=None, test_name=None, global_env=None):
            if global_env is None:
                global_env = currentframe().f_back.f_globals
            return guard.run_tests(nb_or_test_path, global_env)

        def check_if_not_already_checked(cls, test_path, global_env=None):
            key = guard.key_of(test_path)
            if any(guard.key_of(t.path) == key for t in guard.results):
                return None
            if global_env is None:
                global_env = currentframe().f_back.f_globals
            return guard.run_tests(test_path, global_env)

        def get_results(cls):
            return list(guard.results)

        Checker.check = classmethod(check)
        Checker.check_if_not_already_checked = classmethod(check_if_not_already_checked)
        Checker.get_results = classmethod(get_results)
        # What Otter's export cell calls: put back before every cell, since a replaced Checker
        # would run no tests at all (they would score 0, but the notes should say why).
        import otter.execute

        self.otter_snapshot = _Snapshot()
        self.otter_snapshot.add(Checker, "Checker", True)
        self.otter_snapshot.add(otter.execute, "otter.execute", False)


class _LimitedStream:
    """A stdout/stderr that drops what a cell prints past a byte limit, with one notice."""

    def __init__(self, stream, limit):
        self._stream, self._limit = stream, limit
        self.written = self.dropped = 0

    def reset(self):
        self.written = 0

    def write(self, text):
        try:
            size = len(text.encode("utf-8", "replace")) if isinstance(text, str) else len(text)
        except BaseException:  # noqa: BLE001
            size = 0
        if self.written >= self._limit:
            self.dropped += size
            return len(text)
        self.written += size
        if self.written >= self._limit:
            self._stream.write(
                f"\n[grading: output of this cell cut after {self._limit:,} bytes]\n"
            )
            return len(text)
        return self._stream.write(text)

    def __getattr__(self, name):
        return getattr(self._stream, name)


def _cap_descriptors(limit):
    """Route the kernel's descriptors 1 and 2 through a pipe that passes ``limit`` bytes."""
    try:
        read_end, write_end = os.pipe()
        original = os.dup(1)
    except OSError:
        return
    read, write = os.read, os.write

    def forward():
        passed = 0
        while True:
            try:
                data = read(read_end, 65536)
            except OSError:
                return
            if not data:
                return
            if passed < limit:
                chunk = data[: limit - passed]
                passed += len(chunk)
                try:
                    write(original, chunk)
                    if passed >= limit:
                        write(original, b"\n[grading: further output to descriptors 1 and 2 cut]\n")
                except OSError:
                    pass

    threading.Thread(target=forward, name="grading-output-cap", daemon=True).start()
    os.dup2(write_end, 1)
    os.dup2(write_end, 2)
    os.close(write_end)


def _cap_display(guard, shell):
    publisher = getattr(shell, "display_pub", None)
    publish = getattr(publisher, "publish", None)
    if publish is None:
        return

    def capped(data, *args, **kwargs):
        try:
            size = sum(len(v) if isinstance(v, (str, bytes)) else 100 for v in data.values())
        except BaseException:  # noqa: BLE001
            size = 0
        guard.display_bytes += size
        if guard.display_bytes > DISPLAY_LIMIT:
            guard.report(event="output_truncated", cell=guard.current_cell, bytes=size)
            return None
        return publish(data, *args, **kwargs)

    publisher.publish = capped


def _helper_modules():
    """Every module of the helper package: tests may import them inside a test function, and
    what is first imported after student code ran could already be patched."""
    import pkgutil

    try:
        package = importlib.import_module("shared")
    except BaseException:  # noqa: BLE001
        return []
    return [
        info.name
        for info in pkgutil.walk_packages(package.__path__, "shared.")
        if not info.name.rpartition(".")[2].startswith(("_", "plotting"))
    ]


def install(config):
    """Start guarding this kernel; called once, before any student code runs."""
    guard = _Guard(config)
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:
        shell = None
    # The kernel starts in the submission folder, which Python no longer puts first on sys.path
    # (PYTHONSAFEPATH, so that nothing there ran before this cell); notebooks import from it.
    if "" not in sys.path and os.getcwd() not in sys.path[:1]:
        sys.path.insert(0, os.getcwd())
    _cap_descriptors(FD_LIMIT)
    guard.stdout = sys.stdout = _LimitedStream(sys.stdout, guard.output_limit)
    guard.stderr = sys.stderr = _LimitedStream(sys.stderr, guard.output_limit)
    sys.__stdout__, sys.__stderr__ = guard.stdout, guard.stderr
    guard.load_tests(config.get("test_dir", "tests"))
    for module_name in ("numpy.testing", "torch.testing", *_helper_modules()):
        try:
            importlib.import_module(module_name)
        except BaseException:  # noqa: BLE001 -- not every assignment has each of them
            pass
    guard.install_checker()
    guard.snapshot.take(guard.globals_of_tests())
    guard.block_exits(shell)
    signal.signal(signal.SIGALRM, guard.on_alarm)
    if shell is not None:
        _cap_display(guard, shell)
        shell.events.register("pre_run_cell", guard.pre_run_cell)
        shell.events.register("post_run_cell", guard.post_run_cell)
    guard.capture_hooks(shell)
    guard.report(event="installed", tests=sorted(t.name for t, _ in guard.tests.values()))
    return guard
