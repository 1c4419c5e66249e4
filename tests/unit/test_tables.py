"""The jobs table's reason histories: the flat-array build against pyarrow's own from Python rows."""

from __future__ import annotations

import random

import pyarrow as pa
import pytest

from gpufleet.results.tables import _REASON_TYPE, reasons_column


@pytest.mark.parametrize("n_jobs", [0, 1, 6, 2_000])
def test_reasons_column_equals_the_column_built_from_rows(n_jobs: int) -> None:
    draw = random.Random(n_jobs)
    history = {job: [(draw.uniform(0, 1e6), draw.choice(["queued behind head", "", "no topology fit: é"]))
                     for _ in range(draw.randint(1, 4))]
               for job in range(n_jobs) if draw.random() < 0.4}
    rows = [[{"t_s": t, "reason": why} for t, why in history.get(job, [])] for job in range(n_jobs)]
    column = reasons_column(history, n_jobs)
    assert column.type == _REASON_TYPE
    assert column.equals(pa.array(rows, type=_REASON_TYPE))
