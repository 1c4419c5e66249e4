"""Output tokens/s per GPU at an interactive latency target, by GPU type, each with its source.

These are the defaults a service uses when its spec gives no `tokens_per_s_per_gpu`
for a flavor. They describe a frontier mixture-of-experts model served at interactive
latency (calibration.md 5b, "Suggested default for a frontier MoE at interactive
latency"); MLPerf offline figures are several times higher and production reasoning
models lower (calibration.md, "Gaps / cautions").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gpufleet.spec.serving import ServiceSpec


@dataclass(frozen=True, slots=True)
class Throughput:
    """Output tokens/s per GPU at the latency target.

    Attributes:
        tokens_per_s_per_gpu: output tokens/s one GPU sustains at the latency target.
        kind: calibration.md's tag: E (estimate), D (derived), or "assumption".
        source: where the number comes from.
    """

    tokens_per_s_per_gpu: float
    kind: str
    source: str


_ROW = "calibration.md 5b, 'Suggested default for a frontier MoE at interactive latency'"

DEFAULTS: dict[str, Throughput] = {
    "H100": Throughput(1250.0, "E", f"{_ROW}: H100 ~1,000-1,500 (midpoint)"),
    "H200": Throughput(
        1900.0, "assumption",
        "H100 default x 1.5: between 1x and the 'up to 1.9x on LLM inference' of H200 over H100 (calibration.md 5b, "
        "TensorRT-LLM H200 launch blog); no frontier-MoE figure for H200"),
    "B200": Throughput(
        3000.0, "assumption",
        f"low end of the GB200 range ({_ROW}): an 8-GPU NVLink domain cannot spread a frontier MoE's experts as "
        "an NVL72 rack does; no interactive frontier-MoE figure for HGX B200"),
    "GB200": Throughput(4000.0, "E/D", f"{_ROW}: GB200 ~3,000-5,000; 4,000 is calibration.md 7's default"),
    "GB300": Throughput(6000.0, "E/D", f"{_ROW}: GB300 ~4,500-7,000; 6,000 is calibration.md 7's default"),
}


def default_throughput(flavor: str) -> Throughput | None:
    """The sourced default for a GPU type (case-insensitive), or None."""
    return {name.upper(): value for name, value in DEFAULTS.items()}.get(flavor.upper())


def tokens_per_s_per_gpu(service: ServiceSpec, flavor: str) -> float:
    """Output tokens/s per GPU of `service` on `flavor`: the spec's override, else the default.

    Raises:
        ValueError: when neither the spec nor the defaults know the flavor.
    """
    for name, value in service.replica.tokens_per_s_per_gpu.items():
        if name.upper() == flavor.upper():
            return value
    default = default_throughput(flavor)
    if default is None:
        raise ValueError(f"no default throughput for {flavor} (defaults: {', '.join(DEFAULTS)}); give "
                         f"replica.tokens_per_s_per_gpu.{flavor}")
    return default.tokens_per_s_per_gpu


def replica_tokens_per_s(service: ServiceSpec, flavor: str) -> float:
    """Output tokens/s one replica of `service` sustains on `flavor` at the latency target."""
    return service.replica.gpus * tokens_per_s_per_gpu(service, flavor)


def slots_per_replica(service: ServiceSpec, flavor: str) -> int:
    """Requests one replica serves at once on `flavor`: floor(throughput / per-request decode speed).

    Raises:
        ValueError: when a replica cannot serve even one request at the SLO's decode speed.
    """
    per_request = service.slo.output_tokens_per_s_per_request
    slots = math.floor(replica_tokens_per_s(service, flavor) / per_request + 1e-9)
    if slots < 1:
        raise ValueError(f"a {service.replica.gpus}-GPU {flavor} replica makes "
                         f"{replica_tokens_per_s(service, flavor):g} tokens/s, less than one request's "
                         f"{per_request:g} tokens/s at the SLO")
    return slots
