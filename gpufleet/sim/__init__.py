"""The clock: event engine, the processes of a run, random streams.

`gpufleet.sim.build.build(scenario)` assembles a run; it is not re-exported here so
that low-level modules (workload generators) can use `sim.rng` without import cycles.
"""

from gpufleet.sim.engine import Engine
from gpufleet.sim.rng import stream

__all__ = ["Engine", "stream"]
