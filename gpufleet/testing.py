"""Factories for small scenarios, shipped with the package for tests and examples."""

from __future__ import annotations

from typing import Any

from gpufleet.sim.load import parse_scenario
from gpufleet.spec.scenario import Scenario


def small_fleet(racks: int = 2, gpus_per_node: int = 4, nodes_per_rack: int = 2, racks_per_block: int = 64,
                gpu: str = "H100", name: str = "pool") -> dict[str, Any]:
    """A one-pool fleet section: `racks` racks delivered at the scenario start."""
    return {"pools": [{
        "name": name, "gpu": gpu, "gpus_per_node": gpus_per_node, "nodes_per_rack": nodes_per_rack,
        "racks_per_block": racks_per_block, "deliveries": [{"date": "2026-01-01", "racks": racks}],
    }]}


def jobs_workload(jobs: list[dict[str, Any]], name: str = "jobs") -> dict[str, Any]:
    """A `jobs:` workload entry; each job dict needs name, gpus and duration_hours."""
    return {"jobs": {"name": name, "items": jobs}}


def scenario(fleet: dict[str, Any], workloads: list[dict[str, Any]], *, end: str = "2026-03-01",
             backfill: bool = True, seed: int = 0, scheduler: dict[str, Any] | None = None,
             **extra: Any) -> Scenario:
    """A validated scenario starting 2026-01-01 (checks included, as for a file).

    `scheduler` replaces the default scheduler section (FIFO, with `backfill`).
    """
    import yaml

    data = {"name": "test", "start": "2026-01-01", "end": end, "seed": seed, "fleet": fleet,
            "workloads": workloads, "scheduler": scheduler or {"policy": "fifo", "backfill": backfill}, **extra}
    return parse_scenario(yaml.safe_dump(data, sort_keys=False), source="<test>")
