"""The job table: every training job of a run as columns, sorted by submit time.

Columns are numpy arrays (for output and vector maths); the simulator reads the hot
ones as Python lists, which index faster than numpy scalars in a Python loop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

Shape = tuple[int, int, bool, tuple[str, ...] | None]
"""(gpus, group size, within_block, flavors): jobs of one shape place alike."""


@dataclass
class JobColumns:
    """Jobs from one workload, in any order (`JobTable.concat` sorts them)."""

    workload: str
    submit_s: np.ndarray
    gpus: np.ndarray
    group: np.ndarray
    within_block: np.ndarray
    duration_s: np.ndarray
    time_limit_s: np.ndarray
    estimate_s: np.ndarray
    team: list[str]
    names: list[str] | None = None
    flavors: tuple[str, ...] | None = None
    kind: str = "synthetic"
    labels: list[str] | None = None
    """Per job, its class label (e.g. a trace's model name) for the throughput matrix; None: none."""

    def __len__(self) -> int:
        return len(self.submit_s)


@dataclass
class JobTable:
    """All jobs, sorted by (submit time, workload order, order within the workload).

    Attributes:
        shape: per job, an index into `shapes`.
        shapes: the distinct (gpus, group, within_block, flavors) of the jobs.
    """

    workload: np.ndarray  # index into workloads
    workloads: list[str]
    names: pa.StringArray  # Arrow, not an object array: no Python string per job
    team: np.ndarray  # object array of str
    kind: pa.StringArray  # "synthetic", "explicit", ... (Arrow: no Python string per job)
    submit_s: np.ndarray
    gpus: np.ndarray
    group: np.ndarray
    within_block: np.ndarray
    duration_s: np.ndarray
    time_limit_s: np.ndarray
    estimate_s: np.ndarray
    shape: np.ndarray
    shapes: list[Shape] = field(default_factory=list)
    label: np.ndarray | None = None
    """Per job, its class label ("" when it has none); None when no workload labels its jobs."""

    def __len__(self) -> int:
        return len(self.submit_s)

    @property
    def run_s(self) -> np.ndarray:
        """Time each job holds its GPUs once started: its duration, cut at its time limit."""
        return np.minimum(self.duration_s, self.time_limit_s)

    @classmethod
    def concat(cls, parts: list[JobColumns]) -> JobTable:
        """Merge workloads into one table sorted by submit time (stable across workloads)."""
        parts = [part for part in parts if len(part)] or [_empty()]
        workload = np.concatenate([np.full(len(part), i, dtype=np.int64) for i, part in enumerate(parts)])
        submit = np.concatenate([part.submit_s for part in parts]).astype(np.float64)
        order = np.lexsort((np.arange(len(submit)), workload, submit))

        def col(name: str, dtype: type) -> np.ndarray:
            return np.concatenate([getattr(part, name) for part in parts]).astype(dtype)[order]

        names = pa.concat_arrays([_names(part) for part in parts]).take(pa.array(order))
        team = np.concatenate([np.array(part.team, dtype=object) for part in parts])[order]
        kind = pa.array([part.kind for part in parts], type=pa.string()).take(pa.array(workload[order]))
        # Workloads with the same flavor list share an index, so their shapes merge.
        flavor_lists = list(dict.fromkeys(part.flavors for part in parts))
        flavor_index = np.concatenate([
            np.full(len(part), flavor_lists.index(part.flavors), dtype=np.int64) for part in parts
        ])[order]
        gpus, group, within = col("gpus", np.int64), col("group", np.int64), col("within_block", bool)
        # Placement counts whole groups: k groups free means k * group GPUs free.
        assert not (gpus % group).any(), "every job's GPUs split into whole NVLink groups"
        unique, shape = _unique_columns([gpus, group, within.astype(np.int64), flavor_index])
        shapes = [(g, s, bool(w), flavor_lists[f]) for g, s, w, f in unique.tolist()]
        label = None
        if any(part.labels is not None for part in parts):
            label = np.concatenate([np.array(part.labels if part.labels is not None else [""] * len(part),
                                             dtype=object) for part in parts])[order]
        return cls(
            workload=workload[order],
            workloads=[part.workload for part in parts],
            names=names,
            team=team,
            kind=kind,
            submit_s=submit[order],
            gpus=gpus,
            group=group,
            within_block=within,
            duration_s=col("duration_s", np.float64),
            time_limit_s=col("time_limit_s", np.float64),
            estimate_s=col("estimate_s", np.float64),
            shape=shape.reshape(-1).astype(np.int64),
            shapes=shapes,
            label=label,
        )


def _names(part: JobColumns) -> pa.StringArray:
    """The part's job names: its own, else "<workload>-<i>" for its i-th job (built by Arrow)."""
    if part.names is not None:
        return pa.array(part.names, type=pa.string())
    numbers = pa.array(np.arange(len(part), dtype=np.int64)).cast(pa.string())
    return pc.binary_join_element_wise(f"{part.workload}-", numbers, "")


def _unique_rows(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`np.unique(keys, axis=0, return_inverse=True)` for non-negative integer rows, in
    one sort of a mixed-radix code per row (same order, 60× faster on a million rows)."""
    return _unique_columns([keys[:, column] for column in range(keys.shape[1])])


def _unique_columns(columns: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """`_unique_rows` of the rows whose columns are `columns` (no row-major copy of them)."""
    n = len(columns[0])
    radices = [int(column.max()) + 1 for column in columns] if n else [1] * len(columns)
    if math.prod(radices) >= 2**62:
        return np.unique(np.stack(columns, axis=1), axis=0, return_inverse=True)
    code = np.zeros(n, dtype=np.int64)
    for column, radix in zip(columns, radices, strict=True):
        code = code * radix + column
    unique_codes, inverse = np.unique(code, return_inverse=True)
    first = np.empty(len(unique_codes), dtype=np.int64)
    first[inverse] = np.arange(n)
    return np.stack([column[first] for column in columns], axis=1), inverse


def _empty() -> JobColumns:
    empty_f, empty_i = np.zeros(0), np.zeros(0, dtype=np.int64)
    return JobColumns("none", empty_f, empty_i, empty_i, np.zeros(0, dtype=bool),
                      empty_f, empty_f, empty_f, [])
