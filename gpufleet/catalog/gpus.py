"""GPU types and their published numbers, each with its source.

Figures come from ../shared/calibration.md (sections 2 and 3), and for the Vera Rubin
class (VR200), which calibration.md does not cover, from NVIDIA's GTC 2025 announcement
as reported publicly (URLs in its sources). Tensor throughput is
*dense* (without 2:4 sparsity). List prices are public on-demand or Capacity Block
prices per GPU-hour; negotiated mega-deal prices are far lower and belong in a
scenario's contract, not here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class GpuType:
    """One GPU model as deployed in a node and an NVLink domain.

    Attributes:
        name: canonical type name (the `flavor` of jobs and pools).
        gpus_per_node: GPUs in one node (compute tray or HGX board).
        nvlink_domain_gpus: GPUs in one NVLink domain (the `rack` topology level).
        hbm_gb: HBM capacity per GPU.
        bf16_dense_tflops: dense BF16 tensor throughput per GPU.
        fp8_dense_tflops: dense FP8 tensor throughput per GPU.
        tdp_w: board power per GPU.
        list_price_usd_per_gpu_hour: public list price used when a contract sets none.
        sources: where each number comes from.
    """

    name: str
    gpus_per_node: int
    nvlink_domain_gpus: int
    hbm_gb: float | None = None
    bf16_dense_tflops: float | None = None
    fp8_dense_tflops: float | None = None
    tdp_w: float | None = None
    list_price_usd_per_gpu_hour: float | None = None
    sources: tuple[str, ...] = ()

    @property
    def nodes_per_nvlink_domain(self) -> int:
        return max(1, self.nvlink_domain_gpus // self.gpus_per_node)


_SPECS_NVIDIA = (
    "H100/H200 specs: NVIDIA H100 whitepaper numbers via "
    "https://glennklockwood.com/garden/processors/h100 (calibration.md 2a)"
)
_SPECS_BLACKWELL = (
    "B200/GB200 specs: https://glennklockwood.com/garden/processors/B200 and the NVIDIA "
    "table at https://zdszero.github.io/Computer/Artificial_Intelligence/Hardware.html "
    "(calibration.md 2a)"
)
_SPECS_GB300 = "GB300 specs: https://verda.com/blog/gb300-nvl72-architecture (calibration.md 2a)"
_NVL72 = (
    "NVL72: 72 GPUs per NVLink domain, 18 compute trays of 4 GPUs "
    "(https://datacrunch.io/blog/nvidia-gb200-nvl72-for-ai-training-and-inference; "
    "https://www.fibermall.com/blog/in-depth-analysis-for-nvidia-gb200.htm; calibration.md 2b)"
)

_VERA_RUBIN = (
    "Vera Rubin NVL144 (NVIDIA GTC 2025, as reported): a rack of 72 Rubin packages (144 GPU dies; NVIDIA counts "
    "dies in 'NVL144', packages here, as for GB200/GB300) and 36 Vera CPUs; 288 GB HBM4 per package; 3.6 EF "
    "NVFP4 inference and 1.2 EF FP8 training per rack, 3.3x GB300 NVL72; NVLink 6 at 260 TB/s per rack; second "
    "half of 2026 (https://hyper.ai/en/stories/3422d6a72152beb34a564461208438ff ; "
    "https://aitide.news/article/16401 ; https://www.sipoch.com/en/articles/300330019909058 on the die count)"
)
_VERA_RUBIN_TRAYS = (
    "18 compute trays of 4 Rubin packages and 2 Vera CPUs, 9 NVLink switch trays per rack, as in the NVL72 "
    "Oberon rack (https://regantih.github.io/reports-lab/sand-to-superintelligence/chapters/14-nvl72-drills.html, "
    "R)"
)

CATALOG: dict[str, GpuType] = {
    "H100": GpuType(
        name="H100",
        gpus_per_node=8,  # p5.48xlarge: 8 x H100 (calibration.md 2c)
        nvlink_domain_gpus=8,  # NVLink 4 within one HGX board
        hbm_gb=80,
        bf16_dense_tflops=989,
        fp8_dense_tflops=1979,
        tdp_w=700,
        list_price_usd_per_gpu_hour=6.88,  # p5.48xlarge on-demand us-east-1, after June 2025
        sources=(
            _SPECS_NVIDIA,
            "price: AWS p5.48xlarge on-demand $55.04/instance-h = $6.88/GPU-h "
            "(calibration.md 3; https://www.codesota.com/hardware/h100)",
        ),
    ),
    "H200": GpuType(
        name="H200",
        gpus_per_node=8,  # p5en.48xlarge: 8 x H200 (calibration.md 2c)
        nvlink_domain_gpus=8,
        hbm_gb=141,
        bf16_dense_tflops=989,
        fp8_dense_tflops=1979,
        tdp_w=700,
        list_price_usd_per_gpu_hour=7.91,  # p5en.48xlarge on-demand
        sources=(
            _SPECS_NVIDIA,
            "price: AWS p5en.48xlarge on-demand $63.296/instance-h = $7.91/GPU-h "
            "(calibration.md 3; https://github.com/dstackai/dstack/pull/4110)",
        ),
    ),
    "B200": GpuType(
        name="B200",
        gpus_per_node=8,  # p6-b200.48xlarge: 8 x B200 (calibration.md 2c)
        nvlink_domain_gpus=8,
        hbm_gb=180,
        bf16_dense_tflops=2250,
        fp8_dense_tflops=4500,
        tdp_w=1000,
        list_price_usd_per_gpu_hour=14.24,  # p6-b200.48xlarge on-demand
        sources=(
            _SPECS_BLACKWELL,
            "price: AWS p6-b200.48xlarge on-demand $113.9328/instance-h = $14.24/GPU-h "
            "(calibration.md 3)",
        ),
    ),
    "GB200": GpuType(
        name="GB200",
        gpus_per_node=4,  # p6e-gb200.36xlarge: 4 GPUs per instance (compute tray)
        nvlink_domain_gpus=72,  # u-p6e-gb200x72 UltraServer = one NVL72 domain
        hbm_gb=186,
        bf16_dense_tflops=2500,
        fp8_dense_tflops=5000,
        tdp_w=1200,
        list_price_usd_per_gpu_hour=10.58,  # Capacity Block u-p6e-gb200x72
        sources=(
            _SPECS_BLACKWELL,
            _NVL72,
            "price: AWS Capacity Block u-p6e-gb200x72 $761.904/UltraServer-h = $10.58/GPU-h "
            "(calibration.md 3; aws.amazon.com/ec2/capacityblocks/pricing)",
        ),
    ),
    "GB300": GpuType(
        name="GB300",
        gpus_per_node=4,
        nvlink_domain_gpus=72,
        hbm_gb=288,
        bf16_dense_tflops=2500,
        fp8_dense_tflops=5000,
        tdp_w=1400,
        # No public AWS GB300 UltraServer price; OCI's GB300 list price is the nearest
        # published list price for the same product.
        list_price_usd_per_gpu_hour=18.0,
        sources=(
            _SPECS_GB300,
            _NVL72,
            "price: OCI GB300 list $18/GPU-h (calibration.md 3, OCI price API via a "
            "public GitHub compilation); no public AWS GB300 price",
        ),
    ),
    "VR200": GpuType(
        name="VR200",
        gpus_per_node=4,  # 4 Rubin packages per compute tray (R)
        nvlink_domain_gpus=72,  # 72 packages (144 dies) per NVLink 6 domain (O)
        hbm_gb=288,  # HBM4 per package (O)
        # 1.2 EF FP8 training per rack / 72 packages (D); BF16 at half of FP8, as on every
        # generation of calibration.md 2a (D).
        bf16_dense_tflops=8333,
        fp8_dense_tflops=16667,
        tdp_w=1800,  # ~1,800 W per package, liquid cooled (E: third-party estimate, not published by NVIDIA)
        list_price_usd_per_gpu_hour=None,  # no public price
        sources=(
            _VERA_RUBIN,
            _VERA_RUBIN_TRAYS,
            "TDP: ~1,800 W, third-party estimate (https://mirrorfrog.com/en/blog/nvidia-vera-rubin-platform-6-chips-"
            "deep-dive, E); FP8 1.2 EF / 72 = 16,667 TFLOPS per package (D); BF16 half of that (D)",
            "price: none published; a contract must price it",
        ),
    ),
}


def lookup(name: str, extra: dict[str, GpuType] | None = None) -> GpuType:
    """Return the GPU type called `name` (case-insensitive), from `extra` first.

    Raises:
        KeyError: with the list of known names when there is no such type.
    """
    merged = {**CATALOG, **(extra or {})}
    by_upper = {key.upper(): value for key, value in merged.items()}
    try:
        return by_upper[name.upper()]
    except KeyError:
        raise KeyError(f"unknown GPU type {name!r}; known: {', '.join(sorted(merged))}") from None
