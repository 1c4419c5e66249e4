"""The default scenario's first weeks: full by what the fleet can still start, never by installed GPUs."""

from __future__ import annotations

from datetime import datetime, timedelta

from gpufleet import api


def test_the_default_scenario_is_full_in_its_first_weeks() -> None:
    # Research runs of 1,024-4,096 GPUs alone ask for more than the 100-250 racks of
    # November 2025 hold. With two spare trays per NVL72 rack, allocated / installed can
    # never pass 64 / 72 = 88.9%, so "full" by installed GPUs never comes; by what the
    # waiting jobs could start on, the fleet is full within days of its first racks taking
    # work (the first delivery, planned for 2025-11-03, is ready after its drawn slip and
    # burn-in), and nothing is stranded.
    start, until = datetime(2025, 11, 3), datetime(2025, 12, 15)
    summary = api.run(api.load("openai-aws-2025"), until=until).summary
    capacity = summary["capacity"]
    first_ready = datetime.fromisoformat(min(row["ready"] for row in capacity["deliveries"]))
    assert capacity["installed_full_from"] is None and capacity["utilisation"] < 64 / 72
    assert capacity["full_from"] is not None
    assert datetime.fromisoformat(capacity["full_from"]) <= first_ready + timedelta(days=3)
    days_with_racks = (until - first_ready).days
    assert capacity["share_of_days_full"] * (until - start).days >= days_with_racks - 3
    assert capacity["stranded_share_of_installed"] < 0.001
    assert abs(capacity["spare_share_of_installed"] - 8 / 72) < 1e-9
