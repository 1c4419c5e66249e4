"""The fleet of a trace: the openb node list as scenario pools, and a ready-to-run replay scenario.

Pools are homogeneous, so the node list becomes one pool per (GPU model, GPUs per
node), every node its own rack: a Kubernetes pod never spans nodes, so a node is the
scheduling domain a pod's GPUs must share. The trace has no network topology, so each
pool is one block. All nodes are present from the scenario start. CPU-only nodes hold
no GPU and are left out (counted in the header comment). The trace gives no GPU specs
or prices, so the `gpu_types` entries carry only the node shape, sourced to the file.
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from gpufleet.traces.openb import NodeList
from gpufleet.traces.tables import JobTrace

OPENB_SOURCE = "alibaba/clusterdata cluster-trace-gpu-v2023 (openb)"


def pool_name(model: str, gpus_per_node: int) -> str:
    """`v100m16-8gpu` for the V100M16 nodes with 8 GPUs."""
    return f"{model.lower()}-{gpus_per_node}gpu"


def fleet_sections(nodes: NodeList, start: date) -> dict[str, Any]:
    """`gpu_types` and `fleet` sections of a scenario built from a node list."""
    file_name = Path(nodes.report.path).name
    shapes = Counter((model, int(gpus)) for model, gpus in zip(nodes.model, nodes.gpus.tolist(), strict=True)
                     if model and gpus > 0)
    gpu_types: dict[str, Any] = {}
    for model in sorted({model for model, _ in shapes}):
        per_node = {gpus: count for (name, gpus), count in shapes.items() if name == model}
        common = max(per_node, key=lambda gpus: (per_node[gpus], gpus))
        layout = ", ".join(f"{count} nodes x {gpus} GPUs" for gpus, count in sorted(per_node.items(), reverse=True))
        gpu_types[model] = {
            "gpus_per_node": common,
            "nvlink_domain_gpus": common,
            "source": f"{file_name} ({OPENB_SOURCE}): {layout}. Node shape only (the most common one): "
                      "the trace gives no specs or prices",
        }
    pools = []
    for (model, gpus), count in sorted(shapes.items(), key=lambda item: (item[0][0], -item[0][1])):
        pools.append({
            "name": pool_name(model, gpus),
            "gpu": model,
            "gpus_per_node": gpus,
            "nodes_per_rack": 1,
            "racks_per_block": count,
            "deliveries": [{"date": start.isoformat(), "nodes": count,
                            "source": f"{file_name}: {count} {model} nodes with {gpus} GPUs each"}],
        })
    return {"gpu_types": gpu_types, "fleet": {"pools": pools}}


def header_comment(nodes: NodeList) -> str:
    """Comment lines stating what the fleet holds and what was left out."""
    gpu_nodes = int((nodes.gpus > 0).sum())
    cpu_nodes = len(nodes) - gpu_nodes
    return (f"# Fleet of {nodes.report.path}: {gpu_nodes:,} GPU nodes, {int(nodes.gpus.sum()):,} GPUs.\n"
            f"# Left out: {cpu_nodes:,} CPU-only nodes (no GPU to place), {nodes.report.bad_count:,} bad rows.\n"
            "# One pool per (GPU model, GPUs per node); each node is its own rack (a pod never spans nodes).\n")


def replay_scenario(nodes: NodeList, pods: JobTrace, pods_path: str, name: str, start: date,
                    gpu_sharing: str = "whole_gpu") -> dict[str, Any]:
    """A runnable scenario: the node list's fleet and the pod list replayed under FIFO with backfill."""
    last = float(np.nanmax(np.concatenate([pods.submit_s, pods.submit_s + np.nan_to_num(pods.wait_s)
                                           + np.nan_to_num(pods.duration_s)]))) if len(pods) else 0.0
    first = float(np.nanmin(pods.submit_s)) if len(pods) else 0.0
    days = max(1, math.ceil((last - first) / 86400.0) + 1)
    return {
        "name": name,
        "description": f"Replay of {Path(pods_path).name} (Alibaba GPU cluster trace 2023, openb) on its own "
                       f"fleet from {Path(nodes.report.path).name}, under FIFO with EASY backfill. Compare the "
                       "simulated waits with the real ones: gpufleet trace replay.",
        "start": start.isoformat(),
        "end": (start + timedelta(days=days)).isoformat(),
        "seed": 0,
        **fleet_sections(nodes, start),
        "workloads": [{"trace": {"name": "openb", "format": "alibaba-openb", "path": pods_path,
                                 "gpu_sharing": gpu_sharing}}],
        "scheduler": {"policy": "fifo", "backfill": True},
    }


class Flow(dict):
    """A mapping written on one line (`{date: ..., nodes: ...}`)."""


class FlowList(list):
    """A list of plain values written on one line (`[1.2, 0.8, ...]`)."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(Flow, lambda dumper, data: dumper.represent_mapping("tag:yaml.org,2002:map", data,
                                                                            flow_style=True))
_Dumper.add_representer(FlowList, lambda dumper, data: dumper.represent_sequence("tag:yaml.org,2002:seq", data,
                                                                                 flow_style=True))
FLOW_KEYS = ("deliveries", "scheduler", "window", "sizes")


def to_yaml(data: dict[str, Any], comment: str = "") -> str:
    """Block-style YAML (deliveries and other `Flow` mappings on one line), after an optional comment."""
    return comment + yaml.dump(_flowing(data), Dumper=_Dumper, sort_keys=False, default_flow_style=False,
                               width=1000, allow_unicode=True)


def _flowing(data: Any, key: str = "") -> Any:
    if isinstance(data, dict):
        out = {name: _flowing(value, name) for name, value in data.items()}
        return Flow(out) if key in FLOW_KEYS else out
    if isinstance(data, list):
        if all(not isinstance(item, dict | list) for item in data):
            return FlowList(data)
        return [Flow(item) if key in FLOW_KEYS and isinstance(item, dict) else _flowing(item, key) for item in data]
    return data
