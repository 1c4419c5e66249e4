"""The default scenario's first weeks: full by what the fleet can still start, never by installed GPUs."""

from __future__ import annotations

from datetime import datetime

from gpufleet import api


def test_the_default_scenario_is_full_in_its_first_weeks() -> None:
    # Research runs of 1,024-4,096 GPUs alone ask for more than the 100-250 racks of
    # November 2025 hold. With two spare trays per NVL72 rack, allocated / installed can
    # never pass 64 / 72 = 88.9%, so "full" by installed GPUs never comes; by what the
    # waiting jobs could start on, the fleet is full within days, and nothing is stranded.
    summary = api.run(api.load("openai-aws-2025"), until=datetime(2025, 12, 1)).summary
    capacity = summary["capacity"]
    assert capacity["installed_full_from"] is None and capacity["utilisation"] < 64 / 72
    assert capacity["full_from"] is not None and capacity["full_from"] <= "2025-11-10"
    assert capacity["share_of_days_full"] > 0.8
    assert capacity["stranded_share_of_installed"] < 0.001
    assert abs(capacity["spare_share_of_installed"] - 8 / 72) < 1e-9
