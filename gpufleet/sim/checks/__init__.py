"""Checks across a scenario's fields that need the layers below: names that must exist
(pools, queues, policies, placements, services), dates in order, amounts that make whole
racks, jobs and replicas that must fit the fleet as it will be laid out.

Each problem is (field path, message); `gpufleet.sim.load` turns the path into a line.
"""

from gpufleet.sim.checks.scenario import check_scenario

__all__ = ["check_scenario"]
