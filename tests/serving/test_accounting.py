"""Per-interval table and monthly roll-up, worked by hand."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest

from gpufleet.serving.accounting import interval_table, monthly, run_table
from gpufleet.serving.demand import DemandIntervals
from gpufleet.serving.queueing import interval_metrics

ORIGIN = datetime(2026, 1, 31, 23)  # the first hour is in January, the next two in February


def hours_metrics(rates: list[float], slots: list[float]):  # noqa: ANN201
    edges = np.arange(len(rates) + 1) * 3600.0
    demand = DemandIntervals(edges[:-1], edges[1:], np.array(rates), np.full(len(rates), 100.0),
                             np.full(len(rates), 40.0))
    return interval_metrics(demand, np.array(slots), tokens_per_s_per_request=25.0, wait_target_s=1.0,
                            abandon_after_s=60.0)


def test_monthly_roll_up_by_hand() -> None:
    # 1, 2 and 2 req/s of 100 tokens (4 s each) on ample slots: everything served, no wait.
    metrics = hours_metrics([1.0, 2.0, 2.0], [400, 400, 400])
    table = interval_table(metrics, target_replicas=np.array([1, 2, 2]), ready_replicas=np.array([1, 2, 2]),
                           held_gpus=np.array([8, 16, 16]), service="chat")
    assert table.num_rows == 3 and table["service"].to_pylist() == ["chat"] * 3
    assert table["gpu_hours"].to_pylist() == [8.0, 16.0, 16.0]
    months = monthly(table, ORIGIN, usd_per_gpu_hour=2.0).to_pylist()
    jan, feb = months
    assert jan["month"] == "2026-01" and feb["month"] == "2026-02"
    assert jan["gpu_hours"] == 8.0 and feb["gpu_hours"] == 32.0
    assert jan["cost_usd"] == 16.0 and feb["cost_usd"] == 64.0
    assert jan["output_tokens_served"] == pytest.approx(360_000.0)
    assert feb["output_tokens_served"] == pytest.approx(1_440_000.0)
    assert feb["input_tokens_served"] == pytest.approx(14_400 * 40.0)
    assert jan["usd_per_million_output_tokens"] == pytest.approx(16.0 / 0.36)
    assert feb["usd_per_million_output_tokens"] == pytest.approx(64.0 / 1.44)
    assert jan["slo_attainment"] == pytest.approx(1.0) and feb["requests_dropped"] == pytest.approx(0.0)
    assert jan["utilisation"] == pytest.approx(4.0 / 400)


def test_attainment_is_weighted_by_arrivals_and_prices_per_row() -> None:
    # Second hour has no slots: its 7,200 arrivals all miss the target and are dropped.
    metrics = hours_metrics([1.0, 2.0], [400, 0])
    table = interval_table(metrics, target_replicas=np.array([1, 1]), ready_replicas=np.array([1, 0]),
                           held_gpus=np.array([8, 8]))
    feb = monthly(table, datetime(2026, 2, 1), usd_per_gpu_hour=np.array([2.0, 3.0])).to_pylist()[0]
    assert feb["slo_attainment"] == pytest.approx(3600 / 10_800)
    assert feb["requests_dropped"] == pytest.approx(7200)
    assert feb["cost_usd"] == pytest.approx(8 * 2.0 + 8 * 3.0)
    assert feb["mean_wait_s"] == pytest.approx(7200 * 60.0 / 10_800)
    assert feb["usd_per_million_output_tokens"] == pytest.approx(40.0 / 0.36)


def test_run_table_has_one_row_per_interval() -> None:
    from gpufleet.serving.run import run_service
    from gpufleet.spec.serving import ServiceSpec

    spec = ServiceSpec.model_validate({
        "name": "small", "flavors": ["H100"], "replica": {"gpus": 8},
        "replica_policy": {"min_replicas": 2},
        "demand": {"requests_per_s": 10.0, "output_tokens_per_request": 500.0},
    })
    run = run_service(spec, datetime(2026, 1, 1), datetime(2026, 1, 2))
    table = run_table(run, "small")
    assert table.num_rows == 288
    assert table["gpu_hours"].to_numpy().sum() == pytest.approx(2 * 8 * 24)
    assert monthly(table, datetime(2026, 1, 1), 2.2).num_rows == 1
