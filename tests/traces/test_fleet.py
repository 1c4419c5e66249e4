"""The openb node list as a fleet: every GPU node in a pool of its shape; the built-in matches it."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

from gpufleet import api
from gpufleet.fleet.build import build_layout
from gpufleet.scenarios import builtin_path
from gpufleet.traces.fleet import fleet_sections
from gpufleet.traces.openb import read_nodes

NODES = "alibaba-gpu-v2023-openb/openb_node_list_all_node.csv"


def test_every_gpu_node_lands_in_a_pool_of_its_shape(traces: Path) -> None:
    nodes = read_nodes(traces / NODES)
    sections = fleet_sections(nodes, date(2023, 1, 2))
    shapes = Counter((model, int(gpus)) for model, gpus in zip(nodes.model, nodes.gpus.tolist(), strict=True) if model)
    pools = {(pool["gpu"], pool["gpus_per_node"]): pool["deliveries"][0]["nodes"]
             for pool in sections["fleet"]["pools"]}
    assert pools == dict(shapes)
    assert sum(gpus * count for (_, gpus), count in pools.items()) == 6212
    assert all(pool["nodes_per_rack"] == 1 for pool in sections["fleet"]["pools"])
    types = sections["gpu_types"]
    assert set(types) == {"G2", "G3", "T4", "P100", "V100M16", "V100M32", "A10"}
    assert types["T4"]["gpus_per_node"] == 2 and "387 nodes x 2 GPUs" in types["T4"]["source"]
    assert all("list_price_usd_per_gpu_hour" not in spec and "no specs or prices" in spec["source"]
               for spec in types.values())


def test_the_builtin_replay_is_the_node_list(traces: Path) -> None:
    """The built-in scenario's fleet is what `gpufleet trace fleet` makes of the node list today."""
    import yaml

    builtin = yaml.safe_load(builtin_path("openb-replay").read_text())
    expected = fleet_sections(read_nodes(traces / NODES), date.fromisoformat(str(builtin["start"])))

    def comparable(data: dict) -> dict:  # the built-in names the file by its path from the repo root
        text = yaml.safe_dump(data).replace(str(traces / "alibaba-gpu-v2023-openb") + "/", "")
        return yaml.safe_load(text)

    assert comparable({"gpu_types": builtin["gpu_types"], "fleet": builtin["fleet"]}) == comparable(expected)
    layout = build_layout(api.load("openb-replay"))
    assert layout.installed_gpus(0.0) == 6212 and layout.n_nodes == 1213
