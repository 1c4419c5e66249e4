"""Rich tables of trace statistics, fits and replays (the CLI prints them; nothing here prints)."""

from __future__ import annotations

from typing import Any

from rich.table import Table

QUANTILE_KEYS = ("count", "min", "p10", "p25", "median", "p75", "p90", "p99", "max", "mean")


def number(value: Any, digits: int = 3) -> str:
    """Compact human formatting: integers with separators, floats to `digits` significant digits."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value != value:  # NaN
            return "-"
        if value == int(value) and abs(value) < 1e15:
            return f"{int(value):,}"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.{digits}g}"
    return str(value)


def seconds(value: float | None) -> str:
    """'42 s', '3.5 min', '2.1 h', '4.0 d'."""
    if value is None or value != value:
        return "-"
    for unit, size in (("d", 86400.0), ("h", 3600.0), ("min", 60.0)):
        if abs(value) >= 2 * size:
            return f"{value / size:,.1f} {unit}"
    return f"{value:,.3g} s"


def read_table(stats: dict[str, Any]) -> Table:
    """Rows read, kept, bad (with the first few lines) and left out by reason."""
    read = stats["read"]
    table = Table(title="Read", title_justify="left", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value")
    table.add_row("file", read["path"])
    table.add_row("format", read["format"])
    table.add_row("rows", number(read["rows"]))
    table.add_row("kept", number(read["kept"]))
    table.add_row("bad rows", number(read["bad_rows"]))
    for row in read["bad_examples"][:10]:
        table.add_row(f"  line {row['line'] if row['line'] is not None else '?'}", row["message"])
    if read["bad_rows"] > 10:
        table.add_row("", f"... {read['bad_rows'] - 10:,} more (see --json)")
    for reason, count in read["left_out"].items():
        table.add_row(f"left out: {reason}", number(count))
    for note in read["notes"]:
        table.add_row("note", note)
    return table


def stats_tables(stats: dict[str, Any]) -> list[Table]:
    """Tables for any kind of statistics dict."""
    kind = stats["kind"]
    tables = [read_table(stats)]
    if kind == "jobs":
        tables += _job_tables(stats)
    elif kind == "requests":
        tables += _request_tables(stats)
    elif kind == "summary":
        tables += _summary_tables(stats)
    elif kind == "nodes":
        tables += _node_tables(stats)
    elif kind == "faults":
        tables += _fault_tables(stats)
    elif kind == "node_series":
        tables += _node_series_tables(stats)
    return tables


def _node_series_tables(stats: dict[str, Any]) -> list[Table]:
    if not stats["samples"]:
        return []
    share = stats["share_in_use"]
    gaps = stats["gaps"]
    rows = [("samples", number(stats["samples"])), *_span_rows(stats),
            ("sample step", seconds(stats["sample_step_s"])),
            ("gaps", f"{gaps['count']:,} (longest {gaps['longest_h']:,.1f} h, {gaps['missing_h']:,.1f} h missing)"),
            ("share in use (mean of samples)", f"{share['mean_of_samples']:.3f}"),
            ("share in use (servers weighted)", number(share["servers_weighted"]))]
    tables = [_overview("Overview", rows),
              quantile_table("Servers", [("online (total)", stats["total"]), ("in use (active)", stats["active"]),
                                         ("share in use", share)])]
    table = Table(title="Share in use by hour of day (UTC)", title_justify="left")
    table.add_column("hour", justify="right")
    table.add_column("share", justify="right")
    for hour, value in enumerate(stats["share_in_use_by_hour"]):
        table.add_row(str(hour), "-" if value is None else f"{value:.3f}")
    tables.append(table)
    return tables


def _overview(title: str, rows: list[tuple[str, str]]) -> Table:
    table = Table(title=title, title_justify="left", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value")
    for name, value in rows:
        table.add_row(name, value)
    return table


def _span_rows(stats: dict[str, Any]) -> list[tuple[str, str]]:
    window = stats.get("span")
    if not window or window["first_s"] is None:
        return []
    if "first" in window:
        return [("first / last arrival", f"{window['first']} / {window['last']}"),
                ("span", f"{window['days']:,.2f} days")]
    return [("first / last arrival (s)", f"{number(window['first_s'])} / {number(window['last_s'])}"),
            ("span", f"{window['days']:,.2f} days")]


def _job_tables(stats: dict[str, Any]) -> list[Table]:
    rows = [("jobs", number(stats["jobs"]))]
    rows += _span_rows(stats)
    if stats.get("rate_per_day") is not None:
        rows.append(("arrival rate", f"{stats['rate_per_day']:,.2f} jobs/day"))
    for key, label in (("gpu_jobs", "GPU jobs"), ("cpu_jobs", "CPU-only jobs"), ("never_ran", "never ran"),
                       ("gpu_sharing_jobs", "GPU-sharing jobs (a fraction of one GPU)"),
                       ("gpu_type_constrained", "jobs limited to some GPU types")):
        if key in stats:
            rows.append((label, number(stats[key])))
    if "gpu_hours" in stats:
        rows.append(("GPU-hours", number(stats["gpu_hours"])))
    tables = [_overview("Overview", rows)]
    if stats.get("arrivals"):
        tables += arrival_tables(stats["arrivals"], "jobs")
    if "gpus_per_job" in stats:
        per = stats["gpus_per_job"]
        table = Table(title=f"GPUs per job (GPU jobs: mean {number(per['gpu_jobs_mean'])}, "
                            f"median {number(per['gpu_jobs_median'])}, max {number(per['max'])})",
                      title_justify="left")
        for column in ("GPUs", "jobs", "share"):
            table.add_column(column, justify="right")
        for value, count, share in list(zip(per["values"], per["jobs"], per["share"], strict=True))[:40]:
            table.add_row(number(value), number(count), f"{share:.2%}")
        if len(per["values"]) > 40:
            table.add_row("...", f"{len(per['values']) - 40} more sizes (see --json)", "")
        tables.append(table)
    dists = [("run time, all jobs", stats.get("duration_s")), ("run time, GPU jobs", stats.get("gpu_duration_s")),
             ("wait, all jobs", stats.get("wait_s")), ("wait, GPU jobs", stats.get("gpu_wait_s"))]
    tables.append(quantile_table("Run time and wait (trace)", [(name, q) for name, q in dists if q], seconds))
    if stats.get("gpu_time_by_size_class"):
        table = Table(title="GPU time by job size class", title_justify="left")
        for column in ("size class (GPUs)", "jobs", "GPU-hours", "share of GPU time"):
            table.add_column(column, justify="right")
        for row in stats["gpu_time_by_size_class"]:
            table.add_row(row["size_class"], number(row["jobs"]), number(row["gpu_hours"]),
                          f"{row['gpu_time_share']:.2%}")
        tables.append(table)
    if stats.get("outcomes"):
        tables.append(_category_table("Outcomes (final status)", stats["outcomes"]))
    for name in ("qos", "team", "queue", "priority"):
        value = stats.get(name)
        if isinstance(value, list):
            tables.append(_category_table(name, value))
        elif isinstance(value, dict):
            tables.append(_category_table(f"{name} ({value['distinct']:,} distinct; top {len(value['top'])})",
                                          value["top"]))
    return tables


def _category_table(title: str, rows: list[dict[str, Any]]) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("value")
    table.add_column("jobs", justify="right")
    table.add_column("share", justify="right")
    weighted = bool(rows) and "gpu_time_share" in rows[0]
    if weighted:
        table.add_column("GPU-hours", justify="right")
        table.add_column("share of GPU time", justify="right")
    for row in rows:
        cells = [str(row["value"]), number(row["count"]), f"{row['share']:.2%}"]
        if weighted:
            cells += [number(row["gpu_hours"]), f"{row['gpu_time_share']:.2%}"]
        table.add_row(*cells)
    return table


def quantile_table(title: str, rows: list[tuple[str, dict[str, Any]]], fmt: Any = number) -> Table:
    """One row per distribution: count, min, p10 ... p99, max, mean."""
    table = Table(title=title, title_justify="left")
    table.add_column("")
    for key in QUANTILE_KEYS:
        table.add_column(key, justify="right")
    for name, q in rows:
        table.add_row(name, number(q["count"]), *[fmt(q[key]) for key in QUANTILE_KEYS[1:]])
    return table


def arrival_tables(arrivals: dict[str, Any], unit: str) -> list[Table]:
    """Arrivals and mean rate by hour of day, and by weekday."""
    out = []
    hours = arrivals.get("by_hour")
    if hours:
        table = Table(title=f"Arrival rate by hour of day ({unit} per hour, mean over the hours observed)",
                      title_justify="left")
        for column in ("hour", "arrivals", "hours observed", "rate", "hour ", "arrivals ", "hours observed ",
                       "rate "):
            table.add_column(column, justify="right")
        for hour in range(12):
            cells = []
            for h in (hour, hour + 12):
                cells += [f"{h:02d}", number(hours["arrivals"][h]), f"{hours['observed_hours'][h]:,.1f}",
                          number(hours["rate_per_hour"][h])]
            table.add_row(*cells)
        out.append(table)
    days = arrivals.get("by_weekday")
    if days:
        table = Table(title=f"Arrival rate by weekday ({unit} per day)", title_justify="left")
        for column in ("day", "arrivals", "days observed", "rate"):
            table.add_column(column, justify="right")
        for k in range(7):
            table.add_row(days["day"][k], number(days["arrivals"][k]), f"{days['observed_days'][k]:,.2f}",
                          number(days["rate_per_day"][k]))
        out.append(table)
    return out


def _request_tables(stats: dict[str, Any]) -> list[Table]:
    rows = [("requests", number(stats["requests"]))] + _span_rows(stats)
    if stats.get("rate_per_s") is not None:
        rows.append(("arrival rate", f"{stats['rate_per_s']:,.3f} requests/s"))
    if stats.get("interarrival_cv") is not None:
        rows.append(("inter-arrival CV (1 = Poisson)", number(stats["interarrival_cv"])))
    for name in ("input_tokens", "output_tokens"):
        rows.append((f"{name.replace('_', ' ')} (total)", number(stats[name]["total"])))
    tables = [_overview("Overview", rows)]
    tables += arrival_tables(stats["arrivals"], "requests")
    dists = [("input tokens", stats["input_tokens"]), ("output tokens", stats["output_tokens"])]
    if stats.get("interarrival_s"):
        dists.append(("inter-arrival (s)", stats["interarrival_s"]))
    tables.append(quantile_table("Tokens per request", dists))
    return tables


def _summary_tables(stats: dict[str, Any]) -> list[Table]:
    table = Table(title="Published figures", title_justify="left")
    table.add_column("figure")
    for cluster in stats["clusters"]:
        table.add_column(cluster, justify="right")
    for figure in stats["figures"]:
        table.add_row(f"{figure['meaning']} [{figure['column']}]",
                      *[number(figure["values"][cluster]) for cluster in stats["clusters"]])
    return [table]


def comparison_table(rows: list[dict[str, Any]], title: str) -> Table:
    """A trace's own figures beside published ones."""
    table = Table(title=title, title_justify="left")
    for column in ("figure", "this trace", "published", "ratio"):
        table.add_column(column, justify="right" if column != "figure" else "left")
    for row in rows:
        figure = f"{row['figure']} [{row['column']}]" + (f" ({row['note']})" if row.get("note") else "")
        table.add_row(figure, number(row["trace"]), number(row["published"]), number(row["ratio"]))
    return table


def _node_tables(stats: dict[str, Any]) -> list[Table]:
    tables = [_overview("Overview", [("nodes", number(stats["nodes"])), ("GPUs", number(stats["gpus"])),
                                     ("GPU nodes", number(stats["gpu_nodes"])),
                                     ("CPU-only nodes", number(stats["cpu_only_nodes"]))])]
    table = Table(title="By GPU model", title_justify="left")
    for column in ("model", "nodes", "GPUs"):
        table.add_column(column, justify="right")
    for row in stats["by_model"]:
        table.add_row(row["model"], number(row["nodes"]), number(row["gpus"]))
    tables.append(table)
    table = Table(title="By node shape", title_justify="left")
    for column in ("model", "GPUs per node", "nodes"):
        table.add_column(column, justify="right")
    for row in stats["by_shape"]:
        table.add_row(row["model"], number(row["gpus_per_node"]), number(row["nodes"]))
    tables.append(table)
    return tables


def _fault_tables(stats: dict[str, Any]) -> list[Table]:
    rows = [("faults", number(stats["faults"])), ("servers hit", number(stats["servers_hit"])),
            ("observed", f"{stats['observed_days']:,.2f} days")]
    if stats.get("faults_per_server_day") is not None:
        rows.append((f"faults per server-day ({stats['servers']} servers)", f"{stats['faults_per_server_day']:.4f}"))
        gpu = stats["faults_per_server_day_by_class"].get("GPU")
        if gpu is not None:
            rows.append(("GPU-class faults per server-day", f"{gpu:.4f}"))
    tables = [_overview("Overview", rows), quantile_table("Repair time (days)", [("repair", stats["repair_days"])])]
    for key, title in (("by_level", "Faults by level"), ("by_class", "Faults by class")):
        table = Table(title=title, title_justify="left")
        table.add_column("value")
        table.add_column("faults", justify="right")
        for value, count in stats[key].items():
            table.add_row(value, number(count))
        tables.append(table)
    return tables


def fit_tables(result: dict[str, Any]) -> list[Table]:
    """The fitted workload and its goodness of fit (model vs trace, and regenerated vs trace)."""
    spec = result["workload"]["synthetic"]
    arrivals = spec["arrivals"]
    rows = [("jobs fitted", number(result["jobs"])), ("span", f"{result['span_days']:,.2f} days"),
            ("rate at start", f"{arrivals['rate_per_day']:,.3f} jobs/day"),
            ("monthly growth", f"{arrivals['monthly_growth']:+.2%}"),
            ("hour-of-day shape", "fitted" if "hour_of_day" in arrivals else "flat"),
            ("weekday shape", "fitted" if "day_of_week" in arrivals else "flat")]
    for reason, count in result["left_out"].items():
        rows.append((f"left out: {reason}", number(count)))
    for note in result["notes"]:
        rows.append(("note", note))
    tables = [_overview("Fitted workload", rows)]
    sizes = Table(title="Size components (lognormal run time each)", title_justify="left")
    for column in ("GPUs", "weight", "median run time", "sigma", "jobs", "KS run time"):
        sizes.add_column(column, justify="right")
    per_size = result["goodness"]["duration_by_size"]
    for size in spec["sizes"]:
        duration = size["duration"]
        median = duration.get("median_hours", duration.get("hours"))
        fit = per_size[str(size["gpus"])]
        sizes.add_row(number(size["gpus"]), f"{size['weight']:.4f}", seconds(median * 3600.0),
                      number(duration.get("sigma")), number(fit["jobs"]), number(fit["ks"]))
    tables.append(sizes)
    good = result["goodness"]
    trip = result["round_trip"]
    table = Table(title=f"Goodness of fit: Kolmogorov-Smirnov distance (round trip: {trip['jobs_generated']:,} "
                        f"jobs regenerated with seed {trip['seed']}, {trip['count_ratio']:.3f} x the trace's; "
                        f"sampling noise alone stays under {trip['ks_noise_p99']:.3f} at p = 0.01)",
                  title_justify="left")
    for column in ("distribution", "model vs trace", "regenerated vs trace"):
        table.add_column(column, justify="right" if column != "distribution" else "left")
    for key, label in (("arrival_time", "arrival times over the span"), ("interarrival", "time between arrivals"),
                       ("hour_of_day", "hour of day"), ("day_of_week", "weekday"), ("gpus", "GPUs per job"),
                       ("duration", "run time")):
        table.add_row(label, number(good.get(key)), number(trip["ks"].get(key)))
    tables.append(table)
    return tables


def wait_tables(comparison: dict[str, Any]) -> list[Table]:
    """Simulated against real waits, per trace workload of a replay."""
    tables = []
    for workload in comparison["workloads"]:
        table = Table(title=f"Wait, {workload['name']}: replay ({comparison['scheduler']}) vs the trace "
                            f"({workload['jobs']:,} jobs; KS distance {number(workload['ks'])})",
                      title_justify="left")
        table.add_column("")
        keys = ("median", "p75", "p90", "p99", "max", "mean")
        for key in keys:
            table.add_column(key, justify="right")
        table.add_column("waited", justify="right")
        for side in ("simulated", "real"):
            q = workload[side]
            table.add_row(side, *[seconds(q[key]) for key in keys], f"{workload[side + '_share_waiting']:.1%}")
        tables.append(table)
    return tables
