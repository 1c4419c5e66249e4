"""Sweeps: axes by path, grid / random / Optuna designs, the table's mean and Student t
interval, the Pareto frontier, re-runs that skip what is done, file:line:field errors."""

from __future__ import annotations

import math
import statistics

import pytest
import yaml
from scipy import stats

from gpufleet import api
from gpufleet.errors import InputError
from gpufleet.plan.paths import as_data, get_values, parse_path, rebuild, scale_value, set_value, shift_value
from gpufleet.plan.sweep import pareto_front
from tests.plan.helpers import lab


def _write(tmp_path, data) -> str:  # noqa: ANN001
    base = tmp_path / "lab.yaml"
    base.write_text(yaml.safe_dump(lab().model_dump(mode="json", exclude_defaults=True), sort_keys=False))
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump({"base": "lab.yaml", **data}, sort_keys=False))
    return str(path)


def test_paths_select_set_scale_and_shift() -> None:
    data = as_data(api.load("openai-aws-2025"))
    assert parse_path("fleet.pools[gb300].deliveries[*].racks") == ["fleet", "pools", ("gb300",), "deliveries",
                                                                       "*", "racks"]
    racks = get_values(data, "fleet.pools[gb300].deliveries[*].racks")
    scale_value(data, "fleet.pools[gb300].deliveries[*].racks", 1.5)
    assert get_values(data, "fleet.pools[gb300].deliveries[*].racks") == [int(r * 1.5 + 0.5) for r in racks]
    shift_value(data, "fleet.pools[1].deliveries[0].date", -31)
    set_value(data, "contract.expansions[2027-h2].exercise", False)
    changed = rebuild(data, "test")
    assert changed.fleet.pools[1].deliveries[0].date.isoformat() == "2026-03-01T00:00:00"
    assert not changed.contract.expansions[1].exercise
    for bad in ("fleet.pools[nope].racks_per_block", "fleet.pools[0].colour", "fleet.pools[9].gpu"):
        with pytest.raises(ValueError):
            get_values(data, bad)
    set_value(data, "fleet.pools[0].deliveries[0].racks", -3)
    with pytest.raises(InputError, match="deliveries"):
        rebuild(data, "negative racks")


def test_grid_sweep_table_intervals_pareto_and_rerun(tmp_path) -> None:  # noqa: ANN001
    path = _write(tmp_path, {"name": "grid", "replications": 3, "seed": 1, "axes": [
        {"path": "fleet.pools[pool].deliveries[*].racks", "name": "racks", "scale": [0.5, 1.0, 1.5]},
        {"path": "scheduler.backfill", "values": ["easy", "none"]}]})
    store = tmp_path / "store"
    result = api.sweep(path, workers=1, store_root=store)
    assert len(result.points) == 6 and len(result.records) == 18
    table = result.table().to_pylist()
    assert [(row["racks"], row["scheduler.backfill"]) for row in table] == [
        (f, b) for f in (0.5, 1.0, 1.5) for b in ("easy", "none")]
    for point, row in zip(result.points, table, strict=True):
        waits = [result.records[key].metrics["wait_mean_h"] for key in point.keys]
        mean = statistics.fmean(waits)
        low, high = stats.t.interval(0.95, len(waits) - 1, loc=mean, scale=statistics.stdev(waits) / math.sqrt(3))
        assert row["wait_mean_h.mean"] == pytest.approx(mean, rel=1e-12)
        assert (row["wait_mean_h.ci_low"], row["wait_mean_h.ci_high"]) == pytest.approx((low, high), rel=1e-9)
        assert row["runs_ok"] == 3 and row["status"] == "ok"
    # Twice the racks cost twice as much and cut waits: the frontier of cost against wait.
    front = result.pareto()["wait_p95_h"]
    costs = {p.index: result.point_estimates(p)["cost_usd"].mean for p in result.points}
    assert costs[0] * 3 == pytest.approx(costs[4]) and front and front[0] in (0, 1)
    written = result.write(tmp_path / "out")
    assert {p.name for p in written.iterdir()} == {"sweep.json", "table.parquet", "runs.parquet"}
    again = api.sweep(path, workers=1, store_root=store)
    assert again.table().to_pylist() == table


def test_pareto_front_by_hand() -> None:
    pairs = [(0, 1.0, 9.0), (1, 2.0, 5.0), (2, 2.5, 6.0), (3, 3.0, 1.0), (4, 3.0, 1.0), (5, 4.0, 1.0)]
    assert pareto_front(pairs) == [0, 1, 3]


def test_random_design_is_repeatable_and_a_broken_point_is_recorded(tmp_path) -> None:  # noqa: ANN001
    path = _write(tmp_path, {"name": "random", "design": "random", "samples": 4, "design_seed": 7, "axes": [
        {"path": "fleet.pools[0].deliveries[0].racks", "values": [0, 2, 4]},
        {"path": "workloads[0].synthetic.arrivals.rate_per_day", "range": {"from": 20, "to": 80, "steps": 3}}]})
    sweep = api.load_sweep(path)
    from gpufleet.plan.sweep import design_points

    points = design_points(sweep.spec)
    assert points == design_points(api.load_sweep(path).spec) and len(points) == 4
    assert all(20 <= p["workloads[0].synthetic.arrivals.rate_per_day"] <= 80 for p in points)
    result = api.sweep(sweep, workers=1, store_root=tmp_path / "store")
    for point in result.points:
        racks = point.values["fleet.pools[0].deliveries[0].racks"]
        assert (point.error is not None) == (racks == 0)  # 0 racks is not a delivery: recorded, not raised
    assert any(row["status"] == "failed" for row in result.table().to_pylist()) or all(
        p.values["fleet.pools[0].deliveries[0].racks"] for p in result.points)


def test_optuna_search_is_repeatable(tmp_path) -> None:  # noqa: ANN001
    path = _write(tmp_path, {"name": "search", "design": "search", "design_seed": 3,
                             "search": {"minimize": "cost_usd", "constraints": ["wait_mean_h <= 2"], "trials": 5},
                             "axes": [{"path": "fleet.pools[0].deliveries[0].racks", "values": [2, 3, 4, 6, 8]}]})
    first = api.sweep(path, workers=1, store_root=tmp_path / "a")
    second = api.sweep(path, workers=1, store_root=tmp_path / "b")
    assert [p.values for p in first.points] == [p.values for p in second.points]
    assert len(first.points) == 5


def test_sweep_errors_name_file_line_and_field(tmp_path) -> None:  # noqa: ANN001
    path = _write(tmp_path, {"name": "bad", "replications": 0, "axes": [{"path": "fleet.pools[0].racks_per_block",
                                                                          "values": [1], "range": {"from": 1}}]})
    with pytest.raises(InputError) as error:
        api.load_sweep(path)
    text = str(error.value)
    lines = (tmp_path / "sweep.yaml").read_text().splitlines()
    assert f"sweep.yaml:{lines.index('replications: 0') + 1}: replications: Input should be greater" in text
    assert f"sweep.yaml:{lines.index('  range:') + 1}: axes[0].range.to: required key is missing" in text
    path = _write(tmp_path, {"name": "bad-path", "axes": [{"path": "fleet.pools[0].colour", "values": [1]}]})
    with pytest.raises(InputError, match=r"sweep.yaml:4: axes\[0\].path: .*no field 'colour'"):
        api.load_sweep(path)
