"""Real workloads: readers for public cluster and inference traces, statistics, fitting."""
