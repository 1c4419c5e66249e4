"""Where a gang may go: GPU types (flavors) and providers, in order of preference.

A job's placement key is its tuple of flavors: GPU types, plus the providers it may use
written `@provider`, preferred first (Kueue's ordered flavors with fungibility
`TryNextFlavor`: a provider's pools are tried only when no earlier provider's can take
the gang now). A gang always sits in one pool, so it never spans providers or regions.
"""

from __future__ import annotations

from collections.abc import Sequence

PROVIDER_MARK = "@"


def with_providers(flavors: Sequence[str] | None, providers: Sequence[str] | None) -> tuple[str, ...] | None:
    """The placement key of GPU types `flavors` (None: any) at `providers` (None or empty: any)."""
    if not providers:
        return tuple(flavors) if flavors else None
    return (*(flavors or ()), *(PROVIDER_MARK + provider for provider in providers))


def split_key(key: tuple[str, ...] | None) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
    """(GPU types or None for any, providers in order or None for any) of a placement key."""
    if key is None:
        return None, None
    types = tuple(flavor for flavor in key if not flavor.startswith(PROVIDER_MARK))
    providers = tuple(flavor[len(PROVIDER_MARK):] for flavor in key if flavor.startswith(PROVIDER_MARK))
    return types or None, providers or None


def has_providers(key: tuple[str, ...] | None) -> bool:
    return key is not None and any(flavor.startswith(PROVIDER_MARK) for flavor in key)
