"""The cost of waiting by hand: named jobs against their start-by dates (censored at the
horizon), size ranges priced by their waits, serving revenue and net value."""

from __future__ import annotations

import pytest

from gpufleet import api
from gpufleet.errors import InputError
from gpufleet.testing import scenario

FLEET = {"pools": [{"name": "p", "gpu": "H100", "deliveries": [{"date": "2026-01-01", "nodes": 2}]}]}
JOBS = [{"jobs": {"name": "runs", "items": [
    {"name": "blocker", "gpus": 16, "group_size": 8, "duration_hours": 48},
    {"name": "big", "gpus": 16, "group_size": 8, "duration_hours": 24, "start_by": "2026-01-02"},
    {"name": "s1", "gpus": 8, "duration_hours": 30, "submit": "2026-01-01T01:00:00"},
    {"name": "late", "gpus": 16, "group_size": 8, "duration_hours": 10, "submit": "2026-01-01T02:00:00",
     "start_by": "2026-01-03"},
]}}]
VALUE = {"delay": [{"job": "big", "usd_per_day": 1.0e6, "source": "test"},
                   {"job": "late", "usd_per_day": 1.0e4},
                   {"max_gpus": 8, "usd_per_day": 100.0},
                   {"min_gpus": 1, "usd_per_day": 1.0}]}


def test_cost_of_delay_by_hand() -> None:
    # blocker 0-48 h; big (start by 24 h) starts at 48 h: 1 day late, $1M; s1 (8 GPUs,
    # submitted at 1 h) starts at 72 h: 71 h of wait at $100/day; late (start by 48 h)
    # waits behind s1 (72-102 h) past the 96 h horizon: 2 days counted, censored, $20k;
    # blocker falls in the last range with no wait.
    result = api.run(scenario(FLEET, JOBS, end="2026-01-05", value=VALUE))
    money = result.summary["money"]
    named = {row["job"]: row for row in money["value_of_time"]["delay"]["named_jobs"]}
    assert named["big"]["delay_days"] == 1.0 and named["big"]["cost_usd"] == 1.0e6 and not named["big"]["censored"]
    assert named["late"]["delay_days"] == 2.0 and named["late"]["censored"] and not named["late"]["started"]
    small, rest = money["value_of_time"]["delay"]["size_ranges"]
    assert small["jobs"] == 1 and small["delay_days"] == pytest.approx(71 / 24)
    assert rest["jobs"] == 1 and rest["delay_days"] == 0.0  # blocker; big and late are priced by name
    assert money["cost_of_delay_usd"] == pytest.approx(1.0e6 + 2.0e4 + 100 * 71 / 24)
    assert money["cost_of_waiting_usd"] == money["cost_of_delay_usd"]  # no service: no lost revenue
    assert money["net_value_usd"] == pytest.approx(-money["billed_usd"] - money["cost_of_delay_usd"])
    rows = {row["name"]: row for row in result.summary["named_jobs"]}
    assert (rows["big"]["start_by"], rows["big"]["started_by_date"], rows["big"]["days_late"]) == (
        "2026-01-02T00:00:00", False, 1.0)
    assert rows["late"]["days_late"] is None and "start_by" not in rows["blocker"]


def test_serving_revenue_and_what_drops_lose() -> None:
    # One 8-GPU replica for 10 hours: 10 req/s of 100 output and 1,000 prompt tokens, all
    # served: 3.6e7 output tokens x $2/M + 3.6e8 prompt tokens x $0.5/M = $72 + $180.
    service = {"name": "chat", "flavors": ["H100"], "replica": {"gpus": 8}, "end": "2026-01-01T10:00:00",
               "demand": {"requests_per_s": 10, "output_tokens_per_request": 100, "input_tokens_per_request": 1000}}
    value = {"revenue": [{"service": "chat", "usd_per_million_output_tokens": 2.0,
                          "usd_per_million_input_tokens": 0.5}]}
    money = api.run(scenario(FLEET, [], end="2026-01-02", services=[service], value=value)).summary["money"]
    assert money["serving_revenue_usd"] == pytest.approx(252.0)
    assert money["revenue_lost_to_drops_usd"] == pytest.approx(0.0, abs=1e-9)
    assert money["net_value_usd"] == pytest.approx(252.0 - money["billed_usd"])
    # Twice the demand on one replica's 8 x 1,250 / 25 = 400 slots (10 req/s of 4 s each need
    # 40): still no drops; at 200 req/s (800 slots needed) half the tokens are dropped and lost.
    service["demand"]["requests_per_s"] = 200
    money = api.run(scenario(FLEET, [], end="2026-01-02", services=[service], value=value)).summary["money"]
    assert money["revenue_lost_to_drops_usd"] == pytest.approx(200 * 36000 * 100 * 2 / 1e6 / 2, rel=0.01)
    assert money["cost_of_waiting_usd"] == money["revenue_lost_to_drops_usd"]


def test_value_names_must_exist() -> None:
    with pytest.raises(InputError, match="no explicit job called 'nope'"):
        scenario(FLEET, JOBS, value={"delay": [{"job": "nope", "usd_per_day": 1}]})
    with pytest.raises(InputError, match="no service called 'chat'"):
        scenario(FLEET, JOBS, value={"revenue": [{"service": "chat", "usd_per_million_output_tokens": 1}]})
    with pytest.raises(InputError, match="a job name, or a size range"):
        scenario(FLEET, JOBS, value={"delay": [{"job": "big", "min_gpus": 8, "usd_per_day": 1}]})


def test_per_gpu_day_and_start_by_in_the_value_section() -> None:
    # s1 (8 GPUs) waits 71 h at $2 per GPU-day; late's date comes from the value section.
    jobs = [{"jobs": {"name": "runs", "items": [{**job} for job in JOBS[0]["jobs"]["items"]]}}]
    for job in jobs[0]["jobs"]["items"]:
        job.pop("start_by", None)
    value = {"delay": [{"job": "late", "usd_per_day": 1.0e4, "start_by": "2026-01-03"},
                       {"max_gpus": 8, "usd_per_gpu_day": 2.0}]}
    result = api.run(scenario(FLEET, jobs, end="2026-01-05", value=value))
    delay = result.summary["money"]["value_of_time"]["delay"]
    assert delay["named_jobs"][0]["delay_days"] == 2.0
    assert delay["size_ranges"][0]["cost_usd"] == pytest.approx(8 * 2.0 * 71 / 24)
    assert {row["name"]: row.get("start_by") for row in result.summary["named_jobs"]}["late"] == "2026-01-03T00:00:00"
    with pytest.raises(InputError, match="give the date in one place"):
        scenario(FLEET, JOBS, value={"delay": [{"job": "big", "usd_per_day": 1, "start_by": "2026-01-02"}]})
    with pytest.raises(InputError, match="exactly one of usd_per_day or usd_per_gpu_day"):
        scenario(FLEET, JOBS, value={"delay": [{"min_gpus": 1, "usd_per_day": 1, "usd_per_gpu_day": 1}]})
