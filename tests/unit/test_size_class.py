"""Size classes name their edges: every label says which GPU counts it holds."""

from __future__ import annotations

import numpy as np

from gpufleet import api
from gpufleet.catalog.size_class import BOUNDS, LABELS, size_class
from gpufleet.testing import jobs_workload, scenario, small_fleet


def test_labels_carry_their_edges() -> None:
    assert LABELS == ("1-8", "9-72", "73-1,024", "1,025-8,192", "8,193-65,536", ">65,536")
    gpus = np.array([1, 8, 9, 72, 73, 1024, 1025, 8192, 8193, 65536, 65537, 131072])
    assert size_class(gpus).tolist() == ["1-8", "1-8", "9-72", "9-72", "73-1,024", "73-1,024", "1,025-8,192",
                                         "1,025-8,192", "8,193-65,536", "8,193-65,536", ">65,536", ">65,536"]
    for label, high in zip(LABELS, BOUNDS, strict=False):  # each label's upper edge is its bound
        assert label.endswith(f"{high:,}")


def test_the_jobs_table_and_summary_use_the_labels() -> None:
    items = [{"name": "one", "gpus": 4, "duration_hours": 1}, {"name": "rack", "gpus": 16, "duration_hours": 1}]
    result = api.run(scenario(small_fleet(racks=2), [jobs_workload(items)], end="2026-01-02"))
    assert result.jobs["size_class"].to_pylist() == ["1-8", "9-72"]
    assert list(result.summary["wait_by_size_class"]) == ["1-8", "9-72"]
