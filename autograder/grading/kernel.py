"""The student's kernel, started sandboxed for each attempt (the first and every restart).

Each attempt gets a folder of its own, made by the grading process::

    attempt-N/            owned by the grading user, mode 0755: the kernel cannot add to it
      kernel.json         the kernel's connection file (readable by the kernel, nothing more)
      home/               the kernel's HOME, IPython, Jupyter, Matplotlib and cache folders
      work/               the kernel's working folder: a copy of what the notebook may read
      channel/            where the kernel may open the pipes grading gave it

Where grading runs as root (Gradescope's container, CI) the kernel runs as an unprivileged user
(``nobody`` unless ``GRADING_KERNEL_USER`` names another) through ``setpriv`` with no new
privileges: it cannot signal the grading processes, write their files or read the folders they
keep for themselves (``chmod 700``). A kernel started for a later attempt starts from a new
folder, so nothing a crashed kernel wrote (an IPython startup file, a changed helper module) is
run again. Without root (an instructor's own account) the folders are fresh as well, but the
kernel runs as the same user: ``sandboxed()`` says which, and the grading notes say so.
"""

from __future__ import annotations

import os
import pwd
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

USER_VARIABLE = "GRADING_KERNEL_USER"
DEFAULT_USER = "nobody"
HOME_VARIABLES = {  # relative to the attempt's home folder
    "HOME": ".",
    "IPYTHONDIR": ".ipython",
    "JUPYTER_CONFIG_DIR": ".jupyter",
    "JUPYTER_DATA_DIR": ".local/share/jupyter",
    "JUPYTER_RUNTIME_DIR": ".local/share/jupyter/runtime",
    "MPLCONFIGDIR": ".config/matplotlib",
    "XDG_CACHE_HOME": ".cache",
    "XDG_CONFIG_HOME": ".config",
    "TMPDIR": "tmp",
}
# Variables a kernel never inherits: they could point it at files of the grading user.
DROPPED_VARIABLES = ("PYTHONSTARTUP", "PYTHONUSERBASE", "JUPYTER_PATH", "IPYTHON_DIR")


@dataclass(frozen=True)
class KernelUser:
    uid: int
    gid: int
    name: str


def kernel_user() -> KernelUser | None:
    """The unprivileged user the kernel runs as, or None where grading cannot switch users
    (not root, no ``setpriv``, or no such user)."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or shutil.which("setpriv") is None:
        return None
    name = os.environ.get(USER_VARIABLE, DEFAULT_USER)
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return None
    if entry.pw_uid == 0:
        return None
    return KernelUser(entry.pw_uid, entry.pw_gid, name)


def sandboxed() -> tuple[bool, str]:
    """(whether the kernel runs as another user, a sentence saying how or why not)."""
    user = kernel_user()
    if user is not None:
        return True, f"the kernel runs as the unprivileged user {user.name!r}"
    if hasattr(os, "geteuid") and os.geteuid() != 0:
        return False, "grading is not running as root, so the kernel runs as the grading user"
    return False, "no `setpriv` or no unprivileged user here, so the kernel runs as root"


@dataclass(frozen=True)
class Attempt:
    """The folders of one attempt (see the module's docstring)."""

    root: Path
    user: KernelUser | None

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def work(self) -> Path:
        return self.root / "work"

    @property
    def channel(self) -> Path:
        return self.root / "channel"

    @property
    def connection_file(self) -> Path:
        return self.root / "kernel.json"

    def give(self, path: Path) -> None:
        """Make ``path`` (and what is below it) the kernel user's."""
        if self.user is None:
            return
        for where in [path, *path.rglob("*")] if path.is_dir() else [path]:
            os.lchown(where, self.user.uid, self.user.gid)


def make_attempt(parent: Path, number: int, source: Path, *, exclude: set[str]) -> Attempt:
    """Folders for attempt ``number`` under ``parent``; ``work/`` is a copy of ``source`` (the
    submission folder) without the entries named in ``exclude`` (the tests, grader-only code)."""
    user = kernel_user()
    parent.mkdir(parents=True, exist_ok=True)
    os.chmod(parent, 0o755)
    root = parent / f"attempt-{number}"
    root.mkdir(mode=0o755)
    attempt = Attempt(root, user)
    for folder in (attempt.home, attempt.work, attempt.channel):
        folder.mkdir(mode=0o700)
    for relative in HOME_VARIABLES.values():
        (attempt.home / relative).mkdir(parents=True, exist_ok=True)
    for entry in source.iterdir():
        if entry.name in exclude or entry.is_symlink():
            continue
        target = attempt.work / entry.name
        if entry.is_dir():
            shutil.copytree(entry, target, symlinks=False, ignore_dangling_symlinks=True)
        elif entry.is_file():
            shutil.copy2(entry, target)
    for folder in (attempt.home, attempt.work, attempt.channel):
        attempt.give(folder)
    return attempt


def kernel_environment(attempt: Attempt, base: dict[str, str] | None = None) -> dict[str, str]:
    """The kernel's environment: the grading one with every per-user folder in the attempt's
    home, and nothing that would make Python or IPython read the grading user's files."""
    env = dict(os.environ if base is None else base)
    for name in DROPPED_VARIABLES:
        env.pop(name, None)
    for name, relative in HOME_VARIABLES.items():
        env[name] = str((attempt.home / relative).resolve())
    if attempt.user is not None:
        env["USER"] = env["LOGNAME"] = attempt.user.name
    env["PYTHONNOUSERSITE"] = "1"
    return env


def wrap_command(command: list[str], user: KernelUser | None) -> list[str]:
    """``command`` run as ``user`` (no new privileges, no supplementary groups)."""
    if user is None:
        return list(command)
    return [
        shutil.which("setpriv") or "setpriv",
        f"--reuid={user.uid}",
        f"--regid={user.gid}",
        "--clear-groups",
        "--no-new-privs",
        "--",
        *command,
    ]


def kernel_manager_class(attempt: Attempt):
    """A jupyter_client kernel manager that starts the kernel for ``attempt``: its connection
    file in the attempt folder, its environment from ``kernel_environment``, run as the
    attempt's user."""
    from jupyter_client.manager import AsyncKernelManager

    class SandboxedKernelManager(AsyncKernelManager):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.connection_file = str(attempt.connection_file)

        def write_connection_file(self, **kwargs):
            written = super().write_connection_file(**kwargs)
            os.chmod(self.connection_file, 0o644)  # the kernel reads it; it is the kernel's key
            return written

        def format_kernel_cmd(self, extra_arguments=None):
            command = super().format_kernel_cmd(extra_arguments)
            if command and Path(command[0]).name.startswith("python"):
                command[0] = sys.executable
            return wrap_command(command, attempt.user)

        async def _async_pre_start_kernel(self, **kw):
            kw["env"] = kernel_environment(attempt, kw.get("env"))
            kw["cwd"] = str(attempt.work)
            return await super()._async_pre_start_kernel(**kw)

    return SandboxedKernelManager


def kernel_pid(manager) -> int | None:
    """The kernel process's id (``setpriv`` execs the kernel, so it is the same process)."""
    provisioner = getattr(manager, "provisioner", None)
    process = getattr(provisioner, "process", None)
    return getattr(process, "pid", None)
