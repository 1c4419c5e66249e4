"""The run store for the terminal: `runs list`, `runs show`, `runs compare`, `runs sql`."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from rich.markup import escape
from rich.table import Table

from gpufleet.report.metric_format import metric_value
from gpufleet.results.metrics import HEADLINE
from gpufleet.store.store import RunRecord

LIST_METRICS = ("utilisation", "wait_p95_h", "goodput", "cost_usd")


def runs_list_table(catalog: pa.Table, root: str, total: int | None = None) -> Table:
    """The newest runs (`catalog` rows) of a store holding `total` runs."""
    shown = f"the newest {catalog.num_rows:,} of {total:,}" if total and total > catalog.num_rows else \
        f"{catalog.num_rows:,}"
    table = Table(title=f"Runs in {root}: {shown}", title_justify="left")
    table.add_column("key", no_wrap=True, min_width=12)
    table.add_column("scenario", no_wrap=True)
    for column in ("seed", "until", "version", "status", "started (UTC)", "wall", *LIST_METRICS):
        table.add_column(column, justify="right" if column in ("seed", "wall", *LIST_METRICS) else "left")
    for row in catalog.to_pylist():
        status = row["status"] if row["status"] == "ok" else f"[red]{row['status']}[/]"
        table.add_row(row["key"][:12], row["scenario"], str(row["seed"]), (row["until"] or "-")[:10],
                      f"{row['version']} {row['engine']}", status, row["started"].replace("T", " ")[:16],
                      f"{row['wall_s']:.1f} s", *[metric_value(m, row[m]) for m in LIST_METRICS])
    return table


def run_show_tables(record: RunRecord, files: list[str]) -> list[Table]:
    about = Table(title=f"Run {record.key}", show_header=False, title_justify="left")
    about.add_column("what", style="bold")
    about.add_column("value")
    for name, value in (("scenario", record.scenario), ("seed", record.seed), ("until", record.until or "-"),
                        ("version", record.version), ("engine", record.engine), ("status", record.status),
                        ("started (UTC)", record.started), ("wall time", f"{record.wall_s:.2f} s"),
                        ("events", f"{record.events:,}"), ("files", ", ".join(files))):
        about.add_row(name, escape(str(value)))
    if record.error:
        about.add_row("error", escape(record.error))
    tables = [about]
    if record.metrics:
        metrics = Table(title="Metrics", title_justify="left")
        metrics.add_column("metric")
        metrics.add_column("value", justify="right")
        for name, value in record.metrics.items():
            metrics.add_row(escape(name), metric_value(name, value))
        tables.append(metrics)
    return tables


def runs_compare_table(records: list[RunRecord]) -> Table:
    table = Table(title="Runs side by side", title_justify="left")
    table.add_column("metric")
    for record in records:
        table.add_column(f"{record.key[:12]}\n{record.scenario} s{record.seed}", justify="right")
    names = list(dict.fromkeys([n for n in HEADLINE] + [n for r in records for n in r.metrics]))
    for name in names:
        values = [r.metrics.get(name) for r in records]
        if all(v is None for v in values):
            continue
        table.add_row(escape(name), *[metric_value(name, v) for v in values])
    table.add_row("wall time", *[f"{r.wall_s:.1f} s" for r in records])
    return table


def sql_table(result: pa.Table) -> Table:
    table = Table(title=f"{result.num_rows:,} rows", title_justify="left")
    for name in result.column_names:
        table.add_column(escape(name))
    for row in result.to_pylist():
        table.add_row(*[escape(_cell(row[name])) for name in result.column_names])
    return table


def _cell(value: Any) -> str:  # noqa: ANN401
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.6g}"
    return str(value)
