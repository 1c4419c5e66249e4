"""What every request handler shares: the settings, the store, the catalog, the loaded
runs, the pages' builders, the background jobs and the templates."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from fastapi import Request
from fastapi.templating import Jinja2Templates

from gpufleet import __version__
from gpufleet.report.format import hours, usd
from gpufleet.report.metric_format import metric_value
from gpufleet.store.store import RunStore
from gpufleet.ui.jobs import JobManager
from gpufleet.ui.runs import RunLoader
from gpufleet.ui.settings import UiSettings
from gpufleet.ui.tables import Catalog
from gpufleet.ui.views import Views, describe_reason


@dataclass
class UiState:
    """Made once per application (`make_state`)."""

    settings: UiSettings
    store: RunStore
    catalog: Catalog
    loader: RunLoader
    views: Views
    jobs: JobManager
    templates: Jinja2Templates


def package_folder(name: str) -> Path:
    return Path(str(resources.files("gpufleet.ui") / name))


def _seconds_as_hours(value: float | None) -> str:
    if value is None or value != value:  # None or NaN: it did not happen
        return "-"
    return hours(value / 3600.0)


def _metric(value: float | None, name: str) -> str:
    return metric_value(name, value)


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(package_folder("templates")))
    templates.env.filters.update(metric=_metric, hours=hours, usd=usd, reason=describe_reason,
                                 seconds_h=_seconds_as_hours)
    templates.env.globals.update(version=__version__)
    return templates


def make_state(settings: UiSettings) -> UiState:
    store = RunStore(settings.store_dir)
    loader = RunLoader(store)
    catalog = Catalog(store)
    jobs = JobManager(settings)
    jobs.on_run_stored.append(catalog.invalidate)
    return UiState(settings, store, catalog, loader, Views(loader), jobs, make_templates())


def ui_state(request: Request) -> UiState:
    """The application's state (a FastAPI dependency)."""
    state: UiState = request.app.state.ui
    return state
