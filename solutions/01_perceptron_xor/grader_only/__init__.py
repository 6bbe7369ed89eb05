"""Grader-only test material of assignment 01: references that would answer a graded question."""
