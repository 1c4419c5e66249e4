"""The import, export and admit commands as a user runs them (`python -m gpufleet.cli`)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def gpufleet(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gpufleet.cli", *map(str, args)], capture_output=True, text=True,
                          timeout=600)


def test_import_export_admit_compare(interop: Path, data: Path, tmp_path: Path) -> None:
    out = tmp_path / "tas.yaml"
    done = gpufleet("import", "kueue", interop / "kueue" / "kueue_tas_sample-gpu-queues.yaml",
                    data / "tas-priorities.yaml", "--nodes", data / "tas-nodes.json",
                    "--workloads", data / "workloads-v1beta2.yaml", "--workloads", data / "jobs-with-status.yaml",
                    "-o", out, "--json", tmp_path / "report.json")
    assert done.returncode == 0, done.stderr
    assert f"Wrote {out}, {tmp_path / 'tas.jobs.csv'}, {tmp_path / 'tas.import.json'}" in done.stdout
    assert "Not modelled" in done.stdout and "kind Deployment is not modelled" in done.stdout
    assert json.loads((tmp_path / "report.json").read_text())["system"] == "kueue"
    assert gpufleet("validate", out).returncode == 0

    exported = gpufleet("export", "kueue", out, "-o", tmp_path / "kueue.yaml")
    assert exported.returncode == 0, exported.stderr
    assert "kind: ClusterQueue" in (tmp_path / "kueue.yaml").read_text()
    slurm = gpufleet("export", "slurm", out, "-o", tmp_path / "slurm")
    assert slurm.returncode == 0, slurm.stderr
    assert "PartitionName=tas-cluster-queue" in (tmp_path / "slurm" / "slurm.conf").read_text()

    answer = gpufleet("admit", out, data / "tas-job.yaml", "--at", "2026-03-02T10:00:00", "--replications", "2",
                      "--json", tmp_path / "admit.json")
    assert answer.returncode == 0, answer.stderr
    assert "not admitted at 2026-03-02 10:00:00" in answer.stdout and "2026-03-03 08:11:40" in answer.stdout
    assert json.loads((tmp_path / "admit.json").read_text())["checks"][0]["kind"] == "quota"

    compared = gpufleet("compare", out, "--policy", "priority", "--queueing", "BestEffortFIFO,StrictFIFO",
                        "--no-report", "--out", tmp_path / "cmp")
    assert compared.returncode == 0, compared.stderr
    assert "priority+StrictFIFO" in compared.stdout


def test_import_slurm_and_trace_formats(interop: Path, data: Path, tmp_path: Path) -> None:
    done = gpufleet("import", "slurm", "--conf", interop / "slurm" / "ubhpc-medium_slurm.conf",
                    "--topology", interop / "slurm" / "ubhpc-medium_topology.conf",
                    "--gres", interop / "slurm" / "ubhpc-medium_gres.conf", "-o", tmp_path / "ubhpc.yaml")
    assert done.returncode == 0, done.stderr
    assert "tesla_v100-pcie-32gb" in done.stdout and (tmp_path / "ubhpc.import.json").is_file()
    swf = gpufleet("trace", "stats", data / "sample.swf", "-f", "swf")
    assert swf.returncode == 0 and "6" in swf.stdout
    strict = gpufleet("trace", "stats", interop / "workloads" / "slurm_sim_tools_sacct_dump2101.log",
                      "-f", "slurm-sacct", "--strict")
    assert strict.returncode == 2 and "5 bad rows of 15" in strict.stderr
    assert ":16: expected 107 fields" in strict.stderr


def test_bad_input_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: kueue.x-k8s.io/v1beta2\nkind: ClusterQueu\nmetadata: {name: x}\n")
    done = gpufleet("import", "kueue", bad, "-o", tmp_path / "out.yaml")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"{bad}:2: kind: document 1 (ClusterQueu x): unknown Kueue kind 'ClusterQueu'" in done.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["bad.yaml"]
    conf = tmp_path / "slurm.conf"
    conf.write_text("NodeName=gpu[01-0x] Gres=gpu:8\n")
    done = gpufleet("import", "slurm", "--conf", conf, "-o", tmp_path / "out.yaml")
    assert done.returncode == 2 and f"{conf}:1: NodeName: hostlist 'gpu[01-0x]'" in done.stderr
