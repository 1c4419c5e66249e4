"""Serving model speed: a year of a ChatGPT-scale service at 5-minute intervals, and the
request-level mode on 100,000 requests.

Times (best of --repeat runs, seconds):

- year: `run_service` for the ChatGPT-like default (gpufleet.serving.chatgpt) over 2026
  at 5-minute intervals (105,120 intervals): demand, autoscaler and replica loop, and the
  interval model, with the pieces timed apart;
- worst cases of the interval model alone over the same 105,120 intervals: every
  interval near saturation (every Erlang C needs the quadrature), and every interval
  overloaded (the fluid queue walks them one by one);
- requests: `serve_requests` on N Poisson requests with exponential service on 64 slots
  at 90% load (and the `summarise` into 5-minute intervals).

`--trace-check DIR` also prints how the interval model compares with the request-level
mode on the Azure LLM inference traces in DIR (../shared/traces/azure-llm-inference-2023):
each trace replayed once on a fixed number of slots, at 1- and 5-minute intervals
(figures, not timings: docs/serving.md, Validation).

    python benchmarks/serving.py
    python benchmarks/serving.py --requests 1000000 --repeat 5
    python benchmarks/serving.py --trace-check ../shared/traces/azure-llm-inference-2023
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable
from datetime import datetime

import numpy as np


def best(function: Callable[[], object], repeat: int) -> tuple[float, object]:
    """Shortest wall time of `repeat` calls, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--trace-check", metavar="DIR", help="compare the models on the Azure traces in DIR")
    args = parser.parse_args()

    from gpufleet.rng import stream
    from gpufleet.serving.autoscaler import Autoscaler
    from gpufleet.serving.chatgpt import chatgpt_service
    from gpufleet.serving.demand import DemandIntervals, build_demand, grid
    from gpufleet.serving.queueing import interval_metrics
    from gpufleet.serving.requests import poisson_requests, serve_requests, summarise
    from gpufleet.serving.run import run_service

    print(f"machine: {cpu_name()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"numpy {np.__version__}")
    origin, end = datetime(2026, 1, 1), datetime(2027, 1, 1)
    service = chatgpt_service()
    seconds, run = best(lambda: run_service(service, origin, end), args.repeat)
    n = len(run.metrics)  # type: ignore[attr-defined]
    print(f"year, ChatGPT-like service, {n:,} intervals of 5 min: {seconds:.3f} s in all")

    demand = build_demand(service, origin, end)
    edges = grid(0.0, (end - origin).total_seconds(), service.autoscaler_interval_seconds)
    t_demand, intervals = best(lambda: demand.intervals(edges), args.repeat)
    rates = intervals.requests_per_s.tolist()  # type: ignore[attr-defined]

    def decisions() -> int:
        scaler = Autoscaler.from_spec(service.replica_policy, service.autoscaler_interval_seconds)
        scaler.start(rates[0])
        return sum(scaler.decide(rate) for rate in rates[:-1])

    t_decide, _ = best(decisions, args.repeat)
    slots = run.ready_replicas * run.slots_per_replica  # type: ignore[attr-defined]
    options = {"tokens_per_s_per_request": service.slo.output_tokens_per_s_per_request,
               "wait_target_s": service.slo.wait_seconds, "abandon_after_s": service.abandon_after_seconds}
    t_model, _ = best(lambda: interval_metrics(intervals, slots, **options), args.repeat)
    print(f"  demand.intervals {t_demand:.3f} s; autoscaler decisions alone {t_decide:.3f} s; "
          f"interval model {t_model:.3f} s")

    # Worst cases for the interval model: near saturation everywhere, overloaded everywhere.
    mean_tokens = intervals.output_tokens_per_request  # type: ignore[attr-defined]
    offered = intervals.requests_per_s * mean_tokens / options["tokens_per_s_per_request"]  # type: ignore[attr-defined]
    near = np.ceil(offered + 0.5 * np.sqrt(offered))
    t_near, _ = best(lambda: interval_metrics(intervals, near, **options), args.repeat)
    over = np.floor(0.9 * offered)
    t_over, _ = best(lambda: interval_metrics(intervals, over, **options), args.repeat)
    small = DemandIntervals(intervals.start_s, intervals.end_s,  # type: ignore[attr-defined]
                            np.full(n, 1.0), np.full(n, 100.0), np.zeros(n))
    t_small, _ = best(lambda: interval_metrics(small, np.full(n, 5.0), **options), args.repeat)
    print(f"  interval model worst cases over {n:,} intervals: near saturation (c = a + 0.5 sqrt a) "
          f"{t_near:.3f} s; 10% overload {t_over:.3f} s; small c = 5 at 80% {t_small:.3f} s")

    # Request-level mode.
    c, tokens, speed = 64, 100.0, 25.0
    rate = 0.9 * c * speed / tokens
    hours = args.requests / rate / 3600.0
    req_edges = grid(0.0, hours * 3600.0, 300.0)
    k = len(req_edges) - 1
    req_demand = DemandIntervals(req_edges[:-1], req_edges[1:], np.full(k, rate), np.full(k, tokens), np.zeros(k))
    arrival, out, inp = poisson_requests(req_demand, stream(1, "benchmark/requests"))
    req_slots = np.full(k, c)
    t_serve, served = best(lambda: serve_requests(arrival, out, inp, slot_edges_s=req_edges, slots=req_slots,
                                                  tokens_per_s_per_request=speed, abandon_after_s=60.0),
                           args.repeat)
    t_sum, _ = best(lambda: summarise(served, req_edges, req_slots, tokens_per_s_per_request=speed,  # type: ignore[arg-type]
                                      wait_target_s=1.0, abandon_after_s=60.0), args.repeat)
    print(f"request-level, {len(arrival):,} requests on {c} slots at 90% load: serve {t_serve:.3f} s "
          f"({len(arrival) / t_serve / 1e6:.2f} M requests/s), summarise into {k} intervals {t_sum:.3f} s")
    if args.trace_check:
        trace_check(args.trace_check)


def trace_check(folder: str) -> None:
    """Interval model vs request-level mode on the Azure traces (25 tokens/s per request, SLO wait 2 s)."""
    from pathlib import Path

    from gpufleet.serving.demand import build_demand, grid
    from gpufleet.serving.queueing import interval_metrics
    from gpufleet.serving.requests import serve_requests, trace_requests
    from gpufleet.spec.serving import ServiceSpec

    speed, options = 25.0, {"tokens_per_s_per_request": 25.0, "wait_target_s": 2.0, "abandon_after_s": 60.0}
    print("trace  step_s  load  slots  mean wait s (model / requests)  P(wait)  within 2 s  dropped")
    for name in ("conv", "code"):
        path = Path(folder) / f"AzureLLMInferenceTrace_{name}.csv"
        spec = ServiceSpec.model_validate({"name": name, "flavors": ["H100"], "replica": {"gpus": 8}, "demand": {
            "trace": {"format": "azure-llm", "path": str(path), "repeat": 1}}})
        demand = build_demand(spec, datetime(2026, 1, 1))
        profile = demand.profile
        offered = profile.mean_rate * profile.output_tokens.mean() / speed
        arrival, out, inp = trace_requests(demand, 0.0, profile.period_s + 1.0)
        for step in (60.0, 300.0):
            edges = grid(0.0, np.ceil(profile.period_s / step) * step, step)
            intervals = demand.intervals(edges)
            weight = intervals.requests / intervals.requests.sum()
            for load in (0.7, 0.85, 0.95):
                slots = np.full(len(intervals), np.ceil(offered / load))
                model = interval_metrics(intervals, slots, **options)
                run = serve_requests(arrival, out, inp, slot_edges_s=edges, slots=slots,
                                     tokens_per_s_per_request=speed, abandon_after_s=60.0)
                print(f"{name:5}  {step:6.0f}  {load:4.2f}  {int(slots[0]):5d}  "
                      f"{(model.mean_wait_s * weight).sum():8.3f} / {run.wait_s.mean():8.3f}        "
                      f"{(model.p_wait * weight).sum():.3f} / {(run.wait_s > 0).mean():.3f}  "
                      f"{(model.within_target * weight).sum():.3f} / {(run.served & (run.wait_s <= 2)).mean():.3f}  "
                      f"{model.dropped_requests.sum():6.0f} / {(~run.served).sum():d}")


if __name__ == "__main__":
    main()
