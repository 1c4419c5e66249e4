"""Prices and lead times of capacity bought outside the commitment, for the planner's
`buy` lever, with their sources. Prices: ../shared/calibration.md section 3 (AWS, per
GPU-hour; Capacity Block prices change quarterly, dated there). Lead times and spot
reclaim rates are not in calibration.md: they are assumptions, said so in `source`.
A GPU type missing here needs its price in the plan file (`price_usd_per_gpu_hour`).
"""

from __future__ import annotations

from dataclasses import dataclass

LEAD_SOURCE = "lead time: assumption (calibration.md has none)"


@dataclass(frozen=True)
class Offer:
    """What a GPU-hour of one kind of purchase costs, how far ahead it is bought, and where that comes from."""

    price_usd_per_gpu_hour: float
    lead_days: float
    source: str
    interruptions_per_rack_day: float = 0.0
    reclaim_hours: float = 2.0


OFFERS: dict[tuple[str, str], Offer] = {
    ("capacity_block", "GB200"): Offer(10.58, 1.0, "calibration.md 3: Capacity Block u-p6e-gb200x72 "
                                       f"761.904 $/UltraServer-h = 10.58 $/GPU-h (O); {LEAD_SOURCE}"),
    ("capacity_block", "H100"): Offer(5.191, 1.0, "calibration.md 3: Capacity Block p5, 2026 sheet (O); "
                                      f"{LEAD_SOURCE}"),
    ("capacity_block", "H200"): Offer(5.72, 1.0, "calibration.md 3: Capacity Block p5en, mid-2026 (O); "
                                      f"{LEAD_SOURCE}"),
    ("capacity_block", "B200"): Offer(12.355, 1.0, "calibration.md 3: Capacity Block p6-b200 after the "
                                      f"2026-07-01 raise (O); {LEAD_SOURCE}"),
    ("on_demand", "H100"): Offer(6.88, 0.0, f"calibration.md 3: p5.48xlarge on-demand us-east-1 (O); {LEAD_SOURCE}"),
    ("on_demand", "H200"): Offer(7.91, 0.0, f"calibration.md 3: p5en.48xlarge on-demand (O); {LEAD_SOURCE}"),
    ("on_demand", "B200"): Offer(14.24, 0.0, f"calibration.md 3: p6-b200.48xlarge on-demand (O); {LEAD_SOURCE}"),
    ("spot", "H100"): Offer(2.6, 0.0, "calibration.md 3: spot p5.48xlarge ~2.6 (R); reclaim rate 0.05 per rack-day "
                            f"and 2 h away: assumption; {LEAD_SOURCE}", interruptions_per_rack_day=0.05),
}
"""(kind, GPU type) -> offer. GB200 has no on-demand SKU on AWS (calibration.md 2c/3: Capacity Blocks only)."""


def offer(kind: str, gpu: str) -> Offer | None:
    return OFFERS.get((kind, gpu.upper()))
