"""The jobs table's reason histories and string columns: the flat-array and code builds against
pyarrow's own from Python rows."""

from __future__ import annotations

import random

import numpy as np
import pyarrow as pa
import pytest

from gpufleet.results.summary import Labels
from gpufleet.results.tables import _REASON_TYPE, labelled, reasons_column, strings
from gpufleet.sim.history import ColumnHistory


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


@pytest.mark.parametrize("n_jobs", [0, 1, 6, 2_000])
def test_the_cores_column_history_gives_the_same_mapping_and_column(n_jobs: int) -> None:
    """The native core returns entries as flat columns in event order (jobs interleaved):
    read as a mapping they are the Python engine's dict, and the list column is the one built
    from rows."""
    draw = random.Random(n_jobs)
    labels = ["", "queued behind head", "no topology fit: é"]
    entries = [(job, draw.uniform(0, 1e6), draw.randrange(len(labels)))
               for job in range(n_jobs) if draw.random() < 0.4 for _ in range(draw.randint(1, 4))]
    draw.shuffle(entries)
    history: dict[int, list[tuple[float, str]]] = {}
    for job, t, code in entries:
        history.setdefault(job, []).append((t, labels[code]))
    columns = ColumnHistory(np.array([job for job, _, _ in entries], dtype=np.int64),
                            np.array([t for _, t, _ in entries], dtype=np.float64),
                            np.array([code for _, _, code in entries], dtype=np.int64), labels)
    assert dict(columns) == history and len(columns) == len(history) and sorted(columns) == sorted(history)
    rows = [[{"t_s": t, "reason": why} for t, why in history.get(job, [])] for job in range(n_jobs)]
    assert reasons_column(columns, n_jobs).equals(pa.array(rows, type=_REASON_TYPE))
    assert reasons_column(columns, n_jobs).equals(reasons_column(history, n_jobs))
    with pytest.raises(KeyError):
        columns[n_jobs + 1]


def test_string_columns_from_codes_equal_those_from_python_strings() -> None:
    labels = ["completed", "queued", "never_fits: too big"]
    codes = np.array([2, 0, 0, 1, 2, 1], dtype=np.int64)
    values = np.array(labels, dtype=object)[codes]
    assert labelled(labels, codes).equals(pa.array(values.tolist(), type=pa.string()))
    assert strings(values).equals(pa.array(values.tolist(), type=pa.string()))
    summary_labels = Labels(pa.chunked_array([labelled(labels, codes[:4]), labelled(labels[::-1], codes[4:])]))
    assert [summary_labels.present[code] for code in summary_labels.codes] == \
        values[:4].tolist() + np.array(labels[::-1], dtype=object)[codes[4:]].tolist()
    assert summary_labels.equals("queued").tolist() == (values[:4] == "queued").tolist() + [False, True]
    assert not summary_labels.equals("running").any()
