"""fgf: fewest GPUs first, without and with preemption.

The job asking for the fewest GPUs goes first; equals in submit order. Research
simulators call it "sjf" (smallest job first, by GPU count; Tiresias' simulator, Gavel's
baselines); here `sjf` means shortest run time, so this one is named for what it sorts
by. `fgf` never preempts; `fgf_preemptive` lets a waiting job take the place of running
jobs that hold more GPUs than it asks for.
"""

from __future__ import annotations

from gpufleet.sched.policies.base import POLICIES, Key, Policy


@POLICIES.register("fgf")
class FgfPolicy(Policy):
    """Fewest GPUs first, non-preemptive."""

    def key(self, job: int) -> Key:
        return (self.context.progress.gpus[job], job)


@POLICIES.register("fgf_preemptive")
class PreemptiveFgfPolicy(FgfPolicy):
    """Fewest GPUs first; a waiting job preempts running jobs with more GPUs."""

    preemptive = True

    def preempts(self, job: int, victim: int, now: float) -> bool:
        gpus = self.context.progress.gpus
        return gpus[job] < gpus[victim]

    def victim_rank(self, victim: int, now: float) -> float:
        return float(self.context.progress.gpus[victim])
