"""Prices per GPU-hour: the contract's where it names the GPU type, else the catalog list price."""

from __future__ import annotations

from gpufleet.fleet.layout import FleetLayout
from gpufleet.spec.scenario import Scenario


def pool_prices(scenario: Scenario, layout: FleetLayout) -> list[tuple[float, str]]:
    """(USD per GPU-hour, where the price comes from) for each pool."""
    contract = scenario.contract.prices_usd_per_gpu_hour if scenario.contract else {}
    by_upper = {name.upper(): price for name, price in contract.items()}
    prices = []
    for pool in layout.pools:
        if pool.gpu.name.upper() in by_upper:
            prices.append((by_upper[pool.gpu.name.upper()], "contract"))
        elif pool.gpu.list_price_usd_per_gpu_hour is not None:
            prices.append((pool.gpu.list_price_usd_per_gpu_hour, "catalog list price"))
        else:
            prices.append((0.0, "no price"))
    return prices
