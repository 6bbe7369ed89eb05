"""Instructor tooling for the assignment suite: build, verify, grade and benchmark.

One module per verb (``build``, ``verify``, ``grade``, ``bench``), with the pieces they share
named for what they hold: ``catalog`` (where assignments live), ``master`` (reading and checking a
master), ``mutants`` (the catalogue of known mistakes), ``zips`` (reproducible archives),
``runner`` (grading one notebook with Otter in an isolated process) and ``environments``.
"""

__version__ = "0.1.0"
