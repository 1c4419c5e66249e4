"""Errors that reach the user as a clear message and exit code 2."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an input: where (file, line, field path) and what."""

    message: str
    path: tuple[str | int, ...] = ()
    file: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = self.file or "<scenario>"
        if self.line is not None:
            where += f":{self.line}"
        field_path = format_path(self.path)
        return f"{where}: {field_path}: {self.message}" if field_path else f"{where}: {self.message}"


def format_path(path: tuple[str | int, ...]) -> str:
    """Render ('fleet', 'pools', 0, 'gpu') as 'fleet.pools[0].gpu'."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


@dataclass
class InputError(Exception):
    """Bad input: a malformed scenario, a broken trace row, an impossible request."""

    problems: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join(str(problem) for problem in self.problems)
