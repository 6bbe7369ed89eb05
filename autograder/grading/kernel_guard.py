"""The grading guard that runs inside the kernel executing a submission.

``otter_plugin.GradingGuard`` inserts this module's source as the first cell of every graded
notebook, before any student code, and calls ``install``. It decides no verdict and holds no
test: every test runs in the referee (``autograder.grading``), in the grading process, and a
test's outcome never passes through the kernel. What the guard adds is the notebook's own
robustness, so that one bad cell costs as little as possible:

- every cell has a time limit (``cell_timeout``); the limit re-fires every 2 s if swallowed, and
  after ``MAX_REFIRES`` the guard ends its own kernel (the plugin then grades again without that
  cell). The grading side keeps limits of its own (the executor's backstop, the referee's
  per-call limit), which hold whatever the kernel does;
- ``os._exit``, ``os.abort``, IPython's ``exit()`` and signals a notebook sends to its own
  kernel raise an exception instead of ending the kernel;
- output is capped per cell on ``sys.stdout``/``sys.stderr``, on ``sys.__stdout__`` and
  ``sys.__stderr__``, on the kernel's file descriptors 1 and 2 and on display data;
- IPython hooks and input transformers a notebook registers are removed after each cell (they
  would run inside the cells the referee sends);
- Otter's checks do nothing in the kernel (its folder holds no test): the referee judges each
  ``grader.check`` from the grading process.

What happens is reported as events on a signed record (``record_path``: a FIFO the grading
process reads, opened and unlinked here before any student code runs, each line signed with a
key read from a file deleted at the same moment); the plugin turns them into grading notes (a
cell stopped by its time limit, a blocked exit, output cut). The record carries notes only:
code in the kernel can reach the guard's objects and add lines, which at worst adds a note.
"""

# This file is executed as a cell: it must stay self-contained (stdlib, plus otter and IPython),
# and define nothing in the student's namespace (the plugin runs it in a namespace of its own).

import builtins
import hashlib
import hmac
import json
import os
import re
import signal
import sys
import threading

# The guard's own names for every builtin, bound now: a notebook that replaces ``builtins.len``
# (say) changes what its own code calls, not what the guard calls.
globals().update({name: getattr(builtins, name) for name in dir(builtins) if name[:1] != "_"})

CELL_LABEL = re.compile(r"^# graded-cell (\d+)\s*$", re.M)
MAX_REFIRES = 3  # a swallowed time limit fires this many more times, then the kernel is ended
REFIRE_SECONDS = 2.0
DISPLAY_LIMIT = 1_000_000  # bytes of display data per cell
FD_LIMIT = 1_000_000  # bytes written to the kernel's file descriptors 1 and 2, in all


class TimeLimitExceeded(BaseException):
    """Raised by the grader's timer; a BaseException so that ``except Exception`` cannot hide it."""


class KernelExitBlocked(SystemExit):
    """Raised instead of ending the kernel."""


class _Record:
    """The signed, append-only channel of events to the grading process (a pipe it reads)."""

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
        self.output_limit = int(config["output_limit"])
        self.cell_questions = {int(k): v for k, v in config.get("cell_questions", {}).items()}
        self.record = _Record(config.get("record_path"), config.get("key_path"))
        self.current_cell = None
        self.timer_owner = None  # (question, limit) of the cell whose limit is armed
        self.refires = 0
        self.display_bytes = 0
        # Captured now: a notebook may replace or delete any of these later.
        self._setitimer, self._signal, self._getsignal = (
            signal.setitimer,
            signal.signal,
            signal.getsignal,
        )
        self._kill, self._getpid = os.kill, os.getpid

    # -- reporting ---------------------------------------------------------------------------
    def report(self, **event):
        self.record.send(kind="event", **event)

    def question_of_cell(self, label):
        return self.cell_questions.get(label, "")

    # -- timers ------------------------------------------------------------------------------
    def on_alarm(self, signum, frame):
        owner = self.timer_owner
        if owner is None:
            return
        question, limit = owner
        self.refires += 1
        if self.refires > MAX_REFIRES + 1:
            # The stop was swallowed again and again: end the kernel. The plugin grades the
            # notebook again without this cell.
            try:
                self.report(
                    event="limit_swallowed", of="cell", name=question, cell=self.current_cell
                )
            finally:
                self._kill(self._getpid(), signal.SIGKILL)
        self._setitimer(signal.ITIMER_REAL, REFIRE_SECONDS)
        where = f" (question {question})" if question else ""
        raise TimeLimitExceeded(
            f"Grading stopped this cell after the {limit:g} s limit for one cell{where}. "
            "What the cell had not defined yet is missing, so tests that need it fail; the "
            "rest of the notebook is graded as usual. Look for an endless loop or work that "
            "is far too slow."
        )

    def arm(self, question, limit):
        self.timer_owner = (question, limit)
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
        self.stdout.reset()
        self.stderr.reset()
        self.display_bytes = 0
        if self.current_cell is not None:
            self.arm(self.question_of_cell(self.current_cell), self.cell_timeout)
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

    # -- Otter's checks ------------------------------------------------------------------------
    @staticmethod
    def quiet_checks():
        """Make Otter's checks do nothing here: the kernel's folder holds no test (Otter would
        raise "Test q1 does not exist" in every check cell), and the referee judges each check
        from the grading process."""
        from otter.execute import checker as checker_module

        def check(cls, *args, **kwargs):
            return None

        Checker = checker_module.Checker
        Checker.check = classmethod(check)
        Checker.check_if_not_already_checked = classmethod(check)
        Checker.get_results = classmethod(lambda cls: [])


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
    guard.quiet_checks()
    guard.block_exits(shell)
    signal.signal(signal.SIGALRM, guard.on_alarm)
    if shell is not None:
        _cap_display(guard, shell)
        shell.events.register("pre_run_cell", guard.pre_run_cell)
        shell.events.register("post_run_cell", guard.post_run_cell)
    guard.capture_hooks(shell)
    guard.report(event="installed")
    return guard
