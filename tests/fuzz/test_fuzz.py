"""Fuzzing: mutated scenarios, trace rows of every format and fault logs must end in
success or a clean error (see targets.py for the property).

`make test` runs a small fixed slice (GPUFLEET_FUZZ_EXAMPLES, default 12 per entry
point); `make fuzz` runs 10,000 per entry point with the same fixed seed. Every crash
this found is fixed and kept as a case in test_regressions.py.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gpufleet.scenarios import builtin_names, builtin_path
from tests.fuzz import mutations, targets

EXAMPLES = int(os.environ.get("GPUFLEET_FUZZ_EXAMPLES", "12"))
FUZZ = settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                suppress_health_check=list(HealthCheck))
SHARED = Path(__file__).resolve().parents[3] / "shared"
TRACES = SHARED / "traces"
DATA = Path(__file__).resolve().parents[1] / "interop" / "data"
pytestmark = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared is not next to this checkout")


def _head(path: Path, lines: int) -> str:
    with path.open(encoding="utf-8") as handle:
        return "".join(line for _, line in zip(range(lines), handle, strict=False))


def _scenario_texts() -> list[str]:
    return [builtin_path(name).read_text(encoding="utf-8") for name in builtin_names()]  # type: ignore[union-attr]


def _generic_jobs() -> str:
    rows = _head(TRACES / "alibaba-gpu-v2023-openb" / "openb_pod_list_default.csv", 50).splitlines()[1:]
    out = ["submit,gpus,duration,name,queue,status"]
    for row in rows:
        cells = row.split(",")
        out.append(f"{cells[8]},{cells[3]},{int(cells[9]) - int(cells[10])},{cells[0]},{cells[6]},{cells[7]}")
    return "\n".join(out) + "\n"


def _requests() -> str:
    rows = _head(TRACES / "azure-llm-inference-2023" / "AzureLLMInferenceTrace_conv.csv", 40).splitlines()[1:]
    return "".join(json.dumps({"arrival": index * 0.37, "input_tokens": int(row.split(",")[1]),
                               "output_tokens": int(row.split(",")[2])}) + "\n" for index, row in enumerate(rows))


def _faults(records: int) -> str:
    return json.dumps(json.loads((TRACES / "stepfun-infinitehbd-faults" / "fault_trace.json").read_text())[:records])


def _trace_bases() -> dict[str, tuple[str, str, str, list[str]]]:
    """format -> (kind of text, text, file suffix, options)."""
    openb = TRACES / "alibaba-gpu-v2023-openb"
    return {
        "alibaba-openb": ("csv", _head(openb / "openb_pod_list_default.csv", 60), ".csv", []),
        "generic-jobs": ("csv", _generic_jobs(), ".csv", []),
        "azure-llm": ("csv", _head(TRACES / "azure-llm-inference-2023" / "AzureLLMInferenceTrace_conv.csv", 60),
                      ".csv", []),
        "generic-requests": ("jsonl", _requests(), ".jsonl", []),
        "cluster-summary": ("csv", (TRACES / "acme-cluster-summary" / "cluster_summary.csv").read_text(), ".csv", []),
        "alibaba-openb-nodes": ("csv", _head(openb / "openb_node_list_gpu_node.csv", 60), ".csv", []),
        "stepfun-faults": ("json", _faults(60), ".json", ["--servers", "400"]),
        "slurm-sacct": ("psv", _head(SHARED / "interop" / "workloads" / "slurm_sim_tools_sacct_dump2101.log", 60),
                        ".log", []),
        "swf": ("swf", (DATA / "sample.swf").read_text(), ".swf", []),
        "gpufleet-jobs": ("csv", (DATA / "tas-snapshot" / "tas.jobs.csv").read_text(), ".csv", []),
    }


STRATEGIES = {"csv": mutations.csv_bytes, "json": mutations.json_bytes, "jsonl": mutations.jsonl_bytes,
              "psv": lambda text: mutations.csv_bytes(text, separator="|"),
              "swf": lambda text: mutations.csv_bytes(text, separator=" ", comment=";")}


@pytest.fixture(autouse=True)
def _counted(request: pytest.FixtureRequest) -> Iterator[None]:
    """With GPUFLEET_FUZZ_REPORT set, write each test's outcome counts there (make fuzz sums them)."""
    before = targets.OUTCOMES.copy()
    yield
    folder = os.environ.get("GPUFLEET_FUZZ_REPORT")
    if folder:
        counts = {key: value - before.get(key, 0) for key, value in targets.OUTCOMES.items()
                  if value > before.get(key, 0)}
        name = request.node.name.replace("/", "-").replace("[", "-").rstrip("]")
        Path(folder, f"{name}.json").write_text(json.dumps(counts, indent=1) + "\n")


@FUZZ
@given(data=st.data())
def test_mutated_scenarios(data: st.DataObject) -> None:
    scenario = data.draw(mutations.scenario_bytes(_SCENARIOS), label="scenario")
    run = data.draw(st.booleans(), label="run")
    with tempfile.TemporaryDirectory() as folder:
        targets.scenario_case(scenario, Path(folder), run)


@pytest.mark.parametrize("format_name", sorted(_trace_bases()) if SHARED.is_dir() else [])
def test_mutated_traces(format_name: str) -> None:
    kind, text, suffix, options = _trace_bases()[format_name]

    @FUZZ
    @given(trace=STRATEGIES[kind](text))
    def case(trace: bytes) -> None:
        with tempfile.TemporaryDirectory() as folder:
            targets.trace_case(format_name, trace, suffix, Path(folder), options)

    case()


@FUZZ
@given(log=st.data())
def test_mutated_fault_logs(log: st.DataObject) -> None:
    data = log.draw(mutations.json_bytes(_FAULTS))
    with tempfile.TemporaryDirectory() as folder:
        targets.faults_case(data, Path(folder))


_SCENARIOS = _scenario_texts()
_FAULTS = _faults(120) if SHARED.is_dir() else "[]"
