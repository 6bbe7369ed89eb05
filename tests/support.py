"""Loading an assignment's grader-only module in the kit's tests.

Every assignment has its own ``grader_only`` folder, so importing them through ``sys.path`` lets
the first one imported hide the others. Each module is loaded here from its file, under a name
of its own.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

from autograder.catalog import SOLUTIONS


def load_grader_only(assignment: str, module: str) -> ModuleType:
    """``solutions/ASSIGNMENT/grader_only/MODULE.py``, imported as a module of its own."""
    name = f"grader_only_{assignment}_{module}"
    if name in sys.modules:
        return sys.modules[name]
    path = SOLUTIONS / assignment / "grader_only" / f"{module}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[name] = loaded
    spec.loader.exec_module(loaded)
    return loaded
