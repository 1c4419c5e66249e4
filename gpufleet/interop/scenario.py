"""The parts every import shares: the horizon, GPU types per flavor, the YAML, and writing it whole.

An import writes up to three files side by side: the scenario (`NAME.yaml`), its job
records (`NAME.jobs.csv`, a gpufleet-jobs trace the scenario replays) and the import
report (`NAME.import.json`). They are first written to a scratch folder and the scenario
is loaded from there as `gpufleet validate` would; only then is each written in place,
whole (gpufleet.staging), the scenario last, so it never names a file not yet written.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from gpufleet.catalog import CATALOG, GpuType
from gpufleet.errors import InputError, Problem
from gpufleet.interop.records import JobRecord, records_text
from gpufleet.interop.report import ImportReport, jobs_path, report_path
from gpufleet.spec.scenario import Scenario
from gpufleet.staging import write_whole

DEFAULT_START = datetime(2026, 1, 1)
"""Start of an imported scenario that has no job record to date it (state it; `--start` to change)."""
CONFIG_ONLY_DAYS = 7
"""Horizon of an imported scenario without job records (nothing to replay; a place to add workloads)."""
DAY_S = 86400.0


def catalog_match(*texts: str | None) -> GpuType | None:
    """The catalog GPU type named inside any of `texts` (e.g. `NVIDIA-H100-80GB-HBM3` -> H100), longest name first."""
    for text in texts:
        if not text:
            continue
        upper = text.upper()
        for name in sorted(CATALOG, key=len, reverse=True):
            if name in upper:
                return CATALOG[name]
    return None


def gpu_type_entry(flavor: str, gpus_per_node: int, rack_gpus: int, where: str, hint: str | None) -> dict[str, Any]:
    """The `gpu_types` entry of one flavor: its node shape, and the catalog's numbers when `hint` names a type."""
    found = catalog_match(hint, flavor)
    entry: dict[str, Any] = {"gpus_per_node": gpus_per_node, "nvlink_domain_gpus": rack_gpus}
    if found is None:
        entry["source"] = f"{where}: node shape only; {flavor!r} names no catalog GPU type, so no specs or prices"
        return entry
    for key in ("hbm_gb", "bf16_dense_tflops", "fp8_dense_tflops", "tdp_w", "list_price_usd_per_gpu_hour"):
        value = getattr(found, key)
        if value is not None:
            entry[key] = value
    matched = f"{hint!r}" if hint and catalog_match(hint) is found else f"the flavor name {flavor!r}"
    entry["source"] = (f"{where}: node shape; specs and price of catalog {found.name} (matched by {matched}): "
                       + "; ".join(found.sources))
    return entry


def horizon(records: Iterable[JobRecord], start: datetime | None, end: datetime | None
            ) -> tuple[datetime, datetime, list[str]]:
    """(start, end, notes): from the records (midnight before the first submit, midnight two days after the last
    event) unless given."""
    notes = []
    times = [t for record in records for t in (record.submit, record.start, record.end) if t is not None]
    if start is None:
        if times:
            first = math.floor(min(times) / DAY_S) * DAY_S
            start = datetime(1970, 1, 1) + timedelta(seconds=first)
        else:
            start = DEFAULT_START
            notes.append(f"no job records to date the scenario: it starts {start.date()} (--start to change)")
    if end is None:
        if times:
            last = math.floor(max(times) / DAY_S) * DAY_S + 2 * DAY_S
            end = max(datetime(1970, 1, 1) + timedelta(seconds=last), start + timedelta(days=1))
        else:
            end = start + timedelta(days=CONFIG_ONLY_DAYS)
            notes.append(f"no job records: the horizon is {CONFIG_ONLY_DAYS} days (--end to change)")
    if end <= start:
        raise InputError([Problem(f"--end {end.isoformat()} is not after the start {start.isoformat()}")])
    return start, end, notes


def trace_workload(name: str, scenario_path: Path) -> dict[str, Any]:
    """The scenario's workload entry replaying the records written beside it."""
    return {"trace": {"name": name, "format": "gpufleet-jobs", "path": jobs_path(scenario_path).name,
                      "estimate": "time_limit"}}


class _Flow(dict):
    pass


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(_Flow, lambda dumper, data: dumper.represent_mapping("tag:yaml.org,2002:map", data,
                                                                             flow_style=True))
_FLOW = ("deliveries", "nominal", "borrowing_limit", "lending_limit", "preemption", "fair_share", "policy")


def to_yaml(data: dict[str, Any], header: str = "") -> str:
    """Block-style YAML with small mappings (deliveries, quotas, preemption) on one line."""
    return header + yaml.dump(_flowing(data), Dumper=_Dumper, sort_keys=False, default_flow_style=False,
                              width=1000, allow_unicode=True)


def _flowing(data: Any, key: str = "") -> Any:
    if isinstance(data, dict):
        out = {name: _flowing(value, name) for name, value in data.items()}
        return _Flow(out) if key in _FLOW else out
    if isinstance(data, list):
        return [_Flow(item) if key in _FLOW and isinstance(item, dict) else _flowing(item, key) for item in data]
    return data


def header_comment(report: ImportReport, tool: str) -> str:
    """Comment lines: what was imported and where the full report is."""
    lines = [f"# Imported by `{tool}` from: {', '.join(report.files)}",
             "# Objects read: " + ", ".join(f"{count} {kind}" for kind, count in sorted(report.objects.items())),
             f"# Fields not modelled: {len(report.not_modelled())} (see the import report beside this file)"]
    lines += [f"# Note: {note}" for note in report.notes]
    return "\n".join(lines) + "\n"


@dataclass
class Imported:
    """An import's result: the scenario (as data), its job records and the report."""

    scenario: dict[str, Any]
    records: list[JobRecord]
    report: ImportReport
    header: str = ""

    def yaml(self) -> str:
        return to_yaml(self.scenario, self.header)


def write_import(imported: Imported, out: str | Path, load: Callable[[Path], Scenario]) -> Scenario:
    """Write the scenario, its records and the report beside it (see the module docstring); return the
    scenario as loaded by `load` (`gpufleet.sim.load.load_scenario`: the layer that checks a scenario
    across its fields). Nothing is written when it does not load."""
    out = Path(out)
    texts = {}
    if imported.records:
        texts[jobs_path(out)] = records_text(imported.records)
    texts[report_path(out)] = imported.report.to_json()
    texts[out] = imported.yaml()
    with tempfile.TemporaryDirectory(prefix="gpufleet-import-") as folder:
        for path, text in texts.items():
            (Path(folder) / path.name).write_text(text, encoding="utf-8")
        try:
            load(Path(folder) / out.name)  # never write a scenario that does not load
        except InputError as error:
            staged = str(Path(folder) / out.name)
            raise InputError([Problem(problem.message, problem.path, str(out) if problem.file == staged
                                      else problem.file, problem.line) for problem in error.problems]) from None
    for path, text in texts.items():  # the scenario last: it never names a file not yet written
        write_whole(path, text)
    return load(out)
