"""Cross-field checks of the failures section: pools that must exist, racks and nodes in range,
spares that leave nodes for work."""

from __future__ import annotations

from datetime import timedelta

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
    spares = failures.spares.nodes_per_rack
    for pool in layout.pools:
        if 1 < pool.nodes_per_rack <= spares:
            problems.append((("failures", "spares", "nodes_per_rack"),
                             f"{spares} spare nodes per rack leave no node for work in pool {pool.name} "
                             f"(racks of {pool.nodes_per_rack} nodes): at most {pool.nodes_per_rack - 1}"))
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
            continue
        rack = pool.rack_lo + failure.rack
        delivered = min((change.time_s for change in layout.changes if change.pool == pool.index
                         and not change.retire and change.rack_lo <= rack < change.rack_hi), default=None)
        if delivered is not None and scenario.seconds(failure.date) < delivered and failure.component.value != "block":
            when = (scenario.start + timedelta(seconds=delivered)).date()
            problems.append(((*where, "date"), f"rack {failure.rack} of pool {pool.name} is delivered on {when}, "
                             f"after this failure ({failure.date})"))
        if failure.node >= pool.nodes_per_rack:
            problems.append(((*where, "node"), f"racks of pool {pool.name} have nodes 0 to {pool.nodes_per_rack - 1}"))
    return problems
