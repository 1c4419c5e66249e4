"""How a headline metric reads: hours, dollars, shares, days or counts, by its name."""

from __future__ import annotations

import math

from gpufleet.report.format import hours, usd

SHARES = ("utilisation", "goodput", "serving_slo", "commitment_", "used_share", "share_of_days")


def metric_value(name: str, value: float | None) -> str:
    """One value of the metric `name`, formatted for a person."""
    if value is None:
        return "-"
    if math.isinf(value):
        return "∞ (a run lacks it)" if value > 0 else "-∞ (a run lacks it)"
    base = name.split("[")[0]
    if base.endswith("_usd") or base.startswith("serving_usd"):
        return usd(value)
    if base.endswith("_h"):
        return hours(value)
    if base.endswith(("_day", "_days")):
        return f"{value:,.1f} d"
    if base.startswith(SHARES):
        return f"{value:.2%}"
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.4g}"


def metric_interval(name: str, mean: float | None, low: float | None, high: float | None) -> str:
    """'mean [low, high]', or the mean alone without an interval."""
    if low is None or high is None:
        return metric_value(name, mean)
    return f"{metric_value(name, mean)} [{metric_value(name, low)}, {metric_value(name, high)}]"


def metric_plus_minus(name: str, mean: float | None, low: float | None, high: float | None) -> str:
    """'mean ± half-width' (a Student t interval is symmetric), or the mean alone."""
    if mean is None or low is None or high is None:
        return metric_value(name, mean)
    return f"{metric_value(name, mean)} ± {metric_value(name, (high - low) / 2)}"
