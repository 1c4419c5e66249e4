"""Serving across providers: demand split by capacity or fixed shares into one replica set
per provider, or replicas placed at the cheapest provider first and spilling over."""

from __future__ import annotations

import numpy as np
import pytest

from gpufleet import api
from gpufleet.errors import InputError
from gpufleet.testing import scenario


def _pool(name: str, provider: str, racks: int) -> dict:
    return {"name": name, "gpu": "GB200", "provider": provider, "gpus_per_node": 4, "nodes_per_rack": 16,
            "deliveries": [{"date": "2026-01-01", "racks": racks}]}


FLEET = {"pools": [_pool("aws-gb200", "aws", 3), _pool("azure-gb200", "azure", 1)]}


def _service(providers: dict, **extra: object) -> dict:
    return {"name": "svc", "flavors": ["GB200"], "replica": {"gpus": 64}, "providers": providers,
            "start": "2026-01-01T10:00:00", "end": "2026-01-01T20:00:00",
            "demand": {"requests_per_s": 10, "output_tokens_per_request": 100}, **extra}


def _held(result: api.RunResult, pool: str) -> float:
    """Most GPUs the pool held for replicas (no training runs here)."""
    return float(np.max(result.timeseries[f"{pool}.allocated_gpus"].to_numpy()))


def test_capacity_split_gives_each_provider_its_share_of_demand() -> None:
    result = api.run(scenario(FLEET, [], end="2026-01-02", services=[_service({"split": "capacity"})]))
    services = {row["name"]: row for row in result.summary["serving"]["services"]}
    # Planned capacity 3 racks : 1 rack, so 3/4 and 1/4 of 10 requests/s.
    assert set(services) == {"svc@aws", "svc@azure"}
    assert services["svc@aws"]["demand"]["requests_per_s"] == pytest.approx(7.5)
    assert services["svc@azure"]["demand"]["requests_per_s"] == pytest.approx(2.5)
    assert _held(result, "aws-gb200") == 64 and _held(result, "azure-gb200") == 64


def test_fixed_shares_leave_a_provider_out() -> None:
    result = api.run(scenario(FLEET, [], end="2026-01-02",
                              services=[_service({"split": "fixed", "shares": {"aws": 0.0, "azure": 1.0}})]))
    assert [row["name"] for row in result.summary["serving"]["services"]] == ["svc@azure"]
    assert _held(result, "aws-gb200") == 0 and _held(result, "azure-gb200") == 64


def test_cheapest_first_fills_the_cheaper_provider_then_spills() -> None:
    contracts = [{"name": "aws", "provider": "aws", "value_usd": 1e6, "start": "2026-01-01", "term_years": 1,
                  "prices_usd_per_gpu_hour": {"GB200": 3.0}},
                 {"name": "azure", "provider": "azure", "value_usd": 1e5, "start": "2026-01-01", "term_years": 1,
                  "prices_usd_per_gpu_hour": {"GB200": 2.0}}]
    one = api.run(scenario(FLEET, [], end="2026-01-02", contracts=contracts,
                           services=[_service({"split": "cheapest_first"})]))
    assert _held(one, "azure-gb200") == 64 and _held(one, "aws-gb200") == 0
    two = api.run(scenario(FLEET, [], end="2026-01-02", contracts=contracts,
                           services=[_service({"split": "cheapest_first"}, replica_policy={"min_replicas": 2})]))
    assert _held(two, "azure-gb200") == 64 and _held(two, "aws-gb200") == 64  # Azure is full: the second spills
    assert [row["name"] for row in two.summary["serving"]["services"]] == ["svc"]


def test_bad_splits_name_the_field() -> None:
    with pytest.raises(InputError, match=r"services\[0\]\.providers: .*sum to 0.9"):
        scenario(FLEET, [], services=[_service({"split": "fixed", "shares": {"aws": 0.5, "azure": 0.4}})])
    with pytest.raises(InputError, match=r"services\[0\]\.providers\.among\[0\]: no pool of GB200"):
        scenario(FLEET, [], services=[_service({"among": ["oracle"]})])


def test_validate_shows_the_split_it_will_run() -> None:
    from rich.console import Console

    from gpufleet.fleet.build import build_layout
    from gpufleet.report.terminal import scenario_tables

    spec = scenario(FLEET, [], end="2026-01-02", services=[_service({"split": "capacity"})])
    console = Console(width=200, record=True)
    for table in scenario_tables(spec, build_layout(spec)):
        console.print(table)
    text = console.export_text()
    assert "Across providers" in text and "aws 75.0%, azure 25.0%" in text
