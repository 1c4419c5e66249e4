"""Failures against published figures and theory.

- Llama 3 405B (Meta 2024): 16,384 H100 for 54 days at the paper's per-cause rates saw
  419 unexpected interruptions; the simulated count and its split by cause must match.
- Meta's RSC-1 projection (Kokolis et al., HPCA 2025): at 6.5 node failures per 1,000
  node-days, a 16,384-GPU job fails every 1.8 h and a 131,072-GPU job every 0.23 h.
- Young/Daly: the simulated ETTR, as a function of the checkpoint interval, peaks at
  sqrt(2 C M), for two failure rates.
- Machine repair: units fail only while up, so with a fixed repair time D each unit
  fails 1 / (MTTF + D) times per hour however many are down.
- StepFun: a model fitted to its fault log, simulated on 400 servers for 348 days,
  gives back the log's fault rate, level shares and repair-time quantiles.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from gpufleet import api
from gpufleet.failures.defaults import STEPFUN_HARDWARE_REPAIR, llama3_processes
from gpufleet.failures.fit import failures_yaml, fit_faults
from gpufleet.testing import scenario
from gpufleet.traces.faults import read_faults

CHECKPOINTS = {"interval_hours": 1, "restart_overhead_minutes": 10}


def one_job(gpus: int, nodes: int, end: str, seed: int, failures: dict, checkpointing: dict | None = None,
            group: int = 8, duration_days: float = 365):  # noqa: ANN201
    fleet = {"pools": [{"name": "h100", "gpu": "H100", "racks_per_block": 512,
                        "deliveries": [{"date": "2026-01-01", "nodes": nodes}]}]}
    jobs = [{"jobs": {"name": "runs", "items": [{"name": "run", "gpus": gpus, "group_size": group,
                                                  "duration_days": duration_days}]}}]
    spec = scenario(fleet, jobs, end=end, seed=seed, failures=failures, checkpointing=checkpointing or CHECKPOINTS)
    return api.run(spec)


def test_llama3_interruptions_and_their_causes() -> None:
    # `catalog_defaults: true` is the 2024 set (Llama 3 rates, assumed 4 h repairs), kept as it
    # was for this validation; the calibrated set (fitted repairs, rack failures) is the mapping form.
    runs = [one_job(16_384, 2_096, "2026-02-24", seed, {"catalog_defaults": True}) for seed in (1, 2, 3, 4)]
    counts = [run.jobs.to_pylist()[0]["interruptions"] for run in runs]
    # 419 in the paper; Poisson spread ~20 per run, ~10 for the mean of four.
    assert np.mean(counts) == pytest.approx(419, rel=0.08)
    hits = [f for run in runs for f in run.failures.to_pylist() if f["jobs_hit"]]
    expected = {cause: count for process in llama3_processes() for cause, count in process.causes.items()}
    total = sum(expected.values())
    for group in (("faulty GPU", "GPU HBM3 memory", "GPU SRAM memory", "GPU system processor",
                   "silent data corruption", "GPU thermal interface and sensor"),
                  ("software bug", "NCCL watchdog timeout", "dependency"),
                  ("network switch or cable", "NIC")):
        share = sum(1 for f in hits if f["cause"] in group) / len(hits)
        assert share == pytest.approx(sum(expected[c] for c in group) / total, abs=0.04), group
    assert sum(1 for f in hits if f["cause"] == "faulty GPU") / len(hits) == pytest.approx(148 / 419, abs=0.04)


@pytest.mark.parametrize("component", ["gpu", "node"])
def test_units_in_repair_do_not_fail(component: str) -> None:
    # 64 nodes of 8 GPUs for a year, repairs as long as the MTTF: half the units are down
    # at any time, so the renewal rate is half the rate of a unit that never stops.
    mttf_h, repair_h, hours = (400.0, 400.0, 8760.0) if component == "gpu" else (50.0, 50.0, 8760.0)
    units = 512 if component == "gpu" else 64
    failures = {"processes": [{"name": component, "component": component, "mttf_hours": mttf_h,
                               "repair": {"dist": "fixed", "hours": repair_h}}]}
    run = one_job(8, 64, "2027-01-01", 1, failures)
    expected = units * hours / (mttf_h + repair_h)  # about 5,600; Poisson-like spread ~1.3%
    assert run.failures.num_rows == pytest.approx(expected, rel=0.05)


def test_one_process_over_pools_delivered_at_different_dates() -> None:
    # A node process over two pools; the second arrives on day 182. Each pool fails at
    # its own node count from its own delivery on (the process re-arms at the delivery).
    fleet = {"pools": [{"name": "a", "gpu": "H100", "deliveries": [{"date": "2026-01-01", "nodes": 48}]},
                       {"name": "b", "gpu": "H100", "deliveries": [{"date": "2026-07-02", "nodes": 16}]}]}
    failures = {"processes": [{"name": "node", "component": "node", "mttf_hours": 50,
                               "repair": {"dist": "fixed", "hours": 0.5}}]}
    rows = api.run(scenario(fleet, [], end="2027-01-01", seed=1, failures=failures)).failures.to_pylist()
    in_b = [row for row in rows if row["pool"] == "b"]
    assert min(row["t_s"] for row in in_b) >= 182 * 86400
    assert len(rows) - len(in_b) == pytest.approx(48 * 365 * 24 / 50.5, rel=0.05)  # ~8,330
    assert len(in_b) == pytest.approx(16 * 183 * 24 / 50.5, rel=0.08)  # ~1,390


@pytest.mark.parametrize(("gpus", "days", "seeds", "mttf_h"),
                         [(16_384, 40, (1, 2, 3), 1.8), (131_072, 4, (1, 2), 0.23)])
def test_meta_projection_of_job_mttf(gpus: int, days: int, seeds: tuple[int, ...], mttf_h: float) -> None:
    failures = {"processes": [{"name": "rsc1-node", "component": "node", "rate_per_unit_hour": 6.5e-3 / 24,
                               "repair": {"dist": "lognormal", "median_hours": 4, "sigma": 1.0}}]}
    nodes = gpus // 8
    held = interruptions = 0.0
    for seed in seeds:
        run = one_job(gpus, nodes + nodes // 50, f"2026-{1 + days // 31:02d}-{1 + days % 31:02d}", seed, failures,
                      {"interval_hours": 1, "restart_overhead_minutes": 0})
        row = run.jobs.to_pylist()[0]
        held += row["run_s"] / 3600
        interruptions += row["interruptions"]
    assert held / interruptions == pytest.approx(mttf_h, rel=0.1)


@pytest.mark.parametrize(("mtbi_h", "write_min"), [(2.0, 2.0), (8.0, 5.0)])
def test_young_daly_interval_maximises_ettr(mtbi_h: float, write_min: float) -> None:
    optimum_h = math.sqrt(2 * write_min / 60 * mtbi_h)
    failures = {"processes": [{"name": "gpu", "component": "gpu", "rate_per_unit_hour": 1 / (mtbi_h * 64),
                               "repair": {"dist": "fixed", "hours": 0.25}}]}
    factors = (0.25, 0.5, 1.0, 2.0, 4.0)
    ettr = []
    for factor in factors:
        values = []
        for seed in (1, 2):
            checkpointing = {"interval_hours": optimum_h * factor, "write_minutes": write_min,
                             "restart_overhead_minutes": 0}
            run = one_job(64, 16, "2026-04-01", seed, failures, checkpointing, duration_days=150 * mtbi_h / 24)
            row = run.jobs.to_pylist()[0]
            assert row["status"] == "completed"
            values.append(row["ettr"])
        ettr.append(float(np.mean(values)))
    # The peak of a parabola through the middle three points, in log interval, sits within
    # a factor 1.3 of sqrt(2 C M); the optimum beats both ends of the grid.
    x = np.log(factors[1:4])
    a, b, _ = np.polyfit(x, ettr[1:4], 2)
    assert a < 0 and abs(-b / (2 * a)) < math.log(1.3)
    assert ettr[2] > max(ettr[0], ettr[4]) + 0.03


def test_stepfun_fit_round_trip(shared: Path) -> None:
    trace = read_faults(shared / "traces" / "stepfun-infinitehbd-faults" / "fault_trace.json", servers=400,
                        observed_days=348)
    processes, _ = fit_faults(trace, "fault_trace.json")
    fleet = {"pools": [{"name": "servers", "gpu": "H100", "deliveries": [{"date": "2026-01-01", "nodes": 400}]}]}
    failures = []
    for seed in (1, 2, 3):
        run = api.run(scenario(fleet, [], end="2026-12-15", seed=seed, **failures_yaml(processes)))
        failures += run.failures.to_pylist()
    per_server_day = len(failures) / (3 * 400 * 348)
    assert per_server_day == pytest.approx(584 / (400 * 348), rel=0.08)  # README: 0.0042
    for process, level_count in (("hardware-failure", 298), ("other-failure", 262), ("software-failure", 24)):
        share = sum(1 for f in failures if f["process"] == process) / len(failures)
        assert share == pytest.approx(level_count / 584, abs=0.03)
    repairs = np.array([(f["repaired_s"] - f["t_s"]) / 86400 for f in failures if not math.isnan(f["repaired_s"])])
    # README: repair median 0.85 days, p90 13.5 days.
    assert np.median(repairs) == pytest.approx(0.85, rel=0.25)
    assert np.quantile(repairs, 0.9) == pytest.approx(13.5, rel=0.25)


def test_calibrated_repairs_are_the_stepfun_fit(shared: Path) -> None:
    # The calibrated catalog set carries the hardware level's table as `faults fit` writes it.
    trace = read_faults(shared / "traces" / "stepfun-infinitehbd-faults" / "fault_trace.json", servers=400,
                        observed_days=348)
    processes, _ = fit_faults(trace, "fault_trace.json")
    hardware = next(process for process in processes if process.name == "hardware-failure")
    assert hardware.repair == STEPFUN_HARDWARE_REPAIR
    table = STEPFUN_HARDWARE_REPAIR.quantiles_hours
    assert table[0.5] == pytest.approx(32.6, abs=0.05) and table[0.9] / 24 == pytest.approx(23.3, abs=0.05)
