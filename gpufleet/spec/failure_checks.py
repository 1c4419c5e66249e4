"""Cross-field checks of the failures section: pools that must exist, racks and nodes in range."""

from __future__ import annotations

from gpufleet.fleet.build import build_layout
from gpufleet.spec.scenario import Scenario

Path = tuple[str | int, ...]


def check_failures(scenario: Scenario) -> list[tuple[Path, str]]:
    failures = scenario.failures
    if failures is None:
        return []
    problems: list[tuple[Path, str]] = []
    layout = build_layout(scenario)
    names = {pool.name for pool in layout.pools}
    for i, process in enumerate(failures.processes):
        for j, name in enumerate(process.pools or []):
            if name not in names:
                problems.append((("failures", "processes", i, "pools", j), f"no pool called {name!r}"))
    for i, failure in enumerate(failures.injected):
        where: Path = ("failures", "injected", i)
        if failure.pool not in names:
            problems.append(((*where, "pool"), f"no pool called {failure.pool!r} (pools: {', '.join(sorted(names))})"))
            continue
        pool = layout.pool_named(failure.pool)
        if failure.rack >= pool.racks:
            problems.append(((*where, "rack"), f"pool {pool.name} has racks 0 to {pool.racks - 1}"))
        if failure.node >= pool.nodes_per_rack:
            problems.append(((*where, "node"), f"racks of pool {pool.name} have nodes 0 to {pool.nodes_per_rack - 1}"))
    return problems
