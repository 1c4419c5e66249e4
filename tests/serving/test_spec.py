"""The service spec: defaults, cross-field rules, scenario checks, and the documented defaults."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from pydantic import TypeAdapter, ValidationError

from gpufleet.serving.chatgpt import chatgpt_service
from gpufleet.serving.throughput import DEFAULTS, slots_per_replica, tokens_per_s_per_gpu
from gpufleet.sim.checks.services import check_services
from gpufleet.spec.serving import ServiceSpec, SharingMode

DOCS = Path(__file__).resolve().parents[2] / "docs" / "serving.md"


def base(**changes: object) -> dict:
    spec: dict = {"name": "svc", "flavors": ["GB200"], "replica": {"gpus": 72},
                  "demand": {"requests_per_s": 10.0, "output_tokens_per_request": 500.0}}
    spec.update(changes)
    return spec


def test_defaults_follow_skypilot_and_calibration() -> None:
    spec = ServiceSpec.model_validate(base())
    policy = spec.replica_policy
    assert (policy.min_replicas, policy.max_replicas, policy.upscale_delay_seconds,
            policy.downscale_delay_seconds) == (1, None, 300.0, 1200.0)
    assert spec.autoscaler_interval_seconds == 300.0
    assert spec.sharing.mode is SharingMode.preempt and spec.replica.group == 72
    assert (spec.slo.wait_seconds, spec.slo.output_tokens_per_s_per_request) == (0.45, 25.0)
    assert tokens_per_s_per_gpu(spec, "gb200") == 4000.0
    assert slots_per_replica(spec, "GB200") == 72 * 4000 // 25
    assert all(value.source for value in DEFAULTS.values())


@pytest.mark.parametrize("changes, message", [
    ({"replica_policy": {"max_replicas": 4}}, "together"),
    ({"replica_policy": {"min_replicas": 5, "max_replicas": 4, "target_qps_per_replica": 1}}, "below"),
    ({"replica_policy": {"min_replicas": 0}}, "min_replicas of 1"),
    ({"replica": {"gpus": 72, "group_size": 7}}, "does not divide"),
    ({"abandon_after_seconds": 0.3}, "must exceed"),
    ({"flavors": ["GB200", "gb200"]}, "twice"),
    ({"replica": {"gpus": 8, "tokens_per_s_per_gpu": {"H100": 1000}}}, "not in flavors"),
    ({"start": "2026-02-01", "end": "2026-01-01"}, "not after"),
    ({"sharing": "quota"}, "needs a queue"),
    ({"sharing": {"mode": "preempt", "queue": "serving"}}, "takes no queue"),
    ({"demand": {"requests_per_s": 1, "output_tokens_per_s": 1, "output_tokens_per_request": 1}}, "once"),
    ({"demand": {"output_tokens_per_request": 1}}, "base rate"),
    ({"demand": {"requests_per_s": 1}}, "output_tokens_per_request"),
    ({"demand": {"requests_per_s": 1, "output_tokens_per_request": 1, "hour_of_day": [1] * 23}}, "24 weights"),
    ({"demand": {"trace": {"format": "azure-llm", "path": "x.csv"}, "output_tokens_per_request": 5}},
     "come from the trace"),
    ({"demand": {"trace": {"format": "azure-llm", "path": "x.csv", "rate_scale": 2}, "requests_per_s": 5}},
     "not both"),
    ({"demand": {"trace": {"format": "azure-llm", "path": "x.csv", "time_unit": "ms"}}}, "fixed layout"),
    ({"replicas": 3}, "Extra inputs"),
])
def test_bad_specs_are_refused(changes: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ServiceSpec.model_validate(base(**changes))


def test_sharing_forms() -> None:
    assert ServiceSpec.model_validate(base(sharing="preempt")).sharing.mode is SharingMode.preempt
    quota = ServiceSpec.model_validate(base(sharing={"mode": "quota", "queue": "serving"})).sharing
    assert quota.mode is SharingMode.quota and quota.queue == "serving"


def test_trace_path_is_read_beside_the_scenario(tmp_path: Path) -> None:
    (tmp_path / "requests.csv").write_text("arrival,input_tokens,output_tokens\n0,1,1\n")
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text("")
    data = base(demand={"trace": {"format": "generic-requests", "path": "requests.csv"}})
    spec = ServiceSpec.model_validate(data, context={"source": str(scenario)})
    assert spec.demand.trace.path == str(tmp_path / "requests.csv")


def test_a_scenario_list_of_services_validates() -> None:
    services = TypeAdapter(list[ServiceSpec]).validate_python([base(), base(name="other")])
    assert [s.name for s in services] == ["svc", "other"]
    assert "replica_policy" in ServiceSpec.model_json_schema()["properties"]


def test_scenario_checks() -> None:
    services = [
        ServiceSpec.model_validate(base(sharing={"mode": "quota", "queue": "inference"})),
        ServiceSpec.model_validate(base(name="svc", flavors=["H100", "A100", "MI300"],
                                        replica={"gpus": 16, "tokens_per_s_per_gpu": {"MI300": 900}})),
    ]
    problems = check_services(services, queues={"training"}, domain_gpus={"GB200": 72, "h100": 8, "A100": 8})
    found = {(path, message.split(" ")[0]) for path, message in problems}
    assert (("services", 0, "sharing", "queue"), "no") in found
    assert (("services", 1, "name"), "service") in found
    assert (("services", 1, "replica", "group_size"), "a") in found  # 16 GPUs in an 8-GPU domain
    assert (("services", 1, "flavors", 1), "no") in found  # no default throughput for A100
    assert (("services", 1, "flavors", 2), "the") in found  # no MI300 pool
    assert check_services(services[:1], queues={"inference"}, domain_gpus={"gb200": 72}) == []


def test_documented_chatgpt_service_is_the_code_default() -> None:
    text = DOCS.read_text(encoding="utf-8")
    block = re.search(r"<!-- chatgpt-service -->\s*```yaml\n(.*?)```", text, re.S)
    assert block, "docs/serving.md lost its chatgpt-service YAML block"
    documented = ServiceSpec.model_validate(yaml.safe_load(block.group(1)))
    assert documented == chatgpt_service()
