"""The waiting jobs, in the policy's order per queue and per bucket.

A bucket is (queue, shape): if one job of a bucket cannot be placed none can, so a pass
skips whole buckets. Each bucket also keeps its jobs ordered by the run time a start now
would be planned with (fixed while a job waits), so backfill finds the short ones behind
a reservation without scanning the rest.
"""

from __future__ import annotations

from sortedcontainers import SortedList

from gpufleet.sched.policies import Key


class PendingBuckets:
    """Waiting jobs by queue and by (queue, shape), in key order, with their planned run times."""

    def __init__(self, n_queues: int, queue_of: list[int], job_shape: list[int]) -> None:
        self._queue_of = queue_of
        self._shape = job_shape
        self.by_queue: list[SortedList] = [SortedList() for _ in range(n_queues)]
        self.buckets: dict[tuple[int, int], SortedList] = {}
        self.bucket_runs: dict[tuple[int, int], SortedList] = {}
        """Per bucket, (planned run seconds, key) of its jobs."""
        self.key: dict[int, Key] = {}
        self.run_key: dict[int, tuple[float, Key]] = {}

    def add(self, job: int, key: Key, run_s: float) -> None:
        """`job` waits, at `key`, planned to run `run_s` once started."""
        self.key[job] = key
        queue, shape = self._queue_of[job], self._shape[job]
        self.by_queue[queue].add(key)
        bucket = (queue, shape)
        if bucket not in self.buckets:
            self.buckets[bucket] = SortedList()
            self.bucket_runs[bucket] = SortedList()
        self.buckets[bucket].add(key)
        run_key = (run_s, key)
        self.run_key[job] = run_key
        self.bucket_runs[bucket].add(run_key)

    def remove(self, job: int) -> float:
        """`job` no longer waits; returns its planned run time."""
        key = self.key.pop(job)
        queue, shape = self._queue_of[job], self._shape[job]
        self.by_queue[queue].remove(key)
        self.buckets[(queue, shape)].remove(key)
        run_key = self.run_key.pop(job)
        self.bucket_runs[(queue, shape)].remove(run_key)
        return run_key[0]
