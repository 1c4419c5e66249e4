"""Inference services: demand, the interval queueing model, autoscaling, request-level mode, accounts.

The pieces are pure (no fleet, no clock): the fleet simulation drives them (see
docs/serving.md, "Integration"); `run_service` drives them on an unconstrained pool.
"""

from gpufleet.serving.accounting import interval_table, monthly, run_table
from gpufleet.serving.autoscaler import Autoscaler, Replica, ReplicaSet, ScalePlan
from gpufleet.serving.chatgpt import Sizing, chatgpt_service, replicas_needed, size_service
from gpufleet.serving.demand import Demand, DemandIntervals, TraceProfile, build_demand, grid, load_trace
from gpufleet.serving.erlang import erlang_b, erlang_c
from gpufleet.serving.queueing import IntervalMetrics, interval_metrics
from gpufleet.serving.requests import RequestRun, poisson_requests, serve_requests, summarise, trace_requests
from gpufleet.serving.run import ServiceRun, run_service
from gpufleet.serving.throughput import DEFAULTS, replica_tokens_per_s, slots_per_replica, tokens_per_s_per_gpu

__all__ = [
    "DEFAULTS",
    "Autoscaler",
    "Demand",
    "DemandIntervals",
    "IntervalMetrics",
    "Replica",
    "ReplicaSet",
    "RequestRun",
    "ScalePlan",
    "ServiceRun",
    "Sizing",
    "TraceProfile",
    "build_demand",
    "chatgpt_service",
    "erlang_b",
    "erlang_c",
    "grid",
    "interval_metrics",
    "interval_table",
    "load_trace",
    "monthly",
    "poisson_requests",
    "replica_tokens_per_s",
    "replicas_needed",
    "run_service",
    "run_table",
    "serve_requests",
    "size_service",
    "slots_per_replica",
    "summarise",
    "tokens_per_s_per_gpu",
    "trace_requests",
]
