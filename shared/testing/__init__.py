"""Test logic of the assignments, one module per topic (``shared.testing.<topic>``).

Case generators, comparison helpers and diagnosers (which hint a failure deserves) that the
public and hidden tests of a master call with different inputs, so the two cannot drift. These
modules ship in the student zip: they hold no answer to a graded question and no hidden input
(those live in each assignment's ``grader_only/`` folder, shipped in the autograder zip alone).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any


@contextlib.contextmanager
def substitute(namespace: dict, **objects: Any) -> Iterator[None]:
    """Bind ``objects`` in ``namespace`` (a notebook's globals) for the duration of the block.

    Tests of a later question run with the earlier questions' functions replaced by referees,
    so that a mistake in an earlier question does not cost the later one as well. Names that
    were missing are removed again on exit, the others restored, also when the block raises.
    """
    missing = object()
    saved = {name: namespace.get(name, missing) for name in objects}
    namespace.update(objects)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is missing:
                namespace.pop(name, None)
            else:
                namespace[name] = value
