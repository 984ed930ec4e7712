"""Whole runs: `run` drives prepare -> train -> evaluate -> export into one run folder; `tune`
searches hyperparameters over such runs and `distill` makes a smaller run from a finished one."""
