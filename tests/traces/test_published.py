"""The statistics `gpufleet trace stats` reports, against the figures computed independently in
../shared/traces/README.md and the published summaries (AcmeTrace, Helios)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gpufleet.traces.formats import ReadOptions, characterise, read_trace
from gpufleet.traces.summary import compare_with_published, read_summary

OPENB = "alibaba-gpu-v2023-openb"
AZURE = "azure-llm-inference-2023"


def stats(path: Path, format_name: str, options: ReadOptions | None = None) -> dict:
    return characterise(read_trace(path, format_name, options))


@pytest.mark.parametrize("name", ["openb_pod_list_default.csv", "openb_pod_list_gpuspec33.csv"])
def test_openb_pod_lists_match_the_readme(traces: Path, name: str) -> None:
    result = stats(traces / OPENB / name, "alibaba-openb")
    # README section 2: "GPUs requested per pod: 0 -> 1,088 pods, 1 -> 6,989, 2 -> 16, 4 -> 15, 8 -> 44."
    per = result["gpus_per_job"]
    assert dict(zip(per["values"], per["jobs"], strict=True)) == {0: 1088, 1: 6989, 2: 16, 4: 15, 8: 44}
    assert result["jobs"] == 8152 and result["read"]["bad_rows"] == 0
    assert result["gpu_sharing_jobs"] == 3078  # "3,078 pods share a GPU"
    qos = {row["value"]: row["count"] for row in result["qos"]}
    assert qos == {"LS": 4647, "BE": 3398, "Burstable": 100, "Guaranteed": 7}
    assert result["duration_s"]["median"] == 616.0  # "Median lifetime (deletion - scheduled) is 616 s"
    assert result["span"]["first_s"] == 0.0 and result["span"]["last_s"] == 12_901_761.0
    phases = {row["value"]: row["count"] for row in result["outcomes"]}
    assert phases == {"Running": 5193, "Failed": 1870, "Pending": 897, "Succeeded": 192}
    assert result["never_ran"] == 897  # the Pending pods have no scheduled_time
    # "with GPU-type constraints added to 2,388 of them"
    assert result["gpu_type_constrained"] == (2388 if "gpuspec33" in name else 0)


def test_openb_node_lists_match_the_readme(traces: Path) -> None:
    every = stats(traces / OPENB / "openb_node_list_all_node.csv", "alibaba-openb-nodes")
    assert (every["nodes"], every["gpus"], every["gpu_nodes"]) == (1523, 6212, 1213)  # "1,523 nodes and 6,212 GPUs"
    gpu_only = stats(traces / OPENB / "openb_node_list_gpu_node.csv", "alibaba-openb-nodes")
    assert (gpu_only["nodes"], gpu_only["gpus"], gpu_only["cpu_only_nodes"]) == (1213, 6212, 0)
    assert {row["model"] for row in every["by_model"]} == {"G2", "G3", "T4", "P100", "V100M16", "V100M32", "A10",
                                                           "(CPU only)"}


@pytest.mark.parametrize(("name", "count", "rate", "tokens"), [
    # README section 1, computed from the files.
    ("code", 8819, 2.57, {"input_tokens": (1469, 2048, 7437), "output_tokens": (13, 27.9, 1899)}),
    ("conv", 19366, 5.53, {"input_tokens": (1020, 1155, 14050), "output_tokens": (129, 211, 1000)}),
])
def test_azure_llm_traces_match_the_readme(traces: Path, name: str, count: int, rate: float,
                                           tokens: dict[str, tuple[float, float, float]]) -> None:
    result = stats(traces / AZURE / f"AzureLLMInferenceTrace_{name}.csv", "azure-llm")
    assert result["requests"] == count and result["read"]["bad_rows"] == 0
    assert result["rate_per_s"] == pytest.approx(rate, abs=0.005)
    for field, (median, mean, most) in tokens.items():
        assert result[field]["median"] == median
        assert result[field]["mean"] == pytest.approx(mean, abs=0.05 if mean < 100 else 0.5)
        assert result[field]["max"] == most
    # "timestamps from 2023-11-16 18:15:46 to 19:14:19": both files together span that hour
    assert result["span"]["first"].startswith("2023-11-16T18:1")
    assert result["span"]["last"].startswith("2023-11-16T19:1")
    assert sum(result["arrivals"]["by_hour"]["arrivals"][18:20]) == count


def test_the_azure_hour_is_the_readme_hour(traces: Path) -> None:
    spans = [stats(traces / AZURE / f"AzureLLMInferenceTrace_{name}.csv", "azure-llm")["span"]
             for name in ("code", "conv")]
    assert min(span["first"] for span in spans).startswith("2023-11-16T18:15:46")
    assert max(span["last"] for span in spans).startswith("2023-11-16T19:14:19")


def philly_runtime(traces: Path) -> dict:
    options = ReadOptions(columns={"duration": "runtime", "submit": None, "gpus": None})
    return stats(traces / "alibaba-gpu-v2020-philly-runtime" / "philly_runtime.csv", "generic-jobs", options)


def test_philly_runtime_file_matches_the_readme(traces: Path) -> None:
    runtime = philly_runtime(traces)["duration_s"]
    # README section 7: "Min 0, median 1,186 s, mean 14,613 s, p90 12,859 s, max 4,628,239 s", 83,154 rows.
    assert runtime["count"] == 83154
    assert (runtime["min"], runtime["median"], runtime["max"]) == (0.0, 1186.0, 4_628_239.0)
    assert runtime["mean"] == pytest.approx(14613, abs=0.5)
    assert runtime["p90"] == pytest.approx(12859, abs=0.5)


def test_philly_against_its_published_summary(traces: Path) -> None:
    """The run-time file's own figures beside AcmeTrace's Philly row: the gap documented in docs/traces.md."""
    published = read_summary(traces / "acme-cluster-summary" / "cluster_summary.csv").row("Philly")
    assert (published["med_run_time_gpu"], published["avg_run_time_gpu"]) == (874.0, 18006.055)
    assert (published["avg_gpu_num"], published["med_gpu_num"], published["gpu_job_num"]) == (1.928, 1.0, 112956)
    rows = {row["column"]: row for row in compare_with_published(philly_runtime(traces), published)}
    assert rows["med_run_time_gpu"]["trace"] == 1186.0
    assert rows["med_run_time_gpu"]["ratio"] == pytest.approx(1186 / 874)
    assert rows["avg_run_time_gpu"]["ratio"] == pytest.approx(14613.33 / 18006.055, rel=1e-5)
    assert rows["gpu_job_num"]["ratio"] == pytest.approx(83154 / 112956)
    assert "avg_gpu_num" not in rows  # the run-time file has no GPU counts: nothing to compare


def test_helios_total_row_is_the_acme_helios_row(traces: Path) -> None:
    """Two publications, one trace: AcmeTrace's Helios row equals the Helios artifact's total row."""
    helios = read_summary(traces / "helios-artifact" / "helios_cluster_summary.csv")
    acme = read_summary(traces / "acme-cluster-summary" / "cluster_summary.csv").row("Helios")
    total = helios.row("total")
    shared_columns = set(total) & set(acme)
    assert len(shared_columns) == 22
    for column in shared_columns:
        assert total[column] == acme[column], column
    assert (total["med_run_time_gpu"], total["avg_gpu_num"], total["med_gpu_num"]) == (206.0, 3.716, 1.0)


def test_helios_totals_are_the_sums_and_weighted_means_of_its_clusters(traces: Path) -> None:
    helios = read_summary(traces / "helios-artifact" / "helios_cluster_summary.csv")
    clusters = [helios.row(name) for name in ("Venus", "Earth", "Saturn", "Uranus")]
    total = helios.row("total")
    for column in ("job_num", "gpu_job_num", "cpu_job_num"):
        assert sum(row[column] for row in clusters) == total[column]
    jobs = sum(row["gpu_job_num"] for row in clusters)
    for column in ("avg_run_time_gpu", "avg_que_time_gpu", "avg_gpu_num"):
        weighted = sum(row[column] * row["gpu_job_num"] for row in clusters) / jobs
        assert weighted == pytest.approx(total[column], rel=1e-5), column
    # The published GPU count of the whole is 6,220; the four clusters list 6,218 (a gap in the source).
    assert sum(row["gpu_num"] for row in clusters) == 6218 and total["gpu_num"] == 6220


def test_stepfun_faults_match_the_readme(traces: Path) -> None:
    result = stats(traces / "stepfun-infinitehbd-faults" / "fault_trace.json", "stepfun-faults",
                   ReadOptions(extra={"servers": 400, "days": 348}))
    # README section 4.
    assert (result["faults"], result["servers_hit"]) == (584, 231)
    assert result["by_level"] == {"Hardware Failure": 298, "Other Failure": 262, "Software Failure": 24}
    repair = result["repair_days"]
    assert repair["median"] == pytest.approx(0.85, abs=0.005)
    assert repair["mean"] == pytest.approx(5.5, abs=0.05)
    assert repair["p90"] == pytest.approx(13.5, abs=0.05)
    assert round(result["faults_per_server_day"], 4) == 0.0042
    assert round(result["faults_per_server_day_by_class"]["GPU"], 4) == 0.0011


def test_openb_cpu_pods_wait_too(traces: Path) -> None:
    """The real waits look like scheduling latency: pods that need no GPU wait about as often as GPU pods."""
    from gpufleet.traces.openb import read_pods

    pods = read_pods(traces / OPENB / "openb_pod_list_default.csv")
    waited = np.isfinite(pods.wait_s)
    cpu = pods.wait_s[waited & (pods.gpus == 0)]
    gpu = pods.wait_s[waited & (pods.gpus > 0)]
    assert (len(cpu), np.median(cpu), np.quantile(cpu, 0.9), cpu.max()) == (1052, 3.0, 35.0, 95.0)
    assert round(float((cpu > 0).mean()), 3) == 0.882 and round(float((gpu > 0).mean()), 3) == 0.690
    assert (np.median(gpu), np.quantile(gpu, 0.9)) == (2.0, 139.0)
