"""The sha256 of every output table of a fixed set of runs, to show a change leaves every
output byte for byte the same (ARCHITECTURE.md; issue 18 checked its refactoring so).

Cases: every built-in scenario (to 45 days past its start), the failure benchmark's
variants and an engine benchmark case (benchmarks/failures.py, engine.py), the default
scenario without its services (40 days), and research-lab under seven policies x the
three placements (20 days). Run it on two checkouts and compare:

    python benchmarks/digests.py > after.txt   # about 3 minutes on the development VM
    diff before.txt after.txt
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from engine import scenario_yaml  # noqa: E402 - benchmarks/engine.py, beside this script
from failures import variant_yaml  # noqa: E402

from gpufleet import api  # noqa: E402
from gpufleet.scenarios import builtin_names  # noqa: E402
from gpufleet.sim.load import parse_scenario  # noqa: E402

POLICIES = ("las", "drf", "srtf", "sjf", "priority", "fgf_preemptive", "gavel_las")
PLACEMENTS = ("best_fit", "random", "spread")


def cases() -> list[tuple[str, object, object, dict[str, str]]]:
    """(name, scenario, stop date or None, run options) of every case."""
    found = []
    for name in builtin_names():
        scenario = api.load(name)
        found.append((f"builtin-{name}", scenario, min(scenario.end, scenario.start + timedelta(days=45)), {}))
    for variant in ("none", "fifty", "catalog", "idle"):
        found.append((f"failures-{variant}", parse_scenario(variant_yaml(variant, 20.0), source="<digests>"), None, {}))
    found.append(("engine-5000", parse_scenario(scenario_yaml(5000, 4096), source="<digests>"), None, {}))
    default = api.load("openai-aws-2025")
    found.append(("no-services", default.model_copy(update={"services": []}), default.start + timedelta(days=40), {}))
    lab = api.load("research-lab")
    for policy in POLICIES:
        for placement in PLACEMENTS:
            found.append((f"lab-{policy}-{placement}", lab, lab.start + timedelta(days=20),
                          {"policy": policy, "placement": placement}))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="run only the cases whose name contains this")
    args = parser.parse_args()
    began = time.perf_counter()
    chosen = [case for case in cases() if args.only is None or args.only in case[0]]
    with tempfile.TemporaryDirectory() as folder:
        for name, scenario, until, options in chosen:
            out = Path(folder) / name
            out.mkdir()
            api.run(scenario, until=until, **options).write_tables(out)  # type: ignore[arg-type]
            for path in sorted(out.iterdir()):
                print(hashlib.sha256(path.read_bytes()).hexdigest(), f"{name}/{path.name}", flush=True)
    print(f"# {len(chosen)} cases in {time.perf_counter() - began:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
