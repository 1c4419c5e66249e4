"""Replica throughput per GPU type from the throughput matrix.

A service already has a throughput per GPU type: its `replica.tokens_per_s_per_gpu`, else
the sourced defaults of `gpufleet.serving.throughput` (GB300 6,000 and GB200 4,000 output
tokens/s per GPU: a replica on GB300 serves 1.5 times as many requests at once). A
throughput class that names the service derives the types the service does not give
itself from its throughput on the class's reference type: tokens on type T = tokens on
the reference x the class's relative throughput on T. Types the service gives stay as given.
"""

from __future__ import annotations

from gpufleet.serving.throughput import tokens_per_s_per_gpu
from gpufleet.spec.serving import ServiceSpec
from gpufleet.spec.throughput import ThroughputSpec


def services_by_type(services: list[ServiceSpec], throughput: ThroughputSpec | None) -> list[ServiceSpec]:
    """`services` with each class-named one's tokens/s per GPU filled in for its other types.

    Raises:
        ValueError: when a named service has no throughput on the reference type (neither
            given nor a default).
    """
    if throughput is None:
        return services
    class_of = {name: cls for cls in throughput.classes for name in cls.services}
    out = []
    for service in services:
        cls = class_of.get(service.name)
        if cls is None:
            out.append(service)
            continue
        given = {name.upper() for name in service.replica.tokens_per_s_per_gpu}
        reference = tokens_per_s_per_gpu(service, throughput.reference)
        filled = dict(service.replica.tokens_per_s_per_gpu)
        for flavor in service.flavors:
            relative = throughput.relative(cls, flavor)
            if flavor.upper() not in given and relative is not None:
                filled[flavor] = reference * relative
        replica = service.replica.model_copy(update={"tokens_per_s_per_gpu": filled})
        out.append(service.model_copy(update={"replica": replica}))
    return out
