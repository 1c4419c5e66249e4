"""The research simulators' trace formats: the Tiresias/Gavel job CSV (hand-written here, bad
rows with their lines, replayed with each model as a throughput class), and the Philly-derived
files in ../shared/traces against the figures of its README."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from gpufleet import api
from gpufleet.errors import InputError
from gpufleet.sim.load import parse_scenario
from gpufleet.spec.workload import DurationSpec
from gpufleet.traces.formats import characterise, read_trace
from gpufleet.workload.synthetic import draw_durations_s

TIRESIAS = """job_id,num_gpu,submit_time,iterations,model_name,duration,interval
0,1,0,500,resnet50,3600,600
1,2,600,300,vgg16,7200,900
2,4,1500,100,resnet50,1800,60
3,x,1560,100,vgg16,60,5
4,1,-3,100,vgg16,60,5
5,1,1600,100,,60,5
6,1.5,1700,100,vgg16,60,5
7,8,1800,100,vgg16,5400,0
"""


def test_tiresias_rows_bad_rows_and_statistics(tmp_path: Path) -> None:
    path = tmp_path / "jobs.csv"
    path.write_text(TIRESIAS)
    trace = read_trace(path, "tiresias")
    assert trace.report.rows == 8 and trace.report.bad_count == 4
    assert [(bad.line, bad.message) for bad in trace.report.bad] == [
        (5, "num_gpu: 'x' is not a number"), (6, "submit_time: '-3' is negative"), (7, "model_name: missing value"),
        (8, "num_gpu: '1.5' is not a whole number")]
    assert trace.submit_s.tolist() == [0, 600, 1500, 1800] and trace.gpus.tolist() == [1, 2, 4, 8]
    assert trace.job_class.to_pylist() == ["resnet50", "vgg16", "resnet50", "vgg16"]
    # Job 2's interval (60 s) is not the 300 s to the next kept row: counted in a note.
    assert any("interval" in note for note in trace.report.notes)
    stats = characterise(trace)
    assert stats["jobs"] == 4 and stats["duration_s"]["max"] == 7200
    assert {row["value"]: row["count"] for row in stats["model_name"]} == {"resnet50": 2, "vgg16": 2}
    with pytest.raises(InputError, match=r"jobs.csv:5: num_gpu"):
        trace.report.check(strict=True)


def test_tiresias_replay_runs_each_model_at_its_own_speed(tmp_path: Path) -> None:
    path = tmp_path / "jobs.csv"
    path.write_text(TIRESIAS)
    data = {
        "name": "t", "start": "2026-01-01", "end": "2026-01-03",
        "fleet": {"pools": [{"name": "gb300", "gpu": "GB300", "gpus_per_node": 8, "nodes_per_rack": 1,
                             "deliveries": [{"date": "2026-01-01", "racks": 1}]}]},
        "workloads": [{"trace": {"name": "tiresias", "format": "tiresias", "path": str(path)}}],
        "throughput": {"reference": "GB200", "classes": [
            {"name": "cnn", "labels": ["resnet50"], "relative": {"GB300": 2.0}, "source": "assumption: test"},
            {"name": "vgg16", "relative": {"GB300": 1.0}, "source": "assumption: test"}]},
    }
    rows = api.run(parse_scenario(yaml.safe_dump(data), source="<t>")).jobs.to_pylist()
    by_name = {row["name"]: row for row in rows}
    assert by_name["0"]["job_class"] == "cnn" and by_name["0"]["run_s"] == 1800  # 3600 s on GB200, 2x on GB300
    assert by_name["1"]["job_class"] == "vgg16" and by_name["1"]["run_s"] == 7200
    assert len(rows) == 4


def test_philly_runtime_format_matches_the_readme(traces: Path) -> None:
    trace = read_trace(traces / "alibaba-gpu-v2020-philly-runtime" / "philly_runtime.csv", "philly-runtime")
    runtime = characterise(trace)["duration_s"]
    # README section 7: 83,154 rows; min 0, median 1,186 s, mean 14,613 s, p90 12,859 s, max 4,628,239 s.
    assert runtime["count"] == 83154 and trace.report.bad_count == 0
    assert (runtime["min"], runtime["median"], runtime["max"]) == (0.0, 1186.0, 4_628_239.0)
    assert runtime["mean"] == pytest.approx(14613, abs=0.5) and runtime["p90"] == pytest.approx(12859, abs=0.5)
    assert not trace.has_submit and not trace.has_gpus


def test_philly_runtime_is_a_run_time_distribution_not_a_replay(traces: Path) -> None:
    path = str(traces / "alibaba-gpu-v2020-philly-runtime" / "philly_runtime.csv")
    spec = DurationSpec(dist="trace", format="philly-runtime", path=path)
    first = draw_durations_s(spec, 5000, np.random.default_rng(3))
    again = draw_durations_s(spec, 5000, np.random.default_rng(3))
    assert first.tobytes() == again.tobytes()
    values = set(np.maximum(read_trace(path, "philly-runtime").duration_s, 1.0).tolist())
    assert set(first.tolist()) <= values and first.min() >= 1.0  # zero run times are taken as one second
    assert np.median(first) == pytest.approx(1186, rel=0.1)
    data = {"name": "p", "start": "2026-01-01", "end": "2026-01-03",
            "fleet": {"pools": [{"name": "a", "gpu": "H100", "deliveries": [{"date": "2026-01-01", "nodes": 1}]}]},
            "workloads": [{"trace": {"name": "philly", "format": "philly-runtime", "path": path}}]}
    with pytest.raises(InputError, match="run times only"):
        parse_scenario(yaml.safe_dump(data), source="<p>")


def test_philly_node_sequence_matches_the_readme(traces: Path) -> None:
    stats = characterise(read_trace(traces / "helios-artifact" / "philly_node_sequence.csv", "philly-node-sequence"))
    # README section 6: 105,644 rows per minute from 2017-10-03 00:00 to 2017-12-15 18:42, one
    # gap of 10 h, 174-552 servers online, active/total averaging 0.74.
    assert stats["samples"] == 105644 and stats["read"]["bad_rows"] == 0
    assert stats["span"]["first"].startswith("2017-10-03T00:00")
    assert stats["span"]["last"].startswith("2017-12-15T18:42")
    assert stats["sample_step_s"] == 60 and stats["gaps"]["count"] == 1
    assert stats["gaps"]["longest_h"] == pytest.approx(10, abs=0.1)
    assert (stats["total"]["min"], stats["total"]["max"]) == (174, 552)
    assert stats["share_in_use"]["mean_of_samples"] == pytest.approx(0.74, abs=0.005)


def test_philly_node_sequence_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "nodes.csv"
    path.write_text("time,active,total\n2017-10-03 00:00:00,10,20\n2017-10-03 00:01:00,30,20\n"
                    "2017-10-03 00:00:30,5,20\nnot a time,1,2\n2017-10-03 00:03:00,-1,20\n2017-10-03 00:04:00,4,20\n")
    sequence = read_trace(path, "philly-node-sequence")
    assert [(bad.line, bad.message.split(":")[0]) for bad in sequence.report.bad] == [
        (3, "active 30 is more than total 20"), (4, "time is not after the row before it"), (5, "time"),
        (6, "active")]
    assert len(sequence) == 2
