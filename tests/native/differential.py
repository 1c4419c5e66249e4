"""Both engines on one scenario: every record field and every written file must be the same.

Shared by the fixed slice in `make test` (test_differential.py) and the long run
(`make differential`, tests/native/run_differential.py).
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from gpufleet import api
from gpufleet.sim import native
from gpufleet.sim.build import build
from gpufleet.sim.load import parse_scenario
from gpufleet.sim.simulation import RunRecord
from gpufleet.spec.scenario import Scenario


def differences(python: RunRecord, core: RunRecord) -> list[str]:
    """Names of the record fields that differ (arrays bit for bit, NaN equal to NaN)."""
    found = []
    for name in RunRecord.__dataclass_fields__:
        if name == "coded":  # the core's codes of its string columns: they must decode to the same column
            found += [f"coded {column}" for column, (codes, labels) in core.coded.items()
                      if np.array(labels, dtype=object)[codes].tolist() != getattr(python, column).tolist()]
        elif not _same(getattr(python, name), getattr(core, name)):
            found.append(name)
    return found


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray):
        if not isinstance(b, np.ndarray) or a.shape != b.shape or a.dtype != b.dtype:
            return False
        return a.tolist() == b.tolist() if a.dtype == object else a.tobytes() == b.tobytes()
    if isinstance(a, Mapping):  # the core's history is a Mapping over its columns, the Python engine's a dict
        return isinstance(b, Mapping) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b


def compare_records(scenario: Scenario, until: datetime | None = None) -> RunRecord:
    """Run both engines on the built scenario; assert every field is the same. Returns the record."""
    simulation = build(scenario, until=until)
    assert native.unsupported(simulation) is None, native.unsupported(simulation)
    python = simulation.run()
    core = native.run_native(build(scenario, until=until))
    different = differences(python, core)
    assert not different, f"{scenario.name}: the engines differ in {different}"
    return python


def compare_files(scenario: Scenario, until: datetime | None = None) -> None:
    """Run `api.run` on both engines and write the tables: the files must be byte for byte the same."""
    with tempfile.TemporaryDirectory() as tmp:
        written = {}
        for engine in ("python", "native"):
            result = api.run(scenario, until=until, engine=engine)
            assert result.engine == engine
            folder = Path(tmp) / engine
            folder.mkdir()
            result.write_tables(folder)
            written[engine] = {path.name: path.read_bytes() for path in sorted(folder.iterdir())}
        assert written["python"].keys() == written["native"].keys()
        for name, data in written["python"].items():
            assert data == written["native"][name], f"{scenario.name}: {name} differs between the engines"


def drawn_scenario(draw: Any, failures: bool = False) -> Scenario:
    """A small fleet and workload within the core's subset, drawn with hypothesis' `draw`
    (with `failures`: a drawn failures section too, `tests.native.failures`)."""
    from hypothesis import strategies as st

    start = datetime(2026, 1, 1)
    days = draw(st.integers(2, 12))
    pools = []
    for index in range(draw(st.integers(1, 2))):
        gpus_per_node = draw(st.sampled_from([1, 2, 4, 8]))
        nodes_per_rack = draw(st.sampled_from([1, 2, 4]))
        deliveries = []
        when = 0.0
        for _ in range(draw(st.integers(1, 3))):
            deliveries.append({"date": (start + timedelta(days=when)).isoformat(), "racks": draw(st.integers(1, 6))})
            when += draw(st.floats(0.25, days / 2))
        pool = {"name": f"p{index}", "gpu": ["H100", "B200"][index], "gpus_per_node": gpus_per_node,
                "nodes_per_rack": nodes_per_rack, "racks_per_block": draw(st.integers(1, 4)),
                "deliveries": deliveries}
        if draw(st.booleans()) and draw(st.booleans()):
            total = sum(d["racks"] for d in deliveries)
            pool["retirements"] = [{"date": (start + timedelta(days=draw(st.floats(0.5, days)))).isoformat(),
                                    "racks": draw(st.integers(1, total))}]
        pools.append(pool)
    rack_gpus = max(p["gpus_per_node"] * p["nodes_per_rack"] for p in pools)
    sizes = []
    for _ in range(draw(st.integers(1, 4))):
        gpus = draw(st.sampled_from([1, 2, 4, 8, 16, 32, 64]))
        group = draw(st.sampled_from([g for g in (1, 2, 4, 8, 16) if gpus % g == 0 and g <= max(rack_gpus, 1)] or [1]))
        sizes.append({"gpus": gpus, "weight": draw(st.floats(0.1, 1.0)), "group_size": group,
                      "within_block": draw(st.booleans()) and draw(st.booleans()),
                      "duration": {"dist": "lognormal", "median_hours": draw(st.floats(0.2, 30.0)),
                                   "sigma": draw(st.floats(0.3, 1.5))}})
    workloads = []
    teams = ["a", "b", "c"]
    for index in range(draw(st.integers(1, 2))):
        workload = {"name": f"w{index}", "team": draw(st.sampled_from(teams)),
                    "arrivals": {"rate_per_day": draw(st.floats(2.0, 80.0))}, "sizes": sizes}
        if draw(st.booleans()):
            workload["time_limit_hours"] = draw(st.floats(1.0, 72.0))
        if len(pools) > 1 and draw(st.booleans()):
            workload["flavors"] = [draw(st.sampled_from(["H100", "B200"]))]
        workloads.append({"synthetic": workload})
    policy = draw(st.sampled_from(["fifo", "priority", "sjf", "fgf", "srtf", "srsf", "fgf_preemptive", "las", "drf"]))
    scheduler: dict[str, Any] = {"policy": policy, "backfill": draw(st.sampled_from(["none", "greedy", "easy"])),
                                 "placement": "best_fit", "max_job_test": draw(st.sampled_from([1, 3, 20, 500])),
                                 "time_limits": draw(st.sampled_from(["work", "wall_clock"])),
                                 "estimate": draw(st.sampled_from(["time_limit", "exact"])),
                                 "preemption_cost": draw(st.sampled_from(["checkpoint", "none"]))}
    if policy == "las" and draw(st.booleans()):
        scheduler["policy"] = {"name": "las",
                               "thresholds_gpu_hours": draw(st.lists(st.floats(0.05, 200.0), min_size=1, max_size=3)),
                               "starvation_factor": draw(st.sampled_from([None, 0.5, 2.0, 8.0]))}
    if policy in ("sjf", "srtf", "srsf") and draw(st.booleans()):
        scheduler["policy"] = {"name": policy, "estimates": "predicted"}
    if policy == "drf" and draw(st.booleans()):
        scheduler["fair_share"] = {"half_life_hours": draw(st.floats(0.5, 200.0))}
    if policy == "priority" or draw(st.booleans()):
        scheduler["priority_classes"] = [{"name": "high", "value": 100, "teams": ["a"]},
                                         {"name": "mid", "value": 50, "teams": ["b"]},
                                         {"name": "low", "value": 1, "default": True}]
    if draw(st.booleans()):
        gpus = sum(d["racks"] for p in pools for d in p["deliveries"]) * rack_gpus
        scheduler.update(_drawn_queues(draw, [p["gpu"] for p in pools], gpus))
        if draw(st.booleans()):
            scheduler["preemption_scope"] = draw(st.sampled_from(["first_blocked", "any"]))
    data = {"name": "drawn", "start": start.isoformat(), "end": (start + timedelta(days=days)).isoformat(),
            "seed": draw(st.integers(0, 10_000)), "fleet": {"pools": pools}, "workloads": workloads,
            "scheduler": scheduler}
    if failures:
        from tests.native.failures import drawn_checkpointing, drawn_failures

        data["failures"] = drawn_failures(draw, pools, start, days)
        data["checkpointing"] = drawn_checkpointing(draw)
        scheduler["plan_for_failures"] = draw(st.booleans())
    elif draw(st.booleans()):
        data["checkpointing"] = {"interval_hours": draw(st.floats(0.05, 6.0)),
                                 "write_minutes": draw(st.sampled_from([0.0, 0.5, 3.0])),
                                 "restart_overhead_minutes": draw(st.floats(0.0, 30.0))}
    return parse_scenario(yaml.safe_dump(data, sort_keys=False), source="<drawn>")


def _drawn_queues(draw: Any, flavors: list[str], gpus: int) -> dict[str, Any]:
    """Queues with quotas for teams a, b and c (the last queue takes every team), in
    cohorts (a tree of two) or alone, with borrowing and lending limits and Kueue's
    preemption settings."""
    from hypothesis import strategies as st

    queues = []
    n_queues = draw(st.integers(1, 3))
    for index in range(n_queues):
        tenants = ["*"] if index == n_queues - 1 else [["a", "b"][index]]
        queue: dict[str, Any] = {"name": f"q{index}", "tenants": tenants,
                                 "cohort": draw(st.sampled_from([None, "lab", "lab", "sub"])),
                                 "nominal": {flavor: draw(st.integers(0, gpus)) for flavor in flavors
                                             if draw(st.integers(0, 4))}}
        for limit in ("borrowing_limit", "lending_limit"):
            if draw(st.booleans()):
                queue[limit] = {flavor: draw(st.integers(0, gpus)) for flavor in flavors}
        if draw(st.integers(0, 3)) == 0:
            queue["queueing_strategy"] = "StrictFIFO"
        if draw(st.booleans()):
            queue["fair_share"] = {"weight": draw(st.floats(0.25, 4.0))}
        if draw(st.booleans()):
            queue["preemption"] = {
                "within_cluster_queue": draw(st.sampled_from(["Never", "LowerPriority", "LowerOrNewerEqualPriority"])),
                "reclaim_within_cohort": draw(st.sampled_from(["Never", "Any", "LowerPriority"])),
                "borrow_within_cohort": draw(st.sampled_from(["Never", "LowerPriority"]))}
        queues.append(queue)
    return {"cohorts": [{"name": "lab"}, {"name": "sub", "parent": "lab"}], "queues": queues}
