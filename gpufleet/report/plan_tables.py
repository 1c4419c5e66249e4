"""The planner's answer for the terminal: the plan, its cost against the commitment, how it
stands against each target, the runner-ups, the cheaper plan that missed, sensitivity."""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from gpufleet.plan.cost import plan_cost
from gpufleet.plan.planner import Candidate, PlanResult, assess, describe
from gpufleet.report.format import usd
from gpufleet.report.metric_format import metric_value


def _metric(target: str) -> str:
    return target.split("<=")[0].split(">=")[0].strip()


def plan_tables(result: PlanResult) -> list[Table]:
    problem, solution = result.problem, result.solution
    tables = []
    best = solution.best
    answer = Table(title=f"Plan for {problem.base.name}: cheapest meeting every target with "
                         f"{problem.confidence:.0%} confidence over {problem.replications} replications",
                   show_header=False, title_justify="left")
    answer.add_column("what", style="bold")
    answer.add_column("value")
    if best is None or best.cost is None:
        answer.add_row("Plan", "none of the plans tried meets every target"
                       + ("" if solution.complete else " (the budget ran out)"))
    else:
        cost = best.cost
        answer.add_row("Plan", escape(describe(problem.levers, best.values)))
        answer.add_row("Cost (commitment + purchased)", usd(cost.total_usd))
        if cost.by_contract:
            for name, committed, billed in cost.by_contract:
                answer.add_row(f"Contract {escape(name)}: commitment left / planned billing over its term",
                               f"{usd(committed)} / {usd(billed)}")
            answer.add_row("Commitment not billed by the plan's capacity (under-used)",
                           usd(cost.unused_commitment_usd))
        elif problem.base.contract is not None:
            answer.add_row("Commitment: contract + options / planned billing over the term",
                           f"{usd(cost.committed_usd)} / {usd(cost.planned_billed_usd)}")
        else:
            answer.add_row("Own capacity billed to the horizon (no contract)", usd(cost.planned_billed_usd))
        answer.add_row("Bought outside the commitment", usd(cost.purchased_usd))
        base_cost = _base_cost(result)
        if base_cost is not None:
            answer.add_row("Against the base scenario",
                           f"{_signed(cost.total_usd - base_cost)} (base {usd(base_cost)})")
        binding = solution.binding()
        if binding is not None:
            bound = metric_value(_metric(binding.target), binding.bound)
            answer.add_row("Binding target", escape(f"{binding.target} (bound {bound})"))
        answer.add_row("Certain", "yes: every cheaper plan was run or ruled out" if solution.complete else
                       "no: the budget ran out first")
    answer.add_row("Plans run / in all", f"{sum(1 for c in solution.candidates if c.run)} / "
                                         f"{len(solution.candidates)}")
    tables.append(answer)
    shown = ([best] if best else []) + solution.runner_ups
    miss = solution.cheaper_miss()
    if miss is not None:
        shown.append(miss[0])
    if shown:
        tables.append(_targets_table(result, shown))
    if result.sensitivity:
        table = Table(title="Sensitivity: the answer when an assumption moves", title_justify="left")
        for column in ("assumption", "plan", "cost", "change"):
            table.add_column(column, justify="right" if column in ("cost", "change") else "left")
        for row in result.sensitivity:
            table.add_row(escape(row.assumption), escape(row.plan or "no plan meets the targets")
                          + ("" if row.complete else " (budget ran out)"), usd(row.total_usd),
                          _signed(row.delta_usd))
        tables.append(table)
    return tables


def _signed(value: float | None) -> str:
    if value is None:
        return "-"
    return ("+" if value > 0 else "-" if value < 0 else "") + usd(abs(value))


def _base_cost(result: PlanResult) -> float | None:
    return plan_cost(result.problem.base, result.problem.until).total_usd


def _targets_table(result: PlanResult, shown: list[Candidate]) -> Table:
    problem, best = result.problem, result.solution.best
    table = Table(title=f"Targets: one-sided {problem.confidence:.0%} Student t bound on the mean "
                        "(share of replications meeting it)", title_justify="left")
    table.add_column("plan")
    table.add_column("role")
    table.add_column("cost", justify="right")
    for target in problem.targets:
        table.add_column(escape(target.text), justify="right")
    for candidate in shown:
        role = "answer" if candidate is best else ("runner-up" if candidate.feasible else "cheaper, misses")
        cells = [escape(describe(problem.levers, candidate.values)), role,
                 usd(candidate.cost.total_usd if candidate.cost else None)]
        for row, target in zip(assess(candidate, problem.targets, problem.confidence), problem.targets, strict=True):
            mark = "ok" if row.met else "MISS"
            cells.append(f"{metric_value(target.metric, row.bound)} {mark} ({row.share_met:.0%})")
        table.add_row(*cells)
    return table
