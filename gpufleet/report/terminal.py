"""Rich renderables for the terminal: the run summary and what a scenario says.

Library code builds tables; only the CLI prints them.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.table import Table

from gpufleet.fleet.layout import FleetLayout
from gpufleet.report.format import hours, in_unit, km_hours, rate, start_by_cell, time_unit, usd
from gpufleet.report.portfolio_tables import (
    contract_ledger_table,
    contracts_spec_table,
    placement_table,
    provider_table,
)
from gpufleet.spec.scenario import Scenario
from gpufleet.workload.explicit import submit_time_s

if TYPE_CHECKING:
    from gpufleet.results.compare import Comparison


def summary_tables(summary: dict[str, Any]) -> list[Table]:
    """The headline answers of a run, as three tables."""
    capacity, jobs, money = summary["capacity"], summary["jobs"], summary["money"]
    runs = summary.get("replications", 1)
    headline = Table(title=f"{summary['scenario']} (seed {summary['seed']}, {runs} replication"
                           f"{'s' if runs != 1 else ''}) to {summary['horizon'][:10]}",
                     show_header=False, title_justify="left")
    headline.add_column("what", style="bold")
    headline.add_column("value", justify="right")
    threshold = f"{capacity['full_threshold']:.0%}"
    headline.add_row("Utilisation (allocated / installed GPU-h)", f"{capacity['utilisation']:.1%}")
    headline.add_row("Startable utilisation (allocated / allocated + free GPUs a waiting job could start on)",
                     f"{capacity['startable_utilisation']:.1%}")
    headline.add_row(f"Fleet full from (a day's startable utilisation >= {threshold})",
                     capacity["full_from"] or "never")
    headline.add_row("Days full (startable) / hours with nothing startable",
                     f"{capacity['share_of_days_full']:.0%} / {capacity['share_of_hours_nothing_startable']:.0%}")
    headline.add_row(f"Fleet full from (a day's allocated / installed >= {threshold})",
                     f"{capacity['installed_full_from'] or 'never'} "
                     f"({capacity['share_of_days_installed_full']:.0%} of days)")
    headline.add_row("GPU-hours stranded (free, in pieces no waiting or running job could use)",
                     f"{capacity['stranded_gpu_hours']:,.0f} "
                     f"({capacity['stranded_share_of_installed']:.1%} of installed, "
                     f"{usd(capacity['stranded_billed_usd'])})")
    headline.add_row("GPU-hours of hot spares (installed, held idle)",
                     f"{capacity['spare_gpu_hours']:,.0f} ({capacity['spare_share_of_installed']:.1%} of installed)")
    headline.add_row("Jobs: total / started / completed",
                     f"{jobs['total']:,} / {jobs['started']:,} / {jobs['completed']:,}")
    headline.add_row("Jobs queued at horizon / never fit / stopped at their time limit",
                     f"{jobs['queued']:,} / {jobs['never_fits']:,} / {jobs['time_limit']:,}")
    headline.add_row("Wait, started jobs only: mean / p95",
                     f"{hours(jobs['wait']['mean_h'])} / {hours(jobs['wait']['p95_h'])}")
    km = jobs["wait_km"]
    headline.add_row("Wait with jobs still waiting (Kaplan-Meier): p50 / p95 / mean to the longest wait",
                     f"{km_hours(km, 'p50_h')} / {km_hours(km, 'p95_h')} / {hours(km['restricted_mean_h'])}")
    failures = summary["failures"]
    if failures["failures"]:
        headline.add_row("Failures / job interruptions / spare swaps",
                         f"{failures['failures']:,} / {failures['interruptions']:,} / {failures['spare_swaps']:,}")
        headline.add_row("GPU-hours lost / restarting / checkpointing",
                         f"{failures['lost_gpu_hours']:,.0f} / {failures['restart_overhead_gpu_hours']:,.0f} / "
                         f"{failures['checkpoint_gpu_hours']:,.0f}")
        headline.add_row("Goodput (productive training / billed GPU-hours)", f"{failures['goodput']:.1%}")
        if failures.get("goodput_with_serving") is not None:
            headline.add_row("Goodput with serving (+ serving GPU-hours after warm-up)",
                             f"{failures['goodput_with_serving']:.1%}")
    preemption = summary["preemption"]
    if preemption["preemptions"]:
        headline.add_row("Preemptions / GPU-hours lost / restart overhead",
                         f"{preemption['preemptions']:,} / {preemption['lost_gpu_hours']:,.0f} / "
                         f"{preemption['overhead_gpu_hours']:,.0f}")
    headline.add_row("Billed / used", f"{usd(money['billed_usd'])} / {usd(money['used_usd'])}")
    if money.get("used_share_of_billed") is not None:
        headline.add_row("Share of billed GPU-hours allocated to jobs", f"{money['used_share_of_billed']:.1%}")
    if "contract_value_usd" in money:
        headline.add_row("Committed to date / contract value",
                         f"{usd(money['committed_to_date_usd'])} / {usd(money['contract_value_usd'])}")
        headline.add_row("Projected billed by term end", f"{usd(money['projected_term_billed_usd'])}")
        headline.add_row("Projected shortfall against the commitment", usd(money["projected_shortfall_usd"]))
    if "cost_of_waiting_usd" in money:  # the scenario states what time and tokens are worth
        headline.add_row("Cost of delay (named jobs, size ranges)", usd(money["cost_of_delay_usd"]))
        headline.add_row("Serving revenue / lost to dropped requests",
                         f"{usd(money['serving_revenue_usd'])} / {usd(money['revenue_lost_to_drops_usd'])}")
        headline.add_row("Cost of waiting (delay + lost revenue)", usd(money["cost_of_waiting_usd"]))
        headline.add_row("Net value (revenue - billed - cost of delay)", usd(money["net_value_usd"]))

    if "serving" in summary:
        split = summary["serving"]
        headline.add_row("GPU-hours serving / training",
                         f"{split['serving_gpu_hours']:,.0f} / {split['training_gpu_hours']:,.0f}")

    waits = Table(title="Wait by job size (GPUs): mean to p99 over started jobs only; KM = Kaplan-Meier with the "
                        "jobs still waiting", title_justify="left")
    for column in ("size", "jobs", "started", "queued", "never fit", "at limit", "mean", "p50", "p95", "p99",
                   "KM p50", "KM p95", "KM mean"):
        waits.add_column(column, justify="right" if column != "size" else "left")
    for label, row in summary["wait_by_size_class"].items():
        wait, km = row["wait"], row["wait_km"]
        waits.add_row(label, f"{row['jobs']:,}", f"{row['started']:,}", f"{row['queued_at_end']:,}",
                      f"{row['never_fits']:,}", f"{row['time_limit']:,}", hours(wait["mean_h"]), hours(wait["p50_h"]),
                      hours(wait["p95_h"]), hours(wait["p99_h"]), km_hours(km, "p50_h"), km_hours(km, "p95_h"),
                      hours(km["restricted_mean_h"]))

    pools = Table(title="Pools", title_justify="left")
    for column in ("pool", "GPU", "GPUs at end", "peak", "utilisation", "$/GPU-h", "price from"):
        pools.add_column(column, justify="left" if column in ("pool", "GPU", "price from") else "right")
    for pool in capacity["pools"]:
        pools.add_row(pool["name"], pool["gpu"], f"{pool['installed_gpus_at_end']:,.0f}",
                      f"{pool['peak_installed_gpus']:,.0f}", f"{pool['utilisation']:.1%}",
                      f"{pool['price_usd_per_gpu_hour']:.2f}", pool["price_source"])
    tables = [headline, waits, pools]
    if "contracts" in money:
        tables += [contract_ledger_table(money), provider_table(money)]
    if len(summary["by_queue"]) > 1:
        queues = Table(title="By queue", title_justify="left")
        for column in ("queue", "jobs", "GPU-hours", "mean wait (started)", "p95 wait (started)", "KM p50 wait",
                       "KM p95 wait", "mean JCT", "p95 JCT"):
            queues.add_column(column, justify="left" if column == "queue" else "right")
        for name, row in summary["by_queue"].items():
            queues.add_row(name, f"{row['jobs']:,}", f"{row['gpu_hours']:,.0f}", hours(row["wait"]["mean_h"]),
                           hours(row["wait"]["p95_h"]), km_hours(row["wait_km"], "p50_h"),
                           km_hours(row["wait_km"], "p95_h"), hours(row["completion_time"]["mean_h"]),
                           hours(row["completion_time"]["p95_h"]))
        tables.append(queues)
    if "serving" in summary:
        services = Table(title="Serving", title_justify="left")
        for column in ("service", "sharing", "mean req/s", "SLO met", "mean wait", "tokens served", "dropped",
                       "mean / peak GPUs", "$/M tokens", "jobs preempted", "replicas lost"):
            services.add_column(column, justify="left" if column in ("service", "sharing") else "right")
        for service in summary["serving"]["services"]:
            services.add_row(service["name"], service["sharing"], rate(service["demand"]["requests_per_s"]),
                             f"{service['slo_attainment']:.2%}", f"{service['mean_wait_s']:.3f} s",
                             f"{service['output_tokens_served']:.3g}", f"{service['output_tokens_dropped']:.3g}",
                             f"{service['mean_gpus']:,.0f} / {service['peak_gpus']:,.0f}",
                             usd(service["usd_per_million_output_tokens"]),
                             f"{service['training_jobs_preempted']:,}", f"{sum(service['replicas_lost'].values()):,}")
        tables.append(services)
    if summary.get("speed_by_gpu"):
        speeds = Table(title="Speed by job class and GPU type (completed jobs, by the pool they started on)",
                       title_justify="left")
        for column in ("class", "GPU", "jobs", "mean duration (reference)", "mean run", "speed"):
            speeds.add_column(column, justify="left" if column in ("class", "GPU") else "right")
        for row in summary["speed_by_gpu"]:
            speeds.add_row(row["job_class"], row["gpu"], f"{row['completed']:,}", hours(row["mean_duration_h"]),
                           hours(row["mean_run_h"]), "-" if row["mean_speed"] is None else f"{row['mean_speed']:.3f}")
        tables.append(speeds)
    if summary["named_jobs"]:
        named = Table(title="Named jobs", title_justify="left")
        deadlines = any("start_by" in row for row in summary["named_jobs"])
        for column in ("job", "GPUs", "submitted", *(("start by",) if deadlines else ()), "wait", "ran", "pool",
                       "status"):
            named.add_column(column, justify="right" if column in ("GPUs", "wait", "ran") else "left")
        for row in summary["named_jobs"]:
            status = row["status"] + (f" ({row['reason']})" if row["reason"] else "")
            by = (start_by_cell(row),) if deadlines else ()
            named.add_row(row["name"], f"{row['gpus']:,}", (row["submitted"] or "never")[:10], *by,
                          hours(row["wait_h"]), hours(row["run_h"]), row["pool"] or "-", status)
        tables.append(named)
    return tables


def assumption_table(scenario: Scenario) -> Table | None:
    """The answers the scenario says rest on assumptions, and what drives each (None if it says none)."""
    if not scenario.assumption_driven:
        return None
    table = Table(title="Answers set by assumption", title_justify="left")
    table.add_column("answer", style="bold")
    table.add_column("driven by")
    for answer, driver in scenario.assumption_driven.items():
        table.add_row(answer, driver)
    return table


def scenario_tables(scenario: Scenario, layout: FleetLayout) -> list[Table]:
    """What `gpufleet validate` understood: capacity over time, workloads, contract."""
    capacity = Table(title="GPUs installed per pool over time (planned)", title_justify="left")
    capacity.add_column("date")
    for pool in layout.pools:
        spares = f", {pool.installed_rack_gpus - pool.rack_gpus} spare" if pool.spare_nodes else ""
        capacity.add_column(f"{pool.name} ({pool.gpu.name}, {pool.installed_rack_gpus}/rack{spares})", justify="right")
    capacity.add_column("total", justify="right")
    for time_s in layout.change_times():
        row = []
        for pool in layout.pools:
            active = layout.active_mask(time_s)[pool.rack_lo:pool.rack_hi]
            row.append(int(active.sum()) * pool.installed_rack_gpus)
        when = (scenario.start + timedelta(seconds=time_s)).date().isoformat()
        capacity.add_row(when if time_s >= 0 else f"{when} (before start)",
                         *[f"{gpus:,}" for gpus in row], f"{sum(row):,}")

    workloads = Table(title="Workloads", title_justify="left")
    for column in ("workload", "kind", "jobs per day", "sizes (GPUs: share)", "notes"):
        workloads.add_column(column)
    for entry in scenario.workloads:
        if entry.synthetic is not None:
            spec = entry.synthetic
            first, last = spec.start or scenario.start, spec.end or scenario.end
            months = (last.year - first.year) * 12 + last.month - first.month
            growth = (1 + spec.arrivals.monthly_growth) ** months
            total = sum(size.weight for size in spec.sizes)
            sizes = ", ".join(f"{size.gpus}: {size.weight / total:.0%}" for size in spec.sizes)
            workloads.add_row(spec.name, "synthetic",
                              f"{spec.arrivals.rate_per_day:,.1f} -> {spec.arrivals.rate_per_day * growth:,.1f}",
                              sizes, f"limit {spec.time_limit_hours or 'none'} h; estimate "
                              f"{(spec.estimate or scenario.scheduler.estimate).value}")
        elif entry.jobs is not None:
            for job in entry.jobs.items:
                submit = submit_time_s(job, scenario, layout)
                when = (scenario.start + timedelta(seconds=submit)).date().isoformat() if submit != float("inf") \
                    else "never"
                workloads.add_row(job.name, "explicit", f"submitted {when}", f"{job.gpus:,}",
                                  f"{job.duration_h / 24:,.1f} days, groups of {job.group_size or min(job.gpus, 8)}")
    tables = [capacity, workloads]
    if scenario.services:
        services = Table(title="Services", title_justify="left")
        for column in ("service", "GPU types", "replica", "replicas", "demand", "SLO", "sharing"):
            services.add_column(column)
        for service in scenario.services:
            policy, demand = service.replica_policy, service.demand
            replicas = f"{policy.min_replicas}" if policy.max_replicas is None else \
                f"{policy.min_replicas}-{policy.max_replicas} at {policy.target_qps_per_replica:g} req/s each"
            if demand.trace is not None:
                base = f"trace {Path(demand.trace.path).name}"
            elif demand.requests_per_s is not None:
                base = f"{demand.requests_per_s:,.0f} req/s x {demand.output_tokens_per_request:g} tokens"
            else:
                base = f"{demand.output_tokens_per_s:,.0f} output tokens/s"
            growth = f", +{demand.monthly_growth:.1%}/month" if demand.monthly_growth else ""
            if service.replica.prefill and demand.input_tokens_per_request:  # prompts cost GPU time
                growth += (f", {demand.input_tokens_per_request:g} prompt tokens "
                           f"({demand.cached_input_share:.0%} cached)")
            if demand.share != 1.0:
                growth += f", {demand.share:.0%} placed here"
            prefill = ", prefill" if service.replica.prefill else ""
            sharing = service.sharing.mode.value + (f" ({service.sharing.queue})" if service.sharing.queue else "")
            services.add_row(service.name, ", ".join(service.flavors),
                             f"{service.replica.gpus} GPUs, {service.replica.warmup_minutes:g} min warm-up{prefill}",
                             replicas, base + growth, f"{service.slo.wait_seconds:g} s wait, "
                             f"{service.slo.output_tokens_per_s_per_request:g} tok/s", sharing)
        tables.append(services)
    if scenario.throughput is not None:
        throughput = scenario.throughput
        types = list(dict.fromkeys(pool.gpu.name for pool in layout.pools))
        speed = Table(title=f"Throughput relative to {throughput.reference} (run time there = duration)",
                      title_justify="left")
        for column in ("class", "jobs of", *types, "source"):
            speed.add_column(column, justify="right" if column in types else "left")
        for cls in throughput.classes:
            members = ", ".join([*cls.workloads, *(f"label {label}" for label in cls.label_set if cls.labels),
                                 *(f"service {name}" for name in cls.services)]) or f"label {cls.name}"
            values = [throughput.relative(cls, gpu) for gpu in types]
            speed.add_row(cls.name, members, *["-" if v is None else f"{v:g}" for v in values], cls.source)
        tables.append(speed)
    if scenario.contract is not None:
        contract = scenario.contract
        money = Table(title=f"Contract: {contract.name}", show_header=False, title_justify="left")
        money.add_column("what", style="bold")
        money.add_column("value")
        money.add_row("value", usd(contract.value_usd))
        money.add_row("start / term", f"{contract.start.date()} / {contract.term_years:g} years")
        for gpu, price in contract.prices_usd_per_gpu_hour.items():
            money.add_row(f"price {gpu}", f"${price:.2f} per GPU-hour")
        for option in contract.expansions:
            money.add_row(f"expansion {option.name}",
                          f"{option.date.date()}: +{option.racks} racks to {option.pool}"
                          f"{'' if option.exercise else ' (not exercised)'}")
        tables.append(money)
    if scenario.contracts:
        tables.append(contracts_spec_table(scenario))
    across = placement_table(scenario, layout)
    if across is not None:
        tables.append(across)
    return tables


def comparison_tables(comparison: Comparison) -> list[Table]:
    """A comparison as tables: overall, then by size class, then by queue when there are several."""
    overall = Table(title=f"{comparison.scenario.name}: variants on the same jobs", title_justify="left")
    for column in ("variant", "mean wait", "p95 wait", "p99 wait", "mean JCT", "p50 JCT", "p95 JCT", "p99 JCT",
                   "util", "preempt", "GPU-h lost"):
        overall.add_column(column, justify="left" if column == "variant" else "right")
    rows = comparison.overall()
    timed = ("wait_mean_h", "wait_p95_h", "wait_p99_h", "jct_mean_h", "jct_p50_h", "jct_p95_h", "jct_p99_h")
    units = {key: time_unit(row[key] for row in rows) for key in timed}
    for row in rows:
        overall.add_row(row["variant"], *(in_unit(row[key], units[key]) for key in timed),
                        f"{row['utilisation']:.1%}", f"{row['preemptions']:,}", f"{row['lost_gpu_hours']:,.0f}")
    tables = [overall]
    if rows and "serving_slo_attainment" in rows[0]:
        serving = Table(title="Serving beside training", title_justify="left")
        for column in ("variant", "SLO met", "tokens dropped", "serving GPU-h", "training GPU-h", "$/M tokens",
                       "jobs preempted by serving"):
            serving.add_column(column, justify="left" if column == "variant" else "right")
        for row in rows:
            serving.add_row(row["variant"], f"{row['serving_slo_attainment']:.2%}",
                            f"{row['serving_tokens_dropped']:.3g}", f"{row['serving_gpu_hours']:,.0f}",
                            f"{row['training_gpu_hours']:,.0f}", usd(row["serving_usd_per_million_tokens"]),
                            f"{row['jobs_preempted_by_serving']:,}")
        tables.append(serving)
    for by, title in (("size_class", "by job size (GPUs)"), ("queue", "by queue")):
        rows = comparison.grouped(by)
        if by == "queue" and len({row["queue"] for row in rows}) < 2:
            continue
        table = Table(title=f"Mean / p95 wait and mean JCT {title}", title_justify="left")
        table.add_column(by.replace("_", " "))
        for variant in comparison.variants:
            table.add_column(variant.name, justify="right")
        groups = list(dict.fromkeys(row[by] for row in rows))
        wait_unit = time_unit(row[key] for row in rows for key in ("wait_mean_h", "wait_p95_h"))
        jct_unit = time_unit(row["jct_mean_h"] for row in rows)
        for group in groups:
            cells = []
            for variant in comparison.variants:
                row = next((r for r in rows if r["variant"] == variant.name and r[by] == group), None)
                cells.append("-" if row is None else f"{in_unit(row['wait_mean_h'], wait_unit)} / "
                             f"{in_unit(row['wait_p95_h'], wait_unit)} / {in_unit(row['jct_mean_h'], jct_unit)}")
            table.add_row(str(group), *cells)
        tables.append(table)
    return tables
