"""Scenarios with failures for the differential tests: hand-made ones that exercise every
path of `sim.outages` (spares, restarts in place, held-back repairs, failing for good), the
StepFun fault log's fitted processes, and failure sections drawn with hypothesis."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

INJECTED_LAB = """\
name: injected-lab
start: 2026-01-01
end: 2026-01-12
seed: 11
fleet:
  pools:
    - name: nvl
      gpu: GB200
      gpus_per_node: 4
      nodes_per_rack: 6
      racks_per_block: 2
      deliveries: [{date: 2026-01-01, racks: 4}, {date: 2026-01-03, racks: 2}]
      retirements: [{date: 2026-01-08, racks: 1}]
failures:
  spares: {nodes_per_rack: 1}
  processes:
    - {name: tray, component: node, mttf_hours: 150, repair: {dist: lognormal, median_hours: 6, sigma: 1},
       causes: {xid: 2, ecc: 1}}
    - {name: hbm, component: gpu, mttf_hours: 900, distribution: weibull, shape: 1.7,
       repair: {dist: exponential, mean_hours: 3}}
    - {name: switch, component: rack, mttf_hours: 400, repair: {dist: fixed, hours: 9}}
    - {name: spine, component: block, mttf_hours: 1500, distribution: weibull, shape: 0.7,
       repair: {dist: fixed, hours: 5}}
  injected:
    - {date: 2026-01-02T03:00, pool: nvl, rack: 0, node: 1, component: node, repair_hours: 30, cause: tray swap}
    - {date: 2026-01-02T04:00, pool: nvl, rack: 0, component: rack, repair_hours: 8, cause: power shelf}
    - {date: 2026-01-02T05:00, pool: nvl, rack: 1, node: 2, component: gpu, repair_hours: 2}
    - {date: 2026-01-04T00:00, pool: nvl, rack: 3, component: block, repair_hours: 12, cause: spine}
checkpointing: {interval_hours: young_daly, write_minutes: 3, restart_overhead_minutes: 12, max_restarts: 2}
scheduler: {policy: fifo, backfill: easy, plan_for_failures: true, time_limits: wall_clock}
workloads:
  - synthetic:
      name: runs
      arrivals: {rate_per_day: 40}
      time_limit_hours: 40
      sizes:
        - {gpus: 4, weight: 0.5, duration: {dist: lognormal, median_hours: 5, sigma: 1}}
        - {gpus: 20, weight: 0.3, group_size: 4, duration: {dist: lognormal, median_hours: 10, sigma: 1}}
        - {gpus: 40, weight: 0.2, group_size: 20, duration: {dist: lognormal, median_hours: 8, sigma: 0.8}}
"""
"""Every component failing by both distributions and by injection, hot spares, a retirement
(draining racks retire when their jobs end, which moves the next re-arm), `max_restarts`,
wall-clock limits and backfill planned for failures."""


def drawn_failures(draw: Any, pools: list[dict[str, Any]], start: datetime, days: int) -> dict[str, Any]:
    """A `failures:` section (and `checkpointing:`) for the drawn `pools`."""
    from hypothesis import strategies as st

    processes = []
    for index in range(draw(st.integers(0, 3))):
        component = draw(st.sampled_from(["gpu", "node", "rack", "block"]))
        mean = {"gpu": (300.0, 6000.0), "node": (40.0, 1500.0), "rack": (20.0, 600.0), "block": (20.0, 600.0)}
        process: dict[str, Any] = {"name": f"f{index}", "component": component,
                                   "mttf_hours": draw(st.floats(*mean[component]))}
        if draw(st.booleans()):
            process["distribution"] = "weibull"
            process["shape"] = draw(st.floats(0.5, 3.0))
        process["repair"] = draw(st.sampled_from([
            {"dist": "fixed", "hours": draw(st.floats(0.2, 48.0))},
            {"dist": "lognormal", "median_hours": draw(st.floats(0.5, 24.0)), "sigma": draw(st.floats(0.3, 1.5))},
            {"dist": "exponential", "mean_hours": draw(st.floats(0.5, 24.0))},
            {"dist": "quantiles", "quantiles_hours": {0.0: 0.1, 0.5: draw(st.floats(1.0, 20.0)), 1.0: 200.0}}]))
        if draw(st.booleans()):
            process["causes"] = {f"c{k}": draw(st.floats(0.1, 3.0)) for k in range(draw(st.integers(1, 3)))}
        if len(pools) > 1 and draw(st.booleans()):
            process["pools"] = [draw(st.sampled_from([pool["name"] for pool in pools]))]
        processes.append(process)
    injected = []
    for _ in range(draw(st.integers(0, 3))):
        pool = draw(st.sampled_from(pools))
        racks = pool["deliveries"][0]["racks"]
        when = start + timedelta(hours=draw(st.floats(1.0, 24.0 * days)))  # its first delivery is at the start
        injected.append({"date": when.isoformat(), "pool": pool["name"], "rack": draw(st.integers(0, racks - 1)),
                         "node": draw(st.integers(0, pool["nodes_per_rack"] - 1)),
                         "component": draw(st.sampled_from(["gpu", "node", "rack", "block"])),
                         "repair_hours": draw(st.floats(0.5, 48.0)), "cause": draw(st.sampled_from(["a", "b"]))})
    failures: dict[str, Any] = {"processes": processes, "injected": injected}
    if draw(st.booleans()):
        failures["spares"] = {"nodes_per_rack": 1}
    if draw(st.booleans()) and draw(st.booleans()):
        failures["catalog_defaults"] = draw(st.sampled_from([True, {"repair": "fitted", "rack_failures": True}]))
    return failures


def drawn_checkpointing(draw: Any) -> dict[str, Any]:
    from hypothesis import strategies as st

    return {"interval_hours": draw(st.sampled_from([0.5, 1.0, 3.0, "young_daly"])),
            "write_minutes": draw(st.sampled_from([0.0, 2.0, 7.5])),
            "restart_overhead_minutes": draw(st.sampled_from([0.0, 10.0, 25.0])),
            "max_restarts": draw(st.sampled_from([None, 0, 1, 3]))}
