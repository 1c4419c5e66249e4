"""Replaying a public LLM inference trace: the rates and tokens per request that the run
reports equal the trace's own statistics (gpufleet.traces.stats.request_stats, and the
figures of ../shared/traces/README.md)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from gpufleet.serving.demand import TraceProfile, build_demand, grid
from gpufleet.serving.requests import serve_requests, trace_requests
from gpufleet.serving.run import run_service
from gpufleet.spec.serving import RequestTraceSpec, ServiceSpec
from gpufleet.traces.formats import read_trace
from gpufleet.traces.stats import request_stats

ORIGIN = datetime(2026, 1, 1)
# README: requests, req/s, input mean, output mean, and half a unit of the output mean's last printed digit.
AZURE = {"code": (8819, 2.57, 2048, 27.9, 0.05), "conv": (19366, 5.53, 1155, 211, 0.5)}


def service(trace: dict, **demand: object) -> ServiceSpec:
    return ServiceSpec.model_validate({
        "name": "replay", "flavors": ["H100"], "autoscaler_interval_seconds": 60,
        "replica": {"gpus": 8},
        "replica_policy": {"min_replicas": 1, "max_replicas": 50, "target_qps_per_replica": 1.0},
        "demand": {"trace": trace, **demand},
    })


@pytest.mark.parametrize("name", sorted(AZURE))
def test_replay_reports_the_trace_statistics(shared: Path, name: str) -> None:
    path = shared / "traces" / "azure-llm-inference-2023" / f"AzureLLMInferenceTrace_{name}.csv"
    stats = request_stats(read_trace(path, "azure-llm"))
    count, rate, input_mean, output_mean, printed = AZURE[name]
    spec = service({"format": "azure-llm", "path": str(path), "repeat": 1})
    period = build_demand(spec, ORIGIN).profile.period_s
    assert period == pytest.approx(stats["span"]["seconds"], rel=1e-12)
    run = run_service(spec, ORIGIN, ORIGIN + timedelta(seconds=math.ceil(period / 60) * 60 + 600))
    metrics = run.metrics
    requests = metrics.demand_requests.sum()
    assert requests == pytest.approx(stats["requests"], rel=1e-12) and stats["requests"] == count
    assert requests / period == pytest.approx(stats["rate_per_s"], rel=1e-12)
    assert requests / period == pytest.approx(rate, abs=0.005)
    out_mean = metrics.demand_output_tokens.sum() / requests
    in_mean = (metrics.demand_requests * metrics.input_tokens_per_request).sum() / requests
    assert out_mean == pytest.approx(stats["output_tokens"]["total"] / count, rel=1e-12)
    assert in_mean == pytest.approx(stats["input_tokens"]["total"] / count, rel=1e-12)
    assert out_mean == pytest.approx(output_mean, abs=printed)
    assert in_mean == pytest.approx(input_mean, abs=0.5)
    # Minute by minute, the rate is the trace's own arrival count (its last arrival, at
    # exactly one span, wraps to the first minute of the next copy; here there is none).
    trace = read_trace(path, "azure-llm")
    offsets = trace.arrival_s - trace.arrival_s.min()
    edges = grid(0.0, metrics.end_s[-1], 60.0)
    counts, _ = np.histogram(np.mod(offsets, period), bins=edges)
    assert metrics.demand_requests == pytest.approx(counts.astype(float), abs=1e-9)
    assert metrics.demand_requests[edges[:-1] >= period].sum() == 0.0


def test_scaled_trace_keeps_its_token_mix(shared: Path) -> None:
    """A one-hour trace scaled to 1,000 req/s and looped: the mean rate is the base rate over
    whole copies, the token mix is the trace's, and the minute-scale shape is the trace's."""
    path = shared / "traces" / "azure-llm-inference-2023" / "AzureLLMInferenceTrace_conv.csv"
    spec = service({"format": "azure-llm", "path": str(path)}, requests_per_s=1000.0)
    demand = build_demand(spec, ORIGIN)
    period = demand.profile.period_s
    edges = np.linspace(0.0, 5 * period, 5 * 60 + 1)
    intervals = demand.intervals(edges)
    requests = intervals.requests.sum()
    assert requests / (5 * period) == pytest.approx(1000.0, rel=1e-12)
    assert (intervals.requests * intervals.output_tokens_per_request).sum() / requests == pytest.approx(
        demand.profile.output_tokens.mean(), rel=1e-12)
    copies = intervals.requests.reshape(5, 60)
    assert copies == pytest.approx(np.tile(copies[0], (5, 1)), rel=1e-9)


def test_time_and_rate_scales_and_window(shared: Path) -> None:
    path = shared / "traces" / "azure-llm-inference-2023" / "AzureLLMInferenceTrace_code.csv"
    base = build_demand(service({"format": "azure-llm", "path": str(path), "repeat": 1}), ORIGIN).profile
    fast = build_demand(service({"format": "azure-llm", "path": str(path), "repeat": 1, "time_scale": 0.5,
                                 "rate_scale": 3.0}), ORIGIN)
    assert fast.profile.period_s == pytest.approx(base.period_s / 2)
    rate = fast.intervals(np.array([0.0, fast.profile.period_s])).requests_per_s[0]
    assert rate == pytest.approx(6.0 * base.mean_rate, rel=1e-12)
    windowed = build_demand(service({"format": "azure-llm", "path": str(path), "repeat": 1,
                                     "window": {"start_seconds": 600, "end_seconds": 1800}}), ORIGIN).profile
    trace = read_trace(path, "azure-llm")
    offsets = trace.arrival_s - trace.arrival_s.min()
    assert windowed.period_s == 1200.0
    assert windowed.requests == int(((offsets >= 600) & (offsets < 1800)).sum())


def test_generic_trace_hand_worked(tmp_path: Path) -> None:
    """Arrivals at 0, 10, 20, 30 s: span 30 s, so 4 requests per 30 s; the last wraps to offset 0."""
    path = tmp_path / "requests.csv"
    path.write_text("t,prompt,answer\n100,10,1\n110,20,2\n120,30,3\n130,40,4\n")
    spec = RequestTraceSpec(format="generic-requests", path=str(path),
                            columns={"arrival": "t", "input_tokens": "prompt", "output_tokens": "answer"})
    profile = build_demand(service(spec.model_dump()), ORIGIN).profile
    assert profile.period_s == 30.0
    assert list(profile.position_s) == [0.0, 0.0, 10.0, 20.0]
    demand = build_demand(service(spec.model_dump()), ORIGIN)
    intervals = demand.intervals(np.array([0.0, 15.0, 30.0, 45.0]))
    assert list(intervals.requests) == pytest.approx([3.0, 1.0, 3.0])
    assert list(intervals.output_tokens_per_request) == pytest.approx([(1 + 2 + 4) / 3, 3.0, 7 / 3])
    assert list(intervals.input_tokens_per_request) == pytest.approx([70 / 3, 30.0, 70 / 3])
    # The request-level mode sees the trace's own requests.
    arrival, out, inp = trace_requests(demand, 0.0, 60.0)
    assert list(arrival) == [0.0, 0.0, 10.0, 20.0, 30.0, 30.0, 40.0, 50.0]
    run = serve_requests(arrival, out, inp, slot_edges_s=np.array([0.0, 60.0]), slots=np.array([1]),
                         tokens_per_s_per_request=1.0, abandon_after_s=100.0)
    # One slot: 0 s (1 token -> 1 s), the second 0 s request waits 1 s (4 tokens), 10 s, 20 s...
    assert list(run.wait_s[:3]) == [0.0, 1.0, 0.0]


def test_empty_window_is_an_input_error(tmp_path: Path) -> None:
    from gpufleet.errors import InputError

    spec = RequestTraceSpec(format="generic-requests", path="x.csv", window={"start_seconds": 100})
    with pytest.raises(InputError, match="window"):
        TraceProfile.from_arrays(np.array([0.0, 10.0]), np.array([1, 1]), np.array([1, 1]), spec)
    missing = service({"format": "azure-llm", "path": str(tmp_path / "none.csv")})
    with pytest.raises(InputError, match="not found"):
        build_demand(missing, ORIGIN)
