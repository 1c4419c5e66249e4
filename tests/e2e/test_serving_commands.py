"""Serving from the command line: a run writes the serving tables and report section; compare
puts the two sharing modes side by side; a bad sharing mode is refused with exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq


def gpufleet(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gpufleet.cli", *args], capture_output=True, text=True, timeout=600)


def test_run_writes_serving_tables_and_report(tmp_path: Path) -> None:
    out = tmp_path / "run"
    done = gpufleet("run", "serving-split", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "Serving" in done.stdout and "serving.parquet" in done.stdout
    intervals = pq.read_table(out / "serving.parquet")
    months = pq.read_table(out / "serving_monthly.parquet")
    summary = json.loads((out / "summary.json").read_text())["serving"]
    service = summary["services"][0]
    assert intervals.num_rows == service["intervals"] == 14 * 288  # two weeks of 5-minute decisions
    assert abs(sum(months["gpu_hours"].to_pylist()) - service["gpu_hours"]) < 1e-9 * service["gpu_hours"]
    # The daily curve: more replicas at the 15:00 UTC peak than at the 03:00 trough.
    ready = intervals["ready_replicas"].to_numpy()
    hour = (intervals["start_s"].to_numpy() // 3600) % 24
    assert ready[hour == 15].mean() > 1.5 * ready[hour == 3].mean()
    assert summary["serving_gpu_hours"] + summary["training_gpu_hours"] > 0
    report = (out / "report.html").read_text()
    assert "<h2>Serving</h2>" in report and "Busiest day" in report


def test_compare_sharing_modes(tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    done = gpufleet("compare", "serving-split", "--sharing", "preempt,quota:inference", "--until", "2026-03-06",
                    "--out", str(out))
    assert done.returncode == 0, done.stderr
    rows = {row["variant"]: row for row in json.loads((out / "comparison.json").read_text())["overall"]}
    assert set(rows) == {"fifo+preempt", "fifo+quota-inference"}
    for row in rows.values():
        assert row["serving_gpu_hours"] > 0 and 0 <= row["serving_slo_attainment"] <= 1
    submitted = {name: pq.read_table(out / "variants" / name / "jobs.parquet")["submit_s"].to_pylist() for name in rows}
    assert len({tuple(times) for times in submitted.values()}) == 1  # identical workloads
    assert "Serving beside training" in done.stdout


def test_compare_refuses_an_unknown_sharing_queue(tmp_path: Path) -> None:
    done = gpufleet("compare", "serving-split", "--sharing", "quota:nope", "--out", str(tmp_path / "cmp"))
    assert done.returncode == 2 and "no queue 'nope'" in done.stderr
    assert not (tmp_path / "cmp").exists()
