"""Which queue and which priority each job gets, from its team (Kueue's LocalQueue and
WorkloadPriorityClass, keyed by team)."""

from __future__ import annotations

from collections.abc import Sequence

from gpufleet.errors import InputError, Problem
from gpufleet.spec.scheduler import PriorityClassSpec, QueueSpec


def queue_index(queues: Sequence[QueueSpec]) -> dict[str, int]:
    """Team -> queue index; '*' marks the queue of teams listed nowhere."""
    index: dict[str, int] = {}
    for position, queue in enumerate(queues):
        for tenant in queue.tenants:
            index.setdefault(tenant, position)
    return index


def assign_queues(teams: Sequence[str], queues: Sequence[QueueSpec]) -> list[int]:
    """The queue of each job's team (all in queue 0 when no queues are configured).

    Raises:
        InputError: for a team no queue serves (and no queue has tenant '*').
    """
    if not queues:
        return [0] * len(teams)
    index = queue_index(queues)
    fallback = index.get("*")
    assigned, missing = [], set()
    for team in teams:
        queue = index.get(team, fallback)
        if queue is None:
            missing.add(team)
            queue = 0
        assigned.append(queue)
    if missing:
        raise InputError([Problem(f"no queue serves team(s) {', '.join(sorted(missing))}: list them in a "
                                  "queue's tenants, or give one queue the tenant '*'", path=("scheduler", "queues"))])
    return assigned


def priority_of_team(classes: Sequence[PriorityClassSpec]) -> tuple[dict[str, int], int]:
    """Team -> priority value, and the value of unlisted teams (the default class, else 0)."""
    by_team = {team: spec.value for spec in classes for team in spec.teams}
    default = next((spec.value for spec in classes if spec.default), 0)
    return by_team, default


def assign_priorities(teams: Sequence[str], classes: Sequence[PriorityClassSpec]) -> list[int]:
    by_team, default = priority_of_team(classes)
    return [by_team.get(team, default) for team in teams]
