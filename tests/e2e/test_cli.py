"""The `gpufleet` command end to end, as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from gpufleet.errors import InputError

OUTPUTS = {"summary.json", "jobs.parquet", "timeseries.parquet", "ledger.parquet", "scenario.json", "report.html"}


def gpufleet(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gpufleet.cli", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=600)


def test_run_writes_every_output(tmp_path: Path) -> None:
    done = gpufleet("run", "research-lab", "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    assert {path.name for path in (tmp_path / "out").iterdir()} == OUTPUTS
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    jobs = pq.read_table(tmp_path / "out" / "jobs.parquet")
    assert summary["jobs"]["total"] == jobs.num_rows > 0
    report = (tmp_path / "out" / "report.html").read_text()
    assert "plotly" in report and report.count('id="chart-') == 5
    assert "Utilisation" in done.stdout and "Wait by job size" in done.stdout


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    for name in ("a", "b"):
        assert gpufleet("run", "research-lab", "--out", str(tmp_path / name), "--no-report").returncode == 0
    for table in ("jobs.parquet", "timeseries.parquet", "ledger.parquet", "summary.json"):
        assert (tmp_path / "a" / table).read_bytes() == (tmp_path / "b" / table).read_bytes(), table
    assert gpufleet("run", "research-lab", "--out", str(tmp_path / "c"), "--seed", "8",
                    "--no-report").returncode == 0
    assert (tmp_path / "a" / "jobs.parquet").read_bytes() != (tmp_path / "c" / "jobs.parquet").read_bytes()


def test_default_scenario_runs_end_to_end(tmp_path: Path) -> None:
    done = gpufleet("run", "--until", "2026-02-01", "--out", str(tmp_path / "default"))
    assert done.returncode == 0, done.stderr
    summary = json.loads((tmp_path / "default" / "summary.json").read_text())
    assert summary["scenario"] == "openai-aws-2025" and summary["horizon"].startswith("2026-02-01")
    assert summary["jobs"]["started"] > 1000 and summary["money"]["contract_value_usd"] > 38e9
    # The calibrated default (#24): three product lines, the cost of waiting, and the
    # answers it says rest on assumptions, in the terminal and the report.
    assert [service["name"] for service in summary["serving"]["services"]] == ["chatgpt", "api", "agents"]
    assert "cost_of_waiting_usd" in summary["money"] and summary["capacity"]["deliveries"]
    assert "Answers set by assumption" in done.stdout and "serving share of GPU-hours" in done.stdout
    assert "Which answers rest on assumptions?" in (tmp_path / "default" / "report.html").read_text()


def test_a_bad_scenario_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nstart: 2026-01-01\nend: 2026-02-01\nfleet:\n  pools: []\n")
    done = gpufleet("run", str(bad), "--out", str(tmp_path / "out"))
    assert done.returncode == 2
    assert f"{bad}:5: fleet.pools: List should have at least 1 item" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()
    assert [path.name for path in tmp_path.iterdir()] == ["bad.yaml"]


def test_a_failed_write_leaves_the_previous_results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gpufleet import api

    out = tmp_path / "out"
    result = api.run(api.load("research-lab"))
    api.write(result, out, report=False)
    before = (out / "jobs.parquet").read_bytes()

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("gpufleet.report.html.write_report", broken)
    with pytest.raises(InputError, match=f"{out}: cannot write: disk full"):  # a clean error, exit 2 in the CLI
        api.write(result, out, report=True)
    assert (out / "jobs.parquet").read_bytes() == before and not (out / "report.html").exists()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["out"]


def test_validate_prints_what_it_understood() -> None:
    done = gpufleet("validate", "openai-aws-2025")
    assert done.returncode == 0, done.stderr
    assert "300,096" in done.stdout and "$38.00B" in done.stdout and "frontier-2027" in done.stdout


def test_schema_and_scenarios() -> None:
    schema = json.loads(gpufleet("schema").stdout)
    assert schema["title"] == "Scenario" and "fleet" in schema["properties"]
    listing = gpufleet("scenarios").stdout
    assert listing.startswith("openai-aws-2025 (default):") and "research-lab" in listing
