"""The ledger of a portfolio of contracts: per contract and per month, to the horizon and
projected to each term's end.

For each contract (its pools only, inside its term):

- committed: its value spread evenly over the term (exercised options from their dates);
- used: allocated GPU-hours x the contract's price;
- billed: take-or-pay: installed GPU-hours x price (whether used or not); minimum-spend:
  the use that counts against the commitment, plus, once the commitment is consumed,
  the GPU-hours beyond it at the overage price (`overage_usd`, part of billed);
- shortfall (in the month the term ends): the commitment not reached. Minimum-spend:
  owed (the buyer pays it); take-or-pay: the value the installed capacity never billed
  (not owed: the provider delivered less);
- remaining commitment: value minus what counted against it so far.

Past the horizon each contract is projected month by month to its term's end: its pools'
racks as laid out (deliveries, exercised options and retirements still to come; the
capacity at the scenario's end stays to the term's end), each pool used at its
utilisation over the horizon's last 30 days (the fleet's, for a pool with nothing
installed then). Rows past the horizon carry `projected: true`.
Pools bought outside the commitments (`purchase`) are in no contract: the portfolio
books them as purchased dollars.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa

from gpufleet import numerics
from gpufleet.econ.pricing import pool_prices, purchased_pools
from gpufleet.fleet.layout import FleetLayout
from gpufleet.spec.contract import ContractKind, ContractSpec
from gpufleet.spec.portfolio import contract_of_pool
from gpufleet.spec.scenario import Scenario
from gpufleet.workload.synthetic import month_starts

USE_WINDOW_S = 30 * 86400.0
"""Utilisation past the horizon (and the use run rate) is that of this last stretch of the run."""


def is_portfolio(scenario: Scenario) -> bool:
    """Whether the run keeps a ledger per contract: `contracts:`, or a minimum-spend `contract:`
    (the one-contract take-or-pay shorthand keeps the single ledger it always had)."""
    return bool(scenario.contracts) or (scenario.contract is not None
                                        and scenario.contract.kind is ContractKind.minimum_spend)


def contract_term_end(contract: ContractSpec) -> datetime:
    """When a contract's term ends (years of 365.25 days)."""
    return contract.start + timedelta(days=365.25 * contract.term_years)


def contract_value(contract: ContractSpec) -> float:
    """The commitment: the value plus the exercised options' values."""
    return contract.value_usd + sum(o.value_usd for o in contract.expansions if o.exercise)


def contract_committed_between(contract: ContractSpec, lo: datetime, hi: datetime) -> float:
    """Straight-line committed dollars of `contract` falling in [lo, hi)."""
    end = contract_term_end(contract)
    pieces = [(contract.start, contract.value_usd)] + [
        (option.date, option.value_usd) for option in contract.expansions if option.exercise and option.value_usd
    ]
    total = 0.0
    for begin, value in pieces:
        span = (end - begin).total_seconds()
        overlap = (min(hi, end) - max(lo, begin)).total_seconds()
        if span > 0 and overlap > 0:
            total += value * overlap / span
    return total


@dataclass(frozen=True)
class ContractLedger:
    """One contract's ledger: monthly rows (to the horizon, then projected) and its totals."""

    contract: ContractSpec
    pools: list[str]
    table: pa.Table
    totals: dict[str, Any]


@dataclass(frozen=True)
class _Steps:
    """Dollars per step of time: the run's intervals, then projected months."""

    month: np.ndarray  # month row of each step
    installed_usd: np.ndarray
    used_usd: np.ndarray
    used_overage_usd: np.ndarray  # the same GPU-hours at the overage prices


def contract_ledgers(scenario: Scenario, layout: FleetLayout, interval_start: list[datetime],
                     installed_gpu_hours: np.ndarray, allocated_gpu_hours: np.ndarray,
                     horizon: datetime) -> list[ContractLedger]:
    """Each contract's ledger from per-interval, per-pool GPU-hours (intervals x pools)."""
    owner = contract_of_pool(scenario)
    prices = np.array([price for price, _ in pool_prices(scenario, layout)])
    starts = np.array(interval_start, dtype="datetime64[us]")
    bounds = [*interval_start[1:], horizon]
    hours = np.array([(hi - lo).total_seconds() / 3600.0 for lo, hi in zip(interval_start, bounds, strict=True)])
    months = month_starts(scenario.start, horizon)
    month_bounds = np.array(months + [horizon], dtype="datetime64[us]")
    month_of = np.searchsorted(month_bounds, starts, side="right") - 1
    recent = starts >= np.datetime64(horizon - timedelta(seconds=USE_WINDOW_S), "us")
    utilisation = _recent_utilisation(installed_gpu_hours[recent], allocated_gpu_hours[recent])
    ledgers = []
    for index, contract in enumerate(scenario.all_contracts):
        mine = np.array([owner.get(pool.name) == index for pool in layout.pools], dtype=bool)
        own_prices = np.where(mine, prices, 0.0)
        overage = {name.upper(): price for name, price in contract.overage_usd_per_gpu_hour.items()}
        overage_prices = np.array([overage.get(pool.gpu.name.upper(), price) if own else 0.0
                                   for pool, price, own in zip(layout.pools, prices, mine, strict=True)])
        end = contract_term_end(contract)
        in_term = (starts >= np.datetime64(contract.start, "us")) & (starts < np.datetime64(end, "us"))
        installed_usd = numerics.weighted_sum(installed_gpu_hours, own_prices)
        used_usd = numerics.weighted_sum(allocated_gpu_hours, own_prices)
        used_overage_usd = numerics.weighted_sum(allocated_gpu_hours, overage_prices)
        # Run rates at the horizon: installed in the last interval, use over the last 30 days.
        last = len(hours) - 1
        install_rate = float(installed_usd[last] / hours[last]) if last >= 0 and hours[last] > 0 else 0.0
        window_h = float(hours[recent].sum())
        use_rate = float(used_usd[recent].sum()) / window_h if window_h else 0.0
        projected_months = month_starts(horizon, end) if end > horizon else []
        spans = [(scenario.seconds(max(lo, contract.start)), scenario.seconds(min(hi, end)))
                 for lo, hi in zip(projected_months, [*projected_months[1:], end][:len(projected_months)], strict=True)]
        planned_h = _planned_gpu_hours(layout, spans)
        planned_alloc_h = planned_h * utilisation
        n = len(months)
        steps = _Steps(
            month=np.concatenate([month_of, n + np.arange(len(spans))]).astype(np.int64),
            installed_usd=np.concatenate([installed_usd * in_term, numerics.weighted_sum(planned_h, own_prices)]),
            used_usd=np.concatenate([used_usd * in_term, numerics.weighted_sum(planned_alloc_h, own_prices)]),
            used_overage_usd=np.concatenate([used_overage_usd * in_term,
                                             numerics.weighted_sum(planned_alloc_h, overage_prices)]),
        )
        row_months = months + projected_months
        committed = np.array([contract_committed_between(contract, lo, hi)
                              for lo, hi in zip(row_months, row_months[1:] + [max(horizon, end)], strict=True)])
        installed_h = np.concatenate([np.bincount(month_of, weights=installed_gpu_hours[:, mine].sum(axis=1),
                                                  minlength=n)[:n], np.zeros(len(spans))])
        allocated_h = np.concatenate([np.bincount(month_of, weights=allocated_gpu_hours[:, mine].sum(axis=1),
                                                  minlength=n)[:n], np.zeros(len(spans))])
        if len(spans):
            installed_h[n:] = planned_h[:, mine].sum(axis=1)
            allocated_h[n:] = planned_alloc_h[:, mine].sum(axis=1)
        table, totals = _ledger_rows(contract, steps, row_months, n, committed, installed_h, allocated_h, end)
        names = [pool.name for pool, own in zip(layout.pools, mine, strict=True) if own]
        totals.update({"pools": names, "run_rate_usd_per_hour_at_end":
                       install_rate if contract.kind is ContractKind.take_or_pay else use_rate})
        ledgers.append(ContractLedger(contract, names, table, totals))
    return ledgers


def _recent_utilisation(installed_h: np.ndarray, allocated_h: np.ndarray) -> np.ndarray:
    """Per pool, allocated over installed GPU-hours (the fleet's where a pool had none installed)."""
    installed, allocated = installed_h.sum(axis=0), allocated_h.sum(axis=0)
    fleet = float(allocated.sum()) / float(installed.sum()) if installed.sum() > 0 else 0.0
    return np.where(installed > 0, allocated / np.where(installed > 0, installed, 1.0), fleet)


def _planned_gpu_hours(layout: FleetLayout, spans_s: list[tuple[float, float]]) -> np.ndarray:
    """Installed GPU-hours per pool (columns) in each span of seconds (rows), as laid out."""
    out = np.zeros((len(spans_s), len(layout.pools)))
    if not layout.n_racks:
        return out
    gpus = layout.rack_installed_gpus.astype(np.float64)
    for row, (lo, hi) in enumerate(spans_s):
        held = np.maximum(np.minimum(layout.rack_retire_s, hi) - np.maximum(layout.rack_delivered_s, lo), 0.0)
        out[row] = np.bincount(layout.rack_pool, weights=gpus * held / 3600.0, minlength=len(layout.pools))
    return out


def _ledger_rows(contract: ContractSpec, steps: _Steps, row_months: list[datetime], n_actual: int,
                 committed: np.ndarray, installed_h: np.ndarray, allocated_h: np.ndarray,
                 end: datetime) -> tuple[pa.Table, dict[str, Any]]:
    """Monthly rows and totals of one contract from its steps."""
    rows = len(row_months)
    value = contract_value(contract)

    def per_month(values: np.ndarray) -> np.ndarray:
        return np.bincount(steps.month, weights=values, minlength=rows)[:rows]

    if contract.kind is ContractKind.take_or_pay:
        counted = steps.installed_usd
        overage = np.zeros(len(counted))
    else:
        # Use counts against the commitment until it is consumed; the step that crosses it
        # splits in proportion; what lies beyond is billed at the overage prices.
        before = contract.consumed_before_usd
        running = before + np.cumsum(steps.used_usd)
        # Steps wholly inside the commitment count as they are (a difference of sums would not be exact).
        counted = np.where(running <= value, steps.used_usd,
                           np.diff(np.minimum(running, value), prepend=before))
        beyond = steps.used_usd - counted
        share = np.divide(beyond, steps.used_usd, out=np.zeros(len(beyond)), where=steps.used_usd > 0)
        overage = share * steps.used_overage_usd
    counted_m, overage_m, used_m = per_month(counted), per_month(overage), per_month(steps.used_usd)
    billed_m = counted_m + overage_m
    # The rows reach the term's end (past the horizon, projected): book what it did not reach.
    shortfall_m = np.zeros(rows)
    bounds = np.array(row_months, dtype="datetime64[us]")
    last = max(int(np.searchsorted(bounds, np.datetime64(end, "us"), side="left")) - 1, 0)
    shortfall_m[last] = max(value - contract.consumed_before_usd - float(counted_m[:last + 1].sum()), 0.0)
    projected = np.arange(rows) >= n_actual
    table = pa.table({
        "contract": pa.array([contract.name] * rows, type=pa.string()),
        "provider": pa.array([contract.provider or ""] * rows, type=pa.string()),
        "kind": pa.array([contract.kind.value] * rows, type=pa.string()),
        "month": pa.array(row_months, type=pa.timestamp("us")),
        "projected": pa.array(projected, type=pa.bool_()),
        "installed_gpu_hours": installed_h,
        "allocated_gpu_hours": allocated_h,
        "committed_usd": committed,
        "billed_usd": billed_m,
        "used_usd": used_m,
        "overage_usd": overage_m,
        "shortfall_usd": shortfall_m,
        "cumulative_committed_usd": np.cumsum(committed),
        "cumulative_billed_usd": np.cumsum(billed_m),
        "cumulative_used_usd": np.cumsum(used_m),
        "remaining_commitment_usd": value - contract.consumed_before_usd - np.cumsum(counted_m),
    })
    actual = ~projected
    billed, used = float(billed_m[actual].sum()), float(used_m[actual].sum())
    owed = contract.kind is ContractKind.minimum_spend
    shortfall = float(shortfall_m.sum())
    totals = {
        "name": contract.name,
        "provider": contract.provider,
        "kind": contract.kind.value,
        "value_usd": value,
        "start": contract.start.date().isoformat(),
        "term_end": end.date().isoformat(),
        "committed_to_date_usd": float(committed[actual].sum()),
        "billed_usd": billed,
        "used_usd": used,
        "overage_usd": float(overage_m[actual].sum()),
        "used_share_of_billed": used / billed if billed else None,
        "remaining_commitment_usd": value - contract.consumed_before_usd - float(counted_m[actual].sum()),
        "projected_term_billed_usd": float(billed_m.sum()),
        "projected_term_used_usd": float(used_m.sum()),
        "projected_overage_usd": float(overage_m.sum()),
        "projected_shortfall_usd": shortfall,
        "shortfall_owed": owed,
        "projected_term_cost_usd": float(billed_m.sum()) + (shortfall if owed else 0.0),
        "projected_unused_share": shortfall / value if value else 0.0,
    }
    return table, totals


def portfolio_ledger(scenario: Scenario, layout: FleetLayout, ledgers: list[ContractLedger],
                     interval_start: list[datetime], installed_gpu_hours: np.ndarray,
                     allocated_gpu_hours: np.ndarray, horizon: datetime) -> pa.Table:
    """The portfolio per month to the horizon (ledger.parquet of a `contracts:` scenario): the
    sum of its contracts, and the pools bought outside them (`purchased_usd`)."""
    months = month_starts(scenario.start, horizon)
    n = len(months)
    starts = np.array(interval_start, dtype="datetime64[us]")
    bounds = np.array(months + [horizon], dtype="datetime64[us]")
    month_of = np.searchsorted(bounds, starts, side="right") - 1

    def per_month(values: np.ndarray) -> np.ndarray:
        return np.bincount(month_of, weights=values, minlength=n)[:n]

    def summed(column: str) -> np.ndarray:
        total = np.zeros(n)
        for ledger in ledgers:
            total = total + ledger.table[column].to_numpy()[:n]
        return total

    committed, billed, used = summed("committed_usd"), summed("billed_usd"), summed("used_usd")
    overage, shortfall = summed("overage_usd"), summed("shortfall_usd")
    counted = billed - overage
    value = sum(contract_value(ledger.contract) - ledger.contract.consumed_before_usd for ledger in ledgers)
    columns: dict[str, Any] = {
        "month": pa.array(months, type=pa.timestamp("us")),
        "installed_gpu_hours": per_month(installed_gpu_hours.sum(axis=1)),
        "allocated_gpu_hours": per_month(allocated_gpu_hours.sum(axis=1)),
        "committed_usd": committed,
        "billed_usd": billed,
        "used_usd": used,
        "overage_usd": overage,
        "shortfall_usd": shortfall,
        "cumulative_committed_usd": np.cumsum(committed),
        "cumulative_billed_usd": np.cumsum(billed),
        "cumulative_used_usd": np.cumsum(used),
        "remaining_commitment_usd": value - np.cumsum(counted),
    }
    bought = np.array(purchased_pools(scenario, layout), dtype=bool)
    if bought.any():
        prices = np.array([price for price, _ in pool_prices(scenario, layout)])
        purchased_prices = np.where(bought, prices, 0.0)
        purchased = per_month(numerics.weighted_sum(installed_gpu_hours, purchased_prices))
        columns.update({"purchased_usd": purchased,
                        "purchased_used_usd": per_month(numerics.weighted_sum(allocated_gpu_hours,
                                                                              purchased_prices)),
                        "cumulative_purchased_usd": np.cumsum(purchased)})
    return pa.table(columns)


def contracts_table(ledgers: list[ContractLedger]) -> pa.Table:
    """Every contract's monthly rows, one after another (contracts_ledger.parquet)."""
    return pa.concat_tables([ledger.table for ledger in ledgers])


def portfolio_totals(ledgers: list[ContractLedger], purchased_usd: float) -> dict[str, Any]:
    """The portfolio's headline: sums over its contracts, and what was bought outside them."""
    keys = ("value_usd", "committed_to_date_usd", "billed_usd", "used_usd", "overage_usd",
            "remaining_commitment_usd", "projected_term_billed_usd", "projected_term_used_usd",
            "projected_overage_usd", "projected_shortfall_usd", "projected_term_cost_usd")
    totals = {key: float(sum(ledger.totals[key] for ledger in ledgers)) for key in keys}
    totals["projected_owed_shortfall_usd"] = float(sum(ledger.totals["projected_shortfall_usd"] for ledger in ledgers
                                                       if ledger.totals["shortfall_owed"]))
    totals["purchased_usd"] = purchased_usd
    totals["contracts_at_risk"] = [ledger.contract.name for ledger in ledgers
                                   if ledger.totals["projected_shortfall_usd"] > 0]
    return totals
