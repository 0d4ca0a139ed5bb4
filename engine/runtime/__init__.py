"""Commands on instances (start, complete, cancel, retry, fire timers) and their projections."""
