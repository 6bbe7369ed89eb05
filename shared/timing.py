"""Measuring wall-clock time of a block of code, e.g. to compare how long two models train.

Example::

    with stopwatch() as clock:
        train(model)
    print(f"trained in {clock.seconds:.1f} s")
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass
class Clock:
    """Elapsed seconds of a :func:`stopwatch` block: running while inside, fixed after it."""

    start: float
    end: float | None = None

    @property
    def seconds(self) -> float:
        return (self.end if self.end is not None else time.perf_counter()) - self.start


@contextmanager
def stopwatch() -> Iterator[Clock]:
    """Time the ``with`` block with ``time.perf_counter``; read ``.seconds`` during or after."""
    clock = Clock(time.perf_counter())
    try:
        yield clock
    finally:
        clock.end = time.perf_counter()
