"""The clock: event engine, the event vocabulary, the processes of a run.

`gpufleet.sim.build.build(scenario)` assembles a run; it is not re-exported here, so
that importing the engine does not import every layer below.
"""

from gpufleet.sim.engine import Engine

__all__ = ["Engine"]
