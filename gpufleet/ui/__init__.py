"""The dashboard: a local web application over the run store (`gpufleet ui`; docs/ui.md).

It sits above `report` and below `api`/`cli`: it reads through `store`, `plan`, `results`,
`report` and `spec`, and nothing below imports it. Python: `create_app(UiSettings.for_address("runs"))`
is a FastAPI app (test it with FastAPI's TestClient, serve it with any ASGI server), and
`serve` runs it with uvicorn on a socket from `bind`.

The names are imported when first used: `gpufleet --help` does not load FastAPI.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = ["UiSettings", "bind", "create_app", "serve"]
_HOMES = {"UiSettings": "gpufleet.ui.settings", "bind": "gpufleet.ui.server", "create_app": "gpufleet.ui.app",
          "serve": "gpufleet.ui.server"}


def __getattr__(name: str) -> Any:  # noqa: ANN401 - a module's attribute
    if name not in _HOMES:
        raise AttributeError(f"module 'gpufleet.ui' has no attribute {name!r}")
    return getattr(import_module(_HOMES[name]), name)
