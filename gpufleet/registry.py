"""A registry of named implementations (policies, placements), chosen by string in a scenario."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps case-insensitive names (and aliases) to implementations.

    Example:
        PLACEMENTS = Registry[type[Placement]]("placement")

        @PLACEMENTS.register("best_fit", aliases=("pack",))
        class BestFitPlacement: ...
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}
        self._canonical: list[str] = []

    def register(self, name: str, aliases: tuple[str, ...] = ()) -> Callable[[T], T]:
        def decorate(item: T) -> T:
            for key in (name, *aliases):
                if key.lower() in self._items:
                    raise ValueError(f"{self.kind} {key!r} is registered twice")
                self._items[key.lower()] = item
            self._canonical.append(name)
            return item

        return decorate

    def get(self, name: str) -> T:
        """The implementation called `name`.

        Raises:
            KeyError: naming the valid choices.
        """
        try:
            return self._items[name.lower()]
        except KeyError:
            raise KeyError(f"unknown {self.kind} {name!r}; choose one of: {', '.join(self.names())}") from None

    def names(self) -> list[str]:
        return sorted(self._canonical)

    def __contains__(self, name: str) -> bool:
        return name.lower() in self._items
