"""Autograder-only helpers of 08 (oracles and held-out data access); never in the student zip."""
