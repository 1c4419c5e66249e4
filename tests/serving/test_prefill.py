"""Prefill (prompt processing) costs GPU time: hand-worked cases, standalone and in the fleet.

The case: an 8-GPU replica decoding D = 1,000 output tokens/s per GPU and prefilling
P = 10,000 prompt tokens/s per GPU, requests of 500 output and 2,000 prompt tokens at
r = 25 tokens/s each. A request takes 500 / 1,000 + 2,000 / 10,000 = 0.7 GPU-seconds, so
the replica completes 8 / 0.7 = 11.43 requests/s. Without prefill it decodes 8,000 / 25 =
320 requests at once; the decode share is 500 / (500 + 0.1 x 2,000) = 5/7, so with
prefill it decodes floor(320 x 5/7) = floor(228.57) = 228 at once, which complete
228 x 25 / 500 = 11.4 requests/s.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest

from gpufleet import api
from gpufleet.serving.chatgpt import size_service
from gpufleet.serving.run import run_service
from gpufleet.serving.throughput import PREFILL_DEFAULTS, decode_share, effective_slots, slots_per_replica
from gpufleet.spec.serving import ServiceSpec
from gpufleet.testing import scenario

ORIGIN = datetime(2026, 1, 1)
HOUR = 3600.0


def service(prefill: bool = True, cached: float = 0.0, rate: float = 20.0, **replica: object) -> ServiceSpec:
    spec = {
        "name": "svc", "flavors": ["H100"],
        "replica": {"gpus": 8, "warmup_minutes": 0, "tokens_per_s_per_gpu": {"H100": 1000.0},
                    "prefill": prefill, **replica},
        "replica_policy": {"min_replicas": 2},
        "demand": {"requests_per_s": rate, "output_tokens_per_request": 500, "input_tokens_per_request": 2000,
                   "cached_input_share": cached},
    }
    if prefill:
        spec["replica"]["prefill_tokens_per_s_per_gpu"] = {"H100": 10000.0}
    return ServiceSpec.model_validate(spec)


def test_slots_shrink_by_the_gpu_time_prompts_take() -> None:
    out, prompt = np.array([500.0]), np.array([2000.0])
    assert decode_share(service(), "H100", out, prompt)[0] == pytest.approx(5 / 7)
    assert effective_slots(service(), "H100", out, prompt).tolist() == [228]
    assert effective_slots(service(prefill=False), "H100", out, prompt).tolist() == [320]
    assert slots_per_replica(service(), "H100") == 320  # decoding alone, as before
    # Half the prompt tokens from the prefix cache: 500 / (500 + 0.1 x 1,000) = 5/6 -> floor(266.67).
    assert effective_slots(service(cached=0.5), "H100", out, prompt).tolist() == [266]
    # The capacity in requests/s is gpus / (L_out / D + L_in / P), up to the floor.
    capacity = 228 * 25 / 500
    assert capacity == pytest.approx(8 / (500 / 1000 + 2000 / 10000), abs=0.04)


def test_a_service_short_of_capacity_once_prompts_count() -> None:
    # Two replicas for a day at 25 req/s: decoding alone they complete 2 x 320 x 25 / 500 = 32
    # req/s and drop nothing; with prefill 2 x 11.4 = 22.8 req/s. From the first interval all
    # 456 slots are busy: in a day they serve 456 x 86,400 / 20 s = 1,969,920 requests; the
    # backlog holds c tau = 456 x 60 slot-seconds = 1,368 requests at the end; the rest of the
    # 2,160,000 arrivals (188,712) give up.
    end = datetime(2026, 1, 2)
    plain = run_service(service(prefill=False, rate=25.0), ORIGIN, end)
    assert plain.metrics.dropped_requests.sum() == pytest.approx(0.0, abs=1e-6)
    run = run_service(service(rate=25.0), ORIGIN, end)
    metrics = run.metrics
    assert np.all(metrics.slots == 456)
    assert metrics.capacity_rps == pytest.approx(np.full(len(metrics), 22.8))
    assert metrics.served_requests.sum() == pytest.approx(1_969_920.0)
    assert metrics.backlog_requests[-1] == pytest.approx(1_368.0)
    assert metrics.dropped_requests.sum() == pytest.approx(2_160_000 - 1_969_920 - 1_368)
    assert metrics.served_output_tokens.sum() == pytest.approx(1_969_920.0 * 500)


def test_prefill_in_the_fleet() -> None:
    # The same service on two 8-GPU H100 servers for a day, at 20 req/s: 456 slots each
    # interval, utilisation a / c = (20 x 500 / 25) / 456 = 400 / 456.
    fleet = {"pools": [{"name": "h100", "gpu": "H100", "deliveries": [{"date": "2026-01-01", "nodes": 2}]}]}
    spec = service().model_dump(mode="json", exclude_none=True)
    result = api.run(scenario(fleet, [], end="2026-01-02", services=[spec]))
    rows = result.serving.intervals
    assert set(rows["slots"].to_pylist()) == {456.0}
    assert rows["utilisation"].to_numpy() == pytest.approx(np.full(rows.num_rows, 400 / 456), rel=1e-9)
    summary = result.summary["serving"]["services"][0]
    assert summary["requests_dropped"] == pytest.approx(0.0, abs=1e-6)
    assert summary["prefill"]["prompt_tokens_prefilled"] == pytest.approx(20 * 86400 * 2000.0, rel=1e-6)


def test_sizing_counts_prefill() -> None:
    # size_service at 20 req/s: pure throughput 20 x 0.7 GPU-s = 14 GPUs (1.75 replicas).
    sizing = size_service(service(), ORIGIN)
    assert sizing.slots_per_replica == 228
    assert sizing.gpus_at_full_use == pytest.approx(20 * 500 / (228 * 25 / 8))
    assert sizing.replicas_at_mean == 2


def test_defaults_are_sourced_and_refused_without_prefill() -> None:
    assert all(value.source for value in PREFILL_DEFAULTS.values())
    assert PREFILL_DEFAULTS["GB200"].tokens_per_s_per_gpu == 26156.0
    with pytest.raises(ValueError, match="only with prefill: true"):
        ServiceSpec.model_validate({"name": "s", "flavors": ["H100"],
                                    "replica": {"gpus": 8, "prefill_tokens_per_s_per_gpu": {"H100": 1.0}},
                                    "demand": {"requests_per_s": 1, "output_tokens_per_request": 1}})
