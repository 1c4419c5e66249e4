"""Which contract pays for which pool, and the checks a portfolio of contracts must pass.

`contract:` (the one-contract shorthand) pays for every pool not bought outside it (or
the pools it lists). In `contracts:` each contract pays for the pools it lists, else for
its provider's pools; every pool belongs to exactly one contract or is bought outside
any commitment (`purchase`).
"""

from __future__ import annotations

from datetime import timedelta

from gpufleet.spec.contract import ContractKind, ContractSpec
from gpufleet.spec.scenario import Scenario

Path = tuple[str | int, ...]


def contract_pools(scenario: Scenario, contract: ContractSpec) -> list[str]:
    """The names of the pools `contract` pays for, in fleet order."""
    if contract.pools is not None:
        listed = set(contract.pools)
        return [pool.name for pool in scenario.fleet.pools if pool.name in listed]
    if scenario.contracts and contract.provider is not None:
        return [pool.name for pool in scenario.fleet.pools
                if pool.purchase is None and pool.provider == contract.provider]
    if scenario.contracts:
        return []
    return [pool.name for pool in scenario.fleet.pools if pool.purchase is None]


def contract_of_pool(scenario: Scenario) -> dict[str, int]:
    """Pool name -> index into `scenario.all_contracts` of the contract that pays for it
    (the first that claims it); pools outside any commitment are absent."""
    owner: dict[str, int] = {}
    for index, contract in enumerate(scenario.all_contracts):
        for name in contract_pools(scenario, contract):
            owner.setdefault(name, index)
    return owner


def check_contracts(scenario: Scenario, gpu_type_names: set[str]) -> list[tuple[Path, str]]:
    """Names that must exist, pools in exactly one contract, options on the contract's own pools."""
    problems: list[tuple[Path, str]] = []
    pools = {pool.name: pool for pool in scenario.fleet.pools}
    many = bool(scenario.contracts)
    names: set[str] = set()
    claimed: dict[str, str] = {}
    for index, contract in enumerate(scenario.all_contracts):
        where: Path = ("contracts", index) if many else ("contract",)
        if many:
            if contract.name in names:
                problems.append(((*where, "name"), f"contract name {contract.name!r} is used twice"))
            names.add(contract.name)
            if contract.pools is None and contract.provider is None:
                problems.append(((*where, "pools"), "a contract in `contracts` names its provider or its pools"))
        for name in contract.prices_usd_per_gpu_hour:
            if name.upper() not in gpu_type_names:
                problems.append(((*where, "prices_usd_per_gpu_hour", name), f"unknown GPU type {name!r}"))
        for name in contract.overage_usd_per_gpu_hour:
            if name.upper() not in gpu_type_names:
                problems.append(((*where, "overage_usd_per_gpu_hour", name), f"unknown GPU type {name!r}"))
        for k, pool_name in enumerate(contract.pools or []):
            pool = pools.get(pool_name)
            at = (*where, "pools", k)
            if pool is None:
                problems.append((at, f"no pool called {pool_name!r} (pools: {', '.join(sorted(pools))})"))
            elif pool.purchase is not None:
                problems.append((at, f"pool {pool_name!r} is bought outside any commitment (`purchase`)"))
            elif contract.provider is not None and pool.provider != contract.provider:
                problems.append((at, f"pool {pool_name!r} is with provider {pool.provider!r}, "
                                     f"not the contract's {contract.provider!r}"))
            elif pool_name in claimed:
                problems.append((at, f"pool {pool_name!r} is already in contract {claimed[pool_name]!r}: "
                                     "a pool belongs to one contract"))
        mine = contract_pools(scenario, contract)
        if contract.pools is None:
            for pool_name in mine:
                if pool_name in claimed:
                    problems.append(((*where, "provider"), f"provider {contract.provider!r}'s pool {pool_name!r} is "
                                     f"already in contract {claimed[pool_name]!r}: list this contract's `pools`"))
        for pool_name in mine:
            claimed.setdefault(pool_name, contract.name)
        for k, option in enumerate(contract.expansions):
            if option.pool not in pools:
                problems.append(((*where, "expansions", k, "pool"),
                                 f"no pool called {option.pool!r} (pools: {', '.join(sorted(pools))})"))
            elif many and option.pool not in mine:
                problems.append(((*where, "expansions", k, "pool"),
                                 f"pool {option.pool!r} is not one this contract pays for "
                                 f"({', '.join(mine) or 'none'})"))
        ends = contract.start + timedelta(days=365.25 * contract.term_years)
        if ends <= scenario.start:
            problems.append(((*where, "term_years"), f"the term ends {ends.date()}, before the scenario starts "
                                                     f"({scenario.start.date()})"))
        if contract.kind is ContractKind.minimum_spend and not mine:
            problems.append(((*where, "pools"), "a minimum-spend contract needs pools to consume it"))
    if many or any(contract.pools is not None for contract in scenario.all_contracts):
        for i, pool in enumerate(scenario.fleet.pools):
            if pool.purchase is None and pool.name not in claimed:
                problems.append((("fleet", "pools", i, "name"),
                                 f"pool {pool.name!r} is in no contract: list it in a contract's `pools` (or give "
                                 "the contract its provider), or buy it outside the commitments with `purchase`"))
    return problems
