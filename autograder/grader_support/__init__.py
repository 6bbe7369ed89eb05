"""Helpers only the tests need, shipped in every autograder zip and never to students.

The build copies this folder into each autograder zip's support files, so hidden tests import
it as ``grader_support.NAME`` while grading; ``verify`` treats every line of it as secret. It
holds what would answer a graded question or reveal hidden data if students had it: the float64
finite-difference gradient (assignment 02 asks students to write one) and the relative error
(``gradcheck``, ``oracles``), a reference training loop and accuracy (04 asks for both;
``training``), and the held-out digits that hidden tests evaluate on (``heldout``).
"""
