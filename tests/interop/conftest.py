"""Fixtures for interop tests: the shared Kueue/Slurm files and this folder's hand-written data."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


@pytest.fixture
def interop(shared: Path) -> Path:
    """../shared/interop (skips when ../shared is absent)."""
    return shared / "interop"


@pytest.fixture
def data() -> Path:
    """tests/interop/data: files written by hand for these tests."""
    return DATA
