# Setup: run this cell first. It installs the grader if this Python lacks it (a fresh Colab
# runtime does), finds this assignment's files, and creates `grader`, which checks your work:
# `grader.check("q1")` runs the public tests of question 1. It also sets torch to one thread
# (fastest for these small networks; see the README).
import subprocess
import sys
import zipfile
from pathlib import Path

try:
    import otter
except ModuleNotFoundError:
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "otter-grader==$otter_version"], check=True
    )
    import otter

if not (Path("tests").is_dir() and Path("shared").is_dir()):
    # On Colab, upload $student_zip (Files pane, into /content): this unpacks it.
    archives = sorted(Path(".").glob("$name-student*.zip")) + sorted(
        Path("/content").glob("$name-student*.zip")
    )
    if not archives:
        raise FileNotFoundError(
            "This notebook needs the folders tests/ and shared/ from $student_zip beside it. "
            "Unzip the whole archive and open the notebook from inside the folder, or on Colab "
            "upload $student_zip and run this cell again."
        )
    with zipfile.ZipFile(archives[0]) as archive:
        for member in archive.infolist():
            relative = Path(*Path(member.filename).parts[1:])  # drop the top-level folder
            if member.is_dir() or not relative.parts:
                continue
            relative.parent.mkdir(parents=True, exist_ok=True)
            relative.write_bytes(archive.read(member))

grader = otter.Notebook("$notebook")

import shared.notebook  # noqa: E402  (shared/ is in place only now)

shared.notebook.explain_stub_errors()  # a cell broken by an unfinished stub says so
shared.notebook.install_check_display()  # grader.check says when a claim was not judged
shared.notebook.use_one_thread()  # small networks: one thread is fastest, as in grading
