"""Checks across fields that a schema cannot express: names that must exist, dates in
order, amounts that must make whole racks, jobs that must fit the fleet.

Each problem is (field path, message); the loader turns the path into a line number.
"""

from __future__ import annotations

from datetime import datetime

from gpufleet.catalog import lookup
from gpufleet.fleet.build import build_layout, gpu_types, pool_shape, racks_in
from gpufleet.serving.by_type import services_by_type
from gpufleet.sim.checks.failures import check_failures
from gpufleet.sim.checks.scheduler import check_scheduler
from gpufleet.sim.checks.services import check_services
from gpufleet.sim.checks.throughput import check_throughput
from gpufleet.spec.fleet import CapacityChange
from gpufleet.spec.portfolio import check_contracts
from gpufleet.spec.scenario import Scenario
from gpufleet.workload.explicit import default_group, job_key, submit_time_s
from gpufleet.workload.trace import check_trace

Path = tuple[str | int, ...]


def check_scenario(scenario: Scenario) -> list[tuple[Path, str]]:
    """Every cross-field problem of the scenario (empty when it can run)."""
    problems = _check_basics(scenario)
    if problems:
        return problems  # the fleet cannot be laid out; fit checks would only add noise
    return _check_fits(scenario) + check_failures(scenario) + _check_services(scenario) + check_throughput(scenario)


def _check_basics(scenario: Scenario) -> list[tuple[Path, str]]:
    problems: list[tuple[Path, str]] = []
    if scenario.end <= scenario.start:
        problems.append((("end",), f"end {scenario.end} is not after start {scenario.start}"))
    types = gpu_types(scenario)
    pool_names: set[str] = set()
    for i, pool in enumerate(scenario.fleet.pools):
        where: Path = ("fleet", "pools", i)
        if pool.name in pool_names:
            problems.append(((*where, "name"), f"pool name {pool.name!r} is used twice"))
        pool_names.add(pool.name)
        try:
            gpu = lookup(pool.gpu, types)
        except KeyError as exc:
            problems.append(((*where, "gpu"), str(exc.args[0])))
            continue
        gpus_per_node, nodes_per_rack = pool_shape(pool, gpu)
        delivered = _check_changes(problems, (*where, "deliveries"), pool.deliveries, gpus_per_node, nodes_per_rack)
        retired = _check_changes(problems, (*where, "retirements"), pool.retirements, gpus_per_node, nodes_per_rack)
        for j, change in enumerate(pool.retirements):
            for field in ("slip", "burn_in_days"):
                if getattr(change, field) is not None:
                    problems.append(((*where, "retirements", j, field), f"{field} applies to deliveries only"))
        for j, (when, total) in enumerate(retired):
            have = sum(count for date, count in delivered if date <= when)
            if total > have:
                problems.append(((*where, "retirements", j), f"retires {total} racks in all by {when.date()}, "
                                 f"but only {have} have been delivered by then"))
    problems += check_contracts(scenario, {key.upper() for key in types})
    targets = {option.pool for contract in scenario.all_contracts for option in contract.expansions}
    for i, pool in enumerate(scenario.fleet.pools):
        if not pool.deliveries and pool.name not in targets:
            problems.append((("fleet", "pools", i, "deliveries"),
                             "a pool needs deliveries, or a contract expansion that fills it"))
    fleet_types = {lookup(pool.gpu, types).name.upper() for pool in scenario.fleet.pools
                   if pool.gpu.upper() in {key.upper() for key in types}}
    providers = {pool.provider for pool in scenario.fleet.pools}
    workload_names: set[str] = set()
    for i, entry in enumerate(scenario.workloads):
        kind = entry.kind
        spec = entry.spec
        where = ("workloads", i, kind)
        if spec.name in workload_names:
            problems.append(((*where, "name"), f"workload name {spec.name!r} is used twice"))
        workload_names.add(spec.name)
        if entry.synthetic is not None:
            synthetic = entry.synthetic
            problems += _check_flavors((*where, "flavors"), synthetic.flavors, fleet_types)
            problems += _check_providers((*where, "providers"), synthetic.providers, providers)
            problems += _check_both(where, synthetic.flavors, synthetic.providers, scenario)
            first, last = synthetic.start or scenario.start, synthetic.end or scenario.end
            if first < scenario.start:
                problems.append(((*where, "start"), f"starts {first} before the scenario ({scenario.start})"))
            if last <= first:
                problems.append(((*where, "end"), f"end {last} is not after start {first}"))
            for j, size in enumerate(synthetic.sizes):
                group = min(size.gpus, size.group_size or synthetic.group_size)
                if size.gpus % group:
                    problems.append(((*where, "sizes", j, "group_size"),
                                     f"{size.gpus} GPUs do not split into NVLink groups of {group}"))
        elif entry.jobs is not None:
            for j, job in enumerate(entry.jobs.items):
                job_where = (*where, "items", j)
                problems += _check_flavors((*job_where, "flavors"), job.flavors, fleet_types)
                problems += _check_providers((*job_where, "providers"), job.providers, providers)
                if job.gpus % default_group(job):
                    problems.append(((*job_where, "group_size"),
                                     f"{job.gpus} GPUs do not split into NVLink groups of {default_group(job)}"))
                if job.submit not in (None, "when_capacity") and job.submit < scenario.start:  # type: ignore[operator]
                    problems.append(((*job_where, "submit"), f"submitted {job.submit} before the scenario starts"))
        elif entry.trace is not None:
            problems += _check_flavors((*where, "flavors"), entry.trace.flavors, fleet_types)
            problems += _check_providers((*where, "providers"), entry.trace.providers, providers)
            problems += _check_both(where, entry.trace.flavors, entry.trace.providers, scenario)
            problems += check_trace(entry.trace, scenario, where)
    for i, queue in enumerate(scenario.scheduler.queues):
        problems += _check_providers(("scheduler", "queues", i, "providers"), queue.providers, providers)
    problems += check_scheduler(scenario)
    problems += _check_value(scenario)
    return problems


def _check_value(scenario: Scenario) -> list[tuple[Path, str]]:
    """`value` names jobs and services that exist."""
    if scenario.value is None:
        return []
    problems: list[tuple[Path, str]] = []
    jobs = {job.name: job for entry in scenario.workloads if entry.jobs is not None for job in entry.jobs.items}
    for k, entry in enumerate(scenario.value.delay):
        if entry.job is not None and entry.job not in jobs:
            problems.append((("value", "delay", k, "job"), f"no explicit job called {entry.job!r}"))
        elif entry.start_by is not None and jobs[entry.job].start_by is not None:  # type: ignore[index]
            problems.append((("value", "delay", k, "start_by"),
                             f"job {entry.job!r} has its own start_by: give the date in one place"))
    services = {service.name for service in scenario.services}
    for k, revenue in enumerate(scenario.value.revenue):
        if revenue.service not in services:
            known = ", ".join(sorted(services)) or "none"
            problems.append((("value", "revenue", k, "service"),
                             f"no service called {revenue.service!r} (services: {known})"))
    return problems


def _check_service_providers(scenario: Scenario) -> list[tuple[Path, str]]:
    """A service split across providers names providers with pools of its flavors."""
    problems: list[tuple[Path, str]] = []
    for i, service in enumerate(scenario.services):
        spec = service.providers
        if spec is None:
            continue
        wanted = {flavor.upper() for flavor in service.flavors}
        serving = {pool.provider for pool in scenario.fleet.pools if pool.gpu.upper() in wanted}
        where: Path = ("services", i, "providers")
        for j, provider in enumerate(spec.among or []):
            if provider not in serving:
                problems.append(((*where, "among", j), f"no pool of {', '.join(service.flavors)} is with provider "
                                 f"{provider!r} (providers with one: {', '.join(sorted(serving)) or 'none'})"))
        for provider in spec.shares:
            if provider not in (spec.among or serving):
                problems.append(((*where, "shares", provider), f"provider {provider!r} has no pool the service "
                                 "may use"))
    return problems


def _check_services(scenario: Scenario) -> list[tuple[Path, str]]:
    """Services need queues and GPU types of this fleet, and replica groups that fit one
    rack's placeable GPUs (hot spares excluded)."""
    if not scenario.services:
        return []
    problems = _check_service_providers(scenario)
    if problems:
        return problems
    layout = build_layout(scenario)
    domains: dict[str, int] = {}
    for pool in layout.pools:
        domains[pool.gpu.name] = max(domains.get(pool.gpu.name, 0), pool.rack_gpus)
    try:
        services = services_by_type(scenario.services, scenario.throughput)
    except ValueError as exc:
        return [(("throughput",), str(exc))]
    problems = check_services(services, queues={queue.name for queue in scenario.scheduler.queues},
                              domain_gpus=domains)
    for i, service in enumerate(scenario.services):
        first, last = service.start or scenario.start, service.end or scenario.end
        if first < scenario.start:
            problems.append((("services", i, "start"), f"starts {first} before the scenario ({scenario.start})"))
        if last > scenario.end:
            problems.append((("services", i, "end"), f"ends {last} after the scenario ({scenario.end})"))
    return problems


def _check_changes(problems: list[tuple[Path, str]], where: Path, changes: list[CapacityChange],
                   gpus_per_node: int, nodes_per_rack: int) -> list[tuple[datetime, int]]:
    """Check order and whole racks; return (date, cumulative racks) per change."""
    cumulative: list[tuple[datetime, int]] = []
    total = 0
    for j, change in enumerate(changes):
        if j and change.date < changes[j - 1].date:
            problems.append(((*where, j, "date"), f"{change.date.date()} comes before the previous entry's "
                             f"{changes[j - 1].date.date()}: list them in date order"))
        try:
            total += racks_in(change, gpus_per_node, nodes_per_rack)
        except ValueError as exc:
            field = "nodes" if change.nodes is not None else "gpus"
            problems.append(((*where, j, field), str(exc)))
        cumulative.append((change.date, total))
    return cumulative


def _check_flavors(where: Path, flavors: list[str] | None, fleet_types: set[str]) -> list[tuple[Path, str]]:
    return [
        ((*where, j), f"no pool has GPU type {flavor!r} (the fleet has: {', '.join(sorted(fleet_types))})")
        for j, flavor in enumerate(flavors or [])
        if flavor.upper() not in fleet_types
    ]


def _check_providers(where: Path, named: list[str] | None, providers: set[str]) -> list[tuple[Path, str]]:
    problems = [((*where, j), f"no pool is with provider {provider!r} (providers: {', '.join(sorted(providers))})")
                for j, provider in enumerate(named or []) if provider not in providers]
    if named is not None and len(set(named)) != len(named):
        problems.append((where, "a provider is listed twice"))
    if named is not None and not named:
        problems.append((where, "list at least one provider, or leave the field out for any"))
    return problems


def _check_both(where: Path, flavors: list[str] | None, providers: list[str] | None,
                scenario: Scenario) -> list[tuple[Path, str]]:
    """A workload's GPU types must exist at one of its providers (each alone is checked above)."""
    if not flavors or not providers:
        return []
    wanted = {flavor.upper() for flavor in flavors}
    if any(pool.gpu.upper() in wanted and pool.provider in providers for pool in scenario.fleet.pools):
        return []
    return [((*where, "providers"), f"no pool of {', '.join(flavors)} is with {', '.join(providers)}")]


def _check_fits(scenario: Scenario) -> list[tuple[Path, str]]:
    """Explicit jobs must fit the fleet as it will ever be."""
    problems: list[tuple[Path, str]] = []
    layout = build_layout(scenario)
    for i, entry in enumerate(scenario.workloads):
        if entry.jobs is None:
            continue
        for j, job in enumerate(entry.jobs.items):
            pools = layout.pools_for(job_key(job))
            group = default_group(job)
            after = max(submit_time_s(job, scenario, layout), 0.0) if job.submit != "when_capacity" else 0.0
            why = layout.why_never_fits(pools, job.gpus, group, job.within_block, after)
            if why is not None:
                problems.append((("workloads", i, "jobs", "items", j, "gpus"), f"never fits: {why}"))
    return problems
