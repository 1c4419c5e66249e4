"""`gpufleet trace ...`: characterise and fit public traces."""

from __future__ import annotations

import typer

trace_app = typer.Typer(no_args_is_help=True, help="Read, characterise and fit public cluster and inference traces.")
