"""The pages: runs, a run (and its jobs table as a fragment the page swaps in), one job,
runs compared, sweeps and plans, the scenario editor, background jobs."""

from __future__ import annotations

import gzip
import json
from typing import Annotated, Any
from urllib.parse import urlencode

import yaml
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse, Response
from plotly.offline import get_plotlyjs

from gpufleet.scenarios import builtin_descriptions, builtin_path
from gpufleet.ui.outputs import OutputNotFoundError, find, get
from gpufleet.ui.routes_api import (
    JOB_ID,
    State,
    Text,
    compared_keys,
    job_filters,
    job_listing,
    job_of,
    listing,
    plan_view,
    run_key,
    sweep_view,
)
from gpufleet.ui.security import inside
from gpufleet.ui.state import UiState, ui_state
from gpufleet.ui.tables import JOB_SORTS, LIST_METRICS, RUN_SORTS, JobFilters, job_facets, wait_breakdown

router = APIRouter(include_in_schema=False)
PageNumber = Annotated[int, Query(ge=1, le=10_000_000)]
SWEEP_TEMPLATE = """# The sweep of the scenario on the left: every point x replications.
name: my-sweep
replications: 2
axes:
  - path: scheduler.policy
    values: [fifo, sjf]
"""


def page(state: UiState, request: Request, template: str, context: dict[str, Any], status: int = 200) -> Response:
    return state.templates.TemplateResponse(request, template, context, status_code=status)


def query_with(request: Request, **changes: Any) -> str:  # noqa: ANN401 - query values
    """The current query string with some parameters changed (None: removed)."""
    params = {key: value for key, value in request.query_params.items()}
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        elif isinstance(value, bool):
            params[key] = "true" if value else "false"
        else:
            params[key] = str(value)
    return urlencode(params)


_plotly_js: dict[str, bytes] = {}


@router.get("/static/plotly.min.js")
def plotly_js(request: Request) -> Response:
    """plotly.js from the installed plotly package (the report's charts, drawn in the browser),
    compressed once: 4.6 MB that every page with charts loads."""
    if not _plotly_js:
        raw = get_plotlyjs().encode()
        _plotly_js.update(raw=raw, gzip=gzip.compress(raw, compresslevel=9, mtime=0))
    headers = {"Cache-Control": "public, max-age=86400", "Vary": "Accept-Encoding"}
    if "gzip" in request.headers.get("accept-encoding", ""):
        return Response(_plotly_js["gzip"], media_type="text/javascript", headers={**headers,
                                                                                  "Content-Encoding": "gzip"})
    return Response(_plotly_js["raw"], media_type="text/javascript", headers=headers)


@router.get("/", response_class=HTMLResponse)
def runs_list(request: Request, state: State, q: Text = "", scenario: Text = "", status: Text = "",
              engine: Text = "", since: Text = "", until: Text = "", sort: Text = "started", desc: bool = True,
              page_number: Annotated[int, Query(alias="page", ge=1, le=1_000_000)] = 1) -> Response:
    found, facets = listing(state, q, scenario, status, engine, since, until, sort, desc, page_number)
    filters = {"q": q, "scenario": scenario, "status": status, "engine": engine, "since": since, "until": until}
    return page(state, request, "runs.html", {
        "page": found, "facets": facets, "filters": filters, "sort": sort, "desc": desc, "metrics": LIST_METRICS,
        "sorts": RUN_SORTS, "query_with": lambda **kw: query_with(request, **kw),
        "jobs": [job.public(full=False) for job in state.jobs.listing()[:5]], "store": state.store.root})


def jobs_context(state: UiState, request: Request, key: str, filters: JobFilters, jsort: str, jdesc: bool,
                 jpage: int) -> dict[str, Any]:
    found = job_listing(state, key, filters, jsort, jdesc, jpage)
    horizon = state.views.horizon_s(state.views.run_page(key))
    rows = [{**row, "waited_for": wait_breakdown(row, horizon)} for row in found.rows]
    return {"key": key, "jobs": found, "rows": rows, "jfilters": filters, "jsort": jsort, "jdesc": jdesc,
            "job_sorts": JOB_SORTS, "facets": job_facets(state.loader.path(key, "jobs")),
            "query_with": lambda **kw: query_with(request, **kw)}


@router.get("/runs/{key}", response_class=HTMLResponse)
def run_page(request: Request, state: State, key: str, filters: Annotated[JobFilters, Depends(job_filters)],
             jsort: Text = "job_id", jdesc: bool = False, jpage: PageNumber = 1) -> Response:
    key = run_key(state, key)
    view = state.views.run_page(key)
    context: dict[str, Any] = {"view": view, "key": key, "record": view.record, "charts_page": True}
    if view.summary is not None:
        context.update(jobs_context(state, request, key, filters, jsort, jdesc, jpage))
    return page(state, request, "run.html", context)


@router.get("/runs/{key}/jobs", response_class=HTMLResponse)
def run_jobs_fragment(request: Request, state: State, key: str,
                      filters: Annotated[JobFilters, Depends(job_filters)], jsort: Text = "job_id",
                      jdesc: bool = False, jpage: PageNumber = 1) -> Response:
    """The jobs table alone (the run page swaps it in when sorted, filtered or paged)."""
    key = run_key(state, key)
    return page(state, request, "jobs_table.html", jobs_context(state, request, key, filters, jsort, jdesc, jpage))


@router.get("/runs/{key}/jobs/{job_id}", response_class=HTMLResponse)
def job_page(request: Request, state: State, key: str, job_id: Annotated[int, PathParam(ge=0)]) -> Response:
    key = run_key(state, key)
    found = state.views.job(key, job_id)
    if found is None:
        raise HTTPException(404, f"run {key} has no job {job_id}")
    return page(state, request, "job.html", {"key": key, "record": state.views.run_page(key).record, **found,
                                             "charts_page": True})


@router.get("/compare", response_class=HTMLResponse)
def compare_page(request: Request, state: State, run: Annotated[list[str] | None, Query()] = None) -> Response:
    keys = compared_keys(state, run or [])
    return page(state, request, "compare.html", {**state.views.compare(keys), "keys": keys, "charts_page": True})


@router.get("/sweeps", response_class=HTMLResponse)
def outputs_page(request: Request, state: State) -> Response:
    runs_dir = state.settings.runs_dir
    return page(state, request, "outputs.html", {"sweeps": find(runs_dir, "sweep"), "plans": find(runs_dir, "plan"),
                                                 "replications": find(runs_dir, "replications"),
                                                 "runs_dir": runs_dir})


@router.get("/sweeps/{name}", response_class=HTMLResponse)
def sweep_page(request: Request, state: State, name: str, metric: Text = "", page_number: Annotated[
        int, Query(alias="page", ge=1, le=1_000_000)] = 1) -> Response:
    view = sweep_view(state, name, metric)
    size = state.settings.page_size
    pages = max(1, -(-len(view["rows"]) // size))
    page_number = min(page_number, pages)
    shown = view["rows"][(page_number - 1) * size:page_number * size]
    return page(state, request, "sweep.html", {**view, "name": name, "shown": shown, "page_number": page_number,
                                               "pages": pages, "columns": view["metrics"][:5], "charts_page": True,
                                               "query_with": lambda **kw: query_with(request, **kw)})


@router.get("/sweeps/{name}/report.html")
def sweep_report(state: State, name: str) -> Response:
    """The sweep's own report.html, as `gpufleet sweep` wrote it."""
    try:
        output = get(state.settings.runs_dir, "sweep", name)
    except OutputNotFoundError as error:
        raise HTTPException(404, str(error)) from None
    path = output.path / "report.html"
    if not path.is_file() or not inside(path, output.path):
        raise HTTPException(404, f"sweep {name} has no report.html")
    return FileResponse(path, media_type="text/html")


@router.get("/plans/{name}", response_class=HTMLResponse)
def plan_page(request: Request, state: State, name: str, sort: Text = "total_usd", desc: bool = False) -> Response:
    view = plan_view(state, name, sort, desc)
    return page(state, request, "plan.html", {**view, "name": name, "charts_page": True,
                                              "query_with": lambda **kw: query_with(request, **kw)})


@router.get("/replications/{name}", response_class=HTMLResponse)
def replications_page(request: Request, state: State, name: str) -> Response:
    try:
        output = get(state.settings.runs_dir, "replications", name)
    except OutputNotFoundError as error:
        raise HTTPException(404, str(error)) from None
    keys = [run["key"] for run in output.data.get("runs", []) if state.store.record(run["key"]) is not None]
    return page(state, request, "replications.html", {"output": output, "data": output.data, "keys": keys})


@router.get("/new", response_class=HTMLResponse)
def new_page(request: Request, state: State, scenario: Text = "", run: Text = "",
             job: Annotated[str, Query(pattern=r"^([0-9a-f]{12})?$")] = "") -> Response:
    """The scenario editor: a built-in, a stored run's scenario, or a background job's, to start from."""
    text, sweep = _starting_text(state, scenario, run, job)
    return page(state, request, "new.html", {
        "text": text, "sweep": sweep or SWEEP_TEMPLATE, "sweep_open": sweep is not None,
        "builtins": builtin_descriptions(), "chosen": scenario, "allowed": state.settings.allowed_dirs,
        "uploads": state.settings.uploads_dir, "max_jobs": state.settings.max_jobs})


def _starting_text(state: UiState, scenario: str, run: str, job: str) -> tuple[str, str | None]:
    if job:
        found = job_of(state, job)
        return found.scenario, found.sweep
    if run:
        key = run_key(state, run)
        data = json.loads((state.store.path(key) / "scenario.json").read_text())
        return yaml.safe_dump(data, sort_keys=False, width=110), None
    names = {name for name, _ in builtin_descriptions()}
    path = builtin_path(scenario or "research-lab") if (scenario or "research-lab") in names else None
    if path is None:
        raise HTTPException(404, f"no built-in scenario called {scenario!r}")
    return path.read_text(encoding="utf-8"), None


@router.get("/jobs", response_class=HTMLResponse)
def jobs_page(request: Request, state: State) -> Response:
    return page(state, request, "jobs.html", {"jobs": [job.public(full=False) for job in state.jobs.listing()],
                                              "max_jobs": state.settings.max_jobs})


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
def job_progress_page(request: Request, job_id: Annotated[str, PathParam(pattern=JOB_ID)],
                      state: Annotated[UiState, Depends(ui_state)]) -> Response:
    return page(state, request, "job_progress.html", {"job": job_of(state, job_id).public()})
