"""Each job's wait-reason history as columns: the native core's form, read like the Python engine's dict.

The Python engine records `{job: [(time, reason), ...]}` as it runs. The core returns the
same entries as three flat columns; `ColumnHistory` sorts them by job once (stably, so each
job's entries keep their order) and serves them as that mapping on demand, without building a
Python list per job: the results layer reads the columns directly (`tables.reasons_column`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

import numpy as np


class ColumnHistory(Mapping[int, list[tuple[float, str]]]):
    """Per job, its (time, reason) entries in the order they happened.

    Attributes:
        job, time_s, code: one row per entry, sorted by job (entries of one job in order).
        labels: the reason text of each code.
    """

    def __init__(self, job: np.ndarray, time_s: np.ndarray, code: np.ndarray, labels: Sequence[str]) -> None:
        order = np.argsort(job, kind="stable")
        self.job = np.ascontiguousarray(job[order], dtype=np.int64)
        self.time_s = np.ascontiguousarray(time_s[order], dtype=np.float64)
        self.code = np.ascontiguousarray(code[order], dtype=np.int64)
        self.labels = list(labels)
        self._jobs = np.unique(self.job)

    def __getitem__(self, job: int) -> list[tuple[float, str]]:
        lo, hi = np.searchsorted(self.job, [job, job + 1]).tolist()
        if lo == hi:
            raise KeyError(job)
        return [(t, self.labels[c]) for t, c in zip(self.time_s[lo:hi].tolist(), self.code[lo:hi].tolist(),
                                                    strict=True)]

    def __iter__(self) -> Iterator[int]:
        return iter(self._jobs.tolist())

    def __len__(self) -> int:
        return len(self._jobs)

    def lengths(self, n_jobs: int) -> np.ndarray:
        """Entries per job, for jobs 0 .. n_jobs - 1."""
        return np.bincount(self.job, minlength=n_jobs)
