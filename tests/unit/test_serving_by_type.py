"""Replica throughput by GPU type: sourced defaults per type, and a throughput class deriving
the types a service does not give from its throughput on the class's reference type."""

from __future__ import annotations

import pytest

from gpufleet.errors import InputError
from gpufleet.serving.by_type import services_by_type
from gpufleet.serving.throughput import replica_tokens_per_s, slots_per_replica
from gpufleet.spec.serving import ServiceSpec
from gpufleet.spec.throughput import ThroughputSpec
from gpufleet.testing import scenario

SERVICE = {"name": "chat", "flavors": ["GB200", "GB300"], "replica": {"gpus": 8},
           "replica_policy": {"min_replicas": 1, "max_replicas": 2, "target_qps_per_replica": 10},
           "slo": {"wait_seconds": 1, "output_tokens_per_s_per_request": 25},
           "demand": {"requests_per_s": 5, "output_tokens_per_request": 500}}


def test_replica_capacity_already_depends_on_the_gpu_type() -> None:
    service = ServiceSpec.model_validate(SERVICE)
    # calibration.md 5b/7: 4,000 and 6,000 output tokens/s per GPU at interactive latency.
    assert replica_tokens_per_s(service, "GB200") == 8 * 4000.0
    assert replica_tokens_per_s(service, "GB300") == 8 * 6000.0
    assert slots_per_replica(service, "GB300") == 1.5 * slots_per_replica(service, "GB200")


def test_a_class_derives_the_types_a_service_does_not_give() -> None:
    service = ServiceSpec.model_validate({**SERVICE, "replica": {"gpus": 8, "tokens_per_s_per_gpu": {"GB200": 3000}}})
    throughput = ThroughputSpec.model_validate({"reference": "GB200", "classes": [
        {"name": "chat", "services": ["chat"], "relative": {"GB300": 2.0}, "source": "assumption: test"}]})
    (derived,) = services_by_type([service], throughput)
    assert derived.replica.tokens_per_s_per_gpu == {"GB200": 3000, "GB300": 6000.0}
    assert services_by_type([service], None) == [service]
    # Types the service gives itself stay as given.
    given = ServiceSpec.model_validate({**SERVICE, "replica": {"gpus": 8,
                                                               "tokens_per_s_per_gpu": {"GB200": 3000, "GB300": 5000}}})
    assert services_by_type([given], throughput)[0].replica.tokens_per_s_per_gpu["GB300"] == 5000


def test_throughput_matrix_checks() -> None:
    fleet = {"pools": [{"name": "a", "gpu": "GB200", "deliveries": [{"date": "2026-01-01", "racks": 1}]},
                       {"name": "b", "gpu": "GB300", "deliveries": [{"date": "2026-01-01", "racks": 1}]}]}
    jobs = [{"jobs": {"name": "w", "items": [{"name": "j", "gpus": 8, "duration_hours": 1}]}}]
    with pytest.raises(InputError, match="gives no throughput for GB300"):
        scenario(fleet, jobs, throughput={"reference": "GB200", "classes": [
            {"name": "x", "workloads": ["w"], "relative": {}, "source": "assumption"}]})
    with pytest.raises(InputError, match="no workload called 'nope'"):
        scenario(fleet, jobs, throughput={"reference": "GB200", "classes": [
            {"name": "x", "workloads": ["nope"], "relative": {"GB300": 2}, "source": "assumption"}]})
    with pytest.raises(InputError, match="1 by definition"):
        scenario(fleet, jobs, throughput={"reference": "GB200", "classes": [
            {"name": "x", "relative": {"GB200": 2, "GB300": 2}, "source": "assumption"}]})
    with pytest.raises(InputError, match="source"):
        scenario(fleet, jobs, throughput={"reference": "GB200", "classes": [{"name": "x", "relative": {"GB300": 2}}]})
