"""Cross-field checks of the scheduler section: names that must exist, policy options,
queues for every team, a cohort tree without cycles."""

from __future__ import annotations

from pydantic import ValidationError

from gpufleet.fleet.build import gpu_types
from gpufleet.sched.placement import PLACEMENTS
from gpufleet.sched.policies import POLICIES
from gpufleet.spec.scenario import Scenario

Path = tuple[str | int, ...]


def workload_teams(scenario: Scenario) -> list[tuple[Path, str]]:
    """(where it is set, team) for every team the scenario's workloads submit as."""
    teams: list[tuple[Path, str]] = []
    for i, entry in enumerate(scenario.workloads):
        if entry.synthetic is not None:
            teams.append((("workloads", i, "synthetic", "team"), entry.synthetic.team or entry.synthetic.name))
        elif entry.jobs is not None:
            spec = entry.jobs
            for j, job in enumerate(spec.items):
                teams.append((("workloads", i, "jobs", "items", j, "team"), job.team or spec.team or spec.name))
    return teams


def check_scheduler(scenario: Scenario) -> list[tuple[Path, str]]:
    spec = scenario.scheduler
    problems: list[tuple[Path, str]] = []
    if spec.policy.name not in POLICIES:
        problems.append((("scheduler", "policy"),
                         f"unknown policy {spec.policy.name!r}; choose one of: {', '.join(POLICIES.names())}"))
    else:
        options_model = POLICIES.get(spec.policy.name).Options
        try:
            options_model(**spec.policy.options)
        except ValidationError as exc:
            for error in exc.errors():
                problems.append((("scheduler", "policy", *error["loc"]), str(error["msg"])))
    for name, options in spec.policy_options.items():
        where: Path = ("scheduler", "policy_options", name)
        if name not in POLICIES:
            problems.append((where, f"unknown policy {name!r}; choose one of: {', '.join(POLICIES.names())}"))
            continue
        try:
            POLICIES.get(name).Options(**options)
        except ValidationError as exc:
            for error in exc.errors():
                problems.append(((*where, *error["loc"]), str(error["msg"])))
    if spec.placement not in PLACEMENTS:
        problems.append((("scheduler", "placement"),
                         f"unknown placement {spec.placement!r}; choose one of: {', '.join(PLACEMENTS.names())}"))
    types = {name.upper() for name in gpu_types(scenario)}
    names: set[str] = set()
    cohorts = {cohort.name: cohort.parent for cohort in spec.cohorts}
    for k, cohort in enumerate(spec.cohorts):
        if cohort.parent is not None and cohort.parent not in cohorts:
            problems.append((("scheduler", "cohorts", k, "parent"), f"no cohort called {cohort.parent!r}"))
        seen, node = {cohort.name}, cohort.parent
        while node is not None and node in cohorts:
            if node in seen:
                problems.append((("scheduler", "cohorts", k, "parent"), f"cohort {cohort.name!r} is its own ancestor"))
                break
            seen.add(node)
            node = cohorts[node]
    for q, queue in enumerate(spec.queues):
        where = ("scheduler", "queues", q)
        if queue.name in names:
            problems.append(((*where, "name"), f"queue name {queue.name!r} is used twice"))
        names.add(queue.name)
        if queue.cohort is not None and queue.cohort not in cohorts:
            cohorts[queue.cohort] = None  # a cohort named only by its members is a root
        for field in ("nominal", "borrowing_limit", "lending_limit"):
            for flavor in getattr(queue, field):
                if flavor.upper() not in types:
                    problems.append(((*where, field, flavor), f"unknown flavor (GPU type) {flavor!r}"))
    if spec.queues:
        served = {tenant for queue in spec.queues for tenant in queue.tenants}
        if "*" not in served:
            for path, team in workload_teams(scenario):
                if team not in served:
                    problems.append((path, f"no queue serves team {team!r}: add it to a queue's tenants "
                                           "(or give one queue the tenant '*')"))
    classes = [cls.name for cls in spec.priority_classes]
    for k, cls in enumerate(spec.priority_classes):
        if classes.count(cls.name) > 1:
            problems.append((("scheduler", "priority_classes", k, "name"), f"priority class {cls.name!r} twice"))
    if sum(cls.default for cls in spec.priority_classes) > 1:
        problems.append((("scheduler", "priority_classes"), "at most one priority class may be the default"))
    return problems
