"""Hidden oracles of 04 (CNN vs MLP), shipped only in the autograder zip."""
