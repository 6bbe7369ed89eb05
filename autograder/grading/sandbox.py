"""A sandbox for grading one submission locally: bubblewrap, where it is installed.

``wrap`` puts a grading command inside ``bwrap`` (Debian's ``bubblewrap`` package): its own PID
namespace (every process the submission starts ends with it), no network, a private ``/tmp``, and
the whole file system read-only except the submission's own output folder. Where ``bwrap`` is
missing or cannot create namespaces here, ``available`` says why and grading runs without it: the
grading plugin still ends every process the kernel left behind, but a submission could then
write wherever the user who grades can.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import sys
from pathlib import Path

INSTALL_HINT = "install bubblewrap (Debian/Ubuntu: sudo apt-get install -y bubblewrap)"
PRIVATE_ENVIRONMENT = {  # writable places inside the sandbox, all under its private /tmp
    "HOME": "/tmp/home",
    "JUPYTER_RUNTIME_DIR": "/tmp/jupyter-runtime",
    "JUPYTER_DATA_DIR": "/tmp/jupyter-data",
    "IPYTHONDIR": "/tmp/ipython",
    "MPLCONFIGDIR": "/tmp/matplotlib",
    "XDG_CACHE_HOME": "/tmp/cache",
    "TMPDIR": "/tmp",
}


@functools.cache
def available() -> tuple[bool, str]:
    """(whether submissions can be sandboxed here, a sentence saying why not)."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return False, f"bwrap was not found; {INSTALL_HINT}"
    probe = subprocess.run(
        [*_arguments(bwrap, []), "true"], capture_output=True, text=True, timeout=30
    )
    if probe.returncode != 0:
        reason = probe.stderr.strip().splitlines()[-1:] or ["unknown error"]
        return False, f"bwrap cannot create a sandbox here ({reason[0]})"
    return True, ""


def wrap(command: list[str], writable: list[Path], readable: list[Path] = ()) -> list[str]:
    """``command`` run inside the sandbox, with only ``writable`` folders writable; ``readable``
    paths under ``/tmp`` (which the sandbox replaces with its own) are shown to it read-only."""
    bwrap = shutil.which("bwrap")
    assert bwrap is not None, INSTALL_HINT
    # The kit and its Python may live under /tmp too (a clone there): show them, read-only.
    kit = [Path(__file__).resolve().parents[2], Path(sys.prefix), Path(sys.base_prefix)]
    return [*_arguments(bwrap, writable, [*readable, *kit]), *command]


def _arguments(bwrap: str, writable: list[Path], readable: list[Path] = ()) -> list[str]:
    arguments = [
        bwrap,
        "--ro-bind", "/", "/",
        "--dev", "/dev",
        "--proc", "/proc",
        "--tmpfs", "/tmp",
        "--unshare-pid",
        "--unshare-net",
        "--unshare-ipc",
        "--die-with-parent",
        "--new-session",
    ]  # fmt: skip
    for path in readable:
        resolved = str(Path(path).resolve())
        arguments += ["--ro-bind", resolved, resolved]
    for folder in writable:
        resolved = str(Path(folder).resolve())
        arguments += ["--bind", resolved, resolved]
    for name, value in PRIVATE_ENVIRONMENT.items():
        arguments += ["--setenv", name, value]
    return [*arguments, "--"]
