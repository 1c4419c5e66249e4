"""Base class and shared field types for everything a user writes in a scenario."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict


class SpecModel(BaseModel):
    """A scenario section: unknown keys are errors (a typo never passes silently)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _naive_utc(value: datetime) -> datetime:
    """Calendar times are UTC; drop the tzinfo so every date compares with every other."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


Timestamp = Annotated[datetime, AfterValidator(_naive_utc)]
"""A calendar date or date-time (UTC), e.g. ``2025-11-03`` or ``2025-11-03T12:00:00``."""
