"""A ChatGPT-like service sized from ../shared/calibration.md, and how many replicas it needs.

Every number is sourced (calibration.md section and kind) or marked "assumption".
docs/serving.md shows the same service as YAML (a test keeps the two equal) and the
sizing this module computes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from gpufleet.serving.demand import DAY_S, Demand, grid
from gpufleet.serving.erlang import erlang_c
from gpufleet.serving.throughput import effective_slots, replica_tokens_per_s, slots_per_replica
from gpufleet.spec.serving import ServiceSpec

MESSAGES_PER_DAY = 2.6e9
"""calibration.md 5a (O): ~2.6 billion consumer messages a day, July 2025 (NBER working paper, Sep 2025)."""
OUTPUT_TOKENS_PER_MESSAGE = 1000.0
"""Assumption (calibration.md 5a, 'Derived ChatGPT output-token rate'): reasoning-inclusive, range 300-3,000;
ChatGPT's tokens per message are not published."""
INPUT_TOKENS_PER_MESSAGE = 1155.0
"""Assumption: the mean prompt of the Azure LLM conversation trace 2023 (../shared/traces README); reported
only (input tokens take no slot time in the model)."""
DAILY_AMPLITUDE = 0.35
"""Assumption: hour-of-day weights 1 + 0.35 cos(2 pi (h - 15) / 24), UTC: peak 15:00 UTC (US morning, European
afternoon), trough 03:00 UTC; peak / mean 1.35. No published ChatGPT daily profile."""
PEAK_HOUR_UTC = 15
WEEKDAY_WEIGHT, WEEKEND_WEIGHT = 1.05, 0.875
"""Assumption: weekdays 5% above the weekly mean, weekends 12.5% below (mean 1); mild because most messages are
not work-related (calibration.md 5a: non-work share 53% -> over 70%)."""
REPLICA_GPUS = 72
"""One NVL72 rack per replica (calibration.md 2b, O): a frontier MoE spread over one NVLink domain, as in MLPerf's
DeepSeek-R1 on 72 GB300 (calibration.md 5b)."""
WARMUP_MINUTES = 10.0
"""Assumption: loading a frontier model's weights and warming the engine on a fresh replica."""
TARGET_UTILISATION = 0.8
"""Assumption: autoscale to 80% of a GB200 replica's request capacity, leaving room for demand growth during
the scale-up delay plus warm-up (about 15 minutes)."""
MAX_REPLICAS = 1000
"""Assumption: a cap far above the need (the fleet is the real limit)."""


def hour_of_day() -> list[float]:
    """The assumed daily shape (24 UTC weights, mean 1), rounded to 3 decimals."""
    return [round(1.0 + DAILY_AMPLITUDE * math.cos(2.0 * math.pi * (h - PEAK_HOUR_UTC) / 24.0), 3)
            for h in range(24)]


def chatgpt_service(*, name: str = "chatgpt", flavors: tuple[str, ...] = ("GB200", "GB300"),
                    monthly_growth: float = 0.0, share: float = 1.0) -> ServiceSpec:
    """The ChatGPT-like service (docs/serving.md, "ChatGPT-scale defaults").

    Args:
        name: service name.
        flavors: GPU types, preferred first (the target qps is set for the first).
        monthly_growth: compound demand growth per month; 0 holds the late-2025 level.
            calibration.md 5a's weekly users grew 700M (Jul) -> 800M (Oct 2025), about
            4.5% a month (D).
        share: the share of ChatGPT's messages this fleet serves (1 = all of them).
    """
    probe = ServiceSpec.model_validate(_spec(name, flavors, monthly_growth, share, target_qps=1.0))
    capacity_rps = slots_per_replica(probe, flavors[0]) * probe.slo.output_tokens_per_s_per_request \
        / OUTPUT_TOKENS_PER_MESSAGE
    return ServiceSpec.model_validate(
        _spec(name, flavors, monthly_growth, share, target_qps=math.floor(TARGET_UTILISATION * capacity_rps)))


def _spec(name: str, flavors: tuple[str, ...], growth: float, share: float, target_qps: float) -> dict:
    return {
        "name": name,
        "flavors": list(flavors),
        "replica": {"gpus": REPLICA_GPUS, "group_size": REPLICA_GPUS, "warmup_minutes": WARMUP_MINUTES},
        "replica_policy": {"min_replicas": 1, "max_replicas": MAX_REPLICAS, "target_qps_per_replica": target_qps,
                           "upscale_delay_seconds": 300, "downscale_delay_seconds": 1200},
        "autoscaler_interval_seconds": 300,
        "slo": {"wait_seconds": 0.45, "output_tokens_per_s_per_request": 25.0},
        "abandon_after_seconds": 60.0,
        "demand": {
            "requests_per_s": round(share * MESSAGES_PER_DAY / DAY_S, 1),
            "output_tokens_per_request": OUTPUT_TOKENS_PER_MESSAGE,
            "input_tokens_per_request": INPUT_TOKENS_PER_MESSAGE,
            "hour_of_day": hour_of_day(),
            "day_of_week": [WEEKDAY_WEIGHT] * 5 + [WEEKEND_WEIGHT] * 2,
            "monthly_growth": growth,
        },
        "sharing": "preempt",
    }


def replicas_needed(requests_per_s: float, output_tokens_per_request: float, slots_per_replica: int,
                    tokens_per_s_per_request: float, wait_seconds: float, attainment: float = 0.99) -> int:
    """Fewest replicas for which the M/M/c model starts `attainment` of requests within the wait."""
    if requests_per_s <= 0:
        return 0
    mu = tokens_per_s_per_request / output_tokens_per_request
    offered = requests_per_s / mu
    replicas = math.floor(offered / slots_per_replica) + 1
    while True:
        c = replicas * slots_per_replica
        p_wait = float(erlang_c(np.array([c]), np.array([offered]))[0])
        if 1.0 - p_wait * math.exp(-(c * mu - requests_per_s) * wait_seconds) >= attainment:
            return replicas
        replicas += 1


@dataclass(frozen=True, slots=True)
class Sizing:
    """What a service's demand needs on one GPU type.

    Attributes:
        flavor: the GPU type.
        mean_requests_per_s, peak_requests_per_s: over the first week (hourly means).
        output_tokens_per_s_mean: mean output tokens/s.
        gpus_at_full_use: mean output tokens/s / tokens/s per GPU (no headroom at all).
        slots_per_replica: requests per replica at once.
        gpus_per_replica: GPUs of one replica.
        replicas_at_mean, replicas_at_peak: fewest replicas meeting the attainment at the
            mean rate and at the peak hour (Erlang C).
        replicas_hourly_mean: mean over the week's hours of the fewest replicas meeting it
            hour by hour (a perfect autoscaler).
    """

    flavor: str
    mean_requests_per_s: float
    peak_requests_per_s: float
    output_tokens_per_s_mean: float
    gpus_at_full_use: float
    slots_per_replica: int
    gpus_per_replica: int
    replicas_at_mean: int
    replicas_at_peak: int
    replicas_hourly_mean: float

    @property
    def gpus_at_mean(self) -> int:
        return self.replicas_at_mean * self.gpus_per_replica

    @property
    def gpus_at_peak(self) -> int:
        return self.replicas_at_peak * self.gpus_per_replica


def size_service(service: ServiceSpec, origin: datetime, flavor: str | None = None,
                 attainment: float = 0.99) -> Sizing:
    """Replicas and GPUs the service's synthetic demand needs over its first week from `origin`."""
    flavor = flavor or service.flavors[0]
    r = service.slo.output_tokens_per_s_per_request
    week = Demand(service.demand, origin).intervals(grid(0.0, 7 * DAY_S, 3600.0))
    rate = week.requests_per_s
    tokens = float(week.output_tokens_per_request.mean())
    prompt = float(week.input_tokens_per_request.mean())
    # With prefill a replica's slots shrink by the GPU time its prompts take (at the week's mix).
    slots = int(effective_slots(service, flavor, np.array([tokens]), np.array([prompt]))[0]) \
        if service.replica.prefill else slots_per_replica(service, flavor)

    def need(value: float) -> int:
        return replicas_needed(value, tokens, slots, r, service.slo.wait_seconds, attainment)

    hourly = [need(float(value)) for value in rate]
    # Output tokens/s one GPU delivers at this mix (prefill takes its share of the GPU time).
    per_gpu = slots * r / service.replica.gpus if service.replica.prefill \
        else replica_tokens_per_s(service, flavor) / service.replica.gpus
    return Sizing(
        flavor=flavor, mean_requests_per_s=float(rate.mean()), peak_requests_per_s=float(rate.max()),
        output_tokens_per_s_mean=float((rate * tokens).mean()),
        gpus_at_full_use=float((rate * tokens).mean()) / per_gpu, slots_per_replica=slots,
        gpus_per_replica=service.replica.gpus, replicas_at_mean=need(float(rate.mean())),
        replicas_at_peak=need(float(rate.max())), replicas_hourly_mean=float(np.mean(hourly)),
    )
