"""Which engine runs a simulation (kept apart from `sim.native` so the CLI can name it cheaply)."""

from __future__ import annotations

from enum import StrEnum


class EngineChoice(StrEnum):
    """auto: the native core when it covers the run, else the Python engine; native: the core
    or an error naming what it lacks; python: the reference engine."""

    auto = "auto"
    native = "native"
    python = "python"
