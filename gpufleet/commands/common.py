"""What the many-run commands share: consoles, error exit, executor options, the progress bar."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from gpufleet.errors import InputError

console = Console(width=None if sys.stdout.isatty() else 132)
errors = Console(stderr=True)

Workers = Annotated[int | None, typer.Option("--workers", "--jobs", "-j",
                                             help="Worker processes [default: the machine's cores; 1: no pool].")]
UseRay = Annotated[bool, typer.Option("--ray", help="Run each point as a Ray task (local Ray unless --ray-address).")]
RayAddress = Annotated[str | None, typer.Option("--ray-address", help="An existing Ray cluster (e.g. auto, ray://host:10001).")]
StoreDir = Annotated[Path | None, typer.Option("--store", help="Run store [default: $GPUFLEET_STORE or runs/store].")]
SendBack = Annotated[bool, typer.Option("--send-back", help="Workers return run files to this machine instead of "
                                                            "writing the store (a cluster without shared storage).")]


def fail(error: InputError) -> NoReturn:
    for problem in error.problems:
        errors.print(f"[bold red]error[/]: {problem}", highlight=False, markup=True, soft_wrap=True)
    raise typer.Exit(code=2)


def _eta(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, secs = divmod(int(seconds + 0.5), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


@contextmanager
def runs_progress(title: str, total: int, workers: int | None) -> Iterator[object]:
    """A progress bar of runs: done, failed, skipped (already in the store), time left; yields the callback."""
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total} runs"),
                  TextColumn("[green]{task.fields[done]} done[/] [red]{task.fields[failed]} failed[/] "
                             "{task.fields[skipped]} in store"),
                  TextColumn("time left {task.fields[eta]}"), TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task(title, total=total, done=0, failed=0, skipped=0, eta="-")
        seen: set[str] = set()

        def on_progress(state, outcome) -> None:  # noqa: ANN001 - plan.runner.Progress, RunOutcome
            seen.add(outcome.key)
            bar.update(task, completed=len(seen), done=state.done, failed=state.failed, skipped=state.skipped,
                       total=max(total, len(seen)), eta=_eta(state.eta_s(workers or 1)))

        yield on_progress
