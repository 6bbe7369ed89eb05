"""Hidden oracles of 05 (autoencoders), shipped only in the autograder zip."""
