"""`gpufleet runs`: list, show, compare and query the run store (DuckDB)."""

from __future__ import annotations

import csv as csv_module
import io
import json
from typing import Annotated

import typer

from gpufleet.cli.common import StoreDir, console, fail
from gpufleet.errors import InputError, Problem

runs_app = typer.Typer(no_args_is_help=True, help="The run store: list, show, compare and query runs with SQL.")


@runs_app.command("list")
def list_runs(
    store: StoreDir = None,
    scenario: Annotated[str | None, typer.Option(help="Only runs of this scenario.")] = None,
    failed: Annotated[bool, typer.Option("--failed", help="Only failed runs.")] = False,
    limit: Annotated[int, typer.Option(help="Most rows shown (newest first).")] = 50,
) -> None:
    """Every run: key, scenario, seed, version, engine, status, timings and headline metrics."""
    from gpufleet import api
    from gpufleet.report.runs_tables import runs_list_table
    from gpufleet.store.catalog import refresh

    chosen = api.store(store)
    catalog = refresh(chosen)
    rows = [row for row in catalog.to_pylist() if (scenario is None or row["scenario"] == scenario)
            and (not failed or row["status"] != "ok")]
    rows.sort(key=lambda row: row["started"], reverse=True)
    table = catalog.from_pylist(rows[:limit], schema=catalog.schema)
    console.print(runs_list_table(table, str(chosen.root), len(rows)))


@runs_app.command("show")
def show(key: Annotated[str, typer.Argument(help="Run key (a unique prefix is enough).")],
         store: StoreDir = None,
         as_json: Annotated[bool, typer.Option("--json", help="Print meta.json.")] = False) -> None:
    """One run: what it was, how long it took, its metrics (or its error)."""
    from gpufleet import api
    from gpufleet.report.runs_tables import run_show_tables

    chosen = api.store(store)
    try:
        record = chosen.record(chosen.resolve(key))
    except InputError as error:
        fail(error)
    assert record is not None
    if as_json:
        console.print_json(json.dumps(record.as_dict()))
        return
    files = sorted(path.name for path in chosen.path(record.key).iterdir())
    for table in run_show_tables(record, files):
        console.print(table)
    console.print(f"Files in {chosen.path(record.key)}/")


@runs_app.command("compare")
def compare(keys: Annotated[list[str], typer.Argument(help="Two or more run keys (unique prefixes).")],
            store: StoreDir = None) -> None:
    """Runs side by side, metric by metric."""
    from gpufleet import api
    from gpufleet.report.runs_tables import runs_compare_table

    chosen = api.store(store)
    try:
        if len(keys) < 2:
            raise InputError([Problem("compare needs two or more runs")])
        records = [chosen.record(chosen.resolve(key)) for key in keys]
    except InputError as error:
        fail(error)
    console.print(runs_compare_table([r for r in records if r is not None]))


@runs_app.command("sql")
def sql(query: Annotated[str, typer.Argument(help="SQL over the views runs, jobs, timeseries, ledger, failures, "
                                                   "serving, serving_monthly.")],
        store: StoreDir = None,
        csv: Annotated[bool, typer.Option("--csv", help="Print CSV instead of a table.")] = False) -> None:
    """Query the store with DuckDB (read-only over the runs' Parquet files)."""
    from gpufleet import api
    from gpufleet.report.runs_tables import sql_table

    try:
        result = api.runs_sql(query, store)
    except InputError as error:
        fail(error)
    if csv:
        sink = io.StringIO()
        writer = csv_module.writer(sink, lineterminator="\n")
        writer.writerow(result.column_names)
        writer.writerows([["" if v is None else v for v in row.values()] for row in result.to_pylist()])
        console.out(sink.getvalue().rstrip("\n"), highlight=False)
    else:
        console.print(sql_table(result))
