"""Targets and constraints: `metric <= value` or `metric >= value`, checked with a
stated confidence across replications.

A target holds for a plan when the one-sided Student t bound on the metric's mean across
replications is on the right side of the value, at the stated confidence: `wait_p95_h
<= 12` at 90% means the mean p95 wait is below 12 hours with 90% confidence. A
replication without the metric (a named job that never started) fails the target. The
value of a `start_day[...]` or `finish_day[...]` metric may be a date.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime

from gpufleet.results.replications import one_sided_bound

_EXPRESSION = re.compile(r"^\s*(?P<metric>[^<>=\s]+)\s*(?P<op><=|>=)\s*(?P<value>\S+)\s*$")
DATE_METRICS = ("start_day[", "finish_day[", "full_from_day")


@dataclass(frozen=True)
class Target:
    """A bound on a metric: at most (`<=`) or at least (`>=`) `value`."""

    metric: str
    op: str
    value: float
    text: str

    @property
    def upper(self) -> bool:
        """True when the metric must stay at or below the value."""
        return self.op == "<="

    def bound(self, values: list[float | None], confidence: float) -> float | None:
        """The confidence bound that is checked against the value."""
        return one_sided_bound(values, confidence, upper=self.upper)

    def met(self, values: list[float | None], confidence: float) -> bool:
        bound = self.bound(values, confidence)
        if bound is None or math.isnan(bound):
            return False
        return bound <= self.value if self.upper else bound >= self.value

    def slack(self, values: list[float | None], confidence: float) -> float:
        """How far inside the target the bound is, relative to the value (negative: missed)."""
        bound = self.bound(values, confidence)
        if bound is None or math.isinf(bound) or math.isnan(bound):
            return -math.inf
        scale = abs(self.value) or 1.0
        return (self.value - bound) / scale if self.upper else (bound - self.value) / scale

    def share_met(self, values: list[float | None]) -> float:
        """Share of the replications that meet the target on their own."""
        if not values:
            return 0.0
        ok = [v is not None and not math.isnan(v) and (v <= self.value if self.upper else v >= self.value)
              for v in values]
        return sum(ok) / len(values)


def parse_target(text: str, start: datetime | None = None) -> Target:
    """Read `metric <= value` (or `>=`); a date value needs the scenario `start` (days from it)."""
    match = _EXPRESSION.match(text)
    if match is None:
        raise ValueError(f"{text!r}: write METRIC <= VALUE or METRIC >= VALUE, e.g. 'wait_p95_h[1K-8K] <= 12'")
    metric, op, raw = match.group("metric"), match.group("op"), match.group("value")
    try:
        value = float(raw)
    except ValueError:
        if not metric.startswith(DATE_METRICS):
            raise ValueError(f"{text!r}: {raw!r} is not a number") from None
        try:
            when = datetime.fromisoformat(raw)
        except ValueError:
            raise ValueError(f"{text!r}: {raw!r} is neither a number of days nor a date") from None
        if start is None:
            raise ValueError(f"{text!r}: a date needs the scenario's start") from None
        value = (when - start).total_seconds() / 86400.0
    return Target(metric, op, value, text.strip())
