"""The commitment ledger: committed, billed and used dollars per calendar month.

- committed: the contract value spread evenly over its term (plus exercised expansion
  values, spread from their dates to the end of the term);
- billed: installed GPU-hours x price, inside the term;
- used: allocated GPU-hours x price, inside the term;
- purchased (only with pools bought outside the commitment, `purchase`): their installed
  GPU-hours x their own price, whenever they are installed; they count in neither billed
  nor used dollars.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pyarrow as pa

from gpufleet import numerics
from gpufleet.econ.portfolio import contract_committed_between, contract_term_end
from gpufleet.econ.pricing import pool_prices, purchased_pools
from gpufleet.fleet.layout import FleetLayout
from gpufleet.spec.scenario import Scenario
from gpufleet.workload.synthetic import month_starts


def term_end(scenario: Scenario) -> datetime | None:
    """When the contract's term ends (years of 365.25 days)."""
    return None if scenario.contract is None else contract_term_end(scenario.contract)


def committed_between(scenario: Scenario, lo: datetime, hi: datetime) -> float:
    """Straight-line committed dollars falling in [lo, hi)."""
    return 0.0 if scenario.contract is None else contract_committed_between(scenario.contract, lo, hi)


def ledger_table(scenario: Scenario, layout: FleetLayout, interval_start: list[datetime],
                 installed_gpu_hours: np.ndarray, allocated_gpu_hours: np.ndarray,
                 horizon: datetime) -> pa.Table:
    """Monthly ledger from per-interval, per-pool GPU-hours (shape: intervals x pools)."""
    prices = np.array([price for price, _ in pool_prices(scenario, layout)])
    bought = np.array(purchased_pools(scenario, layout), dtype=bool)
    purchased_prices = np.where(bought, prices, 0.0)
    if bought.any():  # purchased pools are billed apart, outside the term and the commitment
        prices = np.where(bought, 0.0, prices)
    contract = scenario.contract
    begin = contract.start if contract else scenario.start
    end = term_end(scenario) or horizon
    starts = np.array(interval_start, dtype="datetime64[us]")
    in_term = (starts >= np.datetime64(begin, "us")) & (starts < np.datetime64(end, "us"))
    billed_by_interval = numerics.weighted_sum(installed_gpu_hours, prices) * in_term
    used_by_interval = numerics.weighted_sum(allocated_gpu_hours, prices) * in_term
    months = month_starts(scenario.start, horizon)
    bounds = np.array(months + [horizon], dtype="datetime64[us]")
    month_of = np.searchsorted(bounds, starts, side="right") - 1
    n = len(months)

    def per_month(values: np.ndarray) -> np.ndarray:
        return np.bincount(month_of, weights=values, minlength=n)[:n]

    committed = np.array([committed_between(scenario, lo, hi)
                          for lo, hi in zip(months, months[1:] + [horizon], strict=True)])
    billed, used = per_month(billed_by_interval), per_month(used_by_interval)
    value = (contract.value_usd + sum(o.value_usd for o in contract.expansions if o.exercise)) if contract else 0.0
    columns = {
        "month": pa.array(months, type=pa.timestamp("us")),
        "installed_gpu_hours": per_month(installed_gpu_hours.sum(axis=1)),
        "allocated_gpu_hours": per_month(allocated_gpu_hours.sum(axis=1)),
        "committed_usd": committed,
        "billed_usd": billed,
        "used_usd": used,
        "cumulative_committed_usd": np.cumsum(committed),
        "cumulative_billed_usd": np.cumsum(billed),
        "cumulative_used_usd": np.cumsum(used),
        "remaining_commitment_usd": value - np.cumsum(billed),
    }
    if bought.any():
        purchased = per_month(numerics.weighted_sum(installed_gpu_hours, purchased_prices))
        columns.update({"purchased_usd": purchased,
                        "purchased_used_usd": per_month(numerics.weighted_sum(allocated_gpu_hours, purchased_prices)),
                        "cumulative_purchased_usd": np.cumsum(purchased)})
    return pa.table(columns)
