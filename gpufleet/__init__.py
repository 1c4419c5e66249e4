"""gpufleet: plan, simulate and schedule hyperscale AI compute.

The Python API lives in `gpufleet.api` (load, run); the command is `gpufleet`.
"""

__version__ = "0.1.0"
