"""The clock: a discrete-event loop over a heap keyed (time, priority, sequence).

The sequence counter belongs to the engine instance, so ties break in scheduling order
and two engines never share state (SimPy's key, without its generator processes).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from typing import Any

Handler = Callable[[Any], None]


class Engine:
    """Runs handlers in time order; handlers schedule further events with `at`."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, int, Handler, Any]] = []
        self._seq = itertools.count()
        self.now = 0.0
        self.events = 0

    def at(self, time_s: float, priority: int, handler: Handler, payload: Any = None) -> None:
        """Call `handler(payload)` at `time_s`; lower `priority` first among equal times."""
        heapq.heappush(self._heap, (time_s, priority, next(self._seq), handler, payload))

    def pending_at(self, time_s: float) -> bool:
        """Whether an event is waiting at or before `time_s`."""
        return bool(self._heap) and self._heap[0][0] <= time_s

    def run(self, until_s: float, on_progress: Callable[[float, int], None] | None = None,
            progress_every: int = 50_000) -> None:
        """Process every event with time <= `until_s`, then set the clock to `until_s`."""
        heap, pop = self._heap, heapq.heappop
        events = self.events
        next_report = events + progress_every
        while heap and heap[0][0] <= until_s:
            time_s, _, _, handler, payload = pop(heap)
            self.now = time_s
            handler(payload)
            events += 1
            if on_progress is not None and events >= next_report:
                self.events = events
                on_progress(time_s, events)
                next_report = events + progress_every
        self.events = events
        self.now = until_s
