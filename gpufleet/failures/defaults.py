"""Default failure processes, from the Llama 3 405B pre-training run (Meta, 2024).

16,384 H100 GPUs over a 54-day snapshot saw 419 unexpected interruptions (calibration.md
4a; https://glennklockwood.com/garden/component-reliability, table from the Llama 3
paper): 1.97e-5 per GPU-hour in all. The processes below split that rate by cause as the
paper's table does, grouped by blast radius: GPU-attributed causes take the job on the
failed GPU; host and network causes take a node; software causes interrupt the job but
leave the hardware up (minutes to clear). Repair times are not in the paper: the
defaults (median 4 h for GPUs and hosts, lognormal) are assumptions.

No failure statistics are published for GB200/GB300 NVL72; the catalog uses the H100
figures for every GPU type (an assumption, stated in each process's source).
"""

from __future__ import annotations

from gpufleet.spec.failures import Component, FailureProcessSpec
from gpufleet.spec.workload import DurationSpec

LLAMA3_GPUS = 16_384
LLAMA3_HOURS = 54 * 24
LLAMA3_SOURCE = ("Llama 3 405B, 16,384 H100 x 54 days, Table of unexpected interruptions "
                 "(calibration.md 4a; glennklockwood.com/garden/component-reliability)")

# (process, component, {cause: count}, repair)
_LLAMA3_TABLE: list[tuple[str, Component, dict[str, int], DurationSpec]] = [
    ("gpu", Component.gpu,
     {"faulty GPU": 148, "GPU HBM3 memory": 72, "GPU SRAM memory": 19, "GPU system processor": 17,
      "silent data corruption": 6, "GPU thermal interface and sensor": 6},
     DurationSpec(dist="lognormal", median_hours=4.0, sigma=1.0)),
    ("software", Component.gpu,
     {"software bug": 54, "NCCL watchdog timeout": 7, "dependency": 2},
     DurationSpec(dist="fixed", hours=0.05)),
    ("network", Component.node,
     {"network switch or cable": 35, "NIC": 7},
     DurationSpec(dist="lognormal", median_hours=4.0, sigma=1.0)),
    ("host", Component.node,
     {"host maintenance": 32, "SSD": 3, "power supply": 3, "server chassis": 2, "IO expansion board": 2,
      "CPU": 2, "system memory": 2},
     DurationSpec(dist="lognormal", median_hours=4.0, sigma=1.0)),
]


def llama3_processes(gpus_per_node: int = 8) -> list[FailureProcessSpec]:
    """The Llama 3 interruption rates as processes, per GPU or per node of `gpus_per_node` GPUs."""
    processes = []
    for name, component, causes, repair in _LLAMA3_TABLE:
        per_gpu_hour = sum(causes.values()) / (LLAMA3_GPUS * LLAMA3_HOURS)
        # Node causes keep the same rate per GPU on nodes of any size (assumption).
        rate = per_gpu_hour if component is Component.gpu else per_gpu_hour * gpus_per_node
        processes.append(FailureProcessSpec(
            name=name, component=component, rate_per_unit_hour=rate,
            causes={cause: float(count) for cause, count in causes.items()}, repair=repair,
            source=f"{LLAMA3_SOURCE}; repair time: assumption"))
    return processes


def catalog_defaults(gpu_type: str, gpus_per_node: int) -> list[FailureProcessSpec]:
    """Default processes for a GPU type: the Llama 3 H100 rates (an assumption for other types)."""
    processes = llama3_processes(gpus_per_node)
    if gpu_type.upper() != "H100":
        processes = [process.model_copy(update={"source": process.source + f"; applied to {gpu_type}: assumption"})
                     for process in processes]
    return processes
