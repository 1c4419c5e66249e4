"""`gpufleet compare`: several policies on the same jobs, one table and one report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq

from gpufleet.scenarios import builtin_path


def test_compare_runs_every_variant_on_the_same_jobs(tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    # research-lab with SRTF that knows each job's run time (every job has the same 48 h
    # limit, so planning on limits would rank them all alike).
    lab = tmp_path / "lab.yaml"
    text = builtin_path("research-lab").read_text()  # type: ignore[union-attr]
    lab.write_text(text.replace("backfill: true", "backfill: true\n  estimate: exact"))
    done = subprocess.run([sys.executable, "-m", "gpufleet.cli", "compare", str(lab), "--policy", "fifo,srtf",
                           "--placement", "best_fit,spread", "--out", str(out)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    comparison = json.loads((out / "comparison.json").read_text())
    names = [row["variant"] for row in comparison["overall"]]
    assert names == ["fifo+best_fit", "fifo+spread", "srtf+best_fit", "srtf+spread"]
    tables = {name: pq.read_table(out / "variants" / name / "jobs.parquet") for name in names}
    submitted = {name: table["submit_s"].to_pylist() for name, table in tables.items()}
    assert len({tuple(times) for times in submitted.values()}) == 1  # identical workloads
    rows = {row["variant"]: row for row in comparison["overall"]}
    # Shortest remaining time first cuts the mean completion time on this queue (and pays
    # for it in preemptions), FIFO never preempts.
    assert rows["srtf+best_fit"]["jct_mean_h"] < rows["fifo+best_fit"]["jct_mean_h"]
    assert rows["fifo+best_fit"]["preemptions"] == 0 < rows["srtf+best_fit"]["preemptions"]
    assert "report.html" in {path.name for path in out.iterdir()}
    assert "srtf+best_fit" in done.stdout


def test_compare_rejects_an_unknown_policy(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "gpufleet.cli", "compare", "research-lab", "--policy", "fifo,lottery",
                           "--out", str(tmp_path / "cmp")], capture_output=True, text=True, timeout=600)
    assert done.returncode == 2 and "unknown policy 'lottery'" in done.stderr
    assert not (tmp_path / "cmp").exists()


def test_compare_varies_backfill_and_preemption_scope(tmp_path: Path) -> None:
    """One command for a research table: strict FIFO and FIFO that skips (NAME@BACKFILL), and
    the preemptive policies under both preemption scopes."""
    out = tmp_path / "cmp"
    done = subprocess.run([sys.executable, "-m", "gpufleet.cli", "compare", "research-lab", "--policy",
                           "fifo@none,fifo@greedy,srsf", "--preemption-scope", "first_blocked,any", "--until",
                           "2026-01-15", "--no-report", "--out", str(out)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    data = json.loads((out / "comparison.json").read_text())
    names = [row["variant"] for row in data["overall"]]
    assert names == ["fifo+none+first_blocked", "fifo+none+any", "fifo+greedy+first_blocked", "fifo+greedy+any",
                     "srsf+first_blocked", "srsf+any"]
    rows = {row["variant"]: row for row in data["overall"]}
    assert rows["fifo+none+any"]["backfill"] == "none" and rows["srsf+any"]["preemption_scope"] == "any"
    assert "fifo+greedy+any" in done.stdout


def test_compare_rejects_an_unknown_backfill(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "gpufleet.cli", "compare", "research-lab", "--policy", "fifo@eager",
                           "--out", str(tmp_path / "cmp")], capture_output=True, text=True)
    assert done.returncode == 2 and "backfill 'eager': choose none, greedy or easy" in done.stderr
