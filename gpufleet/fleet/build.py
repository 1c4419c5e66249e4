"""Turn the fleet spec (and the contract's exercised expansions) into a FleetLayout."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from gpufleet.catalog import CATALOG, GpuType, lookup
from gpufleet.fleet.deliveries import pool_deliveries
from gpufleet.fleet.layout import Delivery, FleetLayout, PoolLayout
from gpufleet.spec.fleet import CapacityChange, PoolSpec
from gpufleet.spec.scenario import Scenario


def gpu_types(scenario: Scenario) -> dict[str, GpuType]:
    """The catalog plus the scenario's own `gpu_types` (which win on a name clash)."""
    extra = {
        name: GpuType(
            name=name,
            gpus_per_node=spec.gpus_per_node,
            nvlink_domain_gpus=spec.nvlink_domain_gpus,
            hbm_gb=spec.hbm_gb,
            bf16_dense_tflops=spec.bf16_dense_tflops,
            fp8_dense_tflops=spec.fp8_dense_tflops,
            tdp_w=spec.tdp_w,
            list_price_usd_per_gpu_hour=spec.list_price_usd_per_gpu_hour,
            sources=(spec.source,) if spec.source else (),
        )
        for name, spec in scenario.gpu_types.items()
    }
    return {**CATALOG, **extra}


def pool_shape(pool: PoolSpec, gpu: GpuType) -> tuple[int, int]:
    """(gpus_per_node, nodes_per_rack) for a pool: the spec's, else the catalog's."""
    gpus_per_node = pool.gpus_per_node or gpu.gpus_per_node
    nodes_per_rack = pool.nodes_per_rack or max(1, gpu.nvlink_domain_gpus // gpus_per_node)
    return gpus_per_node, nodes_per_rack


def racks_in(change: CapacityChange, gpus_per_node: int, nodes_per_rack: int) -> int:
    """Whole racks in a delivery or retirement.

    Raises:
        ValueError: when nodes or GPUs do not make whole racks.
    """
    if change.racks is not None:
        return change.racks
    if change.nodes is not None:
        if change.nodes % nodes_per_rack:
            raise ValueError(f"{change.nodes} nodes is not a whole number of racks of {nodes_per_rack} nodes")
        return change.nodes // nodes_per_rack
    rack_gpus = gpus_per_node * nodes_per_rack
    assert change.gpus is not None
    if change.gpus % rack_gpus:
        raise ValueError(f"{change.gpus} GPUs is not a whole number of racks of {rack_gpus} GPUs")
    return change.gpus // rack_gpus


def build_layout(scenario: Scenario, slip_seed: int | None = None) -> FleetLayout:
    """Lay out every rack the scenario will ever have (run `check_scenario` first).

    Deliveries with `delivery_risk` take work after their drawn slip (under `slip_seed`,
    the run's seed) and their burn-in; without `slip_seed` the layout is the plan: every
    delivery on its date, burn-in kept.
    """
    types = gpu_types(scenario)
    expansions: dict[str, list[tuple[datetime, int, str]]] = {}
    for contract in scenario.all_contracts:
        for option in contract.expansions:
            if option.exercise:
                expansions.setdefault(option.pool, []).append((option.date, option.racks, f"expansion/{option.name}"))

    spare_nodes = scenario.failures.spares.nodes_per_rack if scenario.failures is not None else 0
    pools: list[PoolLayout] = []
    all_deliveries: list[list[tuple[float, int]]] = []
    all_retirements: list[list[tuple[float, int]]] = []
    all_records: list[list[Delivery]] = []
    rack_lo = block_lo = 0
    for index, spec in enumerate(scenario.fleet.pools):
        gpu = lookup(spec.gpu, types)
        gpus_per_node, nodes_per_rack = pool_shape(spec, gpu)
        seen: Counter[str] = Counter()  # deliveries planned for the same instant get their own streams
        planned = []
        for change in spec.deliveries:
            key = change.date.isoformat()
            planned.append((change.date, racks_in(change, gpus_per_node, nodes_per_rack), f"{key}/{seen[key]}"))
            seen[key] += 1
        options = expansions.get(spec.name, [])
        overrides = [(change.slip, change.burn_in_days) for change in spec.deliveries] + [(None, None)] * len(options)
        records = pool_deliveries(spec, index, scenario.start, planned + options, overrides, slip_seed)
        deliveries = [(record.ready_s, record.racks) for record in records]
        retirements = [
            (scenario.seconds(change.date), racks_in(change, gpus_per_node, nodes_per_rack))
            for change in spec.retirements
        ]
        racks = sum(count for _, count in deliveries)
        blocks = -(-racks // spec.racks_per_block)
        pools.append(
            PoolLayout(
                index=index,
                name=spec.name,
                gpu=gpu,
                provider=spec.provider,
                region=spec.region,
                gpus_per_node=gpus_per_node,
                nodes_per_rack=nodes_per_rack,
                racks_per_block=spec.racks_per_block,
                rack_lo=rack_lo,
                rack_hi=rack_lo + racks,
                block_lo=block_lo,
                block_hi=block_lo + blocks,
                spare_nodes=min(spare_nodes, nodes_per_rack - 1) if nodes_per_rack > 1 else 0,
                burn_in_billed=spec.delivery_risk.burn_in_billed if spec.delivery_risk is not None else True,
            )
        )
        all_deliveries.append(deliveries)
        all_records.append(records)
        all_retirements.append(retirements)
        rack_lo += racks
        block_lo += blocks
    return FleetLayout(pools, all_deliveries, all_retirements, all_records)
