"""Warm starts for local gradings: a fork server that has already imported what a worker imports.

A grading process (``worker``) spends seconds importing Otter, nbconvert and torch before the
submission's first cell runs, and a local batch, ``verify`` or the kit's own tests pay that for
every notebook. Here one server process per caller imports those modules once and forks a worker
for each grading. The child is the process ``runner`` would have started: a session of its own,
the caller's environment, folder and output pipe, ``worker.main`` with the same arguments, so
kills, time limits, the subreaper and results are unchanged.

What a fork shares with the server and a fresh interpreter would not, and how it is made equal:

- modules imported at start: only Otter's, nbconvert's, Jupyter's, numpy's, torch's and the
  grading package's own, never the helper package (``shared``), which a grading must import from
  its own folder; nothing of a submission or an autograder zip is ever loaded in the server;
- state those imports read from the environment: the server is used only when a request's
  environment has the server's values of every variable read at an interpreter's or a
  library's start (``STARTUP_PREFIXES``: locale, threads, torch's switches...); any difference
  there starts a worker cold, and the worker gets the request's environment whole;
- caches: ``tempfile``'s folder is forgotten, numpy's global generator is reseeded from the
  system as at an interpreter's start (``random`` reseeds itself at fork);
- threads: a fork copies only the forking thread, so the server forks only while it is the only
  thread of its process, and otherwise answers "cold".

The server exits when its caller does. ``GRADING_WARM_START=0`` turns warm starts off; grading
in bubblewrap (``sandbox``), off Linux and on Gradescope (one grading per container) always
starts cold. The server is reached only through a socket pair it inherits from its caller (no
path another process could connect to), and runs as the grading user: where grading runs as
root the kernel's user cannot signal or trace it; without root the kernel runs as the grading
user and could, as it could reach every other process of that user already.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from .otter_plugin import GRADING_ENVIRONMENT, STARTED_VARIABLE, TIMEOUT_VARIABLE

SWITCH = "GRADING_WARM_START"
PER_GRADING = (TIMEOUT_VARIABLE, STARTED_VARIABLE, "TMPDIR")
PRELOAD = (
    "numpy",
    "torch",
    "nbformat",
    "nbconvert",
    "jupyter_client.manager",
    "otter.run",
    "otter.test_files.exception_test",
    "autograder.grading.worker",
    "autograder.grading.otter_plugin",
    "autograder.grading.referee",
    "autograder.grading.remote",
    "autograder.grading.wire",
    "autograder.grading.kernel",
)
MESSAGE_LIMIT = 1 << 20
READY_TIMEOUT = 120.0  # seconds a request waits for the server's answer (its imports included)


# Variables an interpreter or a preloaded library reads when it starts (locale, time zone,
# threads, allocators, torch's and numpy's switches): a worker whose environment differs from the
# server's in one of these starts cold. Others (a test's name, the kernel's user) are read when
# used, and the forked worker has the request's environment exactly.
STARTUP_PREFIXES = (
    "PYTHON", "LANG", "LC_", "TZ", "HOME", "PATH", "LD_", "MALLOC", "OMP_", "GOMP_", "KMP_",
    "MKL_", "OPENBLAS_", "NPY_", "NUMPY_", "TORCH", "PYTORCH_", "CUDA", "OTTER",
)  # fmt: skip


def _comparable(env: dict[str, str]) -> dict[str, str]:
    return {
        k: v
        for k, v in env.items()
        if k.startswith(STARTUP_PREFIXES) and k not in PER_GRADING and k not in GRADING_ENVIRONMENT
    }


class WarmProcess:
    """A worker forked by the server, with the parts of ``subprocess.Popen`` the runner uses."""

    def __init__(self, pid: int, connection: socket.socket, stdout):
        self.pid = pid
        self.stdout = stdout
        self.returncode: int | None = None
        self._connection = connection

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is not None:
            return self.returncode
        self._connection.settimeout(timeout)
        try:
            message = self._connection.recv(MESSAGE_LIMIT)
        except TimeoutError:
            raise subprocess.TimeoutExpired("warm worker", timeout) from None
        # An empty answer: the server died; the worker went with it (its session was killed).
        self.returncode = json.loads(message)["returncode"] if message else -signal.SIGKILL
        self._connection.close()
        return self.returncode


class WarmServer:
    """This process's fork server, started on first use (``start`` answers None for "cold").

    The server is reached through a socket pair it inherits, not a path: no other process can
    ask it for a worker, and it sees the end of its channel when this process ends."""

    def __init__(self):
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None
        self._control: socket.socket | None = None
        self._env: dict[str, str] | None = None
        self._registered = False

    @property
    def pid(self) -> int | None:
        """The server's process id, while it runs (its children are the warm workers)."""
        return None if self._process is None else self._process.pid

    def start(self, argv: list[str], env: dict[str, str]) -> WarmProcess | None:
        """Fork a worker running ``worker.main(argv)`` with ``env``; None where it must start
        cold (warm starts off, another environment, no server)."""
        if os.environ.get(SWITCH, "1") == "0" or not sys.platform.startswith("linux"):
            return None  # the server's checks (its threads, /proc) are Linux's
        wanted = _comparable(env)
        reading, writing = os.pipe()
        mine, its = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        answer = {"pid": None}
        try:
            with self._lock:
                if self._process is not None and self._process.poll() is not None:
                    self._stop()  # it died: this request starts another
                if self._process is None:
                    if wanted != _comparable(dict(os.environ)):
                        return None  # a server would start with this process's environment
                    self._spawn()
                if wanted != self._env:
                    return None
                request = json.dumps({"argv": argv, "env": env, "cwd": os.getcwd()}).encode()
                socket.send_fds(self._control, [request], [its.fileno(), writing])
            mine.settimeout(READY_TIMEOUT)
            answer = json.loads(mine.recv(MESSAGE_LIMIT) or b'{"pid": null}')
        except (OSError, ValueError):
            pass
        finally:
            its.close()
            os.close(writing)
            if answer.get("pid") is None:
                mine.close()
                os.close(reading)
        if answer.get("pid") is None:
            return None
        return WarmProcess(answer["pid"], mine, os.fdopen(reading, "rb"))

    def _spawn(self) -> None:
        self._control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        root = str(Path(__file__).resolve().parents[2])
        bootstrap = (
            "import sys; sys.path.insert(0, sys.argv.pop(1)); "
            "from autograder.grading.warm import serve; serve(int(sys.argv[1]), int(sys.argv[2]))"
        )
        self._env = _comparable(dict(os.environ))
        self._process = subprocess.Popen(
            [sys.executable, "-c", bootstrap, root, str(theirs.fileno()), str(os.getpid())],
            env={**os.environ, **GRADING_ENVIRONMENT},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=[theirs.fileno()],
            start_new_session=True,
        )
        theirs.close()  # requests queue in the pair until the server's imports are done
        if not self._registered:
            atexit.register(self.stop)
            self._registered = True

    def stop(self) -> None:
        with self._lock:
            self._stop()

    def _stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None
        if self._control is not None:
            self._control.close()
            self._control = None


SERVER = WarmServer()


def serve(control_fd: int, parent: int) -> None:
    """The server's loop: import, then fork a worker per request until the caller is gone."""
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)
    control = socket.socket(fileno=control_fd)
    selector = selectors.DefaultSelector()
    selector.register(control, selectors.EVENT_READ)
    children: dict[int, socket.socket] = {}
    open_channel = True
    while (open_channel and os.getppid() == parent) or children:
        for _key, _ in selector.select(timeout=0.05):
            try:
                message, fds, _, _ = socket.recv_fds(control, MESSAGE_LIMIT, 2)
            except OSError:
                message, fds = b"", []
            if not message:  # the caller is gone
                for fd in fds:
                    os.close(fd)
                selector.unregister(control)
                open_channel = False
                break
            if len(fds) != 2:
                for fd in fds:
                    os.close(fd)
                continue
            connection = socket.socket(fileno=fds[0])
            if select.select([connection], [], [], 0)[0]:  # the caller gave up on this request
                os.close(fds[1])
                connection.close()
                continue
            pid = _fork(message, fds[1], [selector, control, *children.values()], connection)
            try:
                connection.send(json.dumps({"pid": pid}).encode())
            except OSError:  # nobody waits for this worker (and the caller may start it cold)
                if pid is not None:
                    os.kill(pid, signal.SIGKILL)
            if pid is None:
                connection.close()
            else:
                children[pid] = connection
        _reap(children)


def _reap(children: dict[int, socket.socket]) -> None:
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        connection = children.pop(pid, None)
        if connection is not None:
            try:
                connection.send(
                    json.dumps({"returncode": os.waitstatus_to_exitcode(status)}).encode()
                )
            except OSError:
                pass
            connection.close()


def _fork(message: bytes, output: int, server_parts: list, connection) -> int | None:
    try:
        request = json.loads(message)
    except ValueError:
        os.close(output)
        return None
    if len(os.listdir("/proc/self/task")) != 1:
        os.close(output)
        return None  # only a single-threaded process forks safely: the caller starts cold
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        os.close(output)
        return pid
    code = 1
    try:
        for part in [*server_parts, connection]:
            part.close()
        code = _become_worker(request, output)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # noqa: BLE001 -- reported on the worker's output, as a cold start would
        import traceback

        traceback.print_exc()
    finally:
        try:  # what an interpreter's exit does: wait for its threads, run its exit functions
            threading._shutdown()
            atexit._run_exitfuncs()
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _become_worker(request: dict, output: int) -> int:
    os.setsid()
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(output, 1)
    os.dup2(output, 2)
    os.close(output)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    tempfile.tempdir = None  # computed anew from this grading's TMPDIR
    import importlib

    import numpy

    numpy.random.seed()  # as a fresh interpreter's: from the system, not the server's draw
    importlib.invalidate_caches()
    sys.argv = ["-c", *request["argv"]]
    from autograder.grading.worker import main

    return main(request["argv"])
