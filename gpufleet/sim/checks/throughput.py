"""Cross-field checks of the throughput matrix: known GPU types, every fleet type given for
every class, workloads and services that exist."""

from __future__ import annotations

from gpufleet.fleet.build import gpu_types
from gpufleet.spec.scenario import Scenario

Path = tuple[str | int, ...]


def check_throughput(scenario: Scenario) -> list[tuple[Path, str]]:
    spec = scenario.throughput
    if spec is None:
        return []
    problems: list[tuple[Path, str]] = []
    known = {name.upper(): name for name in gpu_types(scenario)}
    if spec.reference.upper() not in known:
        problems.append((("throughput", "reference"), f"unknown GPU type {spec.reference!r}; known: "
                         f"{', '.join(sorted(known.values()))}"))
    fleet = list(dict.fromkeys(known.get(pool.gpu.upper(), pool.gpu) for pool in scenario.fleet.pools))
    workloads = {entry.spec.name for entry in scenario.workloads}
    services = {service.name for service in scenario.services}
    for k, cls in enumerate(spec.classes):
        where: Path = ("throughput", "classes", k)
        for name in cls.relative:
            if name.upper() not in known:
                problems.append(((*where, "relative", name), f"unknown GPU type {name!r}"))
        missing = [gpu for gpu in fleet if spec.relative(cls, gpu) is None]
        if missing:
            problems.append(((*where, "relative"), f"class {cls.name!r} gives no throughput for "
                             f"{', '.join(missing)} (the fleet's types; the reference {spec.reference} is 1)"))
        for name in cls.workloads:
            if name not in workloads:
                problems.append(((*where, "workloads"), f"no workload called {name!r} (workloads: "
                                 f"{', '.join(sorted(workloads)) or 'none'})"))
        for name in cls.services:
            if name not in services:
                problems.append(((*where, "services"), f"no service called {name!r} (services: "
                                 f"{', '.join(sorted(services)) or 'none'})"))
    return problems
