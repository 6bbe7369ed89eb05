"""Instructor tooling for the assignment suite: build, verify, grade and benchmark.

One module per verb (``build``, ``verify``, ``grade``, ``bench``), with the pieces they share
named for what they hold: ``catalog`` (where assignments live), ``master`` (reading and checking a
master), ``mutants`` (the catalogue of known mistakes), ``zips`` (reproducible archives),
``environments``, and ``grading`` (everything that runs while a submission is graded: the
plugin Otter loads, the kernel's guard and the referee, and ``grading.runner``, which grades one
notebook with Otter in an isolated process).
"""

__version__ = "0.1.0"
