"""Comparisons: several policies or placements run on the same workload, side by side."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from gpufleet.results.run_result import RunResult, jsonable
from gpufleet.spec.scenario import Scenario
from gpufleet.staging import staged_directory

METRICS = ("wait", "completion_time")


@dataclass
class Variant:
    """One run of a comparison."""

    name: str
    policy: str
    placement: str
    result: RunResult
    sharing: str = ""  # serving sharing mode when compared (preempt, quota:QUEUE)
    backfill: str = ""  # scheduler backfill when compared or pinned (none, greedy, easy)
    preemption_scope: str = ""  # when compared (first_blocked, any)


@dataclass
class Comparison:
    """Runs of one scenario and seed under different policies and placements."""

    scenario: Scenario
    variants: list[Variant]

    def overall(self) -> list[dict[str, Any]]:
        """One row per variant: waits, completion times, utilisation, preemption cost."""
        rows = []
        for variant in self.variants:
            summary = variant.result.summary
            jobs, preemption = summary["jobs"], summary["preemption"]
            scheduler = {name: value for name, value in (("backfill", variant.backfill),
                                                         ("preemption_scope", variant.preemption_scope)) if value}
            rows.append({
                "variant": variant.name, "policy": variant.policy, "placement": variant.placement, **scheduler,
                **_flat("wait", jobs["wait"]), **_flat("jct", jobs["completion_time"]),
                "utilisation": summary["capacity"]["utilisation"],
                "mean_unusable_gpus": summary["capacity"]["mean_unusable_gpus"],
                "completed": jobs["completed"], "queued_at_end": jobs["queued"],
                "preemptions": preemption["preemptions"], "lost_gpu_hours": preemption["lost_gpu_hours"],
                "overhead_gpu_hours": preemption["overhead_gpu_hours"],
                **_serving(summary.get("serving")),
            })
        return rows

    def grouped(self, by: str) -> list[dict[str, Any]]:
        """One row per variant and size class (`by="size_class"`) or queue (`by="queue"`)."""
        key = {"size_class": "wait_by_size_class", "queue": "by_queue"}[by]
        rows = []
        for variant in self.variants:
            for group, stats in variant.result.summary[key].items():
                rows.append({"variant": variant.name, by: group, "jobs": stats["jobs"],
                             **_flat("wait", stats["wait"]), **_flat("jct", stats["completion_time"])})
        return rows

    def as_dict(self) -> dict[str, Any]:
        return {"scenario": self.scenario.name, "seed": self.variants[0].result.seed if self.variants else None,
                "overall": self.overall(), "by_size_class": self.grouped("size_class"),
                "by_queue": self.grouped("queue")}

    def write(self, out_dir: str | Path, report: Callable[[Comparison, Path], None] | None = None) -> Path:
        """comparison.json, comparison.parquet, each variant's tables under variants/ and (given a
        writer such as `gpufleet.report.compare.write_comparison_report`) report.html; whole or not
        at all (staged in a temporary directory, then renamed)."""
        with staged_directory(out_dir) as staging:
            (staging / "comparison.json").write_text(json.dumps(jsonable(self.as_dict()), indent=2) + "\n")
            pq.write_table(pa.Table.from_pylist(self.overall()), staging / "comparison.parquet")
            for variant in self.variants:
                folder = staging / "variants" / variant.name
                folder.mkdir(parents=True)
                variant.result.write_tables(folder)
            if report is not None:
                report(self, staging / "report.html")
        return Path(out_dir)


def _serving(serving: dict[str, Any] | None) -> dict[str, Any]:
    """Serving columns of a comparison row (empty without services)."""
    if serving is None:
        return {}
    services = serving["services"]
    demanded = sum(s["demand"]["requests"] for s in services)
    served = sum(s["output_tokens_served"] for s in services)
    cost = sum(s["cost_usd"] for s in services)
    return {
        "serving_slo_attainment": sum(s["slo_attainment"] * s["demand"]["requests"] for s in services) / demanded
        if demanded else 1.0,
        "serving_tokens_dropped": sum(s["output_tokens_dropped"] for s in services),
        "serving_gpu_hours": serving["serving_gpu_hours"],
        "training_gpu_hours": serving["training_gpu_hours"],
        "serving_usd_per_million_tokens": cost / (served / 1e6) if served else None,
        "jobs_preempted_by_serving": sum(s["training_jobs_preempted"] for s in services),
    }


def _flat(prefix: str, quantiles: dict[str, float | None]) -> dict[str, float | None]:
    return {f"{prefix}_{name}": value for name, value in quantiles.items()}
