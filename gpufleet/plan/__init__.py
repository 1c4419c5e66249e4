"""Decisions from many runs: replications, sweeps, searches and the capacity planner,
run through an executor (a local process pool, or Ray) into the run store."""
