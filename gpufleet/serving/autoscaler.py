"""SkyPilot-style autoscaling as a pure state machine, and the replicas it manages.

`Autoscaler.decide(qps)` follows SkyPilot serve's RequestRateAutoscaler
(sky/serve/autoscalers.py): desired = ceil(qps / target_qps_per_replica) clamped to
[min_replicas, max_replicas]; the target moves up after the desired count has been
above it at `upscale_periods` consecutive decisions (int(upscale_delay_seconds /
interval)), down after `downscale_periods` decisions below it; a decision that agrees
resets both counters; from a target of 0 it moves at once.

`ReplicaSet` holds what actually exists: replicas asked for but not placed (pending),
placed and warming up (starting), and serving (ready). The fleet tells it what happened
(`place`, `lose`); `reconcile(target)` says which replicas to ask for and which to stop.
Neither knows about the fleet: the caller places replicas, so a replica the fleet cannot
place stays pending and adds no capacity.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

from gpufleet.spec.serving import ReplicaPolicySpec

_EPS = 1e-9


@dataclass(slots=True)
class Autoscaler:
    """The replica target of one service, decision by decision.

    Attributes:
        min_replicas, max_replicas: the clamp on the desired count.
        target_qps_per_replica: requests/s per replica; None: no autoscaling (min_replicas).
        upscale_periods, downscale_periods: consecutive decisions needed to move the target.
        target: the current target number of replicas.
    """

    min_replicas: int
    max_replicas: int
    target_qps_per_replica: float | None
    upscale_periods: int
    downscale_periods: int
    target: int = -1
    upscale_counter: int = 0
    downscale_counter: int = 0

    def __post_init__(self) -> None:
        if self.target < 0:
            self.target = self.min_replicas

    @classmethod
    def from_spec(cls, policy: ReplicaPolicySpec, interval_s: float) -> Autoscaler:
        """The autoscaler of a replica_policy evaluated every `interval_s` seconds."""
        return cls(
            min_replicas=policy.min_replicas,
            max_replicas=policy.upper,
            target_qps_per_replica=policy.target_qps_per_replica,
            upscale_periods=int(policy.upscale_delay_seconds / interval_s + _EPS),
            downscale_periods=int(policy.downscale_delay_seconds / interval_s + _EPS),
        )

    def desired(self, qps: float) -> int:
        """ceil(qps / target_qps_per_replica) clamped to [min_replicas, max_replicas]."""
        if self.target_qps_per_replica is None:
            return self.min_replicas
        # A hair below the ratio so that, e.g., 460 / 230 asks for 2 replicas, not 3.
        wanted = math.ceil(qps / self.target_qps_per_replica - _EPS)
        return max(self.min_replicas, min(self.max_replicas, wanted))

    def start(self, qps: float) -> int:
        """Warm start: set the target straight to what `qps` asks for (a service already running)."""
        self.target = self.desired(qps)
        self.upscale_counter = self.downscale_counter = 0
        return self.target

    def decide(self, qps: float) -> int:
        """One decision on the requests/s measured since the last one; returns the new target."""
        if self.target_qps_per_replica is None:
            return self.target
        desired = self.desired(qps)
        if self.target == 0:
            self.target = desired
        elif desired > self.target:
            self.upscale_counter += 1
            self.downscale_counter = 0
            if self.upscale_counter >= self.upscale_periods:
                self.upscale_counter = 0
                self.target = desired
        elif desired < self.target:
            self.downscale_counter += 1
            self.upscale_counter = 0
            if self.downscale_counter >= self.downscale_periods:
                self.downscale_counter = 0
                self.target = desired
        else:
            self.upscale_counter = self.downscale_counter = 0
        return self.target


@dataclass(slots=True)
class Replica:
    """One replica: asked for at `requested_s`, placed at `started_s`, serving from `ready_s`."""

    id: int
    requested_s: float
    started_s: float | None = None
    ready_s: float | None = None
    flavor: str | None = None


@dataclass(frozen=True, slots=True)
class ScalePlan:
    """What reconciling to a target asks of the caller.

    Attributes:
        launch: ids of new replicas, pending: place them when the fleet can.
        stop: replicas to stop: pending ones (nothing to release), then starting, then
            ready ones, newest first in each state; placed ones release their GPUs.
    """

    launch: list[int]
    stop: list[Replica]


@dataclass
class ReplicaSet:
    """The replicas of one service, by state, with warm-up.

    A placed replica starts serving `warmup_s` after placement. Times passed to `place`
    must not decrease (replicas then become ready in placement order).
    """

    warmup_s: float
    pending: deque[Replica] = field(default_factory=deque)
    starting: deque[Replica] = field(default_factory=deque)
    ready: list[Replica] = field(default_factory=list)
    _next_id: int = 0
    _last_place_s: float = -math.inf

    def __len__(self) -> int:
        return len(self.pending) + len(self.starting) + len(self.ready)

    @property
    def placed(self) -> int:
        """Replicas holding GPUs (starting or ready)."""
        return len(self.starting) + len(self.ready)

    def promote(self, now: float) -> int:
        """Move replicas whose warm-up has ended by `now` to ready; returns the ready count."""
        starting = self.starting
        while starting and starting[0].ready_s <= now:  # type: ignore[operator]
            self.ready.append(starting.popleft())
        return len(self.ready)

    def reconcile(self, target: int, now: float) -> ScalePlan:
        """Ask for replicas up to `target` (pending) or stop the surplus (pending first)."""
        have = len(self)
        if target > have:
            launch = []
            for _ in range(target - have):
                replica = Replica(self._next_id, now)
                self._next_id += 1
                self.pending.append(replica)
                launch.append(replica.id)
            return ScalePlan(launch, [])
        surplus = have - target
        stop: list[Replica] = []
        for pool in (self.pending, self.starting, self.ready):
            while surplus and pool:
                stop.append(pool.pop())
                surplus -= 1
        return ScalePlan([], stop)

    def place(self, now: float, flavor: str | None = None, replica_id: int | None = None) -> Replica:
        """The fleet placed a pending replica (the oldest, or `replica_id`) at `now`: warm-up starts."""
        if now < self._last_place_s:
            raise ValueError(f"placement at {now} s is before the previous one at {self._last_place_s} s")
        if not self.pending:
            raise ValueError("no pending replica to place")
        if replica_id is None:
            replica = self.pending.popleft()
        else:
            replica = next((r for r in self.pending if r.id == replica_id), None)
            if replica is None:
                raise ValueError(f"replica {replica_id} is not pending")
            self.pending.remove(replica)
        replica.started_s, replica.ready_s, replica.flavor = now, now + self.warmup_s, flavor
        self._last_place_s = now
        self.starting.append(replica)
        return replica

    def preload(self, count: int, now: float, flavor: str | None = None) -> None:
        """Add `count` replicas already serving at `now` (a warm start)."""
        for _ in range(count):
            replica = Replica(self._next_id, now, started_s=now - self.warmup_s, ready_s=now, flavor=flavor)
            self._next_id += 1
            self.ready.append(replica)

    def lose(self, replica_id: int) -> Replica:
        """A placed replica is gone (failure, preemption): drop it; the next reconcile replaces it."""
        for pool in (self.starting, self.ready, self.pending):
            for replica in pool:
                if replica.id == replica_id:
                    pool.remove(replica)
                    return replica
        raise ValueError(f"no replica {replica_id}")

    def ready_by_flavor(self) -> dict[str | None, int]:
        """Ready replicas per GPU type (call `promote` first)."""
        counts: dict[str | None, int] = {}
        for replica in self.ready:
            counts[replica.flavor] = counts.get(replica.flavor, 0) + 1
        return counts
