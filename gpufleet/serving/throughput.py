"""Output tokens/s per GPU at an interactive latency target, and prompt tokens/s per GPU
of prefill, by GPU type, each with its source.

These are the defaults a service uses when its spec gives no `tokens_per_s_per_gpu`
(or `prefill_tokens_per_s_per_gpu`) for a flavor. They describe a frontier
mixture-of-experts model served at interactive latency (calibration.md 5b, "Suggested
default for a frontier MoE at interactive latency"); MLPerf offline figures are several
times higher and production reasoning models lower (calibration.md, "Gaps / cautions").

Prefill (prompt processing) is compute bound and runs at large batches whatever the
decode latency target, so its defaults are measured maximum-throughput prefill rates:
SGLang's 26,156 prompt tokens/s per GB200 on DeepSeek V3/R1 (LMSYS, Sep 2025), scaled to
the other types by their dense FP4 (or FP8) tensor throughput. With `prefill: true` a
replica's GPU time is shared: a request of L_out output and L_in prompt tokens (a share
h of them cached) takes L_out / D + (1 - h) L_in / P GPU-seconds, so the slots it can
decode at the SLO's speed r shrink by L_out / (L_out + k (1 - h) L_in), k = D / P
(`effective_slots`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

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
    "VR200": Throughput(
        9750.0, "D",
        "GB300 default x 13 / 8: decode at interactive latency is bound by HBM bandwidth, 13 TB/s per Rubin package "
        "(NVIDIA GTC 2025, https://aitide.news/article/16401) against 8 TB/s per GB300 (calibration.md 2a)"),
}

_LMSYS = ("SGLang on GB200 NVL72, DeepSeek V3/R1, FP8 attention and NVFP4 MoE, 2,000-token prompts: 26,156 prompt "
          "tokens/s per GPU in prefill, 3.8x the H100 setting (https://lmsys.org/blog/2025-09-25-gb200-part-2, O); "
          "applied to a frontier MoE: assumption, as for the decode defaults")

PREFILL_DEFAULTS: dict[str, Throughput] = {
    "H100": Throughput(6883.0, "D", f"GB200 / 3.8 ({_LMSYS})"),
    "H200": Throughput(6883.0, "D", f"the H100 figure: the same dense FP8 throughput (calibration.md 2a); {_LMSYS}"),
    "B200": Throughput(23540.0, "D", f"GB200 x 9,000 / 10,000 dense FP4 TFLOPS (calibration.md 2a); {_LMSYS}"),
    "GB200": Throughput(26156.0, "O/A", _LMSYS),
    "GB300": Throughput(39234.0, "D", f"GB200 x 15,000 / 10,000 dense FP4 TFLOPS (calibration.md 2a); {_LMSYS}"),
    "VR200": Throughput(
        129472.0, "D",
        f"GB300 x 3.3, NVIDIA's inference gain of Vera Rubin NVL144 over GB300 NVL72 (GTC 2025, "
        f"https://aitide.news/article/16401); {_LMSYS}"),
}


def default_throughput(flavor: str) -> Throughput | None:
    """The sourced default for a GPU type (case-insensitive), or None."""
    return {name.upper(): value for name, value in DEFAULTS.items()}.get(flavor.upper())


def default_prefill(flavor: str) -> Throughput | None:
    """The sourced default prefill rate (prompt tokens/s per GPU) for a GPU type, or None."""
    return {name.upper(): value for name, value in PREFILL_DEFAULTS.items()}.get(flavor.upper())


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


def prefill_tokens_per_s_per_gpu(service: ServiceSpec, flavor: str) -> float:
    """Prompt tokens/s per GPU of `service` on `flavor`: the spec's override, else the default.

    Raises:
        ValueError: when neither the spec nor the defaults know the flavor.
    """
    for name, value in service.replica.prefill_tokens_per_s_per_gpu.items():
        if name.upper() == flavor.upper():
            return value
    default = default_prefill(flavor)
    if default is None:
        raise ValueError(f"no default prefill throughput for {flavor} (defaults: {', '.join(PREFILL_DEFAULTS)}); "
                         f"give replica.prefill_tokens_per_s_per_gpu.{flavor}")
    return default.tokens_per_s_per_gpu


def decode_share(service: ServiceSpec, flavor: str, output_tokens: np.ndarray,
                 input_tokens: np.ndarray) -> np.ndarray:
    """Share of a busy replica's GPU time left for decoding at each token mix:
    L_out / (L_out + k (1 - h) L_in), k = decode / prefill tokens/s per GPU; 1 without prefill."""
    out = np.asarray(output_tokens, dtype=np.float64)
    if not service.replica.prefill:
        return np.ones_like(out)
    k = tokens_per_s_per_gpu(service, flavor) / prefill_tokens_per_s_per_gpu(service, flavor)
    prompt = np.asarray(input_tokens, dtype=np.float64) * (1.0 - service.demand.cached_input_share)
    work = out + k * prompt
    return np.divide(out, work, out=np.ones_like(out), where=work > 0)


def effective_slots(service: ServiceSpec, flavor: str, output_tokens: np.ndarray,
                    input_tokens: np.ndarray) -> np.ndarray:
    """Requests one replica decodes at once at each token mix, prompt processing included:
    floor(throughput / r x decode share); `slots_per_replica` without prefill.

    Its request capacity, slots x r / L_out, is then gpus / (L_out / D + (1 - h) L_in / P).
    """
    out = np.asarray(output_tokens, dtype=np.float64)
    if not service.replica.prefill:
        return np.full(out.shape, slots_per_replica(service, flavor), dtype=np.int64)
    full = replica_tokens_per_s(service, flavor) / service.slo.output_tokens_per_s_per_request
    return np.floor(full * decode_share(service, flavor, out, input_tokens) + 1e-9).astype(np.int64)
