"""The money answers of a portfolio of contracts: each contract's ledger and the portfolio's
totals, in the summary's `money` section (docs/portfolio.md)."""

from __future__ import annotations

from typing import Any

from gpufleet.econ.portfolio import ContractLedger, portfolio_totals
from gpufleet.fleet.layout import FleetLayout


def portfolio_money(ledgers: list[ContractLedger], money: dict[str, Any]) -> dict[str, Any]:
    """What a `contracts:` run adds to (or replaces in) `money`: per-contract totals, the
    portfolio's, and the headline figures summed over the contracts."""
    portfolio = portfolio_totals(ledgers, money.get("purchased_usd", 0.0))
    ends = [ledger.totals["term_end"] for ledger in ledgers]
    return {
        "contracts": [ledger.totals for ledger in ledgers],
        "portfolio": portfolio,
        "contract_value_usd": portfolio["value_usd"],
        "term_end": max(ends) if ends else None,
        "remaining_commitment_usd": portfolio["remaining_commitment_usd"],
        "run_rate_usd_per_hour_at_end": sum(ledger.totals["run_rate_usd_per_hour_at_end"] for ledger in ledgers),
        "projected_term_billed_usd": portfolio["projected_term_billed_usd"],
        "projected_shortfall_usd": portfolio["projected_shortfall_usd"],
    }


def by_provider(layout: FleetLayout, pools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per provider (in fleet order): its pools, installed and allocated GPU-hours, utilisation,
    and the dollars its installed (billed or purchased at the pool's price) and allocated GPU-hours are worth."""
    rows: dict[str, dict[str, Any]] = {}
    for pool, row in zip(layout.pools, pools, strict=True):
        mine = rows.setdefault(pool.provider, {"provider": pool.provider, "pools": [], "installed_gpu_hours": 0.0,
                                               "allocated_gpu_hours": 0.0, "installed_usd": 0.0,
                                               "allocated_usd": 0.0})
        mine["pools"].append(pool.name)
        mine["installed_gpu_hours"] += row["installed_gpu_hours"]
        mine["allocated_gpu_hours"] += row["allocated_gpu_hours"]
        mine["installed_usd"] += row["installed_gpu_hours"] * row["price_usd_per_gpu_hour"]
        mine["allocated_usd"] += row["allocated_gpu_hours"] * row["price_usd_per_gpu_hour"]
    for row in rows.values():
        row["utilisation"] = row["allocated_gpu_hours"] / row["installed_gpu_hours"] if row["installed_gpu_hours"] \
            else 0.0
    return list(rows.values())


def cost_per_useful_gpu_hour(money: dict[str, Any], useful_gpu_hours: float) -> float | None:
    """Billed plus purchased dollars to the horizon over the GPU-hours that did useful work."""
    spent = money["billed_usd"] + money.get("purchased_usd", 0.0)
    return spent / useful_gpu_hours if useful_gpu_hours else None
