"""What a plan costs, from the plan itself (no run needed): the commitment, the planned
billing over the contract's term, and what is bought outside it.

- committed: the contract's value plus the exercised options' values;
- planned billing: every commitment rack's installed GPU-hours from its delivery to its
  retirement or the end of the term, x the pool's price (capacity beyond the horizon
  stays as planned, as `projected_term_billed_usd` assumes);
- the commitment's cost: the larger of the two (take or pay: the commitment is owed
  whether or not the capacity is used; capacity beyond it is billed);
- purchased: every purchased rack's GPU-hours in its window (to the horizon without a
  retirement) x its own price.

Without a contract there is no commitment: billing counts to the horizon. With several
(`contracts:`), each contract's cost is the larger of its commitment (less what was
consumed before the scenario) and its planned billing over its own term, and the
portfolio's is their sum; a minimum-spend contract's planned billing assumes every
installed GPU-hour used (an upper bound: a plan has no use until it runs).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from gpufleet.econ.ledger import term_end
from gpufleet.econ.portfolio import contract_term_end, contract_value, is_portfolio
from gpufleet.econ.pricing import pool_prices, purchased_pools
from gpufleet.fleet.build import build_layout
from gpufleet.fleet.layout import FleetLayout
from gpufleet.spec.portfolio import contract_of_pool
from gpufleet.spec.scenario import Scenario


@dataclass(frozen=True)
class PlanCost:
    """A plan's dollars: committed, planned billing, purchased; `total` is what the planner minimises."""

    committed_usd: float
    planned_billed_usd: float
    purchased_usd: float
    by_contract: tuple[tuple[str, float, float], ...] = ()
    """A portfolio: (contract, committed, planned billing) of each contract."""

    @property
    def commitment_usd(self) -> float:
        if self.by_contract:
            return sum(max(committed, billed) for _, committed, billed in self.by_contract)
        return max(self.committed_usd, self.planned_billed_usd)

    @property
    def unused_commitment_usd(self) -> float:
        """Committed dollars the plan's capacity would not bill (a portfolio: summed per contract)."""
        if self.by_contract:
            return sum(max(committed - billed, 0.0) for _, committed, billed in self.by_contract)
        return max(self.committed_usd - self.planned_billed_usd, 0.0)

    @property
    def total_usd(self) -> float:
        return self.commitment_usd + self.purchased_usd

    def as_dict(self) -> dict[str, float]:
        out = {"committed_usd": self.committed_usd, "planned_billed_usd": self.planned_billed_usd,
               "commitment_usd": self.commitment_usd, "purchased_usd": self.purchased_usd,
               "total_usd": self.total_usd}
        if self.by_contract:
            out["unused_commitment_usd"] = self.unused_commitment_usd
        return out


def plan_cost(scenario: Scenario, until: datetime | None = None) -> PlanCost:
    """The cost of `scenario` as a plan (horizon: `until` or its end)."""
    layout = build_layout(scenario)
    horizon_s = scenario.seconds(min(until, scenario.end) if until else scenario.end)
    if is_portfolio(scenario):
        return _portfolio_cost(scenario, layout, horizon_s)
    contract = scenario.contract
    end = term_end(scenario)
    if contract is not None and end is not None:
        lo_s, hi_s = scenario.seconds(contract.start), scenario.seconds(end)
        committed = contract.value_usd + sum(o.value_usd for o in contract.expansions if o.exercise)
    else:
        lo_s, hi_s, committed = 0.0, horizon_s, 0.0
    prices = np.array([price for price, _ in pool_prices(scenario, layout)])
    bought = np.array(purchased_pools(scenario, layout), dtype=bool)
    rack_price = prices[layout.rack_pool] if layout.n_racks else np.zeros(0)
    rack_bought = bought[layout.rack_pool] if layout.n_racks else np.zeros(0, dtype=bool)
    delivered, retired = layout.rack_delivered_s, layout.rack_retire_s
    gpus = layout.rack_installed_gpus.astype(np.float64)
    term_h = np.maximum(np.minimum(retired, hi_s) - np.maximum(delivered, lo_s), 0.0) / 3600.0
    window_h = np.maximum(np.minimum(retired, horizon_s) - delivered, 0.0) / 3600.0
    billed = float(np.sum(np.where(rack_bought, 0.0, gpus * term_h * rack_price)))
    purchased = float(np.sum(np.where(rack_bought, gpus * window_h * rack_price, 0.0)))
    return PlanCost(committed, billed, purchased)


def _portfolio_cost(scenario: Scenario, layout: FleetLayout, horizon_s: float) -> PlanCost:
    """Each contract's commitment and planned billing over its own term, and the purchases."""
    owner = contract_of_pool(scenario)
    prices = np.array([price for price, _ in pool_prices(scenario, layout)])
    bought = np.array(purchased_pools(scenario, layout), dtype=bool)
    delivered, retired = layout.rack_delivered_s, layout.rack_retire_s
    gpus = layout.rack_installed_gpus.astype(np.float64)
    rack_price = prices[layout.rack_pool] if layout.n_racks else np.zeros(0)
    rows = []
    for index, contract in enumerate(scenario.all_contracts):
        mine = np.array([owner.get(pool.name) == index for pool in layout.pools], dtype=bool)
        rack_mine = mine[layout.rack_pool] if layout.n_racks else np.zeros(0, dtype=bool)
        lo_s, hi_s = scenario.seconds(contract.start), scenario.seconds(contract_term_end(contract))
        term_h = np.maximum(np.minimum(retired, hi_s) - np.maximum(np.maximum(delivered, lo_s), 0.0), 0.0) / 3600.0
        billed = float(np.sum(np.where(rack_mine, gpus * term_h * rack_price, 0.0)))
        rows.append((contract.name, contract_value(contract) - contract.consumed_before_usd, billed))
    rack_bought = bought[layout.rack_pool] if layout.n_racks else np.zeros(0, dtype=bool)
    window_h = np.maximum(np.minimum(retired, horizon_s) - delivered, 0.0) / 3600.0
    purchased = float(np.sum(np.where(rack_bought, gpus * window_h * rack_price, 0.0)))
    return PlanCost(sum(row[1] for row in rows), sum(row[2] for row in rows), purchased, tuple(rows))
