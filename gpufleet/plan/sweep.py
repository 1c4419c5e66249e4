"""Sweeps: points over a base scenario's fields, each run with replications, into the
store; the table of mean and confidence interval per metric and point; the Pareto
frontier of cost against wait, serving SLO and goodput.

Designs: `grid` (every combination), `random` (`samples` points drawn with
`design_seed`: a value list or stepped range picks uniformly among its values, a range
with `steps` draws uniformly between its ends), `search` (Optuna's TPE sampler seeded
with `design_seed`, `trials` points, asked in batches of the executor's workers).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pyarrow as pa
import pyarrow.parquet as pq

from gpufleet.errors import InputError, Problem
from gpufleet.plan.paths import as_data, rebuild, scale_value, set_value, shift_value
from gpufleet.plan.runner import ProgressFn, Runner
from gpufleet.plan.sweep_spec import AxisSpec, SweepSpec, problem_at
from gpufleet.plan.targets import Target, parse_target
from gpufleet.results.replications import Estimate, estimates
from gpufleet.results.run_result import jsonable
from gpufleet.spec.scenario import Scenario
from gpufleet.staging import staged_directory
from gpufleet.store.keys import RunSpec
from gpufleet.store.store import RunRecord

PARETO = (("wait_p95_h", False), ("serving_slo", True), ("goodput", True))
"""What cost (`cost_usd`) is traded against, and whether more of it is better."""
INFEASIBLE = 1e18
"""Constraint violation told to Optuna when a bound is infinite (a job that never started)."""


def apply_axis(data: dict[str, Any], axis: AxisSpec, value: Any) -> None:  # noqa: ANN401
    """Change the scenario's JSON form as the axis says, for one of its values."""
    if axis.kind in ("values", "range"):
        set_value(data, axis.path, value)
    elif axis.kind == "scale":
        scale_value(data, axis.path, float(value))
    else:
        shift_value(data, axis.path, float(value))


def point_scenario(base: Scenario, axes: list[AxisSpec], values: dict[str, Any]) -> Scenario:
    """The base scenario with every axis at its value (InputError if it breaks the scenario)."""
    data = as_data(base)
    for axis in axes:
        try:
            apply_axis(data, axis, values[axis.label])
        except ValueError as error:
            raise InputError([Problem(str(error))]) from None
    what = ", ".join(f"{label}={_show(value)}" for label, value in values.items())
    return rebuild(data, what)


def check_axes(spec: SweepSpec, base: Scenario, root: Any, source: str) -> None:  # noqa: ANN401
    """Every axis path selects something in the base scenario (errors name the sweep file's line)."""
    problems = []
    for index, axis in enumerate(spec.axes):
        data = as_data(base)
        try:
            apply_axis(data, axis, axis.grid()[0] if axis.kind != "scale" or axis.grid() else 1.0)
        except ValueError as error:
            problems.append(problem_at(root, source, ("axes", index, "path"), str(error)))
    if spec.search is not None:
        for index, text in enumerate(spec.search.constraints):
            try:
                parse_target(text, base.start)
            except ValueError as error:
                problems.append(problem_at(root, source, ("search", "constraints", index), str(error)))
    if problems:
        raise InputError(problems)


def design_points(spec: SweepSpec) -> list[dict[str, Any]]:
    """The points of a grid or random design (axis label -> value)."""
    if spec.design == "grid":
        points: list[dict[str, Any]] = [{}]
        for axis in spec.axes:
            points = [{**point, axis.label: value} for point in points for value in axis.grid()]
        return points
    rng = np.random.default_rng(spec.design_seed)
    points = []
    for _ in range(spec.samples or 0):
        point = {}
        for axis in spec.axes:
            bounds = axis.bounds()
            if bounds is not None:
                low, high = bounds
                point[axis.label] = low + (high - low) * float(rng.random())
            else:
                grid = axis.grid()
                point[axis.label] = grid[int(rng.integers(len(grid)))]
        points.append(point)
    return points


@dataclass
class Point:
    """One point of a sweep: axis values, its scenario (or why it has none) and its runs' keys."""

    index: int
    values: dict[str, Any]
    scenario: Scenario | None = None
    error: str | None = None
    keys: list[str] = field(default_factory=list)


@dataclass
class SweepResult:
    """The sweep's points, their runs' records, and what they say."""

    spec: SweepSpec
    base: Scenario
    seeds: list[int]
    points: list[Point]
    records: dict[str, RunRecord]

    def point_metrics(self, point: Point) -> list[dict[str, float | None]]:
        return [self.records[key].metrics for key in point.keys if key in self.records and self.records[key].ok]

    def point_estimates(self, point: Point) -> dict[str, Estimate]:
        return estimates(self.point_metrics(point), self.spec.confidence)

    def rows(self) -> list[dict[str, Any]]:
        """One row per point: axis values, status, runs, and mean / CI of every metric."""
        rows = []
        for point in self.points:
            ok = len(self.point_metrics(point))
            failed = [self.records[key] for key in point.keys if key in self.records and not self.records[key].ok]
            error = point.error or (failed[0].error.splitlines()[0] if failed and failed[0].error else None)
            row: dict[str, Any] = {"point": point.index, **{label: _cell(v) for label, v in point.values.items()},
                                   "status": "ok" if ok and not failed and not point.error else
                                   ("failed" if not ok else "partial"),
                                   "runs_ok": ok, "runs_failed": len(failed) if not point.error else len(self.seeds),
                                   "error": error}
            for name, est in self.point_estimates(point).items():
                row[f"{name}.mean"] = est.mean
                row[f"{name}.ci_low"] = est.low
                row[f"{name}.ci_high"] = est.high
            rows.append(row)
        return rows

    def table(self) -> pa.Table:
        rows = self.rows()
        names = list(dict.fromkeys(name for row in rows for name in row))
        return pa.Table.from_pylist([{name: row.get(name) for name in names} for row in rows])

    def runs_table(self) -> pa.Table:
        """One row per run: point, seed, key, status, error, wall time."""
        rows = []
        for point in self.points:
            for seed, key in zip(self.seeds, point.keys, strict=False):
                record = self.records.get(key)
                rows.append({"point": point.index, "seed": seed, "key": key,
                             "status": record.status if record else "not run",
                             "error": record.error if record else point.error,
                             "wall_s": record.wall_s if record else None})
        return pa.Table.from_pylist(rows, schema=pa.schema([("point", pa.int64()), ("seed", pa.int64()),
                                                            ("key", pa.string()), ("status", pa.string()),
                                                            ("error", pa.string()), ("wall_s", pa.float64())]))

    def pareto(self, cost: str = "cost_usd") -> dict[str, list[int]]:
        """For each metric cost is traded against: the points no other point beats on both."""
        means = {point.index: self.point_estimates(point) for point in self.points}
        frontiers = {}
        for metric, higher_better in PARETO:
            pairs = []
            for index, est in means.items():
                c, m = est.get(cost), est.get(metric)
                if c is None or m is None or c.mean is None or m.mean is None:
                    continue
                pairs.append((index, c.mean, -m.mean if higher_better else m.mean))
            frontiers[metric] = pareto_front(pairs)
        return frontiers

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.spec.name, "base": self.base.name, "design": self.spec.design, "seeds": self.seeds,
                "replications": len(self.seeds), "confidence": self.spec.confidence,
                "interval": "Student t, two-sided, on the mean across replications",
                "axes": [axis.label for axis in self.spec.axes], "points": len(self.points),
                "runs": {status: sum(1 for r in self.records.values() if r.status == status)
                         for status in ("ok", "failed")},
                "pareto": self.pareto(), "sweep": self.spec.model_dump(mode="json", by_alias=True)}

    def write(self, out_dir: str | Path, report: Callable[[SweepResult, Path], None] | None = None) -> Path:
        """sweep.json, table.parquet, runs.parquet and (given a writer) report.html; whole or not at all."""
        with staged_directory(out_dir) as folder:
            (folder / "sweep.json").write_text(json.dumps(jsonable(self.as_dict()), indent=2) + "\n")
            pq.write_table(self.table(), folder / "table.parquet")
            pq.write_table(self.runs_table(), folder / "runs.parquet")
            if report is not None:
                report(self, folder / "report.html")
        return Path(out_dir)


def pareto_front(pairs: list[tuple[int, float, float]]) -> list[int]:
    """Indexes of the (index, cost, badness) pairs that no other pair beats on both (lower is better)."""
    ordered = sorted(pairs, key=lambda p: (p[1], p[2], p[0]))
    front, best = [], math.inf
    for index, _cost, badness in ordered:
        if badness < best:
            front.append(index)
            best = badness
    return front


def _cell(value: Any) -> Any:  # noqa: ANN401
    return value if isinstance(value, int | float | str | bool) or value is None else json.dumps(value)


def _show(value: Any) -> str:  # noqa: ANN401
    return f"{value:.6g}" if isinstance(value, float) else str(value)


class Sweep:
    """A sweep ready to run: its spec, the base scenario and the seeds."""

    def __init__(self, spec: SweepSpec, base: Scenario) -> None:
        self.spec, self.base = spec, base
        first = spec.seed if spec.seed is not None else base.seed
        self.seeds = [first + i for i in range(spec.replications)]

    def point(self, index: int, values: dict[str, Any]) -> Point:
        point = Point(index, values)
        try:
            point.scenario = point_scenario(self.base, self.spec.axes, values)
        except InputError as error:
            point.error = "; ".join(p.message for p in error.problems)
            return point
        until = self.spec.until
        point.keys = [RunSpec.of(point.scenario, seed, until).key for seed in self.seeds]
        return point

    def specs(self, points: list[Point]) -> list[RunSpec]:
        return [RunSpec.of(p.scenario, seed, self.spec.until) for p in points if p.scenario is not None
                for seed in self.seeds]

    def total_runs(self) -> int:
        points = self.spec.search.trials if self.spec.design == "search" and self.spec.search else \
            len(design_points(self.spec))
        return points * len(self.seeds)

    def run(self, runner: Runner, progress: ProgressFn | None = None) -> SweepResult:
        if self.spec.design == "search":
            return self._search(runner, progress)
        points = [self.point(i, values) for i, values in enumerate(design_points(self.spec))]
        outcomes = runner.run(self.specs(points), progress)
        return SweepResult(self.spec, self.base, self.seeds, points,
                           {key: outcome.record for key, outcome in outcomes.items()})

    def _search(self, runner: Runner, progress: ProgressFn | None) -> SweepResult:
        search = self.spec.search
        assert search is not None
        targets = [parse_target(text, self.base.start) for text in search.constraints]
        objective = search.minimize or search.maximize or ""
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        sampler = optuna.samplers.TPESampler(seed=self.spec.design_seed)
        study = optuna.create_study(direction="minimize" if search.minimize else "maximize", sampler=sampler)
        points: list[Point] = []
        records: dict[str, RunRecord] = {}
        batch = max(runner.executor.workers, 1)
        while len(points) < search.trials:
            trials = [study.ask() for _ in range(min(batch, search.trials - len(points)))]
            chunk = [self.point(len(points) + i, self._suggest(trial)) for i, trial in enumerate(trials)]
            points += chunk
            outcomes = runner.run(self.specs(chunk), progress)
            records.update({key: outcome.record for key, outcome in outcomes.items()})
            for trial, point in zip(trials, chunk, strict=True):
                rows = [records[k].metrics for k in point.keys if k in records and records[k].ok]
                values = [row.get(objective) for row in rows]
                present = [v for v in values if v is not None]
                if point.error or not rows or len(present) < len(values) or not present:
                    study.tell(trial, state=optuna.trial.TrialState.FAIL)
                    continue
                for target in targets:  # > 0: violated by that much (TPE prefers feasible trials)
                    trial.set_constraint(target.text, _violation(target, [r.get(target.metric) for r in rows],
                                                                 self.spec.confidence))
                study.tell(trial, math.fsum(present) / len(present))
        return SweepResult(self.spec, self.base, self.seeds, points, records)

    def _suggest(self, trial: optuna.Trial) -> dict[str, Any]:
        values = {}
        for axis in self.spec.axes:
            bounds = axis.bounds()
            grid = axis.grid()
            if bounds is not None:
                values[axis.label] = trial.suggest_float(axis.label, *bounds)
            elif all(isinstance(v, int | float | str | bool) for v in grid):
                values[axis.label] = trial.suggest_categorical(axis.label, grid)
            else:
                values[axis.label] = grid[trial.suggest_categorical(axis.label, list(range(len(grid))))]
        return values


def _violation(target: Target, values: list[float | None], confidence: float) -> float:
    bound = target.bound(values, confidence)
    if bound is None or math.isinf(bound) or math.isnan(bound):
        return INFEASIBLE
    return bound - target.value if target.upper else target.value - bound

