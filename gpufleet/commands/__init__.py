"""Sub-commands of `gpufleet` for many runs: `runs`, `sweep`, `plan`, and `run --replications`
(`gpufleet.cli` registers them)."""
