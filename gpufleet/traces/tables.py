"""What a trace reader returns: a job table or a request table, with its read report.

Times are float seconds. For traces with calendar dates they count from 1970-01-01 UTC
(naive times are taken as UTC), so hour of day and weekday are real; for traces in
relative seconds (openb) they count from the trace's own origin, whose clock time and
weekday are unknown (`calendar` is False).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from gpufleet.traces.report import ReadReport


@dataclass
class JobTrace:
    """Jobs of a cluster trace, one entry per kept row, in file order.

    Attributes:
        submit_s: submit (creation) time; NaN when the trace has none.
        gpus: whole GPUs requested (0: CPU-only); -1 when the trace has no GPU counts.
        gpu_share: GPUs actually held: `gpus`, or the fraction of one GPU for a sharing pod.
        duration_s: run time; NaN for jobs that never ran (e.g. openb Pending pods).
        wait_s: real queueing delay (start - submit); NaN when unknown.
        names, team, queue, priority, status: Arrow string columns, or None if absent.
        flavors: per job, the GPU types it may use (None: any); None if the trace has none.
        extra: other categorical columns worth counting (e.g. openb `qos`).
        calendar: times are calendar (epoch) seconds.
        group: per job, the GPUs that must share one NVLink domain (rack), when the trace
            says (e.g. GPUs per node); 0 where unknown; None for traces without it.
        within_block: per job, whether the whole gang must stay in one block; None: never.
        time_limit_s: per job, its time limit (inf: none; NaN: unknown); None for traces without.
        nodes: per job, the nodes it ran on as the trace writes them (a Slurm hostlist); None
            for traces without.
        withdrawn_s: per job that never started, when it left the queue (cancelled); NaN
            when unknown or when it started; None for traces without.
        job_class: per job, its class label for a throughput matrix (e.g. the model it
            trains); None for traces without.
    """

    report: ReadReport
    submit_s: np.ndarray
    gpus: np.ndarray
    gpu_share: np.ndarray
    duration_s: np.ndarray
    wait_s: np.ndarray
    calendar: bool
    names: pa.ChunkedArray | None = None
    team: pa.ChunkedArray | None = None
    queue: pa.ChunkedArray | None = None
    priority: pa.ChunkedArray | None = None
    status: pa.ChunkedArray | None = None
    flavors: list[tuple[str, ...] | None] | None = None
    extra: dict[str, pa.ChunkedArray] = field(default_factory=dict)
    group: np.ndarray | None = None
    within_block: np.ndarray | None = None
    time_limit_s: np.ndarray | None = None
    nodes: list[str | None] | None = None
    withdrawn_s: np.ndarray | None = None
    job_class: pa.ChunkedArray | None = None

    def __len__(self) -> int:
        return len(self.duration_s)

    @property
    def has_submit(self) -> bool:
        return bool(len(self)) and not bool(np.isnan(self.submit_s).all())

    @property
    def has_gpus(self) -> bool:
        return bool(len(self)) and bool((self.gpus >= 0).all())


@dataclass
class RequestTrace:
    """Inference requests, one per kept row, in file order.

    Attributes:
        arrival_s: arrival time.
        input_tokens: prompt length.
        output_tokens: generated length.
        calendar: times are calendar (epoch) seconds.
    """

    report: ReadReport
    arrival_s: np.ndarray
    input_tokens: np.ndarray
    output_tokens: np.ndarray
    calendar: bool

    def __len__(self) -> int:
        return len(self.arrival_s)

    def to_arrow(self) -> pa.Table:
        """The request table (arrival_s, input_tokens, output_tokens)."""
        return pa.table({"arrival_s": self.arrival_s, "input_tokens": self.input_tokens,
                         "output_tokens": self.output_tokens})


class Columns:
    """Whole columns filled batch by batch: numeric ones into preallocated arrays, text ones as chunks.

    Numeric columns are written in place (sized by the reader's estimate of the row count,
    grown by half when it falls short), so reading never holds the columns twice.
    """

    def __init__(self) -> None:
        self._numeric: dict[str, list] = {}  # name -> [buffer, rows written]
        self._text: dict[str, list[pa.Array]] = {}
        self._expected = 0

    def expect(self, rows: int | None) -> None:
        """The reader's estimate of the rows to come (sizes the buffers)."""
        if rows:
            self._expected = max(self._expected, int(rows))

    def add(self, name: str, values: np.ndarray) -> None:
        entry = self._numeric.get(name)
        if entry is None:
            entry = self._numeric[name] = [np.empty(max(self._expected, len(values), 1024), dtype=values.dtype), 0]
        buffer, written = entry
        end = written + len(values)
        if end > len(buffer):
            grown = np.empty(max(end, self._expected, len(buffer) + len(buffer) // 2), dtype=buffer.dtype)
            grown[:written] = buffer[:written]
            entry[0] = buffer = grown
        buffer[written:end] = values
        entry[1] = end

    def add_text(self, name: str, values: pa.Array) -> None:
        self._text.setdefault(name, []).append(values)

    def numeric(self, name: str, dtype: type = np.float64) -> np.ndarray:
        """The whole column (taken once: its buffer is handed over, trimmed)."""
        entry = self._numeric.pop(name, None)
        if entry is None:
            return np.zeros(0, dtype=dtype)
        buffer, written = entry
        out = buffer[:written]
        if out.dtype != dtype or len(buffer) > written + written // 10 + 1024:
            out = out.astype(dtype)  # a copy, so an oversized buffer is released
        return out

    def text(self, name: str) -> pa.ChunkedArray | None:
        """The whole text column, as the batches' chunks (no copy)."""
        parts = self._text.get(name)
        if parts is None:
            return None
        return pa.chunked_array(parts, type=pa.string())
