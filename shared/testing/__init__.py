"""Test logic of the assignments, one module per topic (``shared.testing.<topic>``).

Case generators, comparison helpers and diagnosers (which hint a failure deserves) that the
public and hidden tests of a master call with different inputs, so the two cannot drift. These
modules ship in the student zip: they hold no answer to a graded question and no hidden input
(those live in each assignment's ``grader_only/`` folder, shipped in the autograder zip alone).
"""
