"""Slurm network topology (topology.conf or topology.yaml) as racks and blocks.

- topology/tree: a leaf switch (a `SwitchName` with `Nodes`) is a gpufleet block; each
  node is its own rack (a job's per-node share stays on one node). Higher switches are
  not modelled: gangs may span leaf switches, as Slurm allows when the fabric connects
  them.
- topology/block: a `BlockName` is a gpufleet rack (its nodes form one domain that jobs
  fit into first); the largest `BlockSizes` aggregation is a gpufleet block (groups of
  consecutive base blocks); without BlockSizes all blocks form one.
- topology.yaml: the topology with `cluster_default: true` (or the one named), in
  either form; flat, ring and torus3d topologies are not modelled (nodes are racks of
  their own, one block).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from gpufleet.errors import InputError, Problem
from gpufleet.interop import hostlist
from gpufleet.interop.report import Tally
from gpufleet.interop.slurm_conf import config_lines


@dataclass
class SlurmTopology:
    """Where each node sits: node -> (block name or None, rack name or None: the node is its own rack)."""

    kind: str
    path: str
    place: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    tally: Tally = field(default_factory=Tally)


def read_topology(path: str | Path, name: str | None = None) -> SlurmTopology:
    """topology.yaml (by suffix .yaml/.yml) or topology.conf."""
    path = Path(path)
    if path.suffix.lower() in (".yaml", ".yml"):
        return _read_yaml(path, name)
    return _read_conf(path)


def _read_conf(path: Path) -> SlurmTopology:
    switches: list[tuple[int, str, str | None, str | None]] = []
    blocks: list[tuple[int, str, str]] = []
    sizes: list[int] | None = None
    tally = Tally()
    for line, pairs in config_lines(path):
        if "switchname" in pairs:
            switches.append((line, pairs["switchname"], pairs.get("nodes"), pairs.get("switches")))
            for key in pairs:
                tally.mapped("SwitchName", key, "blocks (leaf switches) of nodes", line) if key != "linkspeed" \
                    else tally.not_modelled("SwitchName", key, "link speeds are not used (by Slurm either)", line)
        elif "blockname" in pairs:
            if "nodes" not in pairs:
                raise InputError([Problem("a BlockName needs Nodes=", file=str(path), line=line)])
            blocks.append((line, pairs["blockname"], pairs["nodes"]))
            for key in pairs:
                tally.mapped("BlockName", key, "racks (base blocks) of nodes", line)
        elif "blocksizes" in pairs:
            sizes = _sizes(pairs["blocksizes"].split(","), path, line)
            tally.mapped("BlockSizes", "blocksizes", "racks per gpufleet block (the largest aggregation)", line)
        else:
            for key in pairs:
                tally.not_modelled("topology.conf", key, "not modelled (ring and other topologies)", line)
    if switches and blocks:
        raise InputError([Problem("the file mixes SwitchName (tree) and BlockName (block) lines", file=str(path))])
    if switches:
        topology = _tree([(line, sw, nodes, children) for line, sw, nodes, children in switches], path)
    elif blocks:
        topology = _blocks(blocks, sizes, path)
    else:
        raise InputError([Problem("no SwitchName or BlockName lines: not a tree or block topology",
                                  file=str(path))])
    topology.tally = tally
    return topology


def _sizes(values: list, path: Path, line: int | None) -> list[int]:
    out = []
    for value in values:
        text = str(value).strip()
        if not text.isdigit() or int(text) < 1:
            raise InputError([Problem(f"BlockSizes: {text!r} is not a positive whole number", file=str(path),
                                      line=line)])
        out.append(int(text))
    return out


def _expand(text: str, path: Path, line: int | None, what: str) -> list[str]:
    try:
        return hostlist.expand(text)
    except ValueError as exc:
        raise InputError([Problem(f"{what}: {exc}", file=str(path), line=line)]) from None


def _tree(switches: list[tuple[int | None, str, str | None, str | None]], path: Path) -> SlurmTopology:
    topology = SlurmTopology("tree", str(path))
    names = {name for _, name, _, _ in switches}
    upper = 0
    for line, name, nodes, children in switches:
        if nodes:
            for node in _expand(nodes, path, line, f"switch {name} nodes"):
                if node in topology.place:
                    raise InputError([Problem(f"node {node} is under two leaf switches ({topology.place[node][0]} "
                                              f"and {name})", file=str(path), line=line)])
                topology.place[node] = (name, None)
        if children:
            upper += 1
            for child in _expand(children, path, line, f"switch {name} switches"):
                if child not in names:
                    raise InputError([Problem(f"switch {name} names an undefined switch {child}", file=str(path),
                                              line=line)])
    if upper:
        topology.notes.append(f"topology/tree: {upper} switches above the leaves are not modelled (gangs may span "
                              "leaf switches)")
    return topology


def _blocks(blocks: list[tuple[int | None, str, str]], sizes: list[int] | None, path: Path) -> SlurmTopology:
    topology = SlurmTopology("block", str(path))
    members = []
    for line, name, nodes in blocks:
        names = _expand(nodes, path, line, f"block {name} nodes")
        members.append((name, names))
        for node in names:
            if node in topology.place:
                raise InputError([Problem(f"node {node} is in two blocks", file=str(path), line=line)])
    base = min(len(names) for _, names in members)
    if sizes:
        per = max(1, max(sizes) // sizes[0])
        if sizes[0] > base:
            topology.notes.append(f"topology/block: BlockSizes starts at {sizes[0]} nodes but a block has only "
                                  f"{base}")
    else:
        per = len(members)
        topology.notes.append("topology/block without BlockSizes: all blocks form one gpufleet block")
    for index, (name, names) in enumerate(members):
        group = members[(index // per) * per: (index // per) * per + per]
        aggregate = group[0][0] if len(group) == 1 else f"{group[0][0]}..{group[-1][0]}"
        for node in names:
            topology.place[node] = (aggregate, name)
    topology.notes.append(f"topology/block: each of the {len(members)} blocks is a gpufleet rack; up to {per} "
                          "consecutive blocks form a gpufleet block (the largest BlockSizes aggregation)")
    return topology


def _read_yaml(path: Path, name: str | None) -> SlurmTopology:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError([Problem("file not found", file=str(path))]) from None
    except (OSError, yaml.YAMLError) as exc:
        raise InputError([Problem(f"not valid YAML: {exc}", file=str(path))]) from None
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise InputError([Problem("topology.yaml is a list of topologies (- topology: NAME ...)", file=str(path))])
    names = [str(item.get("topology")) for item in data]
    if name is not None:
        if name not in names:
            raise InputError([Problem(f"no topology {name!r} (the file has: {', '.join(names)})", file=str(path))])
        chosen = data[names.index(name)]
    else:
        defaults = [item for item in data if item.get("cluster_default") is True]
        if len(defaults) != 1:
            raise InputError([Problem(f"{len(defaults)} topologies have cluster_default: true; name one with "
                                      f"--topology-name ({', '.join(names)})", file=str(path))])
        chosen = defaults[0]
    tally = Tally()
    for item in data:
        if item is not chosen:
            tally.not_modelled("topology", str(item.get("topology")), "not the cluster's default topology", 0)
    label = str(chosen.get("topology"))
    if "tree" in chosen:
        switches = (chosen["tree"] or {}).get("switches") or []
        entries = [(None, str(sw.get("switch")), sw.get("nodes"), sw.get("children")) for sw in switches]
        topology = _tree(entries, path)
        tally.mapped("topology", f"{label}.tree", "blocks (leaf switches) of nodes", 0)
    elif "block" in chosen:
        spec = chosen["block"] or {}
        blocks = [(None, str(block.get("block")), str(block.get("nodes") or "")) for block in spec.get("blocks") or []]
        if not blocks:
            raise InputError([Problem(f"topology {label}: a block topology needs blocks", file=str(path))])
        sizes = _sizes(spec["block_sizes"], path, None) if spec.get("block_sizes") else None
        topology = _blocks(blocks, sizes, path)
        tally.mapped("topology", f"{label}.block", "racks (base blocks) and blocks (largest aggregation)", 0)
    else:
        kind = next((key for key in ("flat", "ring", "torus3d") if key in chosen), "unknown")
        topology = SlurmTopology(kind, str(path))
        topology.notes.append(f"topology {label} is {kind}: not modelled (each node its own rack, one block)")
        tally.not_modelled("topology", f"{label}.{kind}", "flat, ring and torus topologies are not modelled", 0)
    topology.notes.insert(0, f"{path}: topology {label!r}")
    topology.tally = tally
    return topology
