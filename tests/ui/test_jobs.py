"""Background jobs through the API: a run started from the editor's text is stored as the
CLI stores it, followed as server-sent events, listed while it runs; cancel stops it and
leaves nothing half-written; no more jobs at once than allowed; resume runs what is left."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from gpufleet import api
from gpufleet.plan.replicate import replication_seeds
from gpufleet.store import RunSpec, RunStore
from gpufleet.ui import UiSettings, create_app
from tests.plan.helpers import lab
from tests.ui.helpers import lab_yaml, wait_for

LONG_END = "2031-01-01"
"""A lab run this long takes tens of seconds: long enough to be cancelled while it runs."""


@pytest.fixture
def dashboard(tmp_path: Path) -> Iterator[tuple[TestClient, Path]]:
    settings = UiSettings.for_address(tmp_path / "runs", max_jobs=1)
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as test:
        yield test, tmp_path / "runs"


def test_a_run_from_the_editor_is_stored_as_the_cli_stores_it(dashboard: tuple[TestClient, Path]) -> None:
    client, runs = dashboard
    started = client.post("/api/jobs", json={"scenario": lab_yaml(), "replications": 2, "seed": 7})
    assert started.status_code == 201
    job = started.json()
    assert job["kind"] == "run" and job["total"] == 2 and job["status"] == "running" and "pid" not in job
    with client.stream("GET", f"/api/jobs/{job['id']}/events") as stream:
        events = [json.loads(line[6:]) for line in stream.iter_lines() if line.startswith("data: ")]
    assert events[-1] == {} and events[-2]["status"] == "done"  # `end` follows the last state
    progress = [e["progress"] for e in events[:-1]]
    assert progress == sorted(progress) and progress[-1] == 1.0
    finished = client.get(f"/api/jobs/{job['id']}").json()
    assert finished["done"] == 2 and finished["failed"] == 0 and finished["output"] == "test-x2"
    # The same runs as `gpufleet run --replications 2 --seed 7` would store, under the same keys.
    store = RunStore(runs / "store")
    expected = {RunSpec.of(lab(), seed).key for seed in replication_seeds(7, 2)}
    assert set(finished["keys"]) == expected and all(store.record(k).ok for k in expected)
    for key in expected:
        seed = store.record(key).seed
        assert store.load_summary(key)["capacity"] == api.run(lab(), seed=seed).summary["capacity"]
    listed = client.get("/api/runs", params={"status": "ok"}).json()
    assert {row["key"] for row in listed["rows"]} == expected
    assert (runs / "test-x2" / "replications.json").is_file()
    assert client.get("/api/outputs/replications").json()[0]["name"] == "test-x2"
    page = client.get(f"/jobs/{job['id']}", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "done" in page.text
    assert client.post(f"/api/jobs/{job['id']}/cancel").status_code == 409  # nothing to cancel
    assert client.post(f"/api/jobs/{job['id']}/resume").status_code == 409  # nothing to resume


def test_cancel_busy_and_resume(dashboard: tuple[TestClient, Path]) -> None:
    client, runs = dashboard
    job = client.post("/api/jobs", json={"scenario": lab_yaml(LONG_END)}).json()
    running = wait_for(client, job["id"], lambda j: j["progress"] > 0)
    assert running["status"] == "running"
    # While it runs: listed as running, and no second job (max_jobs=1).
    rows = client.get("/api/runs").json()["rows"]
    assert [(r["key"], r["status"], r["job"]) for r in rows] == [(running["keys"][0], "running", job["id"])]
    busy = client.post("/api/jobs", json={"scenario": lab_yaml()})
    assert busy.status_code == 429 and "1 background jobs" in busy.json()["detail"]
    assert client.post(f"/api/jobs/{job['id']}/resume").status_code == 409
    assert client.post(f"/api/jobs/{job['id']}/cancel").json()["status"] == "cancelling"
    cancelled = wait_for(client, job["id"], lambda j: not j["active"], timeout_s=30.0)
    assert cancelled["status"] == "cancelled" and cancelled["done"] == 0
    store = RunStore(runs / "store")
    assert store.keys() == [] and store.debris() == []  # nothing stored, nothing half-written
    assert [r["status"] for r in client.get("/api/runs").json()["rows"]] == ["cancelled"]
    # A cancelled job resumes (now with a short scenario: the same job, started again).
    short = client.post("/api/jobs", json={"scenario": lab_yaml()})
    assert short.status_code == 201
    wait_for(client, short.json()["id"], lambda j: not j["active"])
    assert client.post(f"/api/jobs/{job['id']}/resume").json()["status"] == "running"
    client.post(f"/api/jobs/{job['id']}/cancel")
    wait_for(client, job["id"], lambda j: not j["active"], timeout_s=30.0)
    assert len(client.get("/api/jobs").json()) == 2


def test_a_sweep_in_the_background(dashboard: tuple[TestClient, Path]) -> None:
    client, runs = dashboard
    sweep = "name: backfills\nreplications: 2\naxes:\n  - path: scheduler.backfill\n    values: [easy, none]\n"
    job = client.post("/api/jobs", json={"scenario": lab_yaml(), "kind": "sweep", "sweep": sweep}).json()
    assert job["kind"] == "sweep" and job["total"] == 4 and job["name"] == "backfills"
    done = wait_for(client, job["id"], lambda j: not j["active"])
    assert done["status"] == "done" and done["done"] == 4 and done["output"] == "backfills"
    view = client.get("/api/sweeps/backfills").json()
    assert [row["values"]["scheduler.backfill"] for row in view["rows"]] == ["easy", "none"]
    assert (runs / "backfills" / "report.html").is_file()


def test_stopped_early_and_failed_runs(dashboard: tuple[TestClient, Path]) -> None:
    client, _ = dashboard
    job = client.post("/api/jobs", json={"scenario": lab_yaml(), "until": "2026-01-03"}).json()
    done = wait_for(client, job["id"], lambda j: not j["active"])
    assert done["status"] == "done" and done["until"] == "2026-01-03"
    record = client.get(f"/api/runs/{done['keys'][0]}").json()["record"]
    assert record["until"].startswith("2026-01-03") and record["status"] == "ok"
    # A trace that is there but is no trace: the scenario checks out, the run fails and says why.
    assert client.put("/api/uploads/broken.csv", content=b"runtime\nnot a number\n").status_code == 201
    data = yaml.safe_load(lab_yaml())
    data["workloads"][0]["synthetic"]["sizes"][0]["duration"] = {"dist": "trace", "format": "philly-runtime",
                                                                 "path": "broken.csv"}
    job = client.post("/api/jobs", json={"scenario": yaml.safe_dump(data)}).json()
    failed = wait_for(client, job["id"], lambda j: not j["active"])
    assert failed["failed"] == 1, failed
    record = client.get(f"/api/runs/{failed['keys'][0]}").json()["record"]
    assert record["status"] == "failed" and "broken.csv" in record["error"]
