"""The public Python API: load a scenario, run it, get a RunResult.

Example:
    >>> from gpufleet import api
    >>> scenario = api.load("research-lab")
    >>> result = api.run(scenario, seed=1)
    >>> result.summary["capacity"]["utilisation"]  # doctest: +SKIP

Many runs (docs/planning.md): `replicate` (seeds, mean and 95% interval), `sweep` (a sweep
file), `plan` / `plan_file` (the capacity planner), `store` and `runs_sql` (the run store).
They run in worker processes: call them under `if __name__ == "__main__":` in a script.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from gpufleet.errors import InputError, Problem
from gpufleet.results.run_result import RunResult
from gpufleet.scenarios import builtin_path
from gpufleet.sim.build import build
from gpufleet.spec.loader import load_scenario
from gpufleet.spec.scenario import Scenario

if TYPE_CHECKING:
    import pyarrow as pa

    from gpufleet.plan.executors import Executor
    from gpufleet.plan.plan_spec import PlanSpec
    from gpufleet.plan.planner import PlanResult
    from gpufleet.plan.replicate import Replicated
    from gpufleet.plan.runner import Progress, RunOutcome
    from gpufleet.plan.sweep import Sweep, SweepResult
    from gpufleet.results.compare import Comparison
    from gpufleet.store.store import RunStore

ProgressFn = Callable[[float, int, int], None]
RunsProgressFn = Callable[["Progress", "RunOutcome"], None]


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


# --- Many runs: the run store, replications, sweeps and the capacity planner (docs/planning.md).

def store(root: str | Path | None = None) -> RunStore:
    """The run store at `root` (default: $GPUFLEET_STORE, else runs/store)."""
    from gpufleet.store.store import DEFAULT_STORE, RunStore

    return RunStore(root or os.environ.get("GPUFLEET_STORE") or DEFAULT_STORE)


def runs_sql(sql: str, root: str | Path | None = None) -> pa.Table:
    """Run SQL over the store with DuckDB: views `runs` (one row per run) and `jobs`,
    `timeseries`, `ledger`, `failures`, `serving`, `serving_monthly` (every run's table,
    with a `run` column holding its key)."""
    from gpufleet.store.catalog import query

    return query(store(root), sql)


@contextmanager
def executor(workers: int | None = None, ray: bool = False, ray_address: str | None = None) -> Iterator[Executor]:
    """A local process pool of `workers` (default: the cores; 1: in this process) or Ray, closed on exit."""
    from gpufleet.plan.executors import make_executor

    chosen = make_executor(workers, ray=ray, ray_address=ray_address)
    try:
        yield chosen
    finally:
        chosen.close()


def replicate(scenario: Scenario, replications: int, seed: int | None = None, until: datetime | None = None,
              workers: int | None = None, ray: bool = False, ray_address: str | None = None,
              store_root: str | Path | None = None, progress: RunsProgressFn | None = None,
              send_back: bool = False) -> Replicated:
    """Run seeds seed, seed+1, ... (default first seed: the scenario's) into the store and
    return every headline metric as a mean with a 95% Student t interval. Runs already in
    the store are not run again."""
    from gpufleet.plan.replicate import replicate as run_replications
    from gpufleet.plan.runner import Runner

    if replications < 1:
        raise InputError([Problem(f"--replications {replications}: at least 1")])
    with executor(workers, ray, ray_address) as chosen:
        runner = Runner(store(store_root), chosen, run, send_back=send_back)
        return run_replications(scenario, replications, runner, seed=seed, until=until, progress=progress)


def load_sweep(path: str | Path) -> Sweep:
    """A sweep file, checked (file:line:field errors), with its base scenario."""
    from gpufleet.plan.sweep import Sweep, check_axes
    from gpufleet.plan.sweep_spec import load_sweep as read

    spec, root = read(path)
    base = load(_beside(path, spec.base))
    check_axes(spec, base, root, str(path))
    return Sweep(spec, base)


def sweep(path_or_sweep: str | Path | Sweep, workers: int | None = None, ray: bool = False,
          ray_address: str | None = None, store_root: str | Path | None = None,
          progress: RunsProgressFn | None = None, send_back: bool = False) -> SweepResult:
    """Run a sweep file's points x replications into the store (skipping runs already there;
    a failed run is recorded with its error and the sweep goes on)."""
    from gpufleet.plan.runner import Runner

    chosen_sweep = load_sweep(path_or_sweep) if isinstance(path_or_sweep, str | Path) else path_or_sweep
    with executor(workers, ray, ray_address) as chosen:
        return chosen_sweep.run(Runner(store(store_root), chosen, run, send_back=send_back), progress)


def plan(scenario: Scenario, targets: list[str], levers: list[str], replications: int = 5, confidence: float = 0.9,
         seed: int | None = None, until: datetime | None = None, decided: datetime | None = None,
         runner_ups: int = 2, budget: int = 60, demand: tuple[float, ...] = (0.9, 1.1),
         price: tuple[float, ...] = (0.8, 1.2), workers: int | None = None, ray: bool = False,
         ray_address: str | None = None, store_root: str | Path | None = None,
         progress: RunsProgressFn | None = None) -> PlanResult:
    """The cheapest plan (lever values) meeting every target with `confidence` across
    `replications`; targets as `METRIC <= VALUE` / `METRIC >= VALUE`, levers as
    `KIND:TARGET=VALUES` (docs/planning.md)."""
    from gpufleet.plan.levers import parse_lever
    from gpufleet.plan.plan_spec import PlanSpec

    problems = []
    parsed = []
    for text in levers:
        try:
            parsed.append(parse_lever(text).model_dump(mode="json"))
        except (ValueError, ValidationError) as error:
            problems.append(Problem(f"--vary {text!r}: {_first_message(error)}"))
    if problems:
        raise InputError(problems)
    spec = PlanSpec.model_validate({"name": scenario.name, "base": scenario.name, "targets": targets,
                                    "levers": parsed, "replications": replications, "confidence": confidence,
                                    "seed": seed, "until": until, "decided": decided, "runner_ups": runner_ups,
                                    "budget": budget,
                                    "sensitivity": {"demand": list(demand), "purchase_price": list(price)}})
    return solve_plan(spec, scenario, workers, ray, ray_address, store_root, progress)


def plan_file(path: str | Path, workers: int | None = None, ray: bool = False, ray_address: str | None = None,
              store_root: str | Path | None = None, progress: RunsProgressFn | None = None) -> PlanResult:
    """`plan` from a plan file (file:line:field errors)."""
    from gpufleet.plan.plan_spec import load_plan

    spec, root = load_plan(path)
    base = load(_beside(path, spec.base))
    return solve_plan(spec, base, workers, ray, ray_address, store_root, progress, root=root, source=str(path))


def solve_plan(spec: PlanSpec, base: Scenario, workers: int | None = None, ray: bool = False,
               ray_address: str | None = None, store_root: str | Path | None = None,
               progress: RunsProgressFn | None = None, root: Any = None, source: str = "<plan>") -> PlanResult:  # noqa: ANN401
    """Solve a validated plan spec on `base`."""
    from gpufleet.plan.levers import Lever
    from gpufleet.plan.plan_spec import plan_problem_at
    from gpufleet.plan.planner import PlanProblem
    from gpufleet.plan.planner import plan as solve
    from gpufleet.plan.runner import Runner
    from gpufleet.plan.targets import parse_target

    problems, targets = [], []
    for index, text in enumerate(spec.targets):
        try:
            targets.append(parse_target(text, base.start))
        except ValueError as error:
            problems.append(plan_problem_at(root, source, ("targets", index), str(error)))
    if problems:
        raise InputError(problems)
    problem = PlanProblem(base, [Lever.of(lever) for lever in spec.levers], targets, spec.replications,
                          spec.confidence, spec.seed, spec.until, spec.decided, spec.runner_ups, spec.budget,
                          spec.name)
    with executor(workers, ray, ray_address) as chosen:
        runner = Runner(store(store_root), chosen, run)
        result = solve(problem, runner, progress, demand=tuple(spec.sensitivity.demand),
                       price=tuple(spec.sensitivity.purchase_price))
    unusable = [c for c in result.solution.candidates if c.error]
    if len(unusable) == len(result.solution.candidates):
        raise InputError([Problem(f"no plan can be built: {unusable[0].error}")])
    return result


def _beside(path: str | Path, base: str) -> str | Path:
    """A scenario named by a sweep or plan file: a file relative to it, or a built-in name."""
    candidate = Path(path).parent / base
    return candidate if Path(base).suffix in (".yaml", ".yml") and candidate.exists() else base


def _first_message(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in error.errors())
    return str(error)
