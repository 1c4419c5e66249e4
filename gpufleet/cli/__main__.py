"""`python -m gpufleet.cli ...`: the `gpufleet` command."""

from gpufleet.cli.app import main

main()
