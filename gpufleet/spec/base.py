"""Base class and shared field types for everything a user writes in a scenario."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationInfo


class SpecModel(BaseModel):
    """A scenario section: unknown keys are errors (a typo never passes silently), and so
    are infinite and NaN numbers (YAML's .inf and .nan: no quantity in a scenario is one)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False)


def _naive_utc(value: datetime) -> datetime:
    """Calendar times are UTC; drop the tzinfo so every date compares with every other."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def unless_set(default: object) -> Callable[[object], bool]:
    """`exclude_if` for an opt-in field: left out of the dumped scenario (scenario.json) at its
    default, so a scenario that does not use the option is written as before."""
    return lambda value: value == default


Timestamp = Annotated[datetime, AfterValidator(_naive_utc)]
"""A calendar date or date-time (UTC), e.g. ``2025-11-03`` or ``2025-11-03T12:00:00``."""


def path_beside_scenario(value: str, info: ValidationInfo) -> str:
    """A file a scenario names. A loader that knows the scenario file passes its name as
    context["source"]: a relative path is then read beside the scenario when it exists
    there, else from the current directory, else from the root of the checkout gpufleet
    runs from (so the built-ins' ../shared is found from any directory)."""
    source = info.context.get("source") if isinstance(info.context, dict) else None
    path = Path(value).expanduser()
    if path.is_absolute():
        return str(path)
    if source and Path(source).is_file():
        beside = Path(source).resolve().parent / path
        if beside.exists():
            return str(beside)
    from_checkout = _CHECKOUT / path
    if not path.exists() and from_checkout.exists():
        return str(from_checkout)
    return str(path)


_CHECKOUT = Path(__file__).resolve().parents[2]
