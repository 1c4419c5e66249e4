"""The JSON API: runs, a run's jobs, comparisons, sweeps and plans, the scenario checks,
background jobs (start, follow as server-sent events, cancel, resume) and data uploads."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import AsyncIterator
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from gpufleet.errors import Problem
from gpufleet.results.run_result import jsonable
from gpufleet.scenarios import builtin_descriptions, builtin_path
from gpufleet.spec.scenario import Scenario
from gpufleet.ui.editor import CheckedSweep, check_scenario_text, check_sweep_text, problem_dict
from gpufleet.ui.jobs import ACTIVE, BusyError, Job, JobNotFoundError, WrongStateError
from gpufleet.ui.outputs import OutputNotFoundError, find, get
from gpufleet.ui.runs import RunNotFoundError, resolve
from gpufleet.ui.security import inside, safe_name
from gpufleet.ui.state import UiState, ui_state
from gpufleet.ui.tables import BadQueryError, JobFilters, Page, RunFilters, jobs_page, runs_page, wait_breakdown
from gpufleet.ui.views import MAX_COMPARED

router = APIRouter(prefix="/api")
State = Annotated[UiState, Depends(ui_state)]
JOB_ID = r"^[0-9a-f]{12}$"
Text = Annotated[str, Query(max_length=200)]


def run_key(state: UiState, text: str) -> str:
    try:
        return resolve(state.store, text)
    except RunNotFoundError:
        raise HTTPException(404, f"no run with the key {text!r} in the store") from None


def listing(state: UiState, q: str, scenario: str, status: str, engine: str, since: str, until: str, sort: str,
            desc: bool, page: int) -> tuple[Page, dict[str, list[str]]]:
    """A page of the runs list (shared by the page and the API)."""
    filters = RunFilters(q.strip(), scenario, status, engine, since, until)
    catalog, pending = state.catalog.table(), state.jobs.pending_rows()
    key = (state.catalog.generation, json.dumps(pending, sort_keys=True, default=str), filters, sort, desc, page)
    try:
        return state.catalog.pages.get(key, lambda: runs_page(catalog, pending, filters, sort, desc, page,
                                                              state.settings.page_size))
    except BadQueryError as error:
        raise HTTPException(400, str(error)) from None


def job_listing(state: UiState, key: str, filters: JobFilters, sort: str, desc: bool, page: int) -> Page:
    record = state.store.record(key)
    if record is None or not record.ok:
        raise HTTPException(404, f"run {key} has no jobs table (it failed or is not stored)")
    try:
        return jobs_page(state.loader.path(key, "jobs"), filters, sort, desc, page, state.settings.page_size)
    except BadQueryError as error:
        raise HTTPException(400, str(error)) from None


def job_filters(jq: str = "", jstatus: str = "", jsize: str = "", jqueue: str = "", jwhy: str = "",
                jmin: float | None = None) -> JobFilters:
    return JobFilters(jq.strip(), jstatus, jsize, jqueue, jwhy, jmin)


@router.get("/health")
def health(state: State) -> dict[str, Any]:
    return {"ok": True, "runs": len(state.store.keys()), "jobs_running": state.jobs.active()}


@router.get("/runs")
def runs(state: State, q: Text = "", scenario: Text = "", status: Text = "", engine: Text = "", since: Text = "",
         until: Text = "", sort: Text = "started", desc: bool = True,
         page: Annotated[int, Query(ge=1, le=1_000_000)] = 1) -> dict[str, Any]:
    """A page of runs: stored ones and the dashboard's unfinished ones, filtered and sorted."""
    found, facets = listing(state, q, scenario, status, engine, since, until, sort, desc, page)
    return jsonable({"rows": found.rows, "total": found.total, "page": found.page, "pages": found.pages,
                     "size": found.size, "facets": facets})


@router.get("/runs/{key}")
def run(state: State, key: str) -> dict[str, Any]:
    """A run's record, its summary and its files."""
    key = run_key(state, key)
    stored = state.loader.get(key)
    summary = stored.result.summary if stored.result is not None else None
    return jsonable({"record": stored.record.as_dict(), "summary": summary, "files": list(stored.files)})


@router.get("/runs/{key}/jobs")
def run_jobs(state: State, key: str, filters: Annotated[JobFilters, Depends(job_filters)], jsort: Text = "job_id",
             jdesc: bool = False, jpage: Annotated[int, Query(ge=1, le=10_000_000)] = 1) -> dict[str, Any]:
    """A page of a run's jobs, filtered and sorted; each with why it waited."""
    key = run_key(state, key)
    found = job_listing(state, key, filters, jsort, jdesc, jpage)
    horizon = state.views.horizon_s(state.views.run_page(key))
    rows = [{**row, "waited_for": wait_breakdown(row, horizon)} for row in found.rows]
    return jsonable({"rows": rows, "total": found.total, "page": found.page, "pages": found.pages,
                     "size": found.size})


@router.get("/runs/{key}/jobs/{job_id}")
def run_job(state: State, key: str, job_id: Annotated[int, PathParam(ge=0)]) -> dict[str, Any]:
    key = run_key(state, key)
    found = state.views.job(key, job_id)
    if found is None:
        raise HTTPException(404, f"run {key} has no job {job_id}")
    return jsonable({"job": found["row"], "waited_for": [{"reason": code, "meaning": text, "seconds": seconds}
                                                         for code, text, seconds in found["waits"]]})


@router.get("/compare")
def compare(state: State, run: Annotated[list[str], Query()]) -> dict[str, Any]:
    """Two or more runs, metric by metric."""
    keys = compared_keys(state, run)
    view = state.views.compare(keys)
    return jsonable({"runs": [r.as_dict() for r in view["runs"]],
                     "metrics": [{"metric": row["metric"], "values": row["cells"]} for row in view["metrics"]]})


def compared_keys(state: UiState, texts: list[str]) -> list[str]:
    keys = list(dict.fromkeys(run_key(state, text) for text in texts))
    if not 2 <= len(keys) <= MAX_COMPARED:
        raise HTTPException(400, f"compare two to {MAX_COMPARED} different runs (got {len(keys)})")
    return keys


@router.get("/outputs/{kind}")
def outputs(state: State, kind: Literal["sweep", "plan", "replications"]) -> list[dict[str, Any]]:
    """The sweeps, plans or replication sets in the runs folder."""
    return jsonable([{"name": o.name, "written": o.written, **{k: v for k, v in o.data.items()
                                                                if k not in ("sweep", "runs", "metrics")}}
                     for o in find(state.settings.runs_dir, kind)])


@router.get("/sweeps/{name}")
def sweep(state: State, name: str, metric: Text = "") -> dict[str, Any]:
    view = sweep_view(state, name, metric)
    return jsonable({"sweep": view["result"].as_dict(), "rows": view["rows"]})


def sweep_view(state: UiState, name: str, metric: str) -> dict[str, Any]:
    try:
        return state.views.sweep(get(state.settings.runs_dir, "sweep", name), metric or None)
    except OutputNotFoundError as error:
        raise HTTPException(404, str(error)) from None


@router.get("/plans/{name}")
def plan(state: State, name: str) -> dict[str, Any]:
    view = plan_view(state, name)
    return jsonable({"plan": view["data"], "plans": view["plans"]})


def plan_view(state: UiState, name: str, sort: str = "total_usd", desc: bool = False) -> dict[str, Any]:
    try:
        return state.views.plan(get(state.settings.runs_dir, "plan", name), sort, desc)
    except OutputNotFoundError as error:
        raise HTTPException(404, str(error)) from None


# --- The editor: built-in scenarios, the schema, the checks.

@router.get("/scenarios")
def scenarios() -> list[dict[str, str]]:
    return [{"name": name, "description": description} for name, description in builtin_descriptions()]


@router.get("/scenarios/{name}", response_class=PlainTextResponse)
def scenario_text(name: str) -> str:
    names = {n for n, _ in builtin_descriptions()}
    path = builtin_path(name) if name in names else None
    if path is None:
        raise HTTPException(404, f"no built-in scenario called {name!r}")
    return path.read_text(encoding="utf-8")


@router.get("/schema")
def schema() -> dict[str, Any]:
    """The JSON Schema of the scenario format (as `gpufleet schema` prints it)."""
    result: dict[str, Any] = Scenario.model_json_schema()
    return result


class ValidateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scenario: str
    sweep: str | None = None


class JobRequest(BaseModel):
    """A background run (replications of the scenario) or a sweep of it."""

    model_config = ConfigDict(extra="forbid")

    scenario: str
    kind: Literal["run", "sweep"] = "run"
    seed: Annotated[int | None, Field(ge=0, le=2**62)] = None
    until: date | None = None
    replications: Annotated[int, Field(ge=1, le=1000)] = 1
    sweep: str | None = None


def outline(scenario: Scenario) -> dict[str, Any]:
    """What a valid scenario describes, in brief."""
    return {"name": scenario.name, "start": scenario.start.isoformat(), "end": scenario.end.isoformat(),
            "seed": scenario.seed, "pools": [{"name": p.name, "gpu": p.gpu} for p in scenario.fleet.pools],
            "workloads": len(scenario.workloads), "services": len(scenario.services)}


def _checks(state: UiState, text: str, sweep_text: str | None, until: date | None = None
            ) -> tuple[Scenario | None, list[Problem], CheckedSweep | None]:
    checked = check_scenario_text(text, state.settings.allowed_dirs)
    problems = list(checked.problems)
    if checked.scenario is not None and until is not None and \
            datetime.combine(until, datetime.min.time()) <= checked.scenario.start:
        problems.append(Problem(f"--until {datetime.combine(until, datetime.min.time()).isoformat()} is not after "
                                f"the scenario start {checked.scenario.start.isoformat()}"))
    swept = None
    if sweep_text is not None and checked.scenario is not None:
        swept = check_sweep_text(sweep_text, checked.scenario, state.settings.runs_dir,
                                 state.settings.max_runs_per_job)
    return checked.scenario, problems, swept


@router.post("/validate")
def validate(state: State, body: ValidateRequest) -> dict[str, Any]:
    """The scenario (and sweep) checked as `gpufleet validate` checks a file: every problem
    with its line and field, and the CLI's own message for it."""
    scenario, problems, swept = _checks(state, body.scenario, body.sweep)
    answer: dict[str, Any] = {"ok": scenario is not None and not problems,
                              "problems": [problem_dict(p) for p in problems],
                              "outline": outline(scenario) if scenario is not None else None}
    if swept is not None:
        answer["sweep"] = {"ok": not swept.problems, "problems": [problem_dict(p) for p in swept.problems],
                           "runs": swept.runs, "points": swept.points}
    return answer


@router.post("/jobs", status_code=201)
async def start_job(state: State, body: JobRequest) -> dict[str, Any]:
    """Start a run or a sweep in the background (422 with the problems when the scenario has any)."""
    if body.kind == "sweep" and not body.sweep:
        raise HTTPException(422, {"problems": [problem_dict(Problem("a sweep needs its axes (the sweep editor)"))]})
    scenario, problems, swept = await run_in_threadpool(_checks, state, body.scenario,
                                                        body.sweep if body.kind == "sweep" else None, body.until)
    if swept is not None:
        problems += swept.problems
    if scenario is None or problems:
        raise HTTPException(422, {"problems": [problem_dict(p) for p in problems]})
    limit = state.settings.max_runs_per_job
    if body.kind == "run" and body.replications > limit:
        raise HTTPException(422, {"problems": [problem_dict(Problem(
            f"{body.replications} replications: a job from the dashboard makes at most {limit}"))]})
    settings = state.settings
    name = swept.spec.name if swept is not None and swept.spec is not None else scenario.name
    job = Job(id="", kind=body.kind, name=name, scenario_name=scenario.name, scenario=body.scenario,
              store=str(settings.store_dir), runs_dir=str(settings.runs_dir),
              allowed=[str(folder) for folder in settings.allowed_dirs], sweep=body.sweep if swept else None,
              seed=body.seed, until=body.until.isoformat() if body.until else None, replications=body.replications,
              total=swept.runs if swept is not None else body.replications)
    try:
        started = await state.jobs.submit(job)
    except BusyError as error:
        raise HTTPException(429, str(error)) from None
    return jsonable(started.public())


@router.get("/jobs")
def jobs(state: State) -> list[dict[str, Any]]:
    return jsonable([job.public(full=False) for job in state.jobs.listing()])


def job_of(state: UiState, job_id: str) -> Job:
    try:
        return state.jobs.snapshot(job_id)
    except JobNotFoundError:
        raise HTTPException(404, f"no background job {job_id!r}") from None


@router.get("/jobs/{job_id}")
def job(state: State, job_id: Annotated[str, PathParam(pattern=JOB_ID)]) -> dict[str, Any]:
    return jsonable(job_of(state, job_id).public())


@router.get("/jobs/{job_id}/events")
async def job_events(state: State, job_id: Annotated[str, PathParam(pattern=JOB_ID)], request: Request
                     ) -> StreamingResponse:
    """The job as it changes, as server-sent events (`job` events; `end` once it has finished)."""
    job_of(state, job_id)

    async def stream() -> AsyncIterator[str]:
        last = ""
        while True:
            current = state.jobs.snapshot(job_id)
            data = json.dumps(jsonable(current.public(full=False)))
            if data != last:
                yield f"event: job\ndata: {data}\n\n"
                last = data
            elif current.status in ACTIVE:
                yield ": still running\n\n"
            if current.status not in ACTIVE:
                yield "event: end\ndata: {}\n\n"
                return
            if await request.is_disconnected():
                return
            await state.jobs.wait_change(job_id, 15.0)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@router.post("/jobs/{job_id}/cancel")
async def cancel_job(state: State, job_id: Annotated[str, PathParam(pattern=JOB_ID)]) -> dict[str, Any]:
    try:
        return jsonable((await state.jobs.cancel(job_id)).public())
    except JobNotFoundError:
        raise HTTPException(404, f"no background job {job_id!r}") from None
    except WrongStateError as error:
        raise HTTPException(409, str(error)) from None


@router.post("/jobs/{job_id}/resume")
async def resume_job(state: State, job_id: Annotated[str, PathParam(pattern=JOB_ID)]) -> dict[str, Any]:
    try:
        return jsonable((await state.jobs.resume(job_id)).public())
    except JobNotFoundError:
        raise HTTPException(404, f"no background job {job_id!r}") from None
    except WrongStateError as error:
        raise HTTPException(409, str(error)) from None
    except BusyError as error:
        raise HTTPException(429, str(error)) from None


# --- Uploads: data files a scenario may name (traces), into the runs folder's uploads/.

@router.get("/uploads")
def uploads(state: State) -> list[dict[str, Any]]:
    folder = state.settings.uploads_dir
    if not folder.is_dir():
        return []
    return [{"name": entry.name, "bytes": entry.stat().st_size} for entry in sorted(os.scandir(folder),
                                                                                    key=lambda e: e.name)
            if entry.is_file(follow_symlinks=False) and not entry.name.startswith(".")]


@router.put("/uploads/{name}", status_code=201)
async def upload(state: State, name: str, request: Request) -> dict[str, Any]:
    """Store the request body as `uploads/NAME`, whole or not at all (the size limit applies)."""
    if not safe_name(name):
        raise HTTPException(400, f"{name!r} is not a plain file name (letters, digits, '.', '_', '-')")
    folder = state.settings.uploads_dir
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    if not inside(target.parent, folder):
        raise HTTPException(400, "the uploads folder is not a plain folder")
    handle, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
    size = 0
    try:
        with os.fdopen(handle, "wb") as out:
            async for chunk in request.stream():
                size += len(chunk)
                out.write(chunk)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return {"name": name, "bytes": size, "path": str(target)}

