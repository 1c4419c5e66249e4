"""Every `gpufleet` command, and `trace stats` on every trace format, in a fresh process.

The way a user starts them: `python -m gpufleet.cli ...` with nothing imported before, so
an import that works only after another module has been imported (an import cycle) fails
here. The lists are checked against the command tree and the format table, so a new
command or format without a case here fails too.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import typer

from gpufleet.cli import app
from gpufleet.traces.formats import FORMATS

OPENB = "traces/alibaba-gpu-v2023-openb"
INTEROP = Path(__file__).resolve().parents[1] / "interop" / "data"
AZURE = "traces/azure-llm-inference-2023/AzureLLMInferenceTrace_conv.csv"

# command path -> arguments ({shared} and {tmp} are filled in); each must exit 0.
COMMANDS: dict[str, list[str]] = {
    "run": ["run", "research-lab", "--until", "2026-01-20", "--no-report", "--out", "{tmp}/run"],
    "compare": ["compare", "research-lab", "--policy", "fifo,las", "--until", "2026-01-10", "--no-report",
                "--out", "{tmp}/compare"],
    "checkpoint-advice": ["checkpoint-advice", "openai-aws-2025"],
    "validate": ["validate", "kueue-cohort"],
    "schema": ["schema", "--out", "{tmp}/schema.json"],
    "scenarios": ["scenarios"],
    "trace formats": ["trace", "formats"],
    "trace stats": ["trace", "stats", "{shared}/" + AZURE, "--format", "azure-llm"],
    "trace fit": ["trace", "fit", "{shared}/" + OPENB + "/openb_pod_list_default.csv", "-f", "alibaba-openb",
                  "-o", "{tmp}/fit.yaml"],
    "trace fleet": ["trace", "fleet", "{shared}/" + OPENB + "/openb_node_list_gpu_node.csv", "-o", "{tmp}/fleet.yaml"],
    "trace check": ["trace", "check", "openb-replay"],
    "trace replay": ["trace", "replay", "openb-replay"],
    "faults fit": ["faults", "fit", "{shared}/traces/stepfun-infinitehbd-faults/fault_trace.json", "--servers", "400",
                   "-o", "{tmp}/failures.yaml"],
    "import kueue": ["import", "kueue", "{shared}/interop/kueue/kueue_tas_sample-gpu-queues.yaml", "-o",
                     "{tmp}/tas.yaml"],
    "import slurm": ["import", "slurm", "--conf", "{shared}/interop/slurm/ubhpc-medium_slurm.conf", "-o",
                     "{tmp}/ubhpc.yaml"],
    "export kueue": ["export", "kueue", "research-lab", "-o", "{tmp}/kueue.yaml"],
    "export slurm": ["export", "slurm", "kueue-cohort", "-o", "{tmp}/slurm"],
    "sweep": ["sweep", "{tmp}/tiny-sweep.yaml", "--workers", "1", "--store", "{tmp}/store", "-o", "{tmp}/sweep"],
    "plan": ["plan", "research-lab", "--target", "wait_p95_h[1-8] <= 1000", "--vary", "scale:lab=1,2",
             "--replications", "1", "--no-sensitivity", "--until", "2026-01-12", "--workers", "1",
             "--store", "{tmp}/store", "-o", "{tmp}/plan"],
    "runs list": ["runs", "list", "--store", "{store}"],
    "runs show": ["runs", "show", "{key0}", "--store", "{store}"],
    "runs compare": ["runs", "compare", "{key0}", "{key1}", "--store", "{store}"],
    "runs sql": ["runs", "sql", "SELECT scenario, seed FROM runs ORDER BY seed", "--store", "{store}"],
    "ui": ["ui", "--runs", "{tmp}/runs", "--port", "0", "--check"],
    "admit": ["admit", str(INTEROP / "tas-snapshot" / "tas.yaml"), str(INTEROP / "tas-job.yaml"), "--at",
              "2026-03-02T10:00:00", "--replications", "2"],
}

# format -> file under ../shared, or a small file written here, and extra options.
FORMAT_CASES: dict[str, tuple[str, list[str]]] = {
    "alibaba-openb": (OPENB + "/openb_pod_list_gpuspec33.csv", []),
    "generic-jobs": ("{tmp}/jobs.csv", []),
    "azure-llm": (AZURE, []),
    "generic-requests": ("{tmp}/requests.jsonl", []),
    "cluster-summary": ("traces/acme-cluster-summary/cluster_summary.csv", []),
    "alibaba-openb-nodes": (OPENB + "/openb_node_list_gpu_node.csv", []),
    "stepfun-faults": ("traces/stepfun-infinitehbd-faults/fault_trace.json", []),
    "slurm-sacct": ("interop/workloads/slurm_sim_tools_sacct_dump2101.log", []),
    "swf": ("{tmp}/jobs.swf", []),
    "gpufleet-jobs": ("{tmp}/gpufleet-jobs.csv", []),
    "tiresias": ("{tmp}/tiresias.csv", []),
    "philly-runtime": ("traces/alibaba-gpu-v2020-philly-runtime/philly_runtime.csv", []),
    "philly-node-sequence": ("traces/helios-artifact/philly_node_sequence.csv", []),
}


def _command_paths(group: object, prefix: str = "") -> set[str]:
    paths = set()
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        path = f"{prefix}{name}"
        paths |= _command_paths(command, f"{path} ") if hasattr(command, "commands") else {path}
    return paths


def test_every_command_and_format_has_a_case() -> None:
    assert _command_paths(typer.main.get_command(app)) == set(COMMANDS)
    assert set(FORMATS) == set(FORMAT_CASES)


TINY_SWEEP = """name: tiny
base: research-lab
replications: 2
until: 2026-01-08
axes:
  - {path: scheduler.policy, values: [fifo]}
"""


def _gpufleet(args: list[str], shared: Path, tmp: Path, **fill: str) -> subprocess.CompletedProcess[str]:
    filled = []
    for arg in args:
        for name, value in {"shared": str(shared), "tmp": str(tmp), **fill}.items():
            arg = arg.replace("{" + name + "}", value)
        filled.append(arg)
    return subprocess.run([sys.executable, "-m", "gpufleet.cli", *filled], capture_output=True, text=True,
                          timeout=600, cwd=tmp)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A run store holding two runs (a tiny sweep, run in process), for the `runs` commands."""
    from gpufleet import api

    folder = tmp_path_factory.mktemp("store")
    (folder / "tiny-sweep.yaml").write_text(TINY_SWEEP)
    api.sweep(folder / "tiny-sweep.yaml", workers=1, store_root=folder / "store")
    keys = api.store(folder / "store").keys()
    return {"store": str(folder / "store"), "key0": keys[0][:12], "key1": keys[1][:12]}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_each_command_in_a_fresh_process(command: str, shared: Path, tmp_path: Path,
                                         store: dict[str, str]) -> None:
    (tmp_path / "tiny-sweep.yaml").write_text(TINY_SWEEP)
    done = _gpufleet(COMMANDS[command], shared, tmp_path, **store)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("name", sorted(FORMAT_CASES))
def test_trace_stats_of_each_format_in_a_fresh_process(name: str, shared: Path, tmp_path: Path) -> None:
    (tmp_path / "jobs.csv").write_text("submit,gpus,duration\n0,1,10\n5,8,3600\n9,2,60\n")
    (tmp_path / "jobs.swf").write_text("; UnixStartTime: 1704067200\n"
                                       "1 0 10 3600 8 -1 -1 8 7200 -1 1 1 1 -1 1 -1 -1 -1\n")
    (tmp_path / "gpufleet-jobs.csv").write_text("submit,start,end,gpus\n2024-01-01T00:00:00,2024-01-01T00:01:00,"
                                               "2024-01-01T01:00:00,8\n")
    (tmp_path / "tiresias.csv").write_text("job_id,num_gpu,submit_time,iterations,model_name,duration,interval\n"
                                           "0,1,0,100,resnet50,120,30\n1,8,30,50,vgg16,600,0\n")
    (tmp_path / "requests.jsonl").write_text("".join(
        f'{{"arrival": {t}, "input_tokens": {100 + t}, "output_tokens": {20 + t}}}\n' for t in range(30)))
    path, options = FORMAT_CASES[name]
    location = path if path.startswith("{tmp}") else "{shared}/" + path
    done = _gpufleet(["trace", "stats", location, "--format", name, *options], shared, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
