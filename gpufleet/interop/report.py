"""The import report: what was read, what each field became, what is not modelled and how often.

Every field of every object (Kueue) or every key of every line (Slurm) read is either
mapped (to a scenario field) or listed as not modelled, with the reason and the number
of objects or lines it affects. The report also carries the approximations made, the
job records read (kept, bad, left out), and the real names of the racks and blocks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gpufleet.errors import InputError, Problem
from gpufleet.interop.pools import PoolNames


class Tally:
    """Fields seen per kind of object, each mapped (to what) or not modelled (why), with object counts."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str, str | None, str | None], set[Any]] = {}

    def mapped(self, kind: str, name: str, to: str, where: Any) -> None:
        self._seen.setdefault((kind, name, to, None), set()).add(where)

    def not_modelled(self, kind: str, name: str, reason: str, where: Any) -> None:
        self._seen.setdefault((kind, name, None, reason), set()).add(where)

    def rows(self) -> list[dict[str, Any]]:
        rows = [{"kind": kind, "field": name, "mapped_to": to, "not_modelled": reason, "objects": len(where)}
                for (kind, name, to, reason), where in self._seen.items()]
        return sorted(rows, key=lambda row: (row["kind"], row["mapped_to"] is None, row["field"],
                                             row["not_modelled"] or ""))


@dataclass
class ImportReport:
    """Everything an import read and decided.

    Attributes:
        system: "kueue" or "slurm".
        files: the files read.
        objects: objects (or configuration lines) read, by kind.
        fields: one row per (kind, field, outcome): mapped_to or not_modelled, and objects affected.
        notes: approximations and assumptions, each stated once.
        jobs: the job records read (rows, kept, bad with lines, left out by reason), if any.
        pools: the real names of each pool's racks and blocks.
        levels: per flavor, the node labels of its Topology's levels (to read topology requests later).
    """

    system: str
    files: list[str]
    objects: dict[str, int] = field(default_factory=dict)
    fields: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    jobs: dict[str, Any] | None = None
    pools: list[PoolNames] = field(default_factory=list)
    levels: dict[str, list[str]] = field(default_factory=dict)

    def mapped(self) -> list[dict[str, Any]]:
        return [row for row in self.fields if row["mapped_to"] is not None]

    def not_modelled(self) -> list[dict[str, Any]]:
        return [row for row in self.fields if row["mapped_to"] is None]

    def count(self, kind: str, name: str) -> int:
        """Objects of `kind` in which `name` was seen (mapped or not)."""
        return max((row["objects"] for row in self.fields if row["kind"] == kind and row["field"] == name),
                   default=0)

    def to_dict(self) -> dict[str, Any]:
        return {"system": self.system, "files": self.files, "objects": self.objects, "fields": self.fields,
                "notes": self.notes, "jobs": self.jobs, "pools": [names.to_dict() for names in self.pools],
                "levels": self.levels}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ImportReport:
        return cls(data["system"], list(data["files"]), dict(data["objects"]), list(data["fields"]),
                   list(data["notes"]), data.get("jobs"), [PoolNames.from_dict(item) for item in data["pools"]],
                   {str(key): list(value) for key, value in (data.get("levels") or {}).items()})


def report_path(scenario_path: str | Path) -> Path:
    """Where an import writes its report beside the scenario: `NAME.import.json`."""
    path = Path(scenario_path)
    return path.with_name(f"{path.stem}.import.json")


def jobs_path(scenario_path: str | Path) -> Path:
    """Where an import writes the job records beside the scenario: `NAME.jobs.csv`."""
    path = Path(scenario_path)
    return path.with_name(f"{path.stem}.jobs.csv")


def read_report(path: str | Path) -> ImportReport | None:
    """The import report at `path`, or None when there is none."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        return ImportReport.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError([Problem(f"not an import report: {exc}", file=str(path))]) from None
