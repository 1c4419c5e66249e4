"""The job table: the fast row unique against numpy's own, and the merged names, kinds and teams."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from gpufleet.workload.jobs import JobColumns, JobTable, _unique_rows


@pytest.mark.parametrize("rows", [0, 1, 7, 5_000])
def test_unique_rows_matches_numpy_unique_by_rows(rows: int) -> None:
    rng = np.random.default_rng(rows)
    keys = np.stack([rng.choice([1, 8, 64, 4096, 100_000], rows), rng.choice([1, 8, 72], rows),
                     rng.integers(0, 2, rows), rng.integers(0, 3, rows)], axis=1).astype(np.int64)
    unique, inverse = _unique_rows(keys)
    expected, expected_inverse = np.unique(keys, axis=0, return_inverse=True)
    assert unique.shape == expected.shape and (unique == expected).all()
    assert (inverse.reshape(-1) == expected_inverse.reshape(-1)).all()
    assert (unique[inverse] == keys).all()


def test_unique_rows_with_values_too_large_for_one_code() -> None:
    keys = np.array([[2**40, 3], [5, 2**30], [2**40, 3]], dtype=np.int64)
    unique, inverse = _unique_rows(keys)
    assert unique.tolist() == [[5, 2**30], [2**40, 3]]
    assert inverse.reshape(-1).tolist() == [1, 0, 1]


def test_names_kinds_and_teams_merge_in_submit_order() -> None:
    """Unnamed jobs are called <workload>-<i> (i: their place in their workload, before the merge)."""
    def part(workload: str, submit: list[float], names: list[str] | None, kind: str) -> JobColumns:
        n = len(submit)
        ones, floats = np.ones(n, dtype=np.int64), np.ones(n)
        return JobColumns(workload, np.array(submit), ones, ones, np.zeros(n, dtype=bool), floats, floats, floats,
                          [f"team-{workload}"] * n, names=names, kind=kind)

    table = JobTable.concat([part("a", [5.0, 1.0, 3.0], None, "synthetic"),
                             part("b", [2.0, 4.0], ["x", "é"], "explicit"), part("c", [], None, "trace")])
    assert table.names.to_pylist() == ["a-1", "x", "a-2", "é", "a-0"]
    assert table.kind.to_pylist() == ["synthetic", "explicit", "synthetic", "explicit", "synthetic"]
    assert table.team.tolist() == ["team-a", "team-b", "team-a", "team-b", "team-a"]
    assert table.names.type == pa.string()
