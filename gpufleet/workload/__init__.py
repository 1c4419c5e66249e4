"""Jobs: synthetic generators, explicit jobs, trace workloads, the job table."""

from gpufleet.workload.jobs import JobColumns, JobTable

__all__ = ["JobColumns", "JobTable"]
