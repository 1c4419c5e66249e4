"""Cluster nodes and their topology as gpufleet pools: homogeneous racks in blocks.

A gpufleet pool is one GPU type (flavor) with racks of equal shape (GPUs per node, nodes
per rack) that fill blocks of `racks_per_block`. Real clusters are less regular, so:

- nodes are grouped by flavor, then racks by shape: one pool per (flavor, GPUs per
  node, nodes per rack), named after the flavor (with the shape when a flavor needs
  several pools);
- without a rack level every node is its own rack (a pod or a node's share of a job
  never spans nodes); without a block level a pool is one block;
- racks are laid out block by block, in name order, so gpufleet's k-th rack of a pool
  is the k-th name in `PoolNames.racks`; when real blocks hold different numbers of
  racks, gpufleet blocks hold the largest number, and the report says so.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class ClusterNode:
    """One node: its flavor (GPU type), GPUs, and the names of its block and rack (None: no such level)."""

    name: str
    flavor: str
    gpus: int
    block: str | None = None
    rack: str | None = None


@dataclass
class PoolNames:
    """The real names behind one pool's racks and blocks, in gpufleet's order."""

    pool: str
    flavor: str
    racks: list[str] = field(default_factory=list)
    rack_blocks: list[str | None] = field(default_factory=list)
    nodes: list[list[str]] = field(default_factory=list)
    racks_per_block: int = 1

    def rack_name(self, rack: int) -> str:
        """The real name of the pool's rack number `rack` (with its block when there is one)."""
        block = self.rack_blocks[rack]
        return f"{self.racks[rack]} (block {block})" if block is not None else self.racks[rack]

    def block_name(self, block: int) -> str:
        """The real block(s) behind the pool's gpufleet block number `block`."""
        lo = block * self.racks_per_block
        found = list(dict.fromkeys(name for name in self.rack_blocks[lo: lo + self.racks_per_block]))
        return ", ".join(name or "(one block)" for name in found)

    def to_dict(self) -> dict:
        return {"pool": self.pool, "flavor": self.flavor, "racks": self.racks, "rack_blocks": self.rack_blocks,
                "nodes": self.nodes, "racks_per_block": self.racks_per_block}

    @classmethod
    def from_dict(cls, data: dict) -> PoolNames:
        return cls(data["pool"], data["flavor"], list(data["racks"]), list(data["rack_blocks"]),
                   [list(names) for names in data["nodes"]], int(data["racks_per_block"]))


@dataclass
class Pools:
    """Pool sections of a scenario, their real names, and what was approximated."""

    specs: list[dict]
    names: list[PoolNames]
    notes: list[str]

    def gpus_by_flavor(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for spec in self.specs:
            racks = sum(change["racks"] for change in spec["deliveries"])
            gpus = racks * spec["nodes_per_rack"] * spec["gpus_per_node"]
            totals[spec["gpu"]] = totals.get(spec["gpu"], 0) + gpus
        return totals


def natural_key(text: str) -> list:
    """'n10' after 'n9': digits compare as numbers."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def build_pools(nodes: list[ClusterNode], start: datetime, source: str, unit: str = "GPU") -> Pools:
    """The pools of `nodes` (GPU nodes only), delivered whole on `start`; `source` cites where the nodes come from
    (`unit`: what a node's `gpus` count, for the text)."""
    notes: list[str] = []
    by_flavor: dict[str, list[ClusterNode]] = {}
    for node in nodes:
        if node.gpus > 0:
            by_flavor.setdefault(node.flavor, []).append(node)
    shapes: dict[tuple[str, int, int], list[tuple[str | None, str, list[ClusterNode]]]] = {}
    for flavor in sorted(by_flavor, key=natural_key):
        racks: dict[tuple[str | None, str], list[ClusterNode]] = {}
        for node in by_flavor[flavor]:
            key = (node.block, node.rack if node.rack is not None else node.name)
            racks.setdefault(key, []).append(node)
        for (block, rack), members in racks.items():
            per_node = {member.gpus for member in members}
            if len(per_node) > 1:
                notes.append(f"rack {rack} ({flavor}) mixes nodes of {sorted(per_node)} GPUs: each of its nodes "
                             "is laid out as a rack of its own")
                for member in members:
                    shapes.setdefault((flavor, member.gpus, 1), []).append((block, member.name, [member]))
                continue
            shapes.setdefault((flavor, per_node.pop(), len(members)), []).append((block, rack, members))
    flavors_with = Counter(flavor for flavor, _, _ in shapes)
    specs, names = [], []
    for (flavor, gpus_per_node, nodes_per_rack), racks in shapes.items():
        pool = flavor if flavors_with[flavor] == 1 else f"{flavor}-{nodes_per_rack}x{gpus_per_node}"
        racks.sort(key=lambda item: (natural_key(item[0] or ""), natural_key(item[1])))
        blocks = Counter(block for block, _, _ in racks)
        racks_per_block = max(blocks.values())
        if len(set(blocks.values())) > 1:
            notes.append(f"pool {pool}: blocks hold {min(blocks.values())} to {racks_per_block} racks; gpufleet "
                         f"blocks hold {racks_per_block} (racks fill them in name order)")
        specs.append({
            "name": pool, "gpu": flavor, "gpus_per_node": gpus_per_node, "nodes_per_rack": nodes_per_rack,
            "racks_per_block": racks_per_block,
            "deliveries": [{"date": start.date().isoformat(), "racks": len(racks),
                            "source": f"{source}: {len(racks) * nodes_per_rack} nodes of {gpus_per_node} "
                                      f"{unit}s"}],
        })
        names.append(PoolNames(pool, flavor, [rack for _, rack, _ in racks], [block for block, _, _ in racks],
                               [[member.name for member in members] for _, _, members in racks], racks_per_block))
    return Pools(specs, names, notes)
