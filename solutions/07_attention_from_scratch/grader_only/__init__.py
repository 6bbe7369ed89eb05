"""Hidden cases and oracles of 07 (attention from scratch), shipped only in the autograder zip."""
