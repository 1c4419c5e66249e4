"""Inference request traces: the Azure LLM inference CSVs and a generic CSV / JSON Lines format.

A request has an arrival time, input (prompt) tokens and output (generated) tokens.
The generic format maps those three fields to any column (CSV header) or key (JSON
Lines object) and reads arrival times in any time unit; the Azure format is the
generic one with its fixed columns (TIMESTAMP, ContextTokens, GeneratedTokens) and ISO
date-times.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa

from gpufleet.spec.request_format import RequestColumns, RequestFormat
from gpufleet.spec.units import is_datetime
from gpufleet.traces.csvread import Batch, blank_rows, open_binary, read_header, resolve_columns, stream_csv
from gpufleet.traces.parse import integers_ok, numbers, times_s
from gpufleet.traces.report import ReadReport
from gpufleet.traces.rows import RowFlags
from gpufleet.traces.tables import Columns, RequestTrace

FIELDS = ("arrival", "input_tokens", "output_tokens")
JSON_BATCH = 65536


AZURE = RequestFormat(
    columns=RequestColumns(arrival="TIMESTAMP", input_tokens="ContextTokens", output_tokens="GeneratedTokens"),
    time_unit="iso",
)
"""The Azure LLM inference trace 2023 (AzureLLMInferenceTrace_code.csv / _conv.csv)."""


def read_requests(path: str | Path, how: RequestFormat | None = None, format_name: str = "generic-requests",
                  jsonl: bool | None = None, block_bytes: int | None = None) -> RequestTrace:
    """Read a request trace, streaming; JSON Lines if `jsonl` (default: by the .jsonl/.ndjson suffix)."""
    path = Path(path)
    how = how or RequestFormat()
    report = ReadReport(str(path), format_name)
    if jsonl is None:
        jsonl = path.suffix.lower() in (".jsonl", ".ndjson") or path.name.lower().endswith((".jsonl.gz", ".ndjson.gz"))
    mapping = {name: getattr(how.columns, name) for name in FIELDS}
    if jsonl:
        batches = _json_batches(path, mapping, report)
    else:
        header = read_header(path)
        found = resolve_columns(path, header, mapping, set())
        kwargs = {} if block_bytes is None else {"block_bytes": block_bytes}
        batches = stream_csv(path, found, report, header, **kwargs)
    out = Columns()
    for batch in batches:
        cols = batch.columns
        blank = blank_rows(batch)
        flags = RowFlags(batch, skip=blank)
        arrival, bad = times_s(cols["arrival"], how.time_unit)
        flags.flag_value(bad, "arrival", cols["arrival"], f"is not a time ({how.time_unit})")
        flags.flag_missing("arrival", arrival)
        tokens = {}
        for name in ("input_tokens", "output_tokens"):
            values, bad = numbers(cols[name])
            flags.flag_value(bad, name, cols[name], "is not a number")
            flags.flag_missing(name, values)
            flags.flag_value(~np.isnan(values) & (~integers_ok(values) | (values < 0)), name, cols[name],
                             "is not a whole number of tokens (0 or more)")
            tokens[name] = values
        good = flags.commit(report)
        out.expect(batch.expected_rows)
        report.leave_out("blank line", int(blank.sum()))
        out.add("arrival", arrival[good])
        out.add("input", tokens["input_tokens"][good])
        out.add("output", tokens["output_tokens"][good])
    return RequestTrace(report, out.numeric("arrival"), out.numeric("input", np.int64),
                        out.numeric("output", np.int64), calendar=is_datetime(how.time_unit))


def _json_batches(path: Path, mapping: dict[str, str], report: ReadReport) -> Iterator[Batch]:
    """JSON Lines as batches of text columns, with exact line numbers; bad lines counted."""
    stream = open_binary(path)
    values: dict[str, list[str | None]] = {name: [] for name in mapping}
    lines: list[int] = []
    kept = 0
    with stream:
        for number, raw in enumerate(stream, start=1):
            try:
                text = raw.decode("utf-8-sig" if number == 1 else "utf-8").strip()
            except UnicodeDecodeError:
                report.rows += 1
                report.add_bad(number, "not UTF-8 text")
                continue
            report.rows += 1
            if not text:
                report.leave_out("blank line", 1)
                continue
            try:
                record = json.loads(text)
            except json.JSONDecodeError as exc:
                report.add_bad(number, f"not valid JSON: {exc.msg} (column {exc.colno})")
                continue
            if not isinstance(record, dict):
                report.add_bad(number, f"expected a JSON object, found {type(record).__name__}")
                continue
            for name, key in mapping.items():
                value = record.get(key)
                values[name].append(None if value is None or value == "" else
                                    value if isinstance(value, str) else json.dumps(value))
            lines.append(number)
            if len(lines) >= JSON_BATCH:
                yield _json_batch(values, lines, kept)
                kept += len(lines)
                values = {name: [] for name in mapping}
                lines = []
    if lines:
        yield _json_batch(values, lines, kept)


def _json_batch(values: dict[str, list[str | None]], lines: list[int], kept: int) -> Batch:
    columns = {name: pa.array(column, type=pa.string()) for name, column in values.items()}
    return Batch(columns, kept, [], line_numbers=np.array(lines, dtype=np.int64))
