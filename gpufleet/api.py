"""The public Python API: load a scenario, run it, get a RunResult.

Example:
    >>> from gpufleet import api
    >>> scenario = api.load("research-lab")
    >>> result = api.run(scenario, seed=1)
    >>> result.summary["capacity"]["utilisation"]  # doctest: +SKIP

Many runs (docs/planning.md): `replicate` (seeds, mean and 95% interval), `sweep` (a sweep
file), `plan` / `plan_file` (the capacity planner), `store` and `runs_sql` (the run store).
They run in worker processes: call them under `if __name__ == "__main__":` in a script.

The dashboard (docs/ui.md): `dashboard` (the FastAPI application over a runs folder) and
`serve_dashboard` (serve it, as `gpufleet ui` does).
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from gpufleet.errors import InputError, Problem
from gpufleet.failures.advice import checkpoint_advice as advise_checkpoints
from gpufleet.results.run_result import RunResult
from gpufleet.scenarios import builtin_path
from gpufleet.sim import native
from gpufleet.sim.build import build
from gpufleet.sim.engine_choice import EngineChoice
from gpufleet.sim.load import load_scenario
from gpufleet.spec.scenario import Scenario

if TYPE_CHECKING:
    import pyarrow as pa
    from fastapi import FastAPI

    from gpufleet.interop.export import Exported
    from gpufleet.interop.report import ImportReport
    from gpufleet.plan.executors import Executor
    from gpufleet.plan.plan_spec import PlanSpec
    from gpufleet.plan.planner import PlanResult
    from gpufleet.plan.replicate import Replicated
    from gpufleet.plan.runner import Progress, RunOutcome
    from gpufleet.plan.sweep import Sweep, SweepResult
    from gpufleet.results.admission import Admission
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
        placement: str | None = None, engine: EngineChoice | str = EngineChoice.auto) -> RunResult:
    """Simulate `scenario` (optionally with another seed, stopping early at `until`, or with
    another queue policy or placement strategy than the scenario's). Python's cyclic
    garbage collector is paused while it runs (`cyclic_gc_paused`).

    `engine`: "auto" runs the native core when it covers the run (docs/engine.md), else the
    Python engine; "native" insists (InputError naming what it lacks); "python" is the
    reference engine. Both give the same bytes; `RunResult.engine` says which ran."""
    seed = scenario.seed if seed is None else seed
    if until is not None and until <= scenario.start:
        raise InputError([Problem(f"--until {until.isoformat()} is not after the scenario start "
                                  f"{scenario.start.isoformat()}")])
    with cyclic_gc_paused():
        simulation = build(scenario, seed=seed, until=until, policy=policy, placement=placement)
        record, ran, why = native.run(simulation, engine, progress)
        result = RunResult.from_record(scenario, seed, simulation.layout, simulation.jobs, record)
        result.engine, result.engine_note = ran, why
        return result


def write(result: RunResult | Comparison, out_dir: str | Path, report: bool = True) -> Path:
    """Write a run's (or a comparison's) tables and, unless `report` is False, its report.html
    into `out_dir`, whole or not at all (the files `gpufleet run` / `gpufleet compare` write)."""
    from gpufleet.results.compare import Comparison

    if isinstance(result, Comparison):
        from gpufleet.report.compare import write_comparison_report

        return result.write(out_dir, report=write_comparison_report if report else None)
    from gpufleet.report.html import write_report  # plotly loads only when needed

    return result.write(out_dir, report=write_report if report else None)


def checkpoint_advice(scenario: Scenario, pool: str | None = None) -> list[dict[str, Any]]:
    """Per job size on `pool` (default: the largest): interruptions per day, MTBI, the
    Young/Daly and best checkpoint intervals, and the ETTR a run will show (the exact
    renewal formula, `gpufleet.failures.ettr`)."""
    return advise_checkpoints(scenario, pool)


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
            sharings: list[str] | None = None, queueings: list[str] | None = None,
            backfills: list[str] | None = None, preemption_scopes: list[str] | None = None) -> Comparison:
    """Run every policy x placement (x serving sharing mode x queueing strategy x backfill x
    preemption scope) on the same workload (same seed) and compare them. A sharing mode is
    `preempt` or `quota:QUEUE`; it replaces the `sharing` of every service of the scenario. A
    queueing strategy (`StrictFIFO`, `BestEffortFIFO`) replaces every queue's. A backfill
    (`none`, `greedy`, `easy`) and a preemption scope (`first_blocked`, `any`) replace the
    scheduler's. A policy written `NAME@BACKFILL` (e.g. `fifo@none`) runs with that backfill
    only, whatever `backfills` says: so `fifo@none,fifo@greedy,srtf` compares strict FIFO,
    FIFO that skips jobs that do not fit, and SRTF under the scenario's backfill."""
    from gpufleet.results.compare import Comparison, Variant
    from gpufleet.sched.placement import PLACEMENTS
    from gpufleet.sched.policies import POLICIES
    from gpufleet.spec.scheduler import Backfill, PreemptionScope

    items = [_policy_item(item) for item in policies]
    problems = [Problem(f"unknown policy {name!r}; choose one of: {', '.join(POLICIES.names())}")
                for name, _ in items if name not in POLICIES]
    problems += [Problem(f"unknown placement {name!r}; choose one of: {', '.join(PLACEMENTS.names())}")
                 for name in placements if name not in PLACEMENTS]
    problems += [Problem(f"backfill {name!r}: choose none, greedy or easy")
                 for name in [b for _, b in items if b] + (backfills or []) if name not in Backfill.__members__]
    problems += [Problem(f"--preemption-scope {name!r}: choose first_blocked or any")
                 for name in preemption_scopes or [] if name not in PreemptionScope.__members__]
    if problems:
        raise InputError(problems)
    sharings = sharings or [""]
    queueings = queueings or [""]
    axis_backfills = backfills or [""]
    scopes = preemption_scopes or [""]

    def variant_of(sharing: str, queueing: str, backfill: str, scope: str) -> Scenario:
        changed = with_sharing(scenario, sharing) if sharing else scenario
        changed = with_queueing(changed, queueing) if queueing else changed
        return with_scheduler(changed, backfill=backfill or None, preemption_scope=scope or None)

    scenarios: dict[tuple[str, str, str, str], Scenario] = {}
    variants = []
    for policy, pinned in items:
        for placement in placements:
            for sharing in sharings:
                for queueing in queueings:
                    for backfill in [pinned] if pinned else axis_backfills:
                        for scope in scopes:
                            parts = [policy] + ([placement] if len(placements) > 1 else []) \
                                + ([sharing.replace(":", "-")] if len(sharings) > 1 else []) \
                                + ([queueing] if len(queueings) > 1 else []) \
                                + ([backfill] if pinned or len(axis_backfills) > 1 else []) \
                                + ([scope] if len(scopes) > 1 else [])
                            name = "+".join(parts)
                            key = (sharing, queueing, backfill, scope)
                            if key not in scenarios:
                                scenarios[key] = variant_of(*key)
                            report = None if progress is None else \
                                (lambda now, done, events, n=name: progress(n, now, done, events))
                            result = run(scenarios[key], seed=seed, until=until, progress=report,
                                         policy=policy, placement=placement)
                            variants.append(Variant(name, policy, placement, result, sharing, backfill, scope))
    return Comparison(scenario, variants)


def _policy_item(item: str) -> tuple[str, str]:
    """'fifo@none' -> ('fifo', 'none'); 'srtf' -> ('srtf', '')."""
    name, _, backfill = item.partition("@")
    return name.strip(), backfill.strip()


def with_scheduler(scenario: Scenario, backfill: str | None = None, preemption_scope: str | None = None) -> Scenario:
    """`scenario` with the scheduler's backfill and preemption scope replaced (None: kept)."""
    from gpufleet.spec.scheduler import Backfill, PreemptionScope

    update: dict[str, Any] = {}
    if backfill is not None:
        update["backfill"] = Backfill(backfill)
    if preemption_scope is not None:
        update["preemption_scope"] = PreemptionScope(preemption_scope)
    if not update:
        return scenario
    return scenario.model_copy(update={"scheduler": scenario.scheduler.model_copy(update=update)})


def with_queueing(scenario: Scenario, strategy: str) -> Scenario:
    """`scenario` with every queue's queueing strategy set to `strategy` (StrictFIFO or BestEffortFIFO)."""
    from gpufleet.spec.scheduler import QueueingStrategy

    if strategy not in QueueingStrategy.__members__:
        raise InputError([Problem(f"--queueing {strategy!r}: choose StrictFIFO or BestEffortFIFO")])
    if not scenario.scheduler.queues:
        raise InputError([Problem(f"--queueing {strategy}: scenario {scenario.name!r} has no queues")])
    queues = [queue.model_copy(update={"queueing_strategy": QueueingStrategy(strategy)})
              for queue in scenario.scheduler.queues]
    return scenario.model_copy(update={"scheduler": scenario.scheduler.model_copy(update={"queues": queues})})


def with_sharing(scenario: Scenario, sharing: str) -> Scenario:
    """`scenario` with every service's `sharing` set to `preempt` or `quota:QUEUE`."""
    from gpufleet.sim.checks import check_scenario
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


def contracts(scenario: Scenario) -> list[dict[str, Any]]:
    """Each contract of the scenario (`contract:` or `contracts:`, docs/portfolio.md): name, provider,
    kind, value (options included), start, term end and the pools it pays for; and the pools bought
    outside any commitment, as a last row named `outside commitments`."""
    from gpufleet.econ.portfolio import contract_term_end, contract_value
    from gpufleet.spec.portfolio import contract_pools

    rows: list[dict[str, Any]] = [
        {"name": contract.name, "provider": contract.provider, "kind": contract.kind.value,
         "value_usd": contract_value(contract), "consumed_before_usd": contract.consumed_before_usd,
         "start": contract.start, "term_end": contract_term_end(contract),
         "pools": contract_pools(scenario, contract)} for contract in scenario.all_contracts]
    outside = [pool.name for pool in scenario.fleet.pools if pool.purchase is not None]
    if outside:
        rows.append({"name": "outside commitments", "provider": None, "kind": "purchase", "pools": outside})
    return rows


def plan_cost(scenario: Scenario, until: datetime | None = None) -> dict[str, Any]:
    """What `scenario` costs as a plan, without running it (the planner's objective): committed,
    planned billing, purchased, total; with several contracts, each one's commitment and planned
    billing and the commitment its capacity would leave unbilled (`unused_commitment_usd`)."""
    from gpufleet.plan.cost import plan_cost as cost_of

    cost = cost_of(scenario, until)
    out: dict[str, Any] = cost.as_dict()
    if cost.by_contract:
        out["contracts"] = [{"name": name, "commitment_usd": committed, "planned_billed_usd": billed}
                            for name, committed, billed in cost.by_contract]
    return out


def import_kueue(files: list[str | Path], out: str | Path, nodes: str | Path | None = None,
                 workloads: list[str | Path] | None = None, **options: Any) -> tuple[Scenario, ImportReport]:
    """Import Kueue objects (and nodes, workloads) as a scenario written at `out`, with its job records
    (`NAME.jobs.csv`) and import report (`NAME.import.json`) beside it. Options: name, start, end,
    gpu_resources, gpus_per_node, allow_overcommit (see gpufleet.interop.kueue)."""
    from gpufleet.interop.kueue import import_kueue as read
    from gpufleet.interop.scenario import write_import

    imported = read(files, out, nodes=nodes, workloads=workloads, **options)
    return write_import(imported, out, load_scenario), imported.report


def import_slurm(out: str | Path, conf: str | Path | None = None, topology: str | Path | None = None,
                 sacct: str | Path | None = None, **options: Any) -> tuple[Scenario, ImportReport]:
    """Import a Slurm cluster (slurm.conf, topology, sacct dump) as a scenario written at `out`, with its job
    records and import report beside it. Options: gres, name, start, end, resource (gpu, cpu, node),
    topology_name (see gpufleet.interop.slurm)."""
    from gpufleet.interop.scenario import write_import
    from gpufleet.interop.slurm import import_slurm as read

    imported = read(out, conf=conf, topology=topology, sacct=sacct, **options)
    return write_import(imported, out, load_scenario), imported.report


def export(scenario: Scenario, system: str) -> Exported:
    """The modelled subset of `scenario` in Kueue's (`kueue`) or Slurm's (`slurm`) own format."""
    from gpufleet.interop.export import export_kueue, export_slurm

    if system not in ("kueue", "slurm"):
        raise InputError([Problem(f"export to {system!r}: choose kueue or slurm")])
    return export_kueue(scenario) if system == "kueue" else export_slurm(scenario)


def admit(scenario: Scenario, job: str | Path, at: datetime | None = None, replications: int = 20,
          seed: int | None = None, horizon_days: float = 30.0, recorded: bool = False,
          runtime_hours: float | None = None, report: ImportReport | None = None) -> Admission:
    """Would `job` (a Kueue workload or a gpufleet job mapping, in a file) be admitted on the imported
    `scenario`'s cluster at `at` (default: its last recorded event)? Where, or every reason not; and
    when it would start over `replications` runs that re-draw the running and queued jobs' run times.
    `report`: the import report (names racks and blocks; reads topology requests)."""
    import tempfile

    from gpufleet.interop import snapshot as snap
    from gpufleet.results.admission import Admission, decide, forecast
    from gpufleet.sim.checks import check_scenario

    if replications < 1:
        raise InputError([Problem(f"--replications {replications}: at least 1")])
    if not horizon_days > 0:
        raise InputError([Problem(f"--horizon-days {horizon_days}: must be positive")])
    seed = scenario.seed if seed is None else seed
    candidate = snap.read_candidate(job, report.levels if report is not None else None)
    shot = snap.take(scenario, snap.job_records(scenario), candidate, at)
    if runtime_hours is not None:
        shot.runtime_s = runtime_hours * 3600.0
    replications = 1 if recorded else replications
    with tempfile.TemporaryDirectory(prefix="gpufleet-admit-") as folder:
        scenarios = []
        for index in range(replications):
            place = Path(folder) / f"replication-{index}"
            place.mkdir()
            scenarios.append(snap.snapshot_scenario(shot, snap.replication(shot, index, seed, recorded), place,
                                                    horizon_days))
        problems = [Problem(message, path=where) for where, message in check_scenario(scenarios[0])]
        if problems:
            raise InputError(problems)
        with cyclic_gc_paused():
            simulation = build(scenarios[0], seed=seed, until=shot.at + timedelta(seconds=1))
            simulation.run()
        n_jobs = len(simulation.jobs)
        running = list(range(len(shot.running)))
        queued = list(range(len(shot.running), len(shot.running) + len(shot.queued)))
        decision = decide(simulation, n_jobs - 1, report.pools if report is not None else [], running, queued, 1.0)
        tables = [run(each, seed=seed).jobs for each in scenarios]
    alone = {queue.name for queue in scenario.scheduler.queues if queue.cohort is None}
    outlook = forecast(tables, f"{snap.CANDIDATE}:{candidate.name}", shot.start, shot.at, scenarios[0].end, alone)
    notes = list(shot.notes)
    if decision.running_not_placed:
        notes.append(f"{decision.running_not_placed} running jobs did not fit at once as gpufleet places them (the "
                     "cluster's own placement was tighter): they wait in the simulation")
    if decision.queued_started_at_once:
        notes.append(f"{decision.queued_started_at_once} queued jobs start at once in gpufleet (what held them is "
                     "not modelled, e.g. admission checks or limits)")
    return Admission(candidate.name, shot.at, notes, decision, outlook)
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


def dashboard(runs: str | Path = "runs", host: str = "127.0.0.1", token: str | None = None,
              data: tuple[str | Path, ...] = (), **limits: int) -> FastAPI:
    """The dashboard over a runs folder (its store `runs/store`, and the sweeps, plans and
    replication sets beside it) as a FastAPI application: serve it with any ASGI server, or
    test it with FastAPI's TestClient. Any `host` but loopback gets a token (`token`, or a
    new one: `app.state.ui.settings.token`). `limits`: max_jobs, max_body_bytes,
    max_upload_bytes, max_runs_per_job, page_size (gpufleet.ui.UiSettings). See docs/ui.md."""
    from gpufleet.ui import UiSettings, create_app

    return create_app(UiSettings.for_address(runs, host, token=token, data_dirs=tuple(data), **limits))


def serve_dashboard(runs: str | Path = "runs", host: str = "127.0.0.1", port: int = 8000, token: str | None = None,
                    data: tuple[str | Path, ...] = (), **limits: int) -> None:
    """Serve the dashboard until interrupted (what `gpufleet ui` does, without printing)."""
    from gpufleet.ui import UiSettings, bind, serve

    settings = UiSettings.for_address(runs, host, port, token, tuple(data), **limits)
    serve(settings, bind(host, port))


def _beside(path: str | Path, base: str) -> str | Path:
    """A scenario named by a sweep or plan file: a file relative to it, or a built-in name."""
    candidate = Path(path).parent / base
    return candidate if Path(base).suffix in (".yaml", ".yml") and candidate.exists() else base


def _first_message(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in error.errors())
    return str(error)
