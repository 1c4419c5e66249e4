"""The job table's shape index: the fast row unique against numpy's own."""

from __future__ import annotations

import numpy as np
import pytest

from gpufleet.workload.jobs import _unique_rows


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
