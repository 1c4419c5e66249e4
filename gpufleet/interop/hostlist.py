"""Slurm hostlist expressions: `node[01-04,07]`, `rack[1-2]-n[1-3]`, `a1,b[2-3]`.

A bracket holds comma-separated numbers and ranges; a range keeps the zero padding of
its first bound (`[08-10]` gives 08, 09, 10). Several brackets in one name multiply
out, left to right. Top-level commas separate names.
"""

from __future__ import annotations

import re

_RANGE = re.compile(r"^(\d+)(?:-(\d+))?$")
MAX_HOSTS = 1_000_000
"""Most names one expression may expand to (a guard against typos such as `n[1-99999999]`)."""


def expand(text: str) -> list[str]:
    """Every host name of a hostlist expression, in order (duplicates kept).

    Raises:
        ValueError: on an unbalanced bracket, an empty or reversed range, or a bad number.
    """
    names: list[str] = []
    for part in _split_top(text.strip()):
        if not part:
            raise ValueError(f"hostlist {text!r}: empty name between commas")
        names.extend(_expand_one(part, text))
        if len(names) > MAX_HOSTS:
            raise ValueError(f"hostlist {text!r}: more than {MAX_HOSTS:,} names")
    return names


def _split_top(text: str) -> list[str]:
    """Split at commas outside brackets."""
    parts, depth, current = [], 0, ""
    for char in text:
        if char == "[":
            depth += 1
            if depth > 1:
                raise ValueError(f"hostlist {text!r}: nested brackets")
        elif char == "]":
            depth -= 1
            if depth < 0:
                raise ValueError(f"hostlist {text!r}: ']' without '['")
        if char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    if depth:
        raise ValueError(f"hostlist {text!r}: '[' without ']'")
    parts.append(current.strip())
    return parts if text else []


def _expand_one(name: str, whole: str) -> list[str]:
    start = name.find("[")
    if start < 0:
        if "]" in name:
            raise ValueError(f"hostlist {whole!r}: ']' without '['")
        return [name]
    end = name.index("]", start)
    head, body, tail = name[:start], name[start + 1: end], name[end + 1:]
    values = []
    for item in body.split(","):
        match = _RANGE.match(item.strip())
        if not match:
            raise ValueError(f"hostlist {whole!r}: {item.strip()!r} is not a number or a range like 01-04")
        low_text, high_text = match.group(1), match.group(2)
        low = int(low_text)
        high = int(high_text) if high_text is not None else low
        if high < low:
            raise ValueError(f"hostlist {whole!r}: range {item.strip()!r} runs backwards")
        if high - low >= MAX_HOSTS:
            raise ValueError(f"hostlist {whole!r}: range {item.strip()!r} has more than {MAX_HOSTS:,} names")
        width = len(low_text) if low_text.startswith("0") and len(low_text) > 1 else 0
        values.extend(str(number).zfill(width) for number in range(low, high + 1))
    return [f"{head}{value}{rest}" for value in values for rest in _expand_one(tail, whole)]


_NUMBERED = re.compile(r"^(.*?)(\d+)$")


def compress(names: list[str]) -> str:
    """A short hostlist expression for `names` (order kept; runs of a numbered prefix joined).

    `expand(compress(names)) == names` for any list of names without brackets or commas.
    """
    groups: list[tuple[str, list[str]]] = []
    for name in names:
        match = _NUMBERED.match(name)
        prefix, digits = (match.group(1), match.group(2)) if match else (name, "")
        if digits and groups and groups[-1][0] == prefix and groups[-1][1]:
            groups[-1][1].append(digits)
        else:
            groups.append((prefix, [digits] if digits else []))
    parts = []
    for prefix, numbers in groups:
        if not numbers:
            parts.append(prefix)
        elif len(numbers) == 1:
            parts.append(prefix + numbers[0])
        else:
            parts.append(f"{prefix}[{_ranges(numbers)}]")
    return ",".join(parts)


def _ranges(numbers: list[str]) -> str:
    """'01,02,03,07' -> '01-03,07' (a run keeps one width and counts up by one)."""
    out: list[str] = []
    run = [numbers[0]]
    for text in numbers[1:]:
        last = run[-1]
        if int(text) == int(last) + 1 and _width_ok(run[0], text):
            run.append(text)
        else:
            out.append(_run(run))
            run = [text]
    out.append(_run(run))
    return ",".join(out)


def _width_ok(first: str, text: str) -> bool:
    """A range keeps the padding of its first bound: every member must print back the same."""
    width = len(first) if first.startswith("0") and len(first) > 1 else 0
    return str(int(text)).zfill(width) == text


def _run(run: list[str]) -> str:
    return run[0] if len(run) == 1 else f"{run[0]}-{run[-1]}"
