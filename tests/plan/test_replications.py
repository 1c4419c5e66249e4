"""Replications: seeds seed..seed+N-1, every metric's mean with a two-sided 95% Student t
interval (checked against scipy's own interval), runs reused from the store."""

from __future__ import annotations

import math
import statistics

import pytest
from scipy import stats

from gpufleet import api
from gpufleet.results.replications import estimate, one_sided_bound
from tests.plan.helpers import lab


def test_interval_is_student_t() -> None:
    values = [3.1, 2.7, 3.9, 3.3, 2.2]
    est = estimate(values + [None])
    mean, sem = statistics.fmean(values), statistics.stdev(values) / math.sqrt(len(values))
    low, high = stats.t.interval(0.95, len(values) - 1, loc=mean, scale=sem)
    assert (est.n, est.missing, est.mean) == (5, 1, pytest.approx(mean, rel=1e-15))
    assert (est.low, est.high) == (pytest.approx(low, rel=1e-12), pytest.approx(high, rel=1e-12))
    assert one_sided_bound(values, 0.9, upper=True) == pytest.approx(mean + stats.t.ppf(0.9, 4) * sem, rel=1e-12)
    assert one_sided_bound(values + [None], 0.9, upper=True) == math.inf  # a missing run fails a target
    single = estimate([4.0])
    assert (single.mean, single.low, single.high) == (4.0, None, None)


def test_replicate_runs_consecutive_seeds_and_reuses_the_store(tmp_path) -> None:  # noqa: ANN001
    scenario = lab()
    replicated = api.replicate(scenario, 3, seed=10, workers=1, store_root=tmp_path)
    assert [r.seed for r in replicated.records] == [10, 11, 12] and all(r.ok for r in replicated.records)
    for record, summary in zip(replicated.records, replicated.summaries(), strict=True):
        assert summary["seed"] == record.seed and summary["replications"] == 1
        assert record.metrics["utilisation"] == summary["capacity"]["utilisation"]
    data = replicated.as_dict()
    assert data["replications"] == 3 and data["interval"].startswith("Student t")
    waits = [r.metrics["wait_p95_h"] for r in replicated.records]
    assert data["metrics"]["wait_p95_h"]["mean"] == pytest.approx(statistics.fmean(waits), rel=1e-15)
    skipped = []
    more = api.replicate(scenario, 4, seed=10, workers=1, store_root=tmp_path,
                         progress=lambda state, outcome: skipped.append(outcome.skipped))
    assert skipped.count(True) == 3 and skipped.count(False) == 1
    assert [r.key for r in more.records[:3]] == [r.key for r in replicated.records]
