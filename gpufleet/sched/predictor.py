"""Run-time prediction from history, for policies that must rank jobs whose run time is unknown.

The prediction for a job is the median run time of the last `window` completed jobs of the
same team and size, else of the same team, else of every job; before any job has
completed it is `prior_s`. This is the estimator the Tiresias paper argues real clusters
can afford (recent history of similar jobs), in its simplest form.
"""

from __future__ import annotations

from collections import deque
from statistics import median

from gpufleet.workload.jobs import JobTable


class RunTimePredictor:
    """Median of recent completed run times of similar jobs."""

    def __init__(self, jobs: JobTable, window: int = 20, prior_s: float = 3600.0) -> None:
        self._team = jobs.team.tolist()
        self.job_gpus = jobs.gpus.tolist()
        self.window = window
        self.prior_s = prior_s
        self._by_team_size: dict[tuple[str, int], deque[float]] = {}
        self._by_team: dict[str, deque[float]] = {}
        self._all: deque[float] = deque(maxlen=window)

    def observe(self, job: int, run_s: float) -> None:
        """A job completed after running `run_s` seconds."""
        team, gpus = self._team[job], self.job_gpus[job]
        self._by_team_size.setdefault((team, gpus), deque(maxlen=self.window)).append(run_s)
        self._by_team.setdefault(team, deque(maxlen=self.window)).append(run_s)
        self._all.append(run_s)

    def predict(self, job: int) -> float:
        """Predicted run time of `job` in seconds."""
        team = self._team[job]
        for history in (self._by_team_size.get((team, self.job_gpus[job])), self._by_team.get(team), self._all):
            if history:
                return median(history)
        return self.prior_s
