"""How to read a request trace: which column holds each field, and the time unit.

A spec model, used by the scenario's `services[].demand.trace` and by `gpufleet trace`.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator

from gpufleet.spec.base import SpecModel
from gpufleet.spec.units import check_time_unit


class RequestColumns(SpecModel):
    """Which column (CSV) or key (JSON Lines) holds each request field."""

    arrival: Annotated[str, Field(description="Arrival time, in the time unit.")] = "arrival"
    input_tokens: Annotated[str, Field(description="Prompt (input) tokens.")] = "input_tokens"
    output_tokens: Annotated[str, Field(description="Generated (output) tokens.")] = "output_tokens"


class RequestFormat(SpecModel):
    """How to read a request trace: its columns and the unit of its arrival times."""

    columns: RequestColumns = RequestColumns()
    time_unit: Annotated[str, Field(description="s, ms, us, min, h, d, iso, or a strptime format.")] = "s"

    @field_validator("time_unit")
    @classmethod
    def _unit(cls, value: str) -> str:
        return check_time_unit(value)
