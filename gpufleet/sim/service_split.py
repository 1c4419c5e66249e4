"""Services that run across providers: their demand split into one replica set per provider
(capacity-proportional or fixed shares), or one replica set that fills the cheapest
provider first (`services[].providers`, docs/portfolio.md)."""

from __future__ import annotations

from gpufleet.econ.pricing import pool_prices
from gpufleet.fleet.flavors import PROVIDER_MARK
from gpufleet.fleet.layout import FleetLayout
from gpufleet.spec.scenario import Scenario
from gpufleet.spec.serving import ProviderSplit, ServiceProvidersSpec, ServiceSpec


def service_providers(layout: FleetLayout, service: ServiceSpec) -> list[str]:
    """The providers a service may run at: its `among`, else every provider with a pool of its flavors."""
    assert service.providers is not None
    if service.providers.among:
        return list(service.providers.among)
    wanted = {flavor.upper() for flavor in service.flavors}
    return list(dict.fromkeys(pool.provider for pool in layout.pools if pool.gpu.name.upper() in wanted))


def capacity_shares(scenario: Scenario, layout: FleetLayout, service: ServiceSpec,
                    providers: list[str]) -> dict[str, float]:
    """Each provider's share of the installed GPU-seconds of the service's flavors over its window (as planned)."""
    lo = scenario.seconds(service.start or scenario.start)
    hi = scenario.seconds(service.end or scenario.end)
    wanted = {flavor.upper() for flavor in service.flavors}
    held = dict.fromkeys(providers, 0.0)
    for pool in layout.pools:
        if pool.provider not in held or pool.gpu.name.upper() not in wanted:
            continue
        for rack in range(pool.rack_lo, pool.rack_hi):
            begin = max(float(layout.rack_delivered_s[rack]), lo)
            end = min(float(layout.rack_retire_s[rack]), hi)
            if end > begin:
                held[pool.provider] += float(layout.rack_installed_gpus[rack]) * (end - begin)
    total = sum(held.values())
    return {provider: value / total for provider, value in held.items()} if total else {}


def cheapest_order(scenario: Scenario, layout: FleetLayout, service: ServiceSpec, providers: list[str]) -> list[str]:
    """Providers by the lowest price per GPU-hour of the service's flavors there (ties: as listed)."""
    wanted = {flavor.upper() for flavor in service.flavors}
    prices = pool_prices(scenario, layout)
    best = {provider: min((price for pool, (price, _) in zip(layout.pools, prices, strict=True)
                           if pool.provider == provider and pool.gpu.name.upper() in wanted), default=float("inf"))
            for provider in providers}
    return sorted(providers, key=lambda provider: (best[provider], providers.index(provider)))


def split_services(scenario: Scenario, layout: FleetLayout, services: list[ServiceSpec]) -> list[ServiceSpec]:
    """`services` with each one that runs across providers replaced by its replica sets:
    `NAME@PROVIDER` with its share of the demand (capacity, fixed), or one set whose
    providers are ordered cheapest first (cheapest_first)."""
    out = []
    for service in services:
        spec = service.providers
        if spec is None:
            out.append(service)
            continue
        providers = service_providers(layout, service)
        if spec.split is ProviderSplit.cheapest_first:
            order = cheapest_order(scenario, layout, service, providers)
            out.append(service.model_copy(update={"providers": spec.model_copy(update={"among": order})}))
            continue
        shares = spec.shares if spec.split is ProviderSplit.fixed else \
            capacity_shares(scenario, layout, service, providers)
        for provider in providers:
            share = shares.get(provider, 0.0)
            if share <= 0:
                continue
            demand = service.demand.model_copy(update={"share": service.demand.share * share})
            out.append(service.model_copy(update={
                "name": f"{service.name}{PROVIDER_MARK}{provider}", "demand": demand,
                "providers": ServiceProvidersSpec(split=ProviderSplit.fixed, among=[provider], shares={provider: 1.0},
                                                  source=spec.source)}))
    return out


def base_service(name: str) -> str:
    """The service a replica set `NAME@PROVIDER` belongs to (the name itself otherwise)."""
    return name.rsplit(PROVIDER_MARK, 1)[0]
