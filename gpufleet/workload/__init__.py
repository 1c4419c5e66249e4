"""Jobs and services: synthetic generators, explicit jobs, the job table."""

from gpufleet.workload.jobs import JobColumns, JobTable
from gpufleet.workload.size_class import LABELS as SIZE_CLASSES
from gpufleet.workload.size_class import size_class

__all__ = ["SIZE_CLASSES", "JobColumns", "JobTable", "size_class"]
