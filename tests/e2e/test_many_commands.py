"""`gpufleet run --replications`, `sweep`, `plan` and `runs` end to end, as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import yaml

from tests.plan.helpers import lab


def gpufleet(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gpufleet.cli", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=600)


def _scenario(tmp_path: Path) -> Path:
    path = tmp_path / "lab.yaml"
    path.write_text(yaml.safe_dump(lab().model_dump(mode="json", exclude_defaults=True), sort_keys=False))
    return path


def test_replications_then_the_store(tmp_path: Path) -> None:
    store, out = tmp_path / "store", tmp_path / "x3"
    done = gpufleet("run", str(_scenario(tmp_path)), "--replications", "3", "--workers", "2", "--store", str(store),
                    "--out", str(out), "--seed", "4")
    assert done.returncode == 0, done.stderr
    assert {p.name for p in out.iterdir()} == {"replications.json", "replications.parquet", "report.html"}
    data = json.loads((out / "replications.json").read_text())
    assert data["replications"] == 3 and data["seeds"] == [4, 5, 6]
    assert "95% CI, Student t] over 3 replications" in done.stdout
    report = (out / "report.html").read_text()
    assert "95% CI of the mean" in report and report.count('id="chart-') == 5
    keys = [row["key"] for row in data["runs"]]
    listed = gpufleet("runs", "list", "--store", str(store))
    assert listed.returncode == 0 and all(key[:12] in listed.stdout for key in keys)
    shown = gpufleet("runs", "show", keys[0][:8], "--store", str(store))
    assert shown.returncode == 0 and "wait_p95_h" in shown.stdout and "seed" in shown.stdout
    compared = gpufleet("runs", "compare", keys[0][:8], keys[1][:8], "--store", str(store))
    assert compared.returncode == 0 and "utilisation" in compared.stdout
    sql = gpufleet("runs", "sql", "SELECT seed, utilisation FROM runs ORDER BY seed", "--csv", "--store", str(store))
    lines = sql.stdout.splitlines()
    assert sql.returncode == 0 and lines[0] == "seed,utilisation" and [line[:2] for line in lines[1:]] == [
        "4,", "5,", "6,"]
    assert min(float(line.split(",")[1]) for line in lines[1:]) == data["metrics"]["utilisation"]["min"]
    bad = gpufleet("runs", "sql", "SELECT nope FROM runs", "--store", str(store))
    assert bad.returncode == 2 and "SQL:" in bad.stderr and "Traceback" not in bad.stderr


def test_sweep_and_plan_commands(tmp_path: Path) -> None:
    _scenario(tmp_path)
    store = tmp_path / "store"
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text("name: racks\nbase: lab.yaml\nreplications: 2\naxes:\n"
                     "  - {path: 'fleet.pools[pool].deliveries[*].racks', scale: [0.5, 1.0]}\n")
    done = gpufleet("sweep", str(sweep), "--workers", "1", "--store", str(store), "--out", str(tmp_path / "sw"),
                    "--no-report")
    assert done.returncode == 0, done.stderr
    table = pq.read_table(tmp_path / "sw" / "table.parquet").to_pylist()
    assert len(table) == 2 and all(row["runs_ok"] == 2 for row in table)
    assert "Sweep racks" in done.stdout
    sweep.write_text("name: racks\nbase: lab.yaml\naxes:\n  - {path: 'fleet.pools[pool].deliveries[*].racks', "
                     "scale: [0.5], colour: red}\n")
    bad = gpufleet("sweep", str(sweep), "--store", str(store))
    assert bad.returncode == 2 and f"{sweep}:4: axes[0].colour: unknown key" in bad.stderr
    planned = gpufleet("plan", str(tmp_path / "lab.yaml"), "--target", "wait_p95_h <= 24", "--vary",
                       "racks:pool[0]=0..8/2", "--replications", "2", "--no-sensitivity", "--workers", "1",
                       "--store", str(store), "--out", str(tmp_path / "plan"))
    assert planned.returncode == 0, planned.stderr
    assert "Binding target" in planned.stdout and (tmp_path / "plan" / "plan.yaml").exists()
    reloaded = gpufleet("validate", str(tmp_path / "plan" / "plan.yaml"))
    assert reloaded.returncode == 0, reloaded.stderr
    wrong = gpufleet("plan", str(tmp_path / "lab.yaml"), "--target", "wait_p95_h < 24", "--vary",
                     "racks:pool[0]=0..8/2", "--store", str(store))
    assert wrong.returncode == 2 and "METRIC <= VALUE" in wrong.stderr
