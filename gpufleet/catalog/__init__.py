"""Facts about hardware and prices, each with its source."""

from gpufleet.catalog.gpus import CATALOG, GpuType, lookup

__all__ = ["CATALOG", "GpuType", "lookup"]
