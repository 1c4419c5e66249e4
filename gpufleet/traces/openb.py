"""Alibaba GPU cluster trace v2023 ("openb"): pod lists and node lists.

Pod list columns: name, cpu_milli, memory_mib, num_gpu, gpu_milli, gpu_spec, qos,
pod_phase, creation_time, deletion_time, scheduled_time (times in seconds from the
trace start; scheduled_time empty for pods never scheduled). Node list columns: sn,
cpu_milli, memory_mib, gpu, model (empty model = CPU-only node).

A pod's run time is deletion - scheduled, its real wait scheduled - creation. Pods
still running when the trace ends were deleted at its end, so their run times are cut
there. The reader keeps every valid pod; what to do with CPU-only, GPU-sharing and
never-scheduled pods is the caller's choice (stats show them, replays count them).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gpufleet.traces.csvread import blank_rows, read_header, resolve_columns, stream_csv
from gpufleet.traces.parse import integers_ok, numbers
from gpufleet.traces.report import ReadReport
from gpufleet.traces.rows import RowFlags
from gpufleet.traces.tables import Columns, JobTrace

POD_COLUMNS = ("name", "cpu_milli", "memory_mib", "num_gpu", "gpu_milli", "gpu_spec", "qos", "pod_phase",
               "creation_time", "deletion_time", "scheduled_time")
POD_OPTIONAL = {"cpu_milli", "memory_mib", "gpu_spec", "qos"}
NODE_COLUMNS = ("sn", "cpu_milli", "memory_mib", "gpu", "model")
FULL_GPU_MILLI = 1000
BLANK = "blank line"


def read_pods(path: str | Path, block_bytes: int | None = None) -> JobTrace:
    """Read an openb pod list (e.g. openb_pod_list_default.csv), streaming."""
    path = Path(path)
    report = ReadReport(str(path), "alibaba-openb")
    header = read_header(path)
    columns = resolve_columns(path, header, {name: name for name in POD_COLUMNS}, POD_OPTIONAL)
    out = Columns()
    kwargs = {} if block_bytes is None else {"block_bytes": block_bytes}
    for batch in stream_csv(path, columns, report, header, **kwargs):
        cols = batch.columns
        blank = blank_rows(batch)
        flags = RowFlags(batch, skip=blank)
        flags.flag(cols["name"].is_null().to_numpy(zero_copy_only=False), "name: missing value")
        gpus = _whole(flags, cols, "num_gpu", low=0)
        milli = _whole(flags, cols, "gpu_milli", low=0, high=FULL_GPU_MILLI)
        flags.flag((gpus >= 2) & (milli != FULL_GPU_MILLI),
                   "gpu_milli: {0:g} with num_gpu {1:g}: only one-GPU pods share a GPU", milli, gpus)
        flags.flag((gpus == 0) & (milli > 0), "gpu_milli: {0:g} on a pod with no GPU", milli)
        flags.flag((gpus == 1) & (milli == 0), "gpu_milli: 0 on a pod with one GPU")
        created = _time(flags, cols, "creation_time", required=True)
        deleted = _time(flags, cols, "deletion_time", required=True)
        scheduled = _time(flags, cols, "scheduled_time", required=False)
        flags.flag(deleted < created, "deletion_time {0:g} is before creation_time {1:g} (negative lifetime)",
                   deleted, created)
        flags.flag(scheduled < created, "scheduled_time {0:g} is before creation_time {1:g}", scheduled, created)
        flags.flag(scheduled > deleted, "scheduled_time {0:g} is after deletion_time {1:g} (negative run time)",
                   scheduled, deleted)
        flags.flag(cols["pod_phase"].is_null().to_numpy(zero_copy_only=False), "pod_phase: missing value")
        good = flags.commit(report)
        out.expect(batch.expected_rows)
        report.leave_out(BLANK, int(blank.sum()))
        out.add("submit", created[good])
        out.add("gpus", gpus[good].astype(np.int64))
        out.add("share", np.where(gpus == 1, milli / FULL_GPU_MILLI, gpus)[good])
        out.add("duration", (deleted - scheduled)[good])
        out.add("wait", (scheduled - created)[good])
        keep = pa.array(good)
        for name in ("name", "pod_phase", "qos", "gpu_spec"):
            if name in cols:
                out.add_text(name, cols[name].filter(keep))
    gpu_spec = out.text("gpu_spec")
    qos = out.text("qos")
    return JobTrace(
        report=report,
        submit_s=out.numeric("submit"),
        gpus=out.numeric("gpus", np.int64),
        gpu_share=out.numeric("share"),
        duration_s=out.numeric("duration"),
        wait_s=out.numeric("wait"),
        calendar=False,
        names=out.text("name"),
        status=out.text("pod_phase"),
        flavors=_flavors(gpu_spec) if gpu_spec is not None else None,
        extra={"qos": qos} if qos is not None else {},
    )


def _whole(flags: RowFlags, cols: dict[str, pa.Array], field: str, low: float,
           high: float | None = None) -> np.ndarray:
    """A required whole-number column in [low, high]; bad cells flagged."""
    column = cols[field]
    values, bad = numbers(column)
    flags.flag_value(bad, field, column, "is not a number")
    flags.flag_missing(field, values)
    flags.flag_value(~np.isnan(values) & ~integers_ok(values), field, column, "is not a whole number")
    out_of_range = values < low if high is None else (values < low) | (values > high)
    limits = f"at least {low:g}" if high is None else f"from {low:g} to {high:g}"
    flags.flag_value(out_of_range, field, column, f"is out of range (expected {limits})")
    return values


def _time(flags: RowFlags, cols: dict[str, pa.Array], field: str, required: bool) -> np.ndarray:
    column = cols[field]
    values, bad = numbers(column)
    flags.flag_value(bad, field, column, "is not a time in seconds")
    if required:
        flags.flag_missing(field, values)
    flags.flag_value(values < 0, field, column, "is negative (times count seconds from the trace start)")
    return values


def _flavors(gpu_spec: pa.ChunkedArray) -> list[tuple[str, ...] | None]:
    """Per pod, the GPU types it may use (`V100M16|V100M32`), or None for any."""
    return [tuple(part for part in text.split("|") if part) or None if text else None
            for text in gpu_spec.to_pylist()]


@dataclass
class NodeList:
    """Nodes of a cluster: id, GPUs and GPU model (None for CPU-only nodes), CPU and memory."""

    report: ReadReport
    names: list[str]
    gpus: np.ndarray
    model: list[str | None]
    cpu_milli: np.ndarray
    memory_mib: np.ndarray

    def __len__(self) -> int:
        return len(self.names)


def read_nodes(path: str | Path) -> NodeList:
    """Read an openb node list (e.g. openb_node_list_all_node.csv)."""
    path = Path(path)
    report = ReadReport(str(path), "alibaba-openb-nodes")
    header = read_header(path)
    columns = resolve_columns(path, header, {name: name for name in NODE_COLUMNS}, set())
    names: list[str] = []
    model: list[str | None] = []
    out = Columns()
    for batch in stream_csv(path, columns, report, header):
        cols = batch.columns
        blank = blank_rows(batch)
        flags = RowFlags(batch, skip=blank)
        flags.flag(cols["sn"].is_null().to_numpy(zero_copy_only=False), "sn: missing value")
        gpus = _whole(flags, cols, "gpu", low=0)
        cpu = _whole(flags, cols, "cpu_milli", low=0)
        memory = _whole(flags, cols, "memory_mib", low=0)
        has_model = cols["model"].is_valid().to_numpy(zero_copy_only=False)
        flags.flag((gpus > 0) & ~has_model, "model: missing for a node with {0:g} GPUs", gpus)
        flags.flag((gpus == 0) & has_model, "model: given for a node with no GPU")
        good = flags.commit(report)
        out.expect(batch.expected_rows)
        report.leave_out(BLANK, int(blank.sum()))
        keep = pa.array(good)
        names += cols["sn"].filter(keep).to_pylist()
        model += pc.utf8_trim_whitespace(cols["model"].filter(keep)).to_pylist()
        out.add("gpus", gpus[good])
        out.add("cpu", cpu[good])
        out.add("memory", memory[good])
    return NodeList(report, names, out.numeric("gpus", np.int64), model, out.numeric("cpu", np.int64),
                    out.numeric("memory", np.int64))
