"""The money answers of a portfolio of contracts: each contract's ledger and the portfolio's
totals, in the summary's `money` section (docs/portfolio.md)."""

from __future__ import annotations

from typing import Any

from gpufleet.econ.portfolio import ContractLedger, portfolio_totals


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


def cost_per_useful_gpu_hour(money: dict[str, Any], useful_gpu_hours: float) -> float | None:
    """Billed plus purchased dollars to the horizon over the GPU-hours that did useful work."""
    spent = money["billed_usd"] + money.get("purchased_usd", 0.0)
    return spent / useful_gpu_hours if useful_gpu_hours else None
