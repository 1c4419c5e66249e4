"""slurm.conf (and gres.conf): nodes with their GPUs, node sets, partitions and scheduling parameters.

Lines are `Key=Value` pairs (keys in any case, `#` starts a comment, a trailing `\\`
continues the line). `NodeName=DEFAULT` and `PartitionName=DEFAULT` set defaults for
the lines after them. A node's GPUs are its `Gres=gpu[:type]:count` (a `(S:0-1)` socket
binding is ignored); its CPUs are `CPUs`, else Boards x SocketsPerBoard (or Sockets) x
CoresPerSocket x ThreadsPerCore. Every key of every line read is recorded as mapped or
not modelled.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path

from gpufleet.errors import InputError, Problem
from gpufleet.interop import hostlist
from gpufleet.interop.report import Tally
from gpufleet.traces.sacct import parse_timelimit


@dataclass
class SlurmNode:
    name: str
    cpus: int
    gpus: int
    gpu_type: str | None
    line: int
    features: tuple[str, ...] = ()


@dataclass
class SlurmPartition:
    name: str
    nodes: list[str]
    line: int
    default: bool = False
    max_time_s: float | None = None
    default_time_s: float | None = None
    tier: int | None = None


@dataclass
class SlurmConf:
    """What slurm.conf says about nodes, partitions and scheduling."""

    path: str
    cluster: str | None = None
    nodes: dict[str, SlurmNode] = field(default_factory=dict)
    partitions: list[SlurmPartition] = field(default_factory=list)
    scheduler_type: str = "sched/backfill"
    max_job_test: int | None = None
    priority_type: str | None = None
    topology_plugin: str | None = None
    tally: Tally = field(default_factory=Tally)
    notes: list[str] = field(default_factory=list)
    lines: dict[str, int] = field(default_factory=dict)


NODE_MAPPED = {"nodename": "fleet.pools[] nodes", "gres": "GPUs per node and their type (fleet.pools[].gpu)",
               "cpus": "CPUs per node (--resource cpu)", "sockets": "CPUs per node (--resource cpu)",
               "boards": "CPUs per node (--resource cpu)", "socketsperboard": "CPUs per node (--resource cpu)",
               "corespersocket": "CPUs per node (--resource cpu)", "threadspercore": "CPUs per node (--resource cpu)",
               "feature": "node sets by feature"}
PARTITION_MAPPED = {"partitionname": "scheduler.queues[].name and tenants", "nodes": "scheduler.queues[].nominal",
                    "default": "scheduler.queues[].tenants: '*' (jobs that name no partition)",
                    "maxtime": "time limit of jobs whose Timelimit is Partition_Limit",
                    "defaulttime": "time limit of admit's jobs that give none",
                    "prioritytier": "scheduler.priority_classes (partition tiers)",
                    "priority": "scheduler.priority_classes (partition tiers; old spelling of PriorityTier)"}
WHY = {
    "realmemory": "memory is not scheduled (GPUs are)", "weight": "node weights (which free node first) are not "
    "modelled: best-fit placement decides", "state": "node states (CLOUD, DOWN, ...) are not modelled: every node "
    "is capacity", "tmpdisk": "disk is not scheduled", "nodeaddr": "addresses are not a scheduling input",
    "nodehostname": "addresses are not a scheduling input",
    "preemptmode": "preemption across partitions is not modelled (gpufleet preempts within queues and to reclaim "
                   "lent quota)",
    "allowqos": "QOS limits are not modelled", "qos": "QOS limits are not modelled",
    "allowaccounts": "account limits are not modelled", "allowgroups": "group limits are not modelled",
    "defmempercpu": "memory is not scheduled", "maxmempercpu": "memory is not scheduled",
    "maxnodes": "per-job node limits are not modelled", "oversubscribe": "oversubscription is not modelled",
    "priorityjobfactor": "the multifactor job priority is not modelled beyond partition tiers",
}
PARTITION_WHY = {**WHY, "state": "partition states (UP, DOWN, DRAIN...) are not modelled: every partition admits",
                 "maxtime": "a job's Timelimit comes from its record"}
GLOBAL_MAPPED = {"clustername": "name", "schedulertype": "scheduler.backfill",
                 "schedulerparameters": "scheduler.max_job_test (bf_max_job_test)",
                 "prioritytype": "scheduler.policy", "topologyplugin": "how --topology is read",
                 "grestypes": "GPU resources (gres/gpu)"}
GLOBAL_WHY = {
    "preempttype": "preemption across partitions (partition_prio, qos) is not modelled: gpufleet preempts within "
                   "queues and to reclaim lent quota",
    "preemptmode": "preemption across partitions is not modelled",
    "prioritydecayhalflife": "fair share by account is not modelled (partitions are the queues)",
    "selecttype": "gpufleet allocates whole GPUs per node (like select/cons_tres with --gpus)",
    "selecttypeparameters": "cores and memory are not scheduled",
}


def read_slurm_conf(path: str | Path, gres: str | Path | None = None) -> SlurmConf:
    """Read slurm.conf (and, when given, gres.conf to check and type the GPUs)."""
    path = Path(path)
    conf = SlurmConf(str(path))
    node_defaults: dict[str, str] = {}
    partition_defaults: dict[str, str] = {}
    node_sets: dict[str, list[str]] = {}
    pending_partitions: list[tuple[int, dict[str, str]]] = []
    for line, pairs in config_lines(path):
        first = next(iter(pairs))
        kind = {"nodename": "NodeName", "partitionname": "PartitionName", "nodeset": "NodeSet"}.get(first, "")
        conf.lines[kind or "parameter"] = conf.lines.get(kind or "parameter", 0) + 1
        if kind == "NodeName":
            if pairs["nodename"].upper() == "DEFAULT":
                node_defaults.update({key: value for key, value in pairs.items() if key != "nodename"})
                _tally(conf, "NodeName=DEFAULT", pairs, line, NODE_MAPPED, WHY)
                continue
            _node_line(conf, path, line, {**node_defaults, **pairs})
            _tally(conf, "NodeName", pairs, line, NODE_MAPPED, WHY)
        elif kind == "PartitionName":
            if pairs["partitionname"].upper() == "DEFAULT":
                partition_defaults.update({key: value for key, value in pairs.items() if key != "partitionname"})
                _tally(conf, "PartitionName=DEFAULT", pairs, line, PARTITION_MAPPED, PARTITION_WHY)
                continue
            pending_partitions.append((line, {**partition_defaults, **pairs}))
            _tally(conf, "PartitionName", pairs, line, PARTITION_MAPPED, PARTITION_WHY)
        elif kind == "NodeSet":
            pending = pairs
            node_sets[pending["nodeset"]] = _node_set(conf, path, line, pending)
            _tally(conf, "NodeSet", pairs, line, {"nodeset": "partition node lists", "nodes": "partition node lists",
                                                  "feature": "partition node lists"}, WHY)
        else:
            _global(conf, path, line, pairs)
    for line, pairs in pending_partitions:
        conf.partitions.append(_partition(conf, path, line, pairs, node_sets))
    if gres is not None:
        _read_gres(conf, Path(gres))
    return conf


def config_lines(path: Path) -> list[tuple[int, dict[str, str]]]:
    """(line number, {lower-case key: value}) of every non-empty line, continuations joined."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError([Problem("file not found", file=str(path))]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError([Problem(f"cannot read: {exc}", file=str(path))]) from None
    out = []
    carry, carry_line = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        body = raw.split("#", 1)[0].rstrip()
        if body.endswith("\\"):
            carry, carry_line = carry + body[:-1] + " ", carry_line or number
            continue
        body, start = carry + body, carry_line or number
        carry, carry_line = "", 0
        if not body.strip():
            continue
        try:
            words = shlex.split(body)
        except ValueError as exc:
            raise InputError([Problem(f"cannot split the line: {exc}", file=str(path), line=start)]) from None
        if words[0].lower() == "include":
            out.append((start, {"include": " ".join(words[1:])}))
            continue
        pairs: dict[str, str] = {}
        for word in words:
            key, sep, value = word.partition("=")
            if not sep or not key:
                raise InputError([Problem(f"{word!r} is not Key=Value", file=str(path), line=start)])
            pairs[key.lower()] = value
        out.append((start, pairs))
    return out


def _tally(conf: SlurmConf, kind: str, pairs: dict[str, str], line: int, mapped: dict[str, str],
           why: dict[str, str]) -> None:
    for key in pairs:
        if key in mapped:
            conf.tally.mapped(kind, key, mapped[key], line)
        else:
            conf.tally.not_modelled(kind, key, why.get(key, "not modelled"), line)


def _node_line(conf: SlurmConf, path: Path, line: int, pairs: dict[str, str]) -> None:
    try:
        names = hostlist.expand(pairs["nodename"])
    except ValueError as exc:
        raise InputError([Problem(str(exc), path=("NodeName",), file=str(path), line=line)]) from None
    gpus, gpu_type = gres_gpus(pairs.get("gres", ""), path, line)
    cpus = _cpus(pairs, path, line)
    features = tuple(part for part in pairs.get("feature", "").split(",") if part)
    for name in names:
        conf.nodes[name] = SlurmNode(name, cpus, gpus, gpu_type, line, features)


def gres_gpus(text: str, path: Path, line: int) -> tuple[int, str | None]:
    """(GPUs, type) from a node's Gres: `gpu:8`, `gpu:a100:8`, `gpu:tesla_p100-pcie-16gb:2(S:0-1)`, with others."""
    total, kind = 0, None
    for item in _split_gres(text):
        parts = item.split("(")[0].split(":")
        if parts[0] != "gpu":
            continue
        count = parts[-1] if len(parts) > 1 else "1"
        multiplier = {"k": 1000, "m": 10**6, "g": 10**9}.get(count[-1:].lower(), 1)
        digits = count[:-1] if multiplier > 1 else count
        if not digits.isdigit():
            raise InputError([Problem(f"Gres {item!r}: the GPU count is not a whole number", path=("Gres",),
                                      file=str(path), line=line)])
        if len(parts) == 3:
            if kind not in (None, parts[1]):
                raise InputError([Problem(f"Gres {text!r}: two GPU types on one node; a gpufleet pool has one",
                                          path=("Gres",), file=str(path), line=line)])
            kind = parts[1]
        total += int(digits) * multiplier
    return total, kind


def _split_gres(text: str) -> list[str]:
    """Split at commas outside parentheses (`gpu:4(S:0-1),nic:2`)."""
    parts, depth, current = [], 0, ""
    for char in text:
        depth += char == "("
        depth -= char == ")"
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return [part for part in [*parts, current] if part]


def _cpus(pairs: dict[str, str], path: Path, line: int) -> int:
    def number(key: str, default: int) -> int:
        value = pairs.get(key)
        if value is None:
            return default
        if not value.isdigit():
            raise InputError([Problem(f"{key}={value!r} is not a whole number", file=str(path), line=line)])
        return int(value)

    if "cpus" in pairs:
        return number("cpus", 1)
    sockets = number("sockets", number("boards", 1) * number("socketsperboard", 1))
    return sockets * number("corespersocket", 1) * number("threadspercore", 1)


def _node_set(conf: SlurmConf, path: Path, line: int, pairs: dict[str, str]) -> list[str]:
    if "nodes" in pairs:
        try:
            return hostlist.expand(pairs["nodes"])
        except ValueError as exc:
            raise InputError([Problem(str(exc), path=("Nodes",), file=str(path), line=line)]) from None
    feature = pairs.get("feature")
    if feature:
        return [name for name, node in conf.nodes.items() if feature in node.features]
    raise InputError([Problem("a NodeSet needs Nodes= or Feature=", file=str(path), line=line)])


def _partition(conf: SlurmConf, path: Path, line: int, pairs: dict[str, str],
               node_sets: dict[str, list[str]]) -> SlurmPartition:
    name = pairs["partitionname"]
    text = pairs.get("nodes", "")
    names: list[str] = []
    if text.upper() == "ALL":
        names = list(conf.nodes)
    elif text:
        try:
            for item in hostlist.expand(text):
                names.extend(node_sets.get(item, [item]))
        except ValueError as exc:
            raise InputError([Problem(str(exc), path=("Nodes",), file=str(path), line=line)]) from None
    unknown = [node for node in names if node not in conf.nodes]
    if unknown:
        raise InputError([Problem(f"partition {name}: {len(unknown)} nodes are not defined by a NodeName line "
                                  f"({', '.join(unknown[:5])}{' ...' if len(unknown) > 5 else ''})",
                                  path=("Nodes",), file=str(path), line=line)])
    tier_text = pairs.get("prioritytier", pairs.get("priority"))
    if tier_text is not None and not tier_text.isdigit():
        raise InputError([Problem(f"PriorityTier={tier_text!r} is not a whole number", file=str(path), line=line)])

    def limit(key: str) -> float | None:
        value = pairs.get(key)
        if value is None:
            return None
        try:
            seconds = parse_timelimit(value)
        except ValueError:
            raise InputError([Problem(f"{key}={value!r} is not a Slurm time", file=str(path), line=line)]) from None
        return None if seconds != seconds or seconds == float("inf") else seconds

    return SlurmPartition(name, names, line, pairs.get("default", "NO").upper() == "YES", limit("maxtime"),
                          limit("defaulttime"), int(tier_text) if tier_text is not None else None)


def _global(conf: SlurmConf, path: Path, line: int, pairs: dict[str, str]) -> None:
    for key, value in pairs.items():
        kind = "parameter"
        if key == "include":
            conf.tally.not_modelled(kind, "Include", "included files are not read: pass their content", line)
            conf.notes.append(f"{path}:{line}: Include {value} is not followed")
            continue
        if key == "clustername":
            conf.cluster = value
        elif key == "schedulertype":
            if value not in ("sched/backfill", "sched/builtin"):
                raise InputError([Problem(f"SchedulerType={value!r}: expected sched/backfill or sched/builtin",
                                          file=str(path), line=line)])
            conf.scheduler_type = value
        elif key == "schedulerparameters":
            for item in value.split(","):
                option, _, number = item.partition("=")
                if option == "bf_max_job_test":
                    if not number.isdigit() or int(number) < 1:
                        raise InputError([Problem(f"bf_max_job_test={number!r} is not a positive whole number",
                                                  file=str(path), line=line)])
                    conf.max_job_test = int(number)
                elif option:
                    conf.tally.not_modelled("SchedulerParameters", option,
                                            "backfill tuning other than bf_max_job_test is not modelled", line)
        elif key == "prioritytype":
            conf.priority_type = value
        elif key == "topologyplugin":
            conf.topology_plugin = value
        if key in GLOBAL_MAPPED:
            conf.tally.mapped(kind, key, GLOBAL_MAPPED[key], line)
        elif key.startswith("priorityweight"):
            conf.tally.not_modelled(kind, key, "multifactor priority weights are not modelled: jobs go by partition "
                                               "tier, then submit time", line)
        else:
            conf.tally.not_modelled(kind, key, GLOBAL_WHY.get(key, "not modelled"), line)


def _read_gres(conf: SlurmConf, path: Path) -> None:
    """Check slurm.conf's GPU counts against gres.conf and take GPU types from it."""
    counts: dict[str, int] = {}
    types: dict[str, str] = {}
    for line, pairs in config_lines(path):
        if "nodename" not in pairs:
            for key in pairs:
                conf.tally.not_modelled("gres.conf", key, "gres.conf settings other than per-node GPU counts and "
                                                          "types are not modelled", line)
            continue
        if pairs.get("name") != "gpu":
            conf.tally.not_modelled("gres.conf", "name", "generic resources other than gpu are not scheduled", line)
            continue
        try:
            names = hostlist.expand(pairs["nodename"])
        except ValueError as exc:
            raise InputError([Problem(str(exc), path=("NodeName",), file=str(path), line=line)]) from None
        count_text = pairs.get("count", "1")
        if not count_text.isdigit():
            raise InputError([Problem(f"Count={count_text!r} is not a whole number", file=str(path), line=line)])
        for key in pairs:
            if key in ("nodename", "name", "count", "type"):
                conf.tally.mapped("gres.conf", key, "checked against slurm.conf's Gres", line)
            else:
                conf.tally.not_modelled("gres.conf", key, "device files and bindings are not modelled", line)
        for name in names:
            if name not in conf.nodes:
                raise InputError([Problem(f"node {name} is not defined in {conf.path}", path=("NodeName",),
                                          file=str(path), line=line)])
            counts[name] = counts.get(name, 0) + int(count_text)
            if "type" in pairs:
                types[name] = pairs["type"]
    for name, count in counts.items():
        node = conf.nodes[name]
        if node.gpus != count:
            raise InputError([Problem(f"node {name} has {count} GPUs in gres.conf but Gres gives {node.gpus} in "
                                      f"{conf.path} (line {node.line})", file=str(path))])
        if node.gpu_type is None and name in types:
            node.gpu_type = types[name]
