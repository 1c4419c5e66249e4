"""The hardware at run time: topology layout, free-capacity index, allocation."""

from gpufleet.fleet.build import build_layout, gpu_types
from gpufleet.fleet.layout import FleetLayout, PoolLayout
from gpufleet.fleet.state import Allocation, FleetState, Placement

__all__ = ["Allocation", "FleetLayout", "FleetState", "Placement", "PoolLayout", "build_layout", "gpu_types"]
