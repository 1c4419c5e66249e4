"""`gpufleet ui`: the dashboard over a runs folder (`gpufleet.cli` registers it)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from gpufleet.errors import InputError
from gpufleet.ui.settings import MIB, UiSettings, is_loopback

console = Console(highlight=False)
errors = Console(stderr=True)


def ui(
    runs: Annotated[Path, typer.Option("--runs", help="Runs folder: its run store (DIR/store) and the sweep, plan "
                                                      "and replication outputs beside it.")] = Path("runs"),
    host: Annotated[str, typer.Option(help="Address to listen on; any but loopback needs the token.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (0: any free one).", min=0, max=65535)] = 8000,
    token: Annotated[str | None, typer.Option(help="Token every request must carry [default: $GPUFLEET_UI_TOKEN; "
                                                   "a new one when not on loopback].")] = None,
    data: Annotated[list[Path] | None, typer.Option("--data", help="A folder (besides DIR/uploads) a scenario in "
                                                                  "the editor may read files in. Repeat for more.")]
    = None,
    max_jobs: Annotated[int, typer.Option(help="Background runs or sweeps at once.", min=1, max=64)] = 2,
    max_upload_mb: Annotated[int, typer.Option(help="Largest uploaded data file, MiB.", min=1, max=4096)] = 64,
    check: Annotated[bool, typer.Option("--check", help="Set everything up (the options, the address, the "
                                                        "application), print the address and exit.")] = False,
) -> None:
    """Serve a dashboard over the run store: runs, a run (the report, its jobs, one job's timeline),
    runs compared, sweeps and plans, and a scenario editor that starts runs and sweeps in the
    background. Binds to 127.0.0.1 unless told otherwise; any other address needs a token."""
    from gpufleet.ui.server import bind, serve  # FastAPI and uvicorn load only for this command

    chosen = token or os.environ.get("GPUFLEET_UI_TOKEN") or None
    try:
        settings = UiSettings.for_address(runs, host, port, chosen, tuple(data or ()), max_jobs=max_jobs,
                                          max_upload_bytes=max_upload_mb * MIB)
        sock = bind(host, port)
    except InputError as error:
        for problem in error.problems:
            errors.print(f"[bold red]error[/]: {problem}", markup=True, soft_wrap=True)
        raise typer.Exit(code=2) from None
    address = settings.url(sock.getsockname()[1])
    console.print(f"gpufleet dashboard on {address}" + (f"?token={settings.token}" if settings.token else ""),
                  soft_wrap=True)
    console.print(f"runs: {settings.runs_dir} (store {settings.store_dir})", soft_wrap=True)
    if not is_loopback(host):
        console.print("listening beyond this machine: every request must carry the token", style="yellow")
    if check:
        from gpufleet.ui.app import create_app

        create_app(settings)
        sock.close()
        console.print("ok: the dashboard can start (--check: not serving)")
        return
    serve(settings, sock)
