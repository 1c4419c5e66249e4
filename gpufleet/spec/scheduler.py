"""Scheduler spec: queue ordering, backfill and placement, chosen by name."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, PositiveInt

from gpufleet.spec.base import SpecModel


class SchedulerSpec(SpecModel):
    """How pending jobs are ordered and placed."""

    policy: Annotated[str, Field(description="Queue ordering policy, e.g. 'fifo'.")] = "fifo"
    backfill: Annotated[
        bool,
        Field(
            description="EASY backfill: the first blocked job gets a reservation; later jobs "
            "start only if they do not delay it. false = strict order (head-of-line blocking)."
        ),
    ] = True
    placement: Annotated[str, Field(description="Placement strategy, e.g. 'best_fit'.")] = "best_fit"
    max_job_test: Annotated[
        PositiveInt,
        Field(description="Most pending jobs one backfill pass examines (Slurm bf_max_job_test)."),
    ] = 500
