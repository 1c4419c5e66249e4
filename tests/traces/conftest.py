"""Fixtures for trace tests: the shared trace folder and small files written on the fly."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def traces(shared: Path) -> Path:
    """../shared/traces (skips when ../shared is absent)."""
    return shared / "traces"

