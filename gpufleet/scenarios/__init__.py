"""Built-in scenarios shipped with the package; the default models the 2025 OpenAI-AWS agreement."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml

DEFAULT = "openai-aws-2025"


def _folder() -> Path:
    return Path(str(resources.files(__name__)))


def builtin_names() -> list[str]:
    """Names of the built-in scenarios, the default first."""
    names = sorted(path.stem for path in _folder().glob("*.yaml"))
    return sorted(names, key=lambda name: name != DEFAULT)


def builtin_path(name: str) -> Path | None:
    """The YAML file of a built-in scenario, or None."""
    path = _folder() / f"{name}.yaml"
    return path if path.is_file() else None


def builtin_descriptions() -> list[tuple[str, str]]:
    """(name, first line of its description) for each built-in scenario."""
    rows = []
    for name in builtin_names():
        path = builtin_path(name)
        assert path is not None
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        rows.append((name, str(data.get("description", "")).strip().splitlines()[0] if data.get("description") else ""))
    return rows
