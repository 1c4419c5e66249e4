"""`gpufleet trace ...` as a user runs it: outputs written whole, exit code 2 on bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from gpufleet.cli import app
from gpufleet.sim.load import parse_scenario

runner = CliRunner()
OPENB = "alibaba-gpu-v2023-openb"


def trace(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["trace", *args])
    return result.exit_code, result.stdout, result.stderr


def test_stats_writes_json_and_html(traces: Path, tmp_path: Path) -> None:
    code, out, _ = trace("stats", str(traces / OPENB / "openb_pod_list_default.csv"), "--format", "alibaba-openb",
                         "--json", str(tmp_path / "s.json"), "--html", str(tmp_path / "s.html"))
    assert code == 0, out
    assert "GPUs per job" in out and "Outcomes" in out and "Arrival rate by hour of day" in out
    stats = json.loads((tmp_path / "s.json").read_text())
    assert stats["gpus_per_job"]["jobs"] == [1088, 6989, 16, 15, 44]
    page = (tmp_path / "s.html").read_text()
    assert page.count('id="chart-') == 7 and "plotly" in page and "openb_pod_list_default.csv" in page


def test_stats_of_requests_and_a_published_comparison(traces: Path) -> None:
    code, out, _ = trace("stats", str(traces / "azure-llm-inference-2023" / "AzureLLMInferenceTrace_conv.csv"),
                         "-f", "azure-llm")
    assert code == 0 and "19,366" in out and "5.530 requests/s" in out
    code, out, _ = trace("stats", str(traces / "alibaba-gpu-v2020-philly-runtime" / "philly_runtime.csv"),
                         "-f", "generic-jobs", "--columns", "duration=runtime,submit=,gpus=",
                         "--against", f"{traces / 'acme-cluster-summary' / 'cluster_summary.csv'}:Philly")
    assert code == 0, out
    assert "1,186" in out and "874" in out and "1.36" in out


def test_bad_input_exits_2_with_the_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "jobs.csv"
    bad.write_text("submit,gpus,duration\n0,1,10\n5,two,10\n9,1,-3\n")
    json_out = tmp_path / "out.json"
    code, out, err = trace("stats", str(bad), "-f", "generic-jobs", "--strict", "--json", str(json_out))
    assert code == 2
    assert f"{bad}:3: gpus: 'two' is not a number" in err and f"{bad}:4: duration: '-3' is negative" in err
    assert not json_out.exists()  # nothing half-written
    code, out, _ = trace("stats", str(bad), "-f", "generic-jobs", "--json", str(json_out))
    assert code == 0 and json.loads(json_out.read_text())["read"]["bad_rows"] == 2
    assert "line 3" in out and "line 4" in out
    for args, message in [
        (["stats", str(bad), "-f", "slurm"], "unknown trace format 'slurm'"),
        (["stats", str(tmp_path / "none.csv"), "-f", "generic-jobs"], "trace file not found"),
        (["stats", str(bad), "-f", "generic-jobs", "--columns", "submit"], "is not FIELD=COLUMN"),
        (["stats", str(bad), "-f", "generic-jobs", "--columns", "when=submit"], "--columns: when: unknown field"),
        (["stats", str(bad), "-f", "generic-jobs", "--time-unit", "weeks"], "--time-unit: unknown time unit"),
        (["stats", str(bad), "-f", "alibaba-openb", "--columns", "submit=x"], "only the generic formats"),
        (["stats", str(bad), "-f", "alibaba-openb"], f"{bad}:1: missing columns"),
        (["fit", str(bad), "-f", "azure-llm", "-o", str(tmp_path / "f.yaml")], "fit takes a job trace"),
        (["fit", str(bad), "-f", "generic-jobs", "-o", str(tmp_path / "f.yaml")], "only 1 jobs to fit"),
        (["replay", "research-lab"], "no trace workload"),
    ]:
        code, _, err = trace(*args)
        assert code == 2, args
        assert message in err, (args, err)
        assert "Traceback" not in err
    assert not (tmp_path / "f.yaml").exists()


def test_fit_writes_a_workload_a_scenario_accepts(traces: Path, tmp_path: Path) -> None:
    out = tmp_path / "fit.yaml"
    code, text, _ = trace("fit", str(traces / OPENB / "openb_pod_list_default.csv"), "-f", "alibaba-openb",
                          "--window", "110:", "-o", str(out), "--json", str(tmp_path / "fit.json"))
    assert code == 0, text
    assert "Goodness of fit" in text and "regenerated vs trace" in text
    fitted = yaml.safe_load(out.read_text())
    assert out.read_text().startswith("# Fitted by `gpufleet trace fit`")
    scenario = {"name": "fitted", "start": "2026-01-05", "end": "2026-02-05",
                "fleet": {"pools": [{"name": "p", "gpu": "H100", "deliveries": [{"date": "2026-01-05", "racks": 8}]}]},
                **fitted}
    spec = parse_scenario(yaml.safe_dump(scenario), source=str(out))
    assert spec.workloads[0].synthetic.arrivals.hour_of_day is not None
    report = json.loads((tmp_path / "fit.json").read_text())
    assert report["round_trip"]["ks"]["gpus"] < 0.01


def test_fleet_and_replay_scenario(traces: Path, tmp_path: Path) -> None:
    fleet = tmp_path / "fleet.yaml"
    code, out, _ = trace("fleet", str(traces / OPENB / "openb_node_list_all_node.csv"), "-o", str(fleet))
    assert code == 0 and "12 pools, 6,212 GPUs; 310 CPU-only nodes left out" in out
    sections = yaml.safe_load(fleet.read_text())
    assert set(sections) == {"gpu_types", "fleet"}
    scenario = tmp_path / "replay.yaml"
    code, out, _ = trace("fleet", str(traces / OPENB / "openb_node_list_all_node.csv"), "--pods",
                         str(traces / OPENB / "openb_pod_list_gpuspec33.csv"), "-o", str(scenario))
    assert code == 0, out
    code, out, _ = trace("check", str(scenario))
    assert code == 0 and "6,203 jobs replayed" in out
    waits = tmp_path / "waits.json"
    code, out, _ = trace("replay", str(scenario), "--json", str(waits))
    assert code == 0, out
    comparison = json.loads(waits.read_text())["workloads"][0]
    assert comparison["jobs"] == 6203 and comparison["percentiles"]["p"][4] == 50


def test_the_command_line_exits_2_on_bad_input(tmp_path: Path) -> None:
    """The installed entry point, not only the app object."""
    done = subprocess.run([sys.executable, "-m", "gpufleet.cli", "trace", "stats", str(tmp_path / "none.csv"),
                           "--format", "generic-jobs"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert f"error: {tmp_path / 'none.csv'}: trace file not found" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("command", ["stats", "fit", "fleet", "replay", "check", "formats"])
def test_every_command_has_help(command: str) -> None:
    result = runner.invoke(app, ["trace", command, "--help"])
    assert result.exit_code == 0 and "Usage" in result.stdout


def test_same_input_same_bytes(traces: Path, tmp_path: Path) -> None:
    pods = str(traces / OPENB / "openb_pod_list_default.csv")
    for run in ("a", "b"):
        assert trace("stats", pods, "-f", "alibaba-openb", "--json", str(tmp_path / f"{run}.json"),
                     "--html", str(tmp_path / f"{run}.html"))[0] == 0
        assert trace("fit", pods, "-f", "alibaba-openb", "-o", str(tmp_path / f"{run}.yaml"))[0] == 0
    for suffix in ("json", "html", "yaml"):
        assert (tmp_path / f"a.{suffix}").read_bytes() == (tmp_path / f"b.{suffix}").read_bytes(), suffix
    assert trace("fit", pods, "-f", "alibaba-openb", "-o", str(tmp_path / "c.yaml"), "--seed", "1")[0] == 0
    assert (tmp_path / "c.yaml").read_bytes() != (tmp_path / "a.yaml").read_bytes()  # the round trip's seed
