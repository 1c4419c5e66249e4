"""Terminal tables of a portfolio of contracts: each contract's ledger to the horizon and
projected to its term's end (after a run), and what each contract says (`validate`)."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from gpufleet.fleet.layout import FleetLayout
from gpufleet.report.format import usd
from gpufleet.sim.service_split import capacity_shares, cheapest_order, service_providers
from gpufleet.spec.portfolio import contract_pools
from gpufleet.spec.scenario import Scenario
from gpufleet.spec.serving import ProviderSplit


def contract_ledger_table(money: dict[str, Any]) -> Table:
    """One row per contract, then the portfolio: what it committed, billed and used, and where it ends."""
    table = Table(title="Contracts: to the horizon, and projected to each term's end (planned racks, used as in the "
                        "last 30 days; shortfall: owed for minimum-spend, unbilled for take-or-pay)",
                  title_justify="left")
    for column in ("contract", "provider", "kind", "value", "term end", "committed", "billed", "used", "overage",
                   "proj. billed", "proj. shortfall", "proj. cost"):
        table.add_column(column, justify="left" if column in ("contract", "provider", "kind", "term end")
                         else "right")
    for row in money["contracts"]:
        shortfall = usd(row["projected_shortfall_usd"]) + (" owed" if row["shortfall_owed"] and
                                                          row["projected_shortfall_usd"] else "")
        table.add_row(row["name"], row["provider"] or "-", row["kind"].replace("_", "-"), usd(row["value_usd"]),
                      row["term_end"], usd(row["committed_to_date_usd"]), usd(row["billed_usd"]),
                      usd(row["used_usd"]), usd(row["overage_usd"]), usd(row["projected_term_billed_usd"]),
                      shortfall, usd(row["projected_term_cost_usd"]))
    total = money["portfolio"]
    table.add_row("portfolio", "", "", usd(total["value_usd"]), money.get("term_end") or "-",
                  usd(total["committed_to_date_usd"]), usd(total["billed_usd"]), usd(total["used_usd"]),
                  usd(total["overage_usd"]), usd(total["projected_term_billed_usd"]),
                  usd(total["projected_shortfall_usd"]), usd(total["projected_term_cost_usd"]), style="bold")
    if total.get("purchased_usd"):
        table.add_row("outside commitments", "", "purchase", "", "", "", usd(total["purchased_usd"]), "", "", "", "",
                      "")
    if total.get("usd_per_useful_gpu_hour") is not None:
        table.caption = (f"Billed + purchased per useful GPU-hour (productive training + serving after warm-up): "
                         f"${total['usd_per_useful_gpu_hour']:.2f}")
    return table


def provider_table(money: dict[str, Any]) -> Table:
    """Where the GPU-hours were, per provider: installed, allocated, utilisation, their worth at the pools' prices."""
    table = Table(title="By provider (installed and allocated GPU-hours, at each pool's price)", title_justify="left")
    for column in ("provider", "pools", "installed GPU-h", "allocated GPU-h", "utilisation", "installed $",
                   "allocated $"):
        table.add_column(column, justify="left" if column in ("provider", "pools") else "right")
    for row in money["portfolio"]["providers"]:
        table.add_row(row["provider"], ", ".join(row["pools"]), f"{row['installed_gpu_hours']:,.0f}",
                      f"{row['allocated_gpu_hours']:,.0f}", f"{row['utilisation']:.1%}", usd(row["installed_usd"]),
                      usd(row["allocated_usd"]))
    return table


def contracts_spec_table(scenario: Scenario) -> Table:
    """What each contract of a `contracts:` scenario says (for `gpufleet validate`)."""
    table = Table(title="Contracts", title_justify="left")
    for column in ("contract", "provider", "kind", "value", "start / term", "pools", "prices $/GPU-h", "expansions"):
        table.add_column(column)
    for contract in scenario.all_contracts:
        prices = ", ".join(f"{gpu} {price:.2f}" for gpu, price in contract.prices_usd_per_gpu_hour.items())
        if contract.overage_usd_per_gpu_hour:
            prices += "; overage " + ", ".join(f"{gpu} {price:.2f}"
                                               for gpu, price in contract.overage_usd_per_gpu_hour.items())
        options = "; ".join(f"{o.name}: {o.date.date()} +{o.racks} racks to {o.pool}"
                            f"{'' if o.exercise else ' (not exercised)'}" for o in contract.expansions)
        table.add_row(contract.name, contract.provider or "-", contract.kind.value.replace("_", "-"),
                      usd(contract.value_usd), f"{contract.start.date()} / {contract.term_years:g} y",
                      ", ".join(contract_pools(scenario, contract)) or "-", prices or "list prices", options or "-")
    return table


def placement_table(scenario: Scenario, layout: FleetLayout) -> Table | None:
    """Who runs where across providers (for `gpufleet validate`); None when nothing names providers."""
    rows: list[tuple[str, str, str]] = []
    for entry in scenario.workloads:
        spec = entry.spec
        if getattr(spec, "providers", None):
            rows.append((f"workload {spec.name}", "preferred in order", " > ".join(spec.providers)))
        for job in entry.jobs.items if entry.jobs is not None else []:
            if job.providers:
                rows.append((f"job {job.name}", "preferred in order", " > ".join(job.providers)))
    for queue in scenario.scheduler.queues:
        if queue.providers:
            rows.append((f"queue {queue.name}", "preferred in order (its jobs)", " > ".join(queue.providers)))
    for service in scenario.services:
        split = service.providers
        if split is None:
            continue
        providers = service_providers(layout, service)
        if split.split is ProviderSplit.cheapest_first:
            how = "cheapest first, spilling over"
            where = " > ".join(cheapest_order(scenario, layout, service, providers))
        else:
            shares = split.shares if split.split is ProviderSplit.fixed else \
                capacity_shares(scenario, layout, service, providers)
            how = "demand split by " + ("fixed shares" if split.split is ProviderSplit.fixed else "planned capacity")
            where = ", ".join(f"{provider} {shares.get(provider, 0.0):.1%}" for provider in providers)
        rows.append((f"service {service.name}", how, where))
    if not rows:
        return None
    table = Table(title="Across providers", title_justify="left")
    for column in ("what", "how", "where"):
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    return table
