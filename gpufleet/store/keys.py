"""What identifies a run: the scenario as run, the seed, the stop date, the gpufleet
version and the engine. Same key, same results bit for bit."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gpufleet import __version__
from gpufleet.spec.scenario import Scenario

ENGINE = "python"
"""The engine that runs scenarios (the Python reference engine; a native core would get its own name)."""

KEY_CHARS = 20
"""Hex digits of the SHA-256 kept as the key (80 bits: no collision in any store a person keeps)."""


def canonical_json(scenario: Scenario) -> str:
    """The scenario as JSON with sorted keys and no spaces: one text per scenario."""
    return json.dumps(scenario.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=True)


@dataclass(frozen=True)
class RunSpec:
    """One run to do: a scenario (as canonical JSON), a seed, an optional stop date."""

    scenario_json: str
    seed: int
    until: str | None = None
    version: str = __version__
    engine: str = ENGINE

    @classmethod
    def of(cls, scenario: Scenario, seed: int, until: datetime | None = None) -> RunSpec:
        return cls(canonical_json(scenario), seed, until.isoformat() if until is not None else None)

    @property
    def key(self) -> str:
        return run_key(self.scenario_json, self.seed, self.until, self.version, self.engine)

    @property
    def scenario_key(self) -> str:
        """The scenario's own hash: the same for every seed of it (replications share it)."""
        return hashlib.sha256(self.scenario_json.encode()).hexdigest()[:KEY_CHARS]

    def scenario(self) -> Scenario:
        return Scenario.model_validate_json(self.scenario_json)

    def identity(self) -> dict[str, Any]:
        """The fields the key hashes, minus the scenario text."""
        return {"seed": self.seed, "until": self.until, "version": self.version, "engine": self.engine}


def run_key(scenario_json: str, seed: int, until: str | None, version: str = __version__,
            engine: str = ENGINE) -> str:
    """SHA-256 of the canonical scenario JSON, the seed, the stop date, the version and the engine."""
    text = json.dumps({"scenario": json.loads(scenario_json), "seed": seed, "until": until, "version": version,
                       "engine": engine}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:KEY_CHARS]
