"""Prices per GPU-hour: a purchased pool's own, else the contract's where it names the GPU type, else the
catalog list price."""

from __future__ import annotations

from gpufleet.fleet.layout import FleetLayout
from gpufleet.spec.portfolio import contract_of_pool
from gpufleet.spec.scenario import Scenario


def purchased_pools(scenario: Scenario, layout: FleetLayout) -> list[bool]:
    """For each pool: whether it is bought outside the commitment (`purchase`)."""
    bought = {pool.name for pool in scenario.fleet.pools if pool.purchase is not None}
    return [pool.name in bought for pool in layout.pools]


def pool_prices(scenario: Scenario, layout: FleetLayout) -> list[tuple[float, str]]:
    """(USD per GPU-hour, where the price comes from) for each pool."""
    contracts = scenario.all_contracts
    owner = contract_of_pool(scenario)
    by_contract = [{name.upper(): price for name, price in contract.prices_usd_per_gpu_hour.items()}
                   for contract in contracts]
    bought = {pool.name: pool.purchase for pool in scenario.fleet.pools if pool.purchase is not None}
    prices = []
    for pool in layout.pools:
        by_upper = by_contract[owner[pool.name]] if pool.name in owner else {}
        if pool.name in bought:
            prices.append((bought[pool.name].price_usd_per_gpu_hour, f"purchase ({bought[pool.name].kind.value})"))
        elif pool.gpu.name.upper() in by_upper:
            prices.append((by_upper[pool.gpu.name.upper()], "contract"))
        elif pool.gpu.list_price_usd_per_gpu_hour is not None:
            prices.append((pool.gpu.list_price_usd_per_gpu_hour, "catalog list price"))
        else:
            prices.append((0.0, "no price"))
    return prices
