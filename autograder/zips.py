"""Reproducible zip archives: the same inputs give byte-identical zips.

Entries are sorted, dated 1980-01-01 (the zip epoch), stored with fixed permissions (0644, or
0755 for scripts Gradescope executes) and compressed with a fixed level; caches and notebook
checkpoints never enter an archive.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable
from pathlib import Path

FIXED_DATE = (1980, 1, 1, 0, 0, 0)
EXECUTABLE = {"run_autograder", "setup.sh"}
SKIPPED_PARTS = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache", ".DS_Store"}


def is_packaged(path: Path) -> bool:
    """Whether a file belongs in an archive (no caches, no bytecode)."""
    return not (SKIPPED_PARTS & set(path.parts)) and path.suffix not in {".pyc", ".pyo"}


def tree_entries(folder: Path, prefix: str = "") -> dict[str, bytes]:
    """``{archive name: bytes}`` for every packaged file under ``folder``."""
    entries = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if path.is_file() and is_packaged(relative):
            entries[f"{prefix}{relative.as_posix()}"] = path.read_bytes()
    return entries


def zip_entries(archive: Path) -> dict[str, bytes]:
    """``{archive name: bytes}`` of an existing zip, without caches."""
    with zipfile.ZipFile(archive) as zf:
        return {
            info.filename: zf.read(info)
            for info in zf.infolist()
            if not info.is_dir() and is_packaged(Path(info.filename))
        }


def write_zip(destination: Path, entries: dict[str, bytes] | Iterable[tuple[str, bytes]]) -> Path:
    """Write ``entries`` to ``destination`` reproducibly (atomically: a temp file, then rename)."""
    items = sorted(dict(entries).items())
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, data in items:
            info = zipfile.ZipInfo(name, date_time=FIXED_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # unix, so the permission bits below are honoured
            mode = 0o755 if Path(name).name in EXECUTABLE else 0o644
            info.external_attr = (0o100000 | mode) << 16
            zf.writestr(info, data, compresslevel=9)
    partial.replace(destination)
    return destination
