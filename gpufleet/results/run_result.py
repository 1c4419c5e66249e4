"""RunResult: the tables and summary of one run, and their all-or-nothing writing."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from gpufleet.econ.ledger import ledger_table
from gpufleet.econ.portfolio import contract_ledgers, contracts_table, is_portfolio, portfolio_ledger
from gpufleet.econ.value import value_of_time
from gpufleet.fleet.layout import FleetLayout
from gpufleet.results.portfolio import by_provider, cost_per_useful_gpu_hour, portfolio_money
from gpufleet.results.serving import ServingResults, gpu_split, served_tokens, serving_results
from gpufleet.results.summary import start_by_seconds, summarize
from gpufleet.results.tables import failures_table, jobs_table, timeseries_arrays, timeseries_table
from gpufleet.results.throughput import speed_summary, with_speed_columns
from gpufleet.results.timeseries import interval_starts
from gpufleet.sim.simulation import RunRecord
from gpufleet.spec.scenario import Scenario
from gpufleet.staging import staged_directory
from gpufleet.workload.jobs import JobTable


@dataclass
class RunResult:
    """What one run produced.

    Attributes:
        scenario: the scenario as run.
        seed: the seed used.
        jobs: one row per job (jobs.parquet).
        timeseries: one row per hour (timeseries.parquet).
        ledger: one row per calendar month (ledger.parquet).
        failures: one row per hardware or software failure (failures.parquet).
        summary: the headline answers (summary.json).
        events: events the engine processed.
        serving: per-interval and monthly tables of the inference services (None without).
        contracts: per contract, one row per month to the horizon, then projected to its
            term's end (contracts_ledger.parquet; None unless the scenario has `contracts:`
            or a minimum-spend contract).
        engine: which engine ran it, "python" or "native" (not written: both give the same files).
        engine_note: why the Python engine ran it when the native core was allowed (else None).
    """

    scenario: Scenario
    seed: int
    jobs: pa.Table
    timeseries: pa.Table
    ledger: pa.Table
    summary: dict[str, Any]
    events: int
    failures: pa.Table
    serving: ServingResults | None = None
    contracts: pa.Table | None = None
    engine: str = "python"
    engine_note: str | None = None

    @classmethod
    def from_record(cls, scenario: Scenario, seed: int, layout: FleetLayout, jobs: JobTable,
                    record: RunRecord) -> RunResult:
        horizon = scenario.start + timedelta(seconds=record.end_of_run_s)
        job_rows = with_speed_columns(jobs_table(scenario.start, layout, jobs, record), record)
        series = timeseries_arrays(scenario.start, layout, jobs, record)
        timeseries = timeseries_table(scenario.start, layout, series)
        starts = interval_starts(scenario.start, series["edges"])
        hours = (series["installed_gpu_hours"], series["allocated_gpu_hours"])
        ledgers = contract_ledgers(scenario, layout, starts, *hours, horizon) if is_portfolio(scenario) else None
        ledger = portfolio_ledger(scenario, layout, ledgers, starts, *hours, horizon) if ledgers is not None \
            else ledger_table(scenario, layout, starts, *hours, horizon)
        failures = failures_table(scenario.start, layout, record)
        summary = summarize(scenario, layout, seed, horizon, job_rows, timeseries, ledger, failures)
        if ledgers is not None:
            summary["money"].update(portfolio_money(ledgers, summary["money"]))
            summary["money"]["portfolio"]["providers"] = by_provider(layout, summary["capacity"]["pools"])
        if record.job_class is not None:
            summary["speed_by_gpu"] = speed_summary(layout, job_rows)
        serving = serving_results(scenario, layout, record.services)
        if serving is not None:
            summary["serving"] = {"services": serving.services,
                                  **gpu_split(serving.services, summary["capacity"]["allocated_gpu_hours"])}
            billed = summary["capacity"]["installed_gpu_hours"]
            serving_work = summary["serving"]["serving_gpu_hours"] - summary["serving"]["serving_warmup_gpu_hours"]
            summary["failures"]["goodput_with_serving"] = \
                (summary["failures"]["productive_gpu_hours"] + serving_work) / billed if billed else None
        if ledgers is not None:
            useful = summary["failures"]["productive_gpu_hours"] + (
                summary["serving"]["serving_gpu_hours"] - summary["serving"]["serving_warmup_gpu_hours"]
                if serving is not None else 0.0)
            summary["money"]["portfolio"]["useful_gpu_hours"] = useful
            summary["money"]["portfolio"]["usd_per_useful_gpu_hour"] = cost_per_useful_gpu_hour(
                summary["money"], useful)
        if scenario.value is not None:
            summary["money"].update(value_of_time(
                scenario.value, job_rows, start_by_seconds(scenario), record.end_of_run_s,
                served_tokens(serving), summary["money"]["billed_usd"]))
        return cls(scenario, seed, job_rows, timeseries, ledger, summary, record.events, failures, serving,
                   contracts_table(ledgers) if ledgers is not None else None)

    @property
    def horizon(self) -> datetime:
        return datetime.fromisoformat(self.summary["horizon"])

    def write(self, out_dir: str | Path, report: Callable[[RunResult, Path], None] | None = None) -> Path:
        """Write summary.json, the Parquet tables and (given a writer such as
        `gpufleet.report.html.write_report`; `api.write` passes it) report.html into `out_dir`,
        whole or not at all.

        Everything goes to a temporary sibling directory first, which then replaces
        `out_dir` in one rename; an error leaves `out_dir` as it was.
        """
        with staged_directory(out_dir) as staging:
            self.write_tables(staging)
            if report is not None:
                report(self, staging / "report.html")
        return Path(out_dir)

    def write_tables(self, folder: Path) -> None:
        """summary.json, jobs/timeseries/ledger.parquet and scenario.json into `folder`."""
        (folder / "summary.json").write_text(json.dumps(jsonable(self.summary), indent=2) + "\n")
        tables = [("jobs", self.jobs), ("timeseries", self.timeseries), ("ledger", self.ledger)]
        if self.failures.num_rows or self.scenario.failures is not None:
            tables.append(("failures", self.failures))
        if self.serving is not None:
            tables += [("serving", self.serving.intervals), ("serving_monthly", self.serving.monthly)]
        if self.contracts is not None:
            tables.append(("contracts_ledger", self.contracts))
        for name, table in tables:
            pq.write_table(table, folder / f"{name}.parquet", compression="zstd")
        (folder / "scenario.json").write_text(self.scenario.model_dump_json(indent=2) + "\n")


def jsonable(value: Any) -> Any:
    """NaN and infinity become null: JSON has no such numbers."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    return value
