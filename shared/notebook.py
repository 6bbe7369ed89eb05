"""Notebook conveniences: clear messages where an unfinished stub breaks a later cell.

A demonstration cell that uses a function you have not written yet fails deep inside
matplotlib or numpy (``'NoneType' object is not iterable``, ``'ellipsis' object is not
subscriptable``). :func:`explain_stub_errors` (run by each notebook's setup cell) makes such a
cell say what is going on first, then show the usual error.
"""

from __future__ import annotations

import re

STUB_SIGNS = re.compile(r"NoneType|ellipsis|must not be None|is not defined")
ADVICE = (
    "This cell uses something that is still unfinished: a function above returned None or "
    "`...` (its stub is not filled in yet), or a name is not defined because its cell has not "
    "run. Fill in the `...` of the questions above, run their cells, then run this cell again."
)


def looks_like_a_stub(error: BaseException) -> bool:
    """Whether ``error`` is what an unfinished stub typically causes further down."""
    return isinstance(error, (TypeError, AttributeError, ValueError, NameError)) and bool(
        STUB_SIGNS.search(str(error))
    )


def explain_stub_errors() -> bool:
    """In IPython, print :data:`ADVICE` above errors that look caused by an unfinished stub.

    Returns whether it was installed (False outside IPython). The error itself is still shown
    and still stops the cell, exactly as before.
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None:
        return False

    def handler(shell, kind, value, traceback, tb_offset=None):
        if looks_like_a_stub(value):
            print(f"Note: {ADVICE}")
        shell.showtraceback((kind, value, traceback), tb_offset=tb_offset)

    shell.set_custom_exc((TypeError, AttributeError, ValueError, NameError), handler)
    return True
