"""The public Python API: load a scenario, run it, get a RunResult.

Example:
    >>> from gpufleet import api
    >>> scenario = api.load("research-lab")
    >>> result = api.run(scenario, seed=1)
    >>> result.summary["capacity"]["utilisation"]  # doctest: +SKIP
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from gpufleet.errors import InputError, Problem
from gpufleet.results.run_result import RunResult
from gpufleet.scenarios import builtin_path
from gpufleet.sim.build import build
from gpufleet.spec.loader import load_scenario
from gpufleet.spec.scenario import Scenario

if TYPE_CHECKING:
    from gpufleet.results.compare import Comparison

ProgressFn = Callable[[float, int, int], None]


def load(name_or_path: str | Path) -> Scenario:
    """A scenario from a YAML file, or a built-in one by name (see `gpufleet scenarios`)."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists():
        return load_scenario(path)
    found = builtin_path(str(name_or_path))
    if found is None:
        raise InputError([Problem(f"no scenario file or built-in scenario called {str(name_or_path)!r} "
                                  "(`gpufleet scenarios` lists the built-ins)")])
    return load_scenario(found)


def run(scenario: Scenario, seed: int | None = None, until: datetime | None = None,
        progress: ProgressFn | None = None, policy: str | None = None,
        placement: str | None = None) -> RunResult:
    """Simulate `scenario` (optionally with another seed, stopping early at `until`, or with
    another queue policy or placement strategy than the scenario's). Python's cyclic
    garbage collector is paused while it runs (`cyclic_gc_paused`)."""
    seed = scenario.seed if seed is None else seed
    if until is not None and until <= scenario.start:
        raise InputError([Problem(f"--until {until.isoformat()} is not after the scenario start "
                                  f"{scenario.start.isoformat()}")])
    with cyclic_gc_paused():
        simulation = build(scenario, seed=seed, until=until, policy=policy, placement=placement)
        record = simulation.run(progress)
        return RunResult.from_record(scenario, seed, simulation.layout, simulation.jobs, record)


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector (reference counting goes on).

    A run makes millions of objects that live until it ends (per-job rows, segments,
    heap entries) and almost no reference cycles (a few hundred in a million-job run), so
    the collector's full passes walk millions of live objects to free nothing: about a
    tenth of a large run's time. It is restored, as it was, when the run ends or fails.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def compare(scenario: Scenario, policies: list[str], placements: list[str], seed: int | None = None,
            until: datetime | None = None, progress: Callable[[str, float, int, int], None] | None = None,
            sharings: list[str] | None = None) -> Comparison:
    """Run every policy x placement (x serving sharing mode) on the same workload (same
    seed) and compare them. A sharing mode is `preempt` or `quota:QUEUE`; it replaces the
    `sharing` of every service of the scenario."""
    from gpufleet.results.compare import Comparison, Variant
    from gpufleet.sched.placement import PLACEMENTS
    from gpufleet.sched.policies import POLICIES

    problems = [Problem(f"unknown policy {name!r}; choose one of: {', '.join(POLICIES.names())}")
                for name in policies if name not in POLICIES]
    problems += [Problem(f"unknown placement {name!r}; choose one of: {', '.join(PLACEMENTS.names())}")
                 for name in placements if name not in PLACEMENTS]
    if problems:
        raise InputError(problems)
    sharings = sharings or [""]
    scenarios = {sharing: with_sharing(scenario, sharing) if sharing else scenario for sharing in sharings}
    variants = []
    for policy in policies:
        for placement in placements:
            for sharing in sharings:
                parts = [policy] + ([placement] if len(placements) > 1 else []) \
                    + ([sharing.replace(":", "-")] if len(sharings) > 1 else [])
                name = "+".join(parts)
                report = None if progress is None else \
                    (lambda now, done, events, n=name: progress(n, now, done, events))
                result = run(scenarios[sharing], seed=seed, until=until, progress=report, policy=policy,
                             placement=placement)
                variants.append(Variant(name, policy, placement, result, sharing))
    return Comparison(scenario, variants)


def with_sharing(scenario: Scenario, sharing: str) -> Scenario:
    """`scenario` with every service's `sharing` set to `preempt` or `quota:QUEUE`."""
    from gpufleet.spec.checks import check_scenario
    from gpufleet.spec.serving import SharingSpec

    if not scenario.services:
        raise InputError([Problem(f"--sharing {sharing!r}: scenario {scenario.name!r} has no services")])
    mode, _, queue = sharing.partition(":")
    if mode not in ("preempt", "quota") or (mode == "quota") != bool(queue):
        raise InputError([Problem(f"--sharing {sharing!r}: write `preempt` or `quota:QUEUE`")])
    spec = SharingSpec(mode=mode, queue=queue or None)
    changed = scenario.model_copy(update={"services": [service.model_copy(update={"sharing": spec})
                                                       for service in scenario.services]})
    problems = [Problem(f"--sharing {sharing!r}: {message}") for _, message in check_scenario(changed)]
    if problems:
        raise InputError(problems)
    return changed
