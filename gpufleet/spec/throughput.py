"""Speed that depends on the GPU: a throughput matrix per job class and GPU type.

A job's `duration` is its run time on the `reference` GPU type. Each class gives, per
GPU type, its throughput relative to the reference (2.0: twice as fast, so half the run
time there); the reference type is 1 by definition. Jobs belong to a class by their own
label (a trace's model name, e.g. the Tiresias format's `model_name`) or by their
workload; jobs of no class run at the reference speed everywhere. Services named by a
class get their replica throughput on each type from their throughput on the reference
type (see `gpufleet.serving.by_type`).

Every class carries a `source` for its numbers (calibration.md's section, a paper's
table, or "assumption: ...").
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, PositiveFloat, model_validator

from gpufleet.spec.base import SpecModel


class ThroughputClassSpec(SpecModel):
    """One job class (a model, a precision, a workload type) and its speed on each GPU type."""

    name: str
    relative: Annotated[
        dict[str, PositiveFloat],
        Field(description="GPU type -> throughput relative to the reference type (the reference is 1)."),
    ]
    workloads: Annotated[
        list[str], Field(description="Workloads whose jobs are of this class (unless a job's own label says else).")
    ] = []
    labels: Annotated[
        list[str] | None,
        Field(description="Job labels (a trace's model names) of this class; default: the class name."),
    ] = None
    services: Annotated[
        list[str], Field(description="Services whose replica throughput per type follows this class.")
    ] = []
    source: Annotated[str, Field(description="Where the numbers come from (calibration.md section, paper, or "
                                             "'assumption: ...').", min_length=1)]

    @property
    def label_set(self) -> list[str]:
        return self.labels if self.labels is not None else [self.name]


class ThroughputSpec(SpecModel):
    """The throughput matrix: job classes x GPU types, relative to a reference type."""

    reference: Annotated[str, Field(description="GPU type the jobs' durations are measured on.")]
    classes: Annotated[list[ThroughputClassSpec], Field(min_length=1)]

    @model_validator(mode="after")
    def _unique(self) -> ThroughputSpec:
        names = [cls.name for cls in self.classes]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ValueError(f"class names used twice: {', '.join(twice)}")
        labels = [label for cls in self.classes for label in cls.label_set]
        twice = sorted({label for label in labels if labels.count(label) > 1})
        if twice:
            raise ValueError(f"labels in two classes: {', '.join(twice)}")
        workloads = [name for cls in self.classes for name in cls.workloads]
        twice = sorted({name for name in workloads if workloads.count(name) > 1})
        if twice:
            raise ValueError(f"workloads in two classes: {', '.join(twice)}")
        services = [name for cls in self.classes for name in cls.services]
        twice = sorted({name for name in services if services.count(name) > 1})
        if twice:
            raise ValueError(f"services in two classes: {', '.join(twice)}")
        for cls in self.classes:
            for name, value in cls.relative.items():
                if name.upper() == self.reference.upper() and value != 1.0:
                    raise ValueError(f"class {cls.name!r}: the reference type {self.reference} is 1 by "
                                     f"definition (got {value:g})")
        return self

    def relative(self, cls: ThroughputClassSpec, gpu_type: str) -> float | None:
        """Throughput of `cls` on `gpu_type` relative to the reference (None: not given)."""
        if gpu_type.upper() == self.reference.upper():
            return 1.0
        for name, value in cls.relative.items():
            if name.upper() == gpu_type.upper():
                return value
        return None
