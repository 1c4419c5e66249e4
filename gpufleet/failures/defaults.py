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

The calibrated set (`catalog_defaults: {...}`, `CatalogDefaultsSpec`) changes two things:

- repair times are the quantile table that `gpufleet faults fit` fits to the hardware
  faults of the StepFun GPU-server log (../shared/traces/stepfun-infinitehbd-faults;
  p50 32.6 h, p90 559 h = 23 days), a real measured distribution, instead of the
  assumed 4-hour lognormal (software causes still clear in 3 minutes: they take no
  hardware down);
- NVL72-class racks get three rack-level processes, NVLink switch tray, power shelf and
  cooling, each of which takes the whole NVLink domain down. No rates are published for
  them (SemiAnalysis reports the NVL72 copper backplane as unreliable without a rate,
  https://newsletter.semianalysis.com/p/h100-vs-gb200-nvl72-training-benchmarks, E); they
  are sized so that together they add as many interruptions per GPU as the switch and
  cable faults of Llama 3 did (35 of 419, calibration.md 4a), split 1/2 switch trays
  (9 per rack, calibration.md 2b), 1/4 power shelves, 1/4 cooling: assumptions.
"""

from __future__ import annotations

from gpufleet.spec.failures import CatalogDefaultsSpec, Component, FailureProcessSpec, RepairModel
from gpufleet.spec.workload import DurationSpec

LLAMA3_GPUS = 16_384
LLAMA3_HOURS = 54 * 24
LLAMA3_SOURCE = ("Llama 3 405B, 16,384 H100 x 54 days, Table of unexpected interruptions "
                 "(calibration.md 4a; glennklockwood.com/garden/component-reliability)")

ASSUMED_REPAIR = DurationSpec(dist="lognormal", median_hours=4.0, sigma=1.0)
"""The 2024 defaults' repair time of hardware: an assumption."""

# (process, component, {cause: count}, repair)
_LLAMA3_TABLE: list[tuple[str, Component, dict[str, int], DurationSpec]] = [
    ("gpu", Component.gpu,
     {"faulty GPU": 148, "GPU HBM3 memory": 72, "GPU SRAM memory": 19, "GPU system processor": 17,
      "silent data corruption": 6, "GPU thermal interface and sensor": 6},
     ASSUMED_REPAIR),
    ("software", Component.gpu,
     {"software bug": 54, "NCCL watchdog timeout": 7, "dependency": 2},
     DurationSpec(dist="fixed", hours=0.05)),
    ("network", Component.node,
     {"network switch or cable": 35, "NIC": 7},
     ASSUMED_REPAIR),
    ("host", Component.node,
     {"host maintenance": 32, "SSD": 3, "power supply": 3, "server chassis": 2, "IO expansion board": 2,
      "CPU": 2, "system memory": 2},
     ASSUMED_REPAIR),
]


STEPFUN_HARDWARE_REPAIR = DurationSpec(dist="quantiles", quantiles_hours={
    0.0: 0.0096, 0.05: 0.2033, 0.1: 0.2153, 0.25: 1.578, 0.5: 32.5656, 0.75: 126.3252, 0.9: 559.1141,
    0.95: 1216.6442, 0.99: 2041.7293, 1.0: 2206.8216})
"""Repair times of the StepFun log's 298 hardware faults, as `gpufleet faults fit fault_trace.json
--servers 400 --days 348` writes them (a test re-fits the log and compares)."""
STEPFUN_SOURCE = ("repair: quantiles fitted to the 298 hardware faults of the StepFun GPU-server log "
                  "(../shared/traces/stepfun-infinitehbd-faults; gpufleet faults fit)")

SWITCH_CABLE_PER_GPU_HOUR = 35 / (LLAMA3_GPUS * LLAMA3_HOURS)
"""Llama 3's network switch and cable interruptions per GPU-hour (calibration.md 4a, D): the size of the rack-level
causes of NVL72 racks together (assumption)."""
RACK_PROCESSES: list[tuple[str, float, str]] = [
    ("nvlink-switch", 0.5, "NVLink switch tray or backplane (9 trays per NVL72 rack, calibration.md 2b)"),
    ("power-shelf", 0.25, "power shelf (8 per GB200 NVL72 rack, calibration.md 2b)"),
    ("cooling", 0.25, "liquid cooling: CDU, manifold or leak"),
]
RACK_SOURCE = ("A: NVL72 rack-level causes together at Llama 3's switch and cable rate per GPU (35 of 419 "
               "interruptions, calibration.md 4a), split 1/2 switch, 1/4 power, 1/4 cooling; no published rates "
               "(SemiAnalysis on NVL72 backplane downtime, E, gives none)")


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


def catalog_defaults(gpu_type: str, gpus_per_node: int, options: CatalogDefaultsSpec | None = None,
                     rack_gpus: int | None = None, nodes_per_rack: int = 1) -> list[FailureProcessSpec]:
    """Default processes for a GPU type: the Llama 3 H100 rates (an assumption for other types).

    Args:
        gpu_type: the pool's GPU type.
        gpus_per_node: GPUs per node of the pool.
        options: the calibrated set's options; None for the 2024 set (`catalog_defaults: true`).
        rack_gpus: GPUs installed per rack (spares included), for rack-level processes.
        nodes_per_rack: nodes per rack; rack-level processes need more than one (an NVLink rack).
    """
    processes = llama3_processes(gpus_per_node)
    if options is not None:
        processes = [_calibrated(process, options) for process in processes]
        if options.rack_failures and nodes_per_rack > 1 and rack_gpus:
            processes += rack_processes(rack_gpus, options.repair)
        scale = {name.upper(): factor for name, factor in options.rate_scale.items()}.get(gpu_type.upper())
        if scale is not None:
            processes = [process.model_copy(update={
                "rate_per_unit_hour": process.rate_per_unit_hour * scale,  # type: ignore[operator]
                "source": f"{process.source}; rates x {scale:g} for {gpu_type} (rate_scale)"}) for process in processes]
    if gpu_type.upper() != "H100":
        processes = [process.model_copy(update={"source": process.source + f"; applied to {gpu_type}: assumption"})
                     for process in processes]
    return processes


def _calibrated(process: FailureProcessSpec, options: CatalogDefaultsSpec) -> FailureProcessSpec:
    """A Llama 3 process with the calibrated repair times (hardware processes only)."""
    if options.repair is RepairModel.assumed or process.name == "software":
        return process
    return process.model_copy(update={"repair": STEPFUN_HARDWARE_REPAIR,
                                      "source": process.source.replace("repair time: assumption", STEPFUN_SOURCE)})


def rack_processes(rack_gpus: int, repair: RepairModel = RepairModel.fitted) -> list[FailureProcessSpec]:
    """NVLink switch tray, power shelf and cooling failures of racks of `rack_gpus` GPUs (assumptions)."""
    repair_spec, repair_source = (STEPFUN_HARDWARE_REPAIR, STEPFUN_SOURCE) if repair is RepairModel.fitted \
        else (ASSUMED_REPAIR, "repair time: assumption")
    return [FailureProcessSpec(
        name=name, component=Component.rack, rate_per_unit_hour=SWITCH_CABLE_PER_GPU_HOUR * share * rack_gpus,
        causes={cause: 1.0}, repair=repair_spec, source=f"{RACK_SOURCE}; {repair_source}")
        for name, share, cause in RACK_PROCESSES]
