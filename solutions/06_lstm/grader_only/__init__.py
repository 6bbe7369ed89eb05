"""Hidden cases and oracles of 06 (recurrent networks and the LSTM), shipped only in the autograder zip."""
