"""What the commands share: the consoles, the error exit, dates from options, executor options, the
progress bar of many runs."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from gpufleet.errors import InputError, Problem

console = Console(width=None if sys.stdout.isatty() else 132)  # piped output: wide tables, no wrapping
errors = Console(stderr=True)

Workers = Annotated[int | None, typer.Option("--workers", "--jobs", "-j",
                                             help="Worker processes [default: the machine's cores; 1: no pool].")]
UseRay = Annotated[bool, typer.Option("--ray", help="Run each point as a Ray task (local Ray unless --ray-address).")]
RayAddress = Annotated[str | None, typer.Option("--ray-address", help="An existing Ray cluster (e.g. auto, ray://host:10001).")]
StoreDir = Annotated[Path | None, typer.Option("--store", help="Run store [default: $GPUFLEET_STORE or runs/store].")]
SendBack = Annotated[bool, typer.Option("--send-back", help="Workers return run files to this machine instead of "
                                                            "writing the store (a cluster without shared storage).")]


def fail(error: InputError) -> NoReturn:
    """Print every problem on stderr and exit with code 2 (bad input: never a traceback)."""
    for problem in error.problems:
        errors.print(f"[bold red]error[/]: {problem}", highlight=False, markup=True, soft_wrap=True)
    raise typer.Exit(code=2)


def parse_date(text: str | None, option: str) -> datetime | None:
    """An option's YYYY-MM-DD (or ISO date-time) value; exit 2 naming the option if it is not one."""
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        fail(InputError([Problem(f"{option} {text!r} is not a date (use YYYY-MM-DD)")]))


def _eta(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, secs = divmod(int(seconds + 0.5), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


@contextmanager
def runs_progress(title: str, total: int, workers: int | None) -> Iterator[object]:
    """A progress bar of runs: done, failed, found in the store, time left; yields the callback.
    `total` 0: not known ahead (the planner decides what to run as it goes)."""
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                  TextColumn("{task.completed}/{task.fields[of]} runs"),
                  TextColumn("[green]{task.fields[done]} done[/] [red]{task.fields[failed]} failed[/] "
                             "{task.fields[skipped]} in store"),
                  TextColumn("time left {task.fields[eta]}"), TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task(title, total=total or None, of=total or "?", done=0, failed=0, skipped=0, eta="-")
        done: set[str] = set()
        failed: set[str] = set()
        skipped: set[str] = set()

        def on_progress(state, outcome) -> None:  # noqa: ANN001 - plan.runner.Progress, RunOutcome
            for group in (done, failed, skipped):
                group.discard(outcome.key)
            (skipped if outcome.skipped else done if outcome.ok else failed).add(outcome.key)
            finished = len(done) + len(failed) + len(skipped)
            bar.update(task, completed=finished, done=len(done), failed=len(failed), skipped=len(skipped),
                       eta=_eta(state.eta_s(workers or 1)) if total else "-")

        yield on_progress
