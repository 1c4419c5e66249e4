"""Kubernetes Node objects (`kubectl get nodes -o json`) as cluster nodes of Kueue flavors.

A node's GPUs are its allocatable (else capacity) GPU resource. It belongs to the
ResourceFlavor whose nodeLabels it carries (the most specific one when several match).
The flavor's Topology names the node labels of its levels, outermost first; the lowest
level is the node (kubernetes.io/hostname), the one above it the rack, the one above
that the block. Higher levels are not modelled.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from gpufleet.interop.kueue_config import KueueConfig
from gpufleet.interop.pools import ClusterNode, natural_key
from gpufleet.traces.k8s import Document, FieldReader, parse_quantity, whole

HOSTNAME = "kubernetes.io/hostname"
PRODUCT = "nvidia.com/gpu.product"
NODE_COLLAPSE = ("status.images", "status.conditions", "status.nodeInfo", "status.addresses",
                 "status.daemonEndpoints", "status.volumesAttached", "status.volumesInUse", "status.config",
                 "status.runtimeHandlers", "status.features", "spec.podCIDRs", "spec.podCIDR", "spec.providerID")
STATUS = "node status other than its GPUs (images, conditions, addresses...): not a scheduling input"


@dataclass
class NodeRead:
    """The nodes read, with their readers and what could not be placed."""

    nodes: list[ClusterNode] = field(default_factory=list)
    readers: list[FieldReader] = field(default_factory=list)
    products: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def levels_of(labels: list[str]) -> tuple[str | None, str | None, list[str]]:
    """(block label, rack label, labels not modelled) of a Topology's levels."""
    rest = list(labels)
    if rest and rest[-1] == HOSTNAME:
        rest.pop()
    rack = rest.pop() if rest else None
    block = rest.pop() if rest else None
    return block, rack, rest


def read_nodes(documents: list[Document], config: KueueConfig, gpu_resources: tuple[str, ...]) -> NodeRead:
    """The GPU nodes among `documents`, each with its flavor, block and rack."""
    out = NodeRead()
    unmatched = ambiguous = 0
    products: dict[str, Counter] = {}
    unknown_topology: set[str] = set()
    for document in documents:
        if document.kind != "Node":
            continue
        reader = FieldReader(document)
        reader.get("apiVersion", to="how the object is read")
        reader.get("kind", to="how the object is read")
        name = reader.get("metadata", "name", to="fleet.pools[] nodes (their names, for admit)")
        if not isinstance(name, str) or not name:
            raise reader.error(("metadata", "name"), "a node needs a name")
        labels = reader.get("metadata", "labels", to="flavor and topology of the node", whole=True) or {}
        if not isinstance(labels, dict):
            raise reader.error(("metadata", "labels"), "expected a mapping of labels")
        gpus = _gpus(reader, gpu_resources)
        for key in ("allocatable", "capacity"):
            for resource in list((document.data.get("status") or {}).get(key) or {}):
                if resource not in gpu_resources:
                    reader.skip("status", key, resource, reason="only GPUs are scheduled (CPU, memory, pods...)")
        reader.skip("spec", "taints", reason="taints are not modelled: a tainted node is still capacity")
        reader.skip("spec", "unschedulable", reason="a cordoned node is still counted as capacity")
        reader.skip("status", reason=STATUS)
        out.readers.append(reader)
        if gpus == 0:
            continue
        flavor = _flavor_of(labels, config)
        if flavor is None:
            unmatched += 1
            continue
        if flavor[1]:
            ambiguous += 1
        flavor_name = flavor[0]
        spec = config.flavors.get(flavor_name)
        block = rack = None
        if spec is not None and spec.topology is not None:
            levels = config.topologies.get(spec.topology)
            if levels is None:
                unknown_topology.add(spec.topology)
            else:
                block_label, rack_label, _ = levels_of(levels)
                block = str(labels[block_label]) if block_label in labels else None
                rack = str(labels[rack_label]) if rack_label in labels else None
        if PRODUCT in labels:
            products.setdefault(flavor_name, Counter())[str(labels[PRODUCT])] += 1
        out.nodes.append(ClusterNode(str(name), flavor_name, gpus, block, rack))
    if unmatched:
        out.notes.append(f"{unmatched} GPU nodes match no ResourceFlavor's nodeLabels: left out (Kueue cannot "
                         "admit workloads onto them)")
    if ambiguous:
        out.notes.append(f"{ambiguous} GPU nodes match several ResourceFlavors: each went to the one with the most "
                         "labels (then the first by name)")
    for topology in sorted(unknown_topology):
        out.notes.append(f"Topology {topology!r} is named by a flavor but not given: its nodes are racks of one node")
    out.products = {flavor: counter.most_common(1)[0][0] for flavor, counter in products.items()}
    out.nodes.sort(key=lambda node: natural_key(node.name))
    return out


def _gpus(reader: FieldReader, gpu_resources: tuple[str, ...]) -> int:
    for key in ("allocatable", "capacity"):
        values = reader.document.data.get("status", {}).get(key) if isinstance(reader.document.data.get("status"),
                                                                               dict) else None
        if not isinstance(values, dict):
            continue
        for resource in gpu_resources:
            if resource in values:
                path = ("status", key, resource)
                value = reader.get(*path, to="GPUs of the node (fleet.pools[].gpus_per_node)")
                try:
                    count = whole(parse_quantity(value))
                except ValueError as exc:
                    raise reader.error(path, str(exc)) from None
                if count is None or count < 0:
                    raise reader.error(path, f"{value!r} is not a whole number of GPUs")
                if key == "allocatable":
                    reader.skip("status", "capacity", resource, reason="allocatable GPUs are used, not capacity")
                return count
    return 0


def _flavor_of(labels: dict, config: KueueConfig) -> tuple[str, bool] | None:
    """(flavor, whether several matched) for a node's labels; None when no flavor selects it.

    Without any ResourceFlavor the node's GPU product label names its flavor (else `gpu`).
    """
    if not config.flavors:
        return (str(labels.get(PRODUCT, "gpu")).lower(), False)
    matches = [flavor for flavor in config.flavors.values()
               if all(str(labels.get(key)) == value for key, value in flavor.node_labels.items())]
    if not matches:
        return None
    matches.sort(key=lambda flavor: (-len(flavor.node_labels), flavor.name))
    return matches[0].name, len(matches) > 1
