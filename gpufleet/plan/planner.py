"""The capacity planner: the cheapest plan that meets every target with the stated
confidence across replications.

A plan is one value per lever. Every plan's cost is known before it runs (`plan.cost`),
so the planner tries plans from the cheapest up and stops at the first that meets the
targets: no cheaper plan is left untried, or it was ruled out because it has less
capacity than a plan that already failed (levers whose values order capacity; a plan
with no more capacity than a failing one, on every such lever, and the same other
levers, cannot meet a target that asks for capacity). One lever alone is searched by
bisection over its values (k-section with the executor's workers), on the same
ordering. Then it runs the next `runner_ups` plans by cost, and re-solves the problem
under the main assumptions moved (training and serving demand) to show how the answer
moves; purchased-capacity price moves re-rank the plans already run.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from gpufleet.errors import InputError, Problem
from gpufleet.plan.cost import PlanCost, plan_cost
from gpufleet.plan.levers import Lever
from gpufleet.plan.paths import as_data, rebuild
from gpufleet.plan.runner import ProgressFn, Runner
from gpufleet.plan.targets import Target
from gpufleet.results.replications import estimate
from gpufleet.results.run_result import jsonable
from gpufleet.spec.scenario import Scenario
from gpufleet.staging import staged_directory
from gpufleet.store.keys import RunSpec
from gpufleet.store.store import RunRecord

MAX_PLANS = 5000
"""Most lever combinations one problem may have (each is built and priced up front)."""


@dataclass
class Candidate:
    """One plan: its lever values, scenario, cost and, once run, what its replications say."""

    values: tuple[float, ...]
    scenario: Scenario | None = None
    cost: PlanCost | None = None
    error: str | None = None
    keys: list[str] = field(default_factory=list)
    records: list[RunRecord] = field(default_factory=list)
    feasible: bool | None = None  # None: not run (or ruled out, see `pruned`)
    pruned: bool = False

    @property
    def run(self) -> bool:
        return bool(self.records)

    def values_of(self, target: Target) -> list[float | None]:
        return [record.metrics.get(target.metric) if record.ok else None for record in self.records]


@dataclass
class Assessment:
    """How a plan stands against one target."""

    target: str
    bound: float | None
    mean: float | None
    ci_low: float | None
    ci_high: float | None
    met: bool
    slack: float
    share_met: float


def assess(candidate: Candidate, targets: list[Target], confidence: float) -> list[Assessment]:
    rows = []
    for target in targets:
        values = candidate.values_of(target)
        est = estimate(values)
        rows.append(Assessment(target.text, target.bound(values, confidence), est.mean, est.low, est.high,
                               target.met(values, confidence), target.slack(values, confidence),
                               target.share_met(values)))
    return rows


@dataclass
class PlanProblem:
    """A planning problem: base scenario, levers, targets, and how sure the answer must be."""

    base: Scenario
    levers: list[Lever]
    targets: list[Target]
    replications: int = 5
    confidence: float = 0.9
    seed: int | None = None
    until: datetime | None = None
    decided: datetime | None = None
    runner_ups: int = 2
    budget: int = 60
    name: str = ""  # the plan file's name, or the scenario's

    @property
    def seeds(self) -> list[int]:
        first = self.base.seed if self.seed is None else self.seed
        return [first + i for i in range(self.replications)]


@dataclass
class Solution:
    """The planner's answer for one base scenario."""

    problem: PlanProblem
    candidates: list[Candidate]
    best: Candidate | None
    runner_ups: list[Candidate]
    complete: bool  # False: the budget ran out before the cheapest plan was certain

    def binding(self) -> Assessment | None:
        """The target the plan meets with the least room."""
        if self.best is None:
            return None
        rows = assess(self.best, self.problem.targets, self.problem.confidence)
        return min(rows, key=lambda row: row.slack) if rows else None

    def cheaper_miss(self) -> tuple[Candidate, list[Assessment]] | None:
        """The most expensive plan run below the answer that missed, and how."""
        misses = [c for c in self.candidates if c.run and c.feasible is False and
                  (self.best is None or c.cost.total_usd <= self.best.cost.total_usd)]  # type: ignore[union-attr]
        if not misses:
            return None
        miss = max(misses, key=lambda c: c.cost.total_usd)  # type: ignore[union-attr]
        return miss, assess(miss, self.problem.targets, self.problem.confidence)


class Planner:
    """Solves a planning problem through a runner (store + executor)."""

    def __init__(self, problem: PlanProblem, runner: Runner, progress: ProgressFn | None = None) -> None:
        self.problem, self.runner, self.progress = problem, runner, progress

    def candidates(self, base: Scenario | None = None) -> list[Candidate]:
        """Every plan, built and priced, cheapest first (plans that break the scenario last, with their error)."""
        problem = self.problem
        base = base or problem.base
        decided = problem.decided or base.start
        combos = list(itertools.product(*[lever.values for lever in problem.levers]))
        if len(combos) > MAX_PLANS:
            raise InputError([Problem(f"{len(combos):,} lever combinations; at most {MAX_PLANS:,} (use fewer values)")])
        out = []
        for values in combos:
            candidate = Candidate(values)
            data = as_data(base)
            try:
                for lever, value in zip(problem.levers, values, strict=True):
                    lever.apply(data, value, decided)
                candidate.scenario = rebuild(data, describe(problem.levers, values))
                candidate.cost = plan_cost(candidate.scenario, problem.until)
                candidate.keys = [RunSpec.of(candidate.scenario, seed, problem.until).key for seed in problem.seeds]
            except (ValueError, InputError) as error:
                candidate.error = str(error)
            out.append(candidate)
        out.sort(key=lambda c: (c.cost is None, c.cost.total_usd if c.cost else 0.0, c.values))
        return out

    def solve(self, base: Scenario | None = None) -> Solution:
        problem = self.problem
        candidates = self.candidates(base)
        valid = [c for c in candidates if c.cost is not None]
        single = len(problem.levers) == 1 and problem.levers[0].monotone
        if single and all(a.cost.total_usd <= b.cost.total_usd  # type: ignore[union-attr]
                          for a, b in zip(valid, valid[1:], strict=False)):
            best, complete = self._bisect(valid)
        else:
            best, complete = self._scan(valid)
        ups = []
        if best is not None:
            above = [c for c in valid if c.cost.total_usd >= best.cost.total_usd and c is not best  # type: ignore
                     and c.feasible is not False and not c.pruned][:problem.runner_ups]
            self._evaluate([c for c in above if not c.run])
            ups = [c for c in above if c.feasible]
        return Solution(problem, candidates, best, ups, complete)

    def _evaluate(self, batch: list[Candidate]) -> None:
        if not batch:
            return
        specs = [RunSpec.of(c.scenario, seed, self.problem.until) for c in batch  # type: ignore[arg-type]
                 for seed in self.problem.seeds]
        outcomes = self.runner.run(specs, self.progress)
        for candidate in batch:
            candidate.records = [outcomes[key].record for key in candidate.keys]
            candidate.feasible = all(target.met(candidate.values_of(target), self.problem.confidence)
                                     for target in self.problem.targets)

    def _bisect(self, valid: list[Candidate]) -> tuple[Candidate | None, bool]:
        """Smallest feasible value of one monotone lever: k-section with the executor's workers."""
        if not valid:
            return None, True
        workers = max(self.runner.executor.workers, 1)
        self._evaluate([valid[-1]])
        if not valid[-1].feasible:
            return None, True
        lo, hi = -1, len(valid) - 1  # valid[lo] fails (or lo = -1), valid[hi] meets the targets
        evaluations = 1
        while hi - lo > 1 and evaluations < self.problem.budget:
            inside = hi - lo - 1
            probes = sorted({lo + 1 + (inside * (i + 1)) // (min(workers, inside) + 1)
                             for i in range(min(workers, inside))})
            self._evaluate([valid[i] for i in probes])
            evaluations += len(probes)
            for index in probes:
                if valid[index].feasible:
                    hi = min(hi, index)
            lo = max([lo] + [index for index in probes if not valid[index].feasible and index < hi])
        for candidate in valid[:max(lo, 0)]:
            candidate.pruned = not candidate.run  # less capacity than a plan that failed
        return valid[hi], hi - lo <= 1

    def _scan(self, valid: list[Candidate]) -> tuple[Candidate | None, bool]:
        """Cheapest first, in batches of the executor's workers, skipping plans ruled out by a failure."""
        workers = max(self.runner.executor.workers, 1)
        failed: list[Candidate] = []
        evaluations = 0
        position = 0
        while position < len(valid):
            batch = []
            while position < len(valid) and len(batch) < workers:
                candidate = valid[position]
                position += 1
                if any(self._no_more_capacity(candidate, f) for f in failed):
                    candidate.pruned = True
                    continue
                batch.append(candidate)
            if not batch:
                break
            if evaluations + len(batch) > self.problem.budget:
                return None, False
            self._evaluate(batch)
            evaluations += len(batch)
            feasible = [c for c in batch if c.feasible]
            if feasible:
                return feasible[0], True  # the batch is in cost order
            failed += batch
        return None, True

    def _no_more_capacity(self, candidate: Candidate, failed: Candidate) -> bool:
        """Whether `candidate` has at most `failed`'s capacity on every lever (and the same elsewhere)."""
        for lever, mine, theirs in zip(self.problem.levers, candidate.values, failed.values, strict=True):
            if not lever.monotone:
                if mine != theirs:
                    return False
            elif lever.values.index(mine) > lever.values.index(theirs):
                return False
        return True


def describe(levers: list[Lever], values: tuple[float, ...]) -> str:
    return "; ".join(lever.describe(value) for lever, value in zip(levers, values, strict=True))


def scale_demand(scenario: Scenario, factor: float) -> Scenario:
    """Every synthetic workload's arrival rate and every service's request rate x `factor`."""
    data = as_data(scenario)
    for entry in data["workloads"]:
        if entry.get("synthetic"):
            entry["synthetic"]["arrivals"]["rate_per_day"] *= factor
    for service in data.get("services", []):
        demand = service.get("demand") or {}
        for key in ("requests_per_s", "output_tokens_per_s"):
            if demand.get(key) is not None:
                demand[key] *= factor
    return rebuild(data, f"demand x{factor:g}")


@dataclass
class Sensitivity:
    """How the answer moves when one assumption moves."""

    assumption: str
    plan: str | None
    total_usd: float | None
    delta_usd: float | None
    complete: bool = True


@dataclass
class PlanResult:
    """The answer with its runner-ups, what binds, and its sensitivity."""

    solution: Solution
    sensitivity: list[Sensitivity]

    @property
    def problem(self) -> PlanProblem:
        return self.solution.problem

    def plan_yaml(self) -> str | None:
        best = self.solution.best
        if best is None or best.scenario is None:
            return None
        header = (f"# gpufleet plan: {describe(self.problem.levers, best.values)}\n"
                  f"# meets {', '.join(t.text for t in self.problem.targets)} with "
                  f"{self.problem.confidence:.0%} confidence over {self.problem.replications} replications\n")
        data = best.scenario.model_dump(mode="json", exclude_defaults=True)
        return header + yaml.safe_dump(data, sort_keys=False, width=110)

    def candidate_row(self, candidate: Candidate) -> dict[str, Any]:
        problem = self.problem
        row: dict[str, Any] = {lever.label: value for lever, value in zip(problem.levers, candidate.values,
                                                                           strict=True)}
        row["plan"] = describe(problem.levers, candidate.values)
        row["status"] = ("error" if candidate.error else "ruled out" if candidate.pruned else
                         "not run" if not candidate.run else "meets" if candidate.feasible else "misses")
        row["error"] = candidate.error
        row.update(candidate.cost.as_dict() if candidate.cost else {})
        if candidate.run:
            for assessment in assess(candidate, problem.targets, problem.confidence):
                row[f"{assessment.target} | bound"] = assessment.bound
                row[f"{assessment.target} | mean"] = assessment.mean
                row[f"{assessment.target} | share met"] = assessment.share_met
            row["runs_failed"] = sum(1 for r in candidate.records if not r.ok)
        return row

    def table(self) -> pa.Table:
        rows = [self.candidate_row(c) for c in self.solution.candidates]
        names = list(dict.fromkeys(name for row in rows for name in row))
        return pa.Table.from_pylist([{name: row.get(name) for name in names} for row in rows])

    def as_dict(self) -> dict[str, Any]:
        problem, solution = self.problem, self.solution
        best = solution.best
        miss = solution.cheaper_miss()
        binding = solution.binding()
        return {
            "base": problem.base.name,
            "targets": [t.text for t in problem.targets],
            "levers": [lever.label for lever in problem.levers],
            "confidence": problem.confidence,
            "rule": "each target's one-sided Student t bound on the mean across replications meets its value",
            "replications": problem.replications, "seeds": problem.seeds,
            "until": problem.until.isoformat() if problem.until else None,
            "complete": solution.complete,
            "plan": self.candidate_row(best) if best else None,
            "assessment": [a.__dict__ for a in assess(best, problem.targets, problem.confidence)] if best else [],
            "binding_target": binding.__dict__ if binding else None,
            "cheaper_miss": {"plan": describe(problem.levers, miss[0].values),
                             "assessment": [a.__dict__ for a in miss[1]]} if miss else None,
            "runner_ups": [self.candidate_row(c) for c in solution.runner_ups],
            "plans_run": sum(1 for c in solution.candidates if c.run),
            "plans": len(solution.candidates),
            "sensitivity": [s.__dict__ for s in self.sensitivity],
        }

    def write(self, out_dir: str | Path) -> Path:
        """plan.json, plans.parquet (every plan: cost, status, target bounds) and plan.yaml; whole or not at all."""
        with staged_directory(out_dir) as folder:
            (folder / "plan.json").write_text(json.dumps(jsonable(self.as_dict()), indent=2) + "\n")
            pq.write_table(self.table(), folder / "plans.parquet")
            text = self.plan_yaml()
            if text is not None:
                (folder / "plan.yaml").write_text(text)
        return Path(out_dir)


def plan(problem: PlanProblem, runner: Runner, progress: ProgressFn | None = None,
         demand: tuple[float, ...] = (0.9, 1.1), price: tuple[float, ...] = (0.8, 1.2),
         on_stage: Callable[[str], None] | None = None) -> PlanResult:
    """Solve the problem, then again with demand moved (`demand` factors) and purchased
    capacity priced differently (`price` factors, re-ranking the plans already run)."""
    planner = Planner(problem, runner, progress)
    solution = planner.solve()
    base_cost = solution.best.cost.total_usd if solution.best and solution.best.cost else None
    sensitivity = []
    for factor in demand:
        if on_stage is not None:
            on_stage(f"demand x{factor:g}")
        moved = planner.solve(scale_demand(problem.base, factor))
        cost = moved.best.cost.total_usd if moved.best and moved.best.cost else None
        sensitivity.append(Sensitivity(f"training and serving demand x{factor:g}",
                                       describe(problem.levers, moved.best.values) if moved.best else None, cost,
                                       None if cost is None or base_cost is None else cost - base_cost,
                                       moved.complete))
    if any(lever.kind == "buy" for lever in problem.levers):
        run = [c for c in solution.candidates if c.feasible and c.cost is not None]
        for factor in price:
            def moved_cost(c: Candidate, f: float = factor) -> float:
                return c.cost.commitment_usd + f * c.cost.purchased_usd  # type: ignore[union-attr]
            best = min(run, key=moved_cost, default=None)
            cost = moved_cost(best) if best else None
            sensitivity.append(Sensitivity(f"purchased capacity price x{factor:g} (plans already run)",
                                           describe(problem.levers, best.values) if best else None, cost,
                                           None if cost is None or base_cost is None else cost - base_cost))
    return PlanResult(solution, sensitivity)
