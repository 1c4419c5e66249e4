"""Cross-field checks of the services: names used once, quota queues that exist, GPU types
of this fleet, replica groups that fit one NVLink domain, throughput known per type."""

from __future__ import annotations

from gpufleet.serving.throughput import prefill_tokens_per_s_per_gpu, slots_per_replica
from gpufleet.spec.serving import ServiceSpec, SharingMode


def check_services(services: list[ServiceSpec], *, queues: set[str], domain_gpus: dict[str, int],
                   path: tuple[str | int, ...] = ("services",)) -> list[tuple[tuple[str | int, ...], str]]:
    """Problems that need the rest of the scenario (for the scenario's cross-field checks).

    Args:
        services: the scenario's services.
        queues: names of the scheduler's ClusterQueues.
        domain_gpus: GPUs per NVLink domain of each GPU type the fleet has (upper-case keys
            or any case; compared case-insensitively).
        path: field path of the services list.

    Returns:
        (field path, message) for each problem; empty when the services can run.
    """
    domains = {name.upper(): gpus for name, gpus in domain_gpus.items()}
    problems: list[tuple[tuple[str | int, ...], str]] = []
    names: set[str] = set()
    for i, service in enumerate(services):
        where = (*path, i)
        if service.name in names:
            problems.append(((*where, "name"), f"service name {service.name!r} is used twice"))
        names.add(service.name)
        if service.sharing.mode is SharingMode.quota and service.sharing.queue not in queues:
            known = ", ".join(sorted(queues)) or "none"
            problems.append(((*where, "sharing", "queue"),
                             f"no queue {service.sharing.queue!r} in scheduler.queues (queues: {known})"))
        for j, flavor in enumerate(service.flavors):
            at = (*where, "flavors", j)
            if flavor.upper() not in domains:
                problems.append((at, f"the fleet has no {flavor} pool"))
                continue
            if service.replica.group > domains[flavor.upper()]:
                problems.append(((*where, "replica", "group_size"),
                                 f"a group of {service.replica.group} GPUs does not fit one {flavor} NVLink domain "
                                 f"({domains[flavor.upper()]} GPUs placeable per rack, hot spares excluded)"))
            try:
                slots_per_replica(service, flavor)
                if service.replica.prefill:
                    prefill_tokens_per_s_per_gpu(service, flavor)
            except ValueError as exc:
                problems.append((at, str(exc)))
    return problems
