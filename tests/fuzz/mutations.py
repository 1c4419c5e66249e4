"""Hypothesis strategies that break real inputs the ways users (and disks) do.

A scenario is a built-in one, parsed, with keys dropped, duplicated, renamed, retyped and
re-valued (out-of-range numbers, impossible dates, odd text), dumped back to YAML, and
sometimes damaged as bytes (non-UTF-8, truncation, binary noise). A trace is the first
rows of a real file with cells emptied, retyped and re-valued, rows cut short or lengthened,
header names changed, and the same byte-level damage. A fault log is the real JSON with
the same structural mutations as a scenario.
"""

from __future__ import annotations

import json
from typing import Any

import yaml
from hypothesis import strategies as st

Path_ = tuple[Any, ...]

ODD_NUMBERS = [0, -1, -0.5, 1e-12, 1e15, 2**63, -(2**63), 1e308, float("inf"), float("-inf"), float("nan"), 0.5,
               3, 7.25, 100000]
ODD_TEXT = ["", " ", "x", "null", "yes", "1e999", "0x10", "-", "\u00e9\u00e8", "\u2603", "a" * 300, "2026-02-30",
            "12:30", "${HOME}", "../../etc/passwd", "nan", "inf", "[1, 2]", "{a: 1}", "\t", "'", '"']
BYTES = [b"\xff", b"\xc3", b"\x00", b"\t", b":", b"- ", b"\n  "]
BAD_DATES = ["2026-02-30", "2026-13-01", "2026-00-10", "2026-01-01T25:00:00", "2026-01-01T12:61:00", "0000-01-01",
             "9999-12-31", "1970-01-01", "2026-1-1", "20260101", "2026/01/01", "tomorrow", "2026-01-01T00:00:00+25:00"]


def scalars() -> st.SearchStrategy[Any]:
    """Values of any scalar type, odd ones more often than not."""
    return st.one_of(
        st.none(), st.booleans(), st.sampled_from(ODD_NUMBERS), st.integers(-(2**70), 2**70),
        st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(ODD_TEXT), st.text(max_size=12),
        st.sampled_from(BAD_DATES))


def values() -> st.SearchStrategy[Any]:
    """Scalars, or small lists and mappings of them."""
    return st.one_of(scalars(), st.lists(scalars(), max_size=3),
                     st.dictionaries(st.sampled_from(["a", "name", "gpus", "date", "x"]), scalars(), max_size=3))


def _paths(node: Any, prefix: Path_ = ()) -> list[Path_]:
    found: list[Path_] = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


def _at(node: Any, path: Path_) -> Any:
    for part in path:
        node = node[part]
    return node


def _revalued(draw: Any, value: Any) -> Any:
    """A value of the same kind where it has one, pushed to an edge."""
    if isinstance(value, bool):
        return draw(st.sampled_from([not value, None, 0, "no"]))
    if isinstance(value, int | float):
        return draw(st.sampled_from([-value, 0, value * 1e9, value / 1e9, value + 0.5, -1, float("nan"),
                                     float("inf"), 2**64, 1e-300]))
    if isinstance(value, str):
        return draw(st.sampled_from([value + "x", value.upper(), "", value[: len(value) // 2], *BAD_DATES[:3]]))
    return draw(values())


@st.composite
def mutated_structure(draw: Any, base: Any, max_ops: int = 4) -> Any:
    """`base` (parsed YAML or JSON) after 1 to `max_ops` random mutations."""
    doc = json.loads(json.dumps(base, default=str))  # a deep copy with dates as text
    for _ in range(draw(st.integers(1, max_ops))):
        paths = [path for path in _paths(doc) if path]
        if not paths:
            return draw(values())
        path = draw(st.sampled_from(paths))
        parent, key = _at(doc, path[:-1]), path[-1]
        op = draw(st.sampled_from(["drop", "duplicate", "rename", "retype", "revalue", "date", "empty"]))
        if op == "drop":
            del parent[key]
        elif op == "duplicate":
            if isinstance(parent, list):
                parent.insert(key, json.loads(json.dumps(parent[key])))
            else:
                parent[f"{key}_copy" if draw(st.booleans()) else str(key).upper()] = parent[key]
        elif op == "rename" and isinstance(parent, dict):
            parent[draw(st.sampled_from([f"{key}s", str(key)[:-1], str(key).replace("_", "-"), "", "unknown"]))] = \
                parent.pop(key)
        elif op == "retype":
            parent[key] = draw(values())
        elif op == "revalue":
            parent[key] = _revalued(draw, parent[key])
        elif op == "date":
            parent[key] = draw(st.sampled_from(BAD_DATES))
        else:
            parent[key] = [] if isinstance(parent[key], list) else {} if isinstance(parent[key], dict) else None
    return doc


@st.composite
def damaged_bytes(draw: Any, data: bytes) -> bytes:
    """`data`, often untouched, else with bytes inserted, replaced or cut off."""
    op = draw(st.sampled_from(["none", "none", "none", "insert", "replace", "truncate", "noise", "bom", "crlf",
                               "duplicate-line"]))
    if op == "none" or not data:
        return data
    at = draw(st.integers(0, len(data)))
    if op == "insert":
        return data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
    if op == "replace":
        return data[:at] + draw(st.sampled_from(BYTES)) + data[at + 1:]
    if op == "truncate":
        return data[:at]
    if op == "noise":
        return draw(st.binary(max_size=200))
    if op == "bom":
        return b"\xef\xbb\xbf" + data
    if op == "crlf":
        return data.replace(b"\n", b"\r\n")
    lines = data.split(b"\n")
    line = draw(st.integers(0, len(lines) - 1))
    return b"\n".join(lines[: line + 1] + lines[line:])


@st.composite
def scenario_bytes(draw: Any, texts: list[str]) -> bytes:
    """A built-in scenario's text, mutated as a structure and damaged as bytes."""
    text = draw(st.sampled_from(texts))
    doc = draw(mutated_structure(yaml.safe_load(text)))
    dumped = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True).encode("utf-8")
    return draw(damaged_bytes(dumped))


def _cell(draw: Any, cell: str) -> str:
    op = draw(st.sampled_from(["keep", "keep", "empty", "odd", "number", "negative", "huge", "date", "quote"]))
    if op == "keep":
        return cell
    if op == "empty":
        return ""
    if op == "odd":
        return str(draw(st.sampled_from(ODD_TEXT))).replace(",", ";").replace("\n", " ")
    if op == "number":
        return repr(draw(st.sampled_from(ODD_NUMBERS)))
    if op == "negative":
        return "-" + cell
    if op == "huge":
        return cell + "0" * draw(st.integers(5, 30))
    if op == "date":
        return draw(st.sampled_from(BAD_DATES))
    return '"' + cell


@st.composite
def csv_bytes(draw: Any, text: str, separator: str = ",", comment: str | None = None) -> bytes:
    """The rows of a delimited text table (a header line first, unless every line is data
    after `comment` lines) with cells and rows mutated, then damaged as bytes."""
    lines = text.splitlines()
    kept = [line for line in lines if comment is not None and line.startswith(comment)]
    lines = [line for line in lines if not (comment is not None and line.startswith(comment))]
    header, rows = lines[0], lines[1:]
    if draw(st.integers(0, 9)) == 0:  # the header itself
        names = header.split(separator)
        index = draw(st.integers(0, len(names) - 1))
        names[index] = draw(st.sampled_from(["", names[index] + "x", names[index].upper(), names[0]]))
        header = separator.join(names)
    out = []
    for row in rows:
        cells = row.split(separator)
        if draw(st.integers(0, 3)) == 0:
            cells = [_cell(draw, cell) for cell in cells]
            shape = draw(st.sampled_from(["same", "same", "short", "long", "blank"]))
            if shape == "short":
                cells = cells[: draw(st.integers(0, len(cells) - 1))]
            elif shape == "long":
                cells = [*cells, "extra"]
            elif shape == "blank":
                cells = []
        out.append(separator.join(cell.replace(separator, " ") for cell in cells))
    data = "\n".join([*kept, header, *out]) + "\n"
    return draw(damaged_bytes(data.encode("utf-8")))


@st.composite
def json_bytes(draw: Any, text: str) -> bytes:
    """A JSON document mutated as a structure, then damaged as bytes."""
    doc = draw(mutated_structure(json.loads(text), max_ops=3))
    return draw(damaged_bytes(json.dumps(doc, allow_nan=True).encode("utf-8")))


@st.composite
def jsonl_bytes(draw: Any, text: str) -> bytes:
    """JSON Lines with records mutated one by one, then damaged as bytes."""
    lines = []
    for line in text.splitlines():
        record = json.loads(line)
        if draw(st.integers(0, 3)) == 0:
            record = draw(mutated_structure(record, max_ops=2))
        lines.append(json.dumps(record, allow_nan=True))
    return draw(damaged_bytes(("\n".join(lines) + "\n").encode("utf-8")))
