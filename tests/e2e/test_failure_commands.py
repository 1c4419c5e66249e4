"""Failures from the command line: same seed same bytes, `faults fit`, `checkpoint-advice`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from gpufleet.sim.load import parse_scenario

FAILING_LAB = """\
name: failing-lab
start: 2026-01-01
end: 2026-01-20
seed: 3
fleet:
  pools:
    - {name: lab, gpu: H100, racks_per_block: 4, deliveries: [{date: 2026-01-01, nodes: 16}]}
failures:
  catalog_defaults: false
  processes:
    - {name: node, component: node, mttf_hours: 200, repair: {dist: lognormal, median_hours: 2, sigma: 1}}
    - {name: gpu, component: gpu, mttf_hours: 2000, distribution: weibull, shape: 0.8,
       repair: {dist: fixed, hours: 1}}
checkpointing: {interval_hours: young_daly, write_minutes: 2, restart_overhead_minutes: 10}
workloads:
  - synthetic:
      name: runs
      arrivals: {rate_per_day: 20}
      sizes:
        - {gpus: 8, weight: 0.6, duration: {dist: lognormal, median_hours: 6, sigma: 1}}
        - {gpus: 64, weight: 0.4, group_size: 8, duration: {dist: lognormal, median_hours: 12, sigma: 1}}
"""


def gpufleet(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gpufleet.cli", *args], capture_output=True, text=True, timeout=600)


def test_failures_are_deterministic_and_written(tmp_path: Path) -> None:
    scenario = tmp_path / "failing.yaml"
    scenario.write_text(FAILING_LAB)
    for name in ("a", "b"):
        done = gpufleet("run", str(scenario), "--out", str(tmp_path / name), "--no-report")
        assert done.returncode == 0, done.stderr
    for table in ("jobs.parquet", "failures.parquet", "timeseries.parquet", "summary.json"):
        assert (tmp_path / "a" / table).read_bytes() == (tmp_path / "b" / table).read_bytes(), table
    import json

    summary = json.loads((tmp_path / "a" / "summary.json").read_text())
    assert summary["failures"]["failures"] > 0 and summary["failures"]["interruptions"] > 0
    assert 0 < summary["failures"]["goodput"] < summary["capacity"]["utilisation"]


def test_faults_fit_writes_a_failures_section(tmp_path: Path, shared: Path) -> None:
    out = tmp_path / "stepfun.yaml"
    done = gpufleet("faults", "fit", str(shared / "traces" / "stepfun-infinitehbd-faults" / "fault_trace.json"),
                    "--servers", "400", "--days", "348", "--out", str(out))
    assert done.returncode == 0, done.stderr
    section = yaml.safe_load(out.read_text())
    assert {p["name"] for p in section["failures"]["processes"]} == \
        {"hardware-failure", "other-failure", "software-failure"}
    text = FAILING_LAB.split("failures:")[0] + yaml.safe_dump(section) + "workloads: []\n"
    assert parse_scenario(text).failures is not None  # the section drops into a scenario as is


def test_faults_fit_needs_the_number_of_servers(tmp_path: Path, shared: Path) -> None:
    done = gpufleet("faults", "fit", str(shared / "traces" / "stepfun-infinitehbd-faults" / "fault_trace.json"))
    assert done.returncode == 2


def test_checkpoint_advice(tmp_path: Path) -> None:
    scenario = tmp_path / "failing.yaml"
    scenario.write_text(FAILING_LAB)
    done = gpufleet("checkpoint-advice", str(scenario))
    assert done.returncode == 0, done.stderr
    assert "Young/Daly interval" in done.stdout and "64" in done.stdout
