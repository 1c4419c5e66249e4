"""The `gpufleet` command (typer + rich), one module per verb group: `run` (run, compare),
`scenario` (validate, schema, scenarios), `faults` (faults fit, checkpoint-advice), `trace`,
`interop` (import, export, admit), `many` (sweep, plan, run --replications), `runs`.

The command is the top layer: it parses options, calls `gpufleet.api` and the report
layer, and prints; it holds no simulation logic. `python -m gpufleet.cli` runs it too.
"""

from gpufleet.cli.app import app, main

__all__ = ["app", "main"]
