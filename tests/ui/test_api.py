"""The dashboard's routes, each checked against the store and the outputs read another way
(pyarrow, the store's own API, the CLI's loader), and with bad input."""

from __future__ import annotations

import json
import math
from datetime import datetime
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import yaml
from fastapi.testclient import TestClient

from gpufleet.errors import InputError
from gpufleet.scenarios import builtin_descriptions
from gpufleet.sim.load import load_scenario
from gpufleet.spec.scenario import Scenario
from gpufleet.store import RunStore
from gpufleet.ui.tables import wait_breakdown
from tests.ui.helpers import HTML, lab_yaml


def _jobs(runs_dir: Path, key: str):  # noqa: ANN202 - a pyarrow table
    return pq.read_table(RunStore(runs_dir / "store").table_path(key, "jobs"))


# --- Runs and a run.

def test_health_counts_the_store(client: TestClient, runs_dir: Path) -> None:
    answer = client.get("/api/health").json()
    assert answer == {"ok": True, "runs": len(RunStore(runs_dir / "store").keys()), "jobs_running": 0}


def test_runs_list_filters_sorts_and_pages(client: TestClient, runs_dir: Path, keys: list[str],
                                           failed_key: str) -> None:
    store = RunStore(runs_dir / "store")
    everything = client.get("/api/runs").json()
    assert everything["total"] == len(store.keys()) and {r["key"] for r in everything["rows"]} == set(store.keys())
    assert set(everything["facets"]["status"]) == {"ok", "failed"}
    ours = client.get("/api/runs", params={"scenario": "test", "status": "ok", "sort": "seed", "desc": "false",
                                           "since": "2026-05-01", "until": "2026-05-01"}).json()
    assert [row["seed"] for row in ours["rows"]] == [1, 2, 3] and [row["key"] for row in ours["rows"]] == keys
    for row in ours["rows"]:  # the headline metrics are the store's
        assert row["utilisation"] == store.record(row["key"]).metrics["utilisation"]
    failed = client.get("/api/runs", params={"status": "failed"}).json()
    assert [row["key"] for row in failed["rows"]] == [failed_key] and "boom" in failed["rows"][0]["error"]
    assert client.get("/api/runs", params={"q": failed_key[:8]}).json()["total"] == 1
    assert client.get("/api/runs", params={"q": "BOOM"}).json()["total"] == 1  # errors are searched too
    by_wait = client.get("/api/runs", params={"status": "ok", "sort": "wait_p95_h", "desc": "true"}).json()["rows"]
    waits = [row["wait_p95_h"] for row in by_wait]
    assert waits == sorted(waits, reverse=True)
    paged = client.get("/api/runs", params={"page": 2}).json()
    assert paged["page"] == 1 or paged["rows"] == []  # fewer runs than a page: one page
    page = client.get("/", params={"scenario": "test", "status": "ok"}, headers=HTML)
    assert page.status_code == 200 and all(key in page.text for key in (k[:12] for k in keys))
    assert failed_key[:12] not in page.text


@pytest.mark.parametrize("params", [{"sort": "DROP TABLE runs"}, {"since": "yesterday"}, {"until": "2026-13-40"},
                                    {"page": 0}, {"page": "x"}, {"q": "x" * 201}])
def test_runs_list_refuses_bad_queries(client: TestClient, params: dict[str, object]) -> None:
    answer = client.get("/api/runs", params=params)
    assert answer.status_code in (400, 422) and "detail" in answer.json()
    assert client.get("/", params=params, headers=HTML).status_code in (400, 422)


def test_a_run_page_is_the_report_with_its_jobs(client: TestClient, runs_dir: Path, keys: list[str]) -> None:
    key = keys[0]
    store = RunStore(runs_dir / "store")
    answer = client.get(f"/api/runs/{key[:8]}").json()  # a unique prefix names the run
    assert answer["record"]["key"] == key and answer["summary"] == store.load_summary(key)
    assert set(answer["files"]) >= {"summary.json", "jobs.parquet", "timeseries.parquet", "scenario.json"}
    page = client.get(f"/runs/{key}", headers=HTML)
    assert page.status_code == 200
    for section in ("Waiting by job size", 'id="jobs-table"', 'id="main-0"', 'id="main-4"', "/static/plotly.min.js"):
        assert section in page.text
    assert f'{_jobs(runs_dir, key).num_rows:,} jobs' in page.text
    plotly = client.get("/static/plotly.min.js")
    assert plotly.status_code == 200 and plotly.headers["content-type"].startswith("text/javascript")
    assert len(plotly.content) > 1_000_000 and client.get("/static/app.js").status_code == 200


def test_a_failed_run_shows_its_error(client: TestClient, failed_key: str) -> None:
    answer = client.get(f"/api/runs/{failed_key}").json()
    assert answer["summary"] is None and answer["record"]["status"] == "failed"
    page = client.get(f"/runs/{failed_key}", headers=HTML)
    assert page.status_code == 200 and "RuntimeError: boom" in page.text
    assert client.get(f"/api/runs/{failed_key}/jobs").status_code == 404


def test_jobs_table_sorts_filters_and_pages_as_pyarrow_does(client: TestClient, runs_dir: Path,
                                                            keys: list[str]) -> None:
    key = keys[1]
    jobs = _jobs(runs_dir, key)
    first = client.get(f"/api/runs/{key}/jobs").json()
    assert first["total"] == jobs.num_rows and first["size"] == 50
    assert first["pages"] == math.ceil(jobs.num_rows / 50)
    assert [row["job_id"] for row in first["rows"]] == sorted(jobs["job_id"].to_pylist())[:50]
    by_wait = client.get(f"/api/runs/{key}/jobs", params={"jsort": "wait_s", "jdesc": "true"}).json()["rows"]
    waits = [w for w in jobs["wait_s"].to_pylist() if w is not None and not math.isnan(w)]
    assert [row["wait_s"] for row in by_wait[:10]] == sorted(waits, reverse=True)[:10]
    last = client.get(f"/api/runs/{key}/jobs", params={"jpage": first["pages"]}).json()
    assert len(last["rows"]) == jobs.num_rows - 50 * (first["pages"] - 1)
    over = client.get(f"/api/runs/{key}/jobs", params={"jpage": 10_000}).json()
    assert over["page"] == first["pages"]  # past the end: the last page
    eight = client.get(f"/api/runs/{key}/jobs", params={"jsize": "1-8", "jmin": 1}).json()
    expected = pc.sum(pc.and_(pc.equal(jobs["size_class"], "1-8"),
                              pc.greater_equal(pc.fill_null(jobs["wait_s"], -1.0), 3600.0))).as_py()
    assert eight["total"] == expected > 0
    assert all(row["wait_s"] >= 3600.0 and row["size_class"] == "1-8" for row in eight["rows"])
    named = jobs["name"][0].as_py()
    found = client.get(f"/api/runs/{key}/jobs", params={"jq": named}).json()
    assert found["total"] >= 1 and all(named.lower() in row["name"].lower() for row in found["rows"])
    fragment = client.get(f"/runs/{key}/jobs", params={"jsort": "gpus", "jdesc": "true"}, headers=HTML)
    assert fragment.status_code == 200 and "<html" not in fragment.text and 'id="jobs-table"' in fragment.text
    for bad in ({"jsort": "1; DROP"}, {"jmin": "inf"}, {"jpage": 0}, {"jmin": "x"}):
        assert client.get(f"/api/runs/{key}/jobs", params=bad).status_code in (400, 422), bad


def test_why_a_job_waited_by_hand() -> None:
    # Submitted at 0; waited for GPUs until 100, for the topology until 280, for GPUs again until 300, then ran.
    row = {"start_s": 300.0, "reasons": [{"t_s": 0.0, "reason": "insufficient_gpus"},
                                         {"t_s": 100.0, "reason": "no_topology_fit"},
                                         {"t_s": 280.0, "reason": "insufficient_gpus"},
                                         {"t_s": 400.0, "reason": "preempted"}]}
    assert wait_breakdown(row, 1000.0) == [("no_topology_fit", 180.0), ("insufficient_gpus", 120.0)]
    waiting = {"start_s": float("nan"), "reasons": [{"t_s": 10.0, "reason": "never_fits"}]}
    assert wait_breakdown(waiting, 1000.0) == [("never_fits", 990.0)]


def test_one_job_and_its_timeline(client: TestClient, runs_dir: Path, keys: list[str]) -> None:
    key = keys[0]
    jobs = _jobs(runs_dir, key)
    waited = jobs.filter(pc.greater(pc.fill_null(jobs["wait_s"], 0.0), 0.0))
    job_id = waited["job_id"][0].as_py()
    answer = client.get(f"/api/runs/{key}/jobs/{job_id}").json()
    assert answer["job"]["job_id"] == job_id and answer["job"]["name"] == waited["name"][0].as_py()
    total = sum(part["seconds"] for part in answer["waited_for"])
    assert total == pytest.approx(waited["wait_s"][0].as_py(), rel=1e-9)  # the reasons add up to the wait
    page = client.get(f"/runs/{key}/jobs/{job_id}", headers=HTML)
    assert page.status_code == 200 and 'id="job-timeline"' in page.text
    horizon_s = (datetime.fromisoformat(answer_summary(client, key)["horizon"]) -
                 datetime.fromisoformat(answer_summary(client, key)["start"])).total_seconds()
    late = jobs.filter(pc.greater(pc.fill_null(jobs["reserved_s"], 0.0), horizon_s))["job_id"][0].as_py()
    timeline = client.get(f"/runs/{key}/jobs/{late}", headers=HTML).text  # a reservation past the end: not drawn
    assert "reservation: planned start" not in timeline and "job-timeline" in timeline
    assert client.get(f"/api/runs/{key}/jobs/{jobs.num_rows + 5}").status_code == 404
    assert client.get(f"/runs/{key}/jobs/-1", headers=HTML).status_code == 422


def answer_summary(client: TestClient, key: str) -> dict[str, object]:
    return client.get(f"/api/runs/{key}").json()["summary"]


def test_compare_two_runs(client: TestClient, runs_dir: Path, keys: list[str], failed_key: str) -> None:
    store = RunStore(runs_dir / "store")
    answer = client.get("/api/compare", params=[("run", keys[0]), ("run", keys[2][:10])]).json()
    assert [run["key"] for run in answer["runs"]] == [keys[0], keys[2]]
    metrics = {row["metric"]: row["values"] for row in answer["metrics"]}
    assert "utilisation" in metrics and "wait_p95_h" in metrics
    page = client.get("/compare", params=[("run", keys[0]), ("run", keys[1]), ("run", failed_key)], headers=HTML)
    assert page.status_code == 200 and 'id="compare-0"' in page.text and 'id="compare-5"' in page.text
    assert store.record(keys[1]).scenario in page.text
    assert client.get("/api/compare", params=[("run", keys[0])]).status_code == 400
    assert client.get("/api/compare", params=[("run", keys[0]), ("run", keys[0])]).status_code == 400
    assert client.get("/api/compare", params=[("run", keys[0]), ("run", "0" * 20)]).status_code == 404
    assert client.get("/compare", headers=HTML).status_code == 400


@pytest.mark.parametrize("path", ["/api/runs/nope", "/api/runs/ffffffffffffffffffff", "/runs/..%2F..%2Fetc",
                                  "/api/runs/%2e%2e", "/api/runs/abc", "/runs/ffff"])
def test_unknown_runs_are_404(client: TestClient, path: str) -> None:
    answer = client.get(path, headers=HTML)
    assert answer.status_code == 404
    if path.startswith("/api/"):  # the API answers JSON, whatever the client accepts
        assert "in the store" in answer.json()["detail"]
    else:  # a page for a browser, JSON for a script
        assert "<h1>404</h1>" in answer.text and client.get(path).json()["detail"]


# --- Sweeps and plans.

def test_sweep_page_has_bands_the_frontier_and_the_table(client: TestClient, runs_dir: Path) -> None:
    listed = client.get("/api/outputs/sweep").json()
    assert [o["name"] for o in listed] == ["grid"]
    table = pq.read_table(runs_dir / "grid" / "table.parquet").to_pylist()
    answer = client.get("/api/sweeps/grid", params={"metric": "wait_mean_h"}).json()
    assert len(answer["rows"]) == len(table) == 4 and all(row["runs"] == 2 for row in answer["rows"])
    page = client.get("/sweeps/grid", params={"metric": "wait_mean_h"}, headers=HTML)
    assert page.status_code == 200 and 'id="sweep-0"' in page.text and "tonexty" in page.text  # a shaded band
    assert client.get("/sweeps", headers=HTML).text.count("/sweeps/grid") >= 1
    report = client.get("/sweeps/grid/report.html")
    assert report.status_code == 200 and report.text == (runs_dir / "grid" / "report.html").read_text()
    for bad in ("/api/sweeps/nope", "/sweeps/deadline", "/api/sweeps/..", "/sweeps/store/report.html"):
        assert client.get(bad, headers=HTML).status_code == 404, bad
    assert client.get("/api/outputs/secrets").status_code == 422


def test_plan_page_marks_the_answer(client: TestClient, runs_dir: Path) -> None:
    data = json.loads((runs_dir / "deadline" / "plan.json").read_text())
    answer = client.get("/api/plans/deadline").json()
    chosen = data["plan"]["plan"]
    assert answer["plan"] == data and any(row["plan"] == chosen and row["role"] == "answer" for row in answer["plans"])
    assert len(answer["plans"]) == pq.read_metadata(runs_dir / "deadline" / "plans.parquet").num_rows
    page = client.get("/plans/deadline", params={"sort": "status"}, headers=HTML)
    assert page.status_code == 200 and 'id="plan-0"' in page.text
    assert client.get("/api/outputs/plan").json()[0]["name"] == "deadline"
    assert client.get("/api/plans/grid").status_code == 404


def test_a_replication_set(client: TestClient, runs_dir: Path, keys: list[str]) -> None:
    data = json.loads((runs_dir / "lab-x3" / "replications.json").read_text())
    assert [o["name"] for o in client.get("/api/outputs/replications").json()] == ["lab-x3"]
    page = client.get("/replications/lab-x3", headers=HTML)
    assert page.status_code == 200 and all(f'href="/runs/{key}"' in page.text for key in keys)
    mean = data["metrics"]["utilisation"]["mean"]
    assert f"{mean * 100:.2f}%" in page.text  # the set's own mean, as the CLI formats it
    assert "/compare?run=" in page.text
    assert client.get("/replications/nope", headers=HTML).status_code == 404


# --- The editor.

def test_builtin_scenarios_and_the_schema(client: TestClient) -> None:
    names = [entry["name"] for entry in client.get("/api/scenarios").json()]
    assert names == [name for name, _ in builtin_descriptions()]
    text = client.get("/api/scenarios/research-lab").text
    assert yaml.safe_load(text)["name"] == "research-lab"
    assert client.get("/api/scenarios/../../etc/passwd").status_code == 404
    assert client.get("/api/scenarios/nope").status_code == 404
    assert client.get("/api/schema").json() == Scenario.model_json_schema()
    editor = client.get("/new", params={"scenario": "research-lab"}, headers=HTML)
    assert editor.status_code == 200 and "research-lab" in editor.text
    assert client.get("/new", params={"scenario": "nope"}, headers=HTML).status_code == 404
    assert client.get("/new", params={"job": "../x"}, headers=HTML).status_code == 422


def test_editor_from_a_stored_run_is_that_scenario(client: TestClient, keys: list[str], runs_dir: Path) -> None:
    page = client.get("/new", params={"run": keys[0]}, headers=HTML)
    assert page.status_code == 200 and "name: test" in page.text


@pytest.mark.parametrize(("edit", "line", "field"), [
    (lambda text: text.replace("racks: 4", "racks: -1"), None, "fleet.pools[0].deliveries[0].racks"),
    (lambda text: text.replace("name: test", "name: test\ncolour: blue"), 2, "colour"),
    (lambda text: text.replace("gpu: H100", "gpu: H9000"), None, "fleet.pools[0].gpu"),
])
def test_validate_says_what_the_cli_says(client: TestClient, tmp_path: Path, edit, line, field) -> None:  # noqa: ANN001
    text = edit(lab_yaml())
    answer = client.post("/api/validate", json={"scenario": text}).json()
    assert not answer["ok"] and answer["outline"] is None
    problem = answer["problems"][0]
    assert problem["field"] == field and (line is None or problem["line"] == line)
    source = tmp_path / "scenario.yaml"
    source.write_text(text)
    with pytest.raises(InputError) as cli:
        load_scenario(source)
    expected = cli.value.problems[0]
    assert (problem["line"], problem["message"]) == (expected.line, expected.message)
    assert problem["text"] == str(expected).replace(str(source), "scenario.yaml")


def test_validate_a_good_scenario_and_a_sweep(client: TestClient) -> None:
    answer = client.post("/api/validate", json={"scenario": lab_yaml()}).json()
    assert answer["ok"] and answer["problems"] == [] and answer["outline"]["pools"] == [{"name": "pool",
                                                                                         "gpu": "H100"}]
    sweep = "name: s\nreplications: 3\naxes:\n  - path: scheduler.backfill\n    values: [easy, none]\n"
    checked = client.post("/api/validate", json={"scenario": lab_yaml(), "sweep": sweep}).json()["sweep"]
    assert checked == {"ok": True, "problems": [], "runs": 6, "points": 2}
    broken = client.post("/api/validate", json={"scenario": lab_yaml(), "sweep": sweep.replace("backfill", "nope")
                                                }).json()["sweep"]
    assert not broken["ok"] and broken["problems"][0]["line"] == 4 and "sweep.yaml:4" in broken["problems"][0]["text"]
    other = client.post("/api/validate", json={"scenario": lab_yaml(), "sweep": "base: other\n" + sweep}).json()
    assert other["sweep"]["problems"][0]["field"] == "base"


@pytest.mark.parametrize("body", [{}, {"scenario": 3}, {"scenario": "x", "extra": 1}, [], "text"])
def test_validate_refuses_malformed_requests(client: TestClient, body: object) -> None:
    assert client.post("/api/validate", json=body).status_code == 422


@pytest.mark.parametrize("text", ["", "- a list", "a: [unclosed", "name: x\nname: y\n", "\t bad"])
def test_validate_reports_yaml_that_is_no_scenario(client: TestClient, text: str) -> None:
    answer = client.post("/api/validate", json={"scenario": text})
    assert answer.status_code == 200 and not answer.json()["ok"] and answer.json()["problems"]
    assert all(p["text"].startswith("scenario.yaml") for p in answer.json()["problems"])


def test_a_billion_laughs_is_refused(client: TestClient) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join(['*a' + str(i - 1)] * 10)}]" for i in range(1, 9)]
    answer = client.post("/api/validate", json={"scenario": "\n".join(lines)}).json()
    assert not answer["ok"] and "YAML nodes" in answer["problems"][0]["message"]


# --- Background jobs (the life cycle is in test_jobs.py).

def test_jobs_routes_with_unknown_or_malformed_ids(client: TestClient) -> None:
    assert client.get("/api/jobs").json() == []
    assert client.get("/jobs", headers=HTML).status_code == 200
    for path in ("/api/jobs/0123456789ab", "/jobs/0123456789ab", "/api/jobs/0123456789ab/events"):
        assert client.get(path, headers=HTML).status_code == 404, path
    for path in ("/api/jobs/0123456789ab/cancel", "/api/jobs/0123456789ab/resume"):
        assert client.post(path).status_code == 404
    for path in ("/api/jobs/..%2Fx", "/api/jobs/ABCDEF012345", "/jobs/12"):
        assert client.get(path).status_code in (404, 422), path


@pytest.mark.parametrize("body", [
    {"scenario": "name: x"},  # not a whole scenario
    {"scenario": "__LAB__", "kind": "sweep"},  # a sweep without axes
    {"scenario": "__LAB__", "replications": 0},
    {"scenario": "__LAB__", "replications": 5000},
    {"scenario": "__LAB__", "seed": -1},
    {"scenario": "__LAB__", "until": "2025-01-01"},  # before the start
    {"scenario": "__LAB__", "kind": "ray"},
    {"scenario": "__LAB__", "kind": "sweep", "sweep": "name: store\naxes:\n  - path: seed\n    values: [1]\n"},
])
def test_start_refuses_bad_jobs_and_starts_nothing(client: TestClient, body: dict[str, object]) -> None:
    body = {key: lab_yaml() if value == "__LAB__" else value for key, value in body.items()}
    answer = client.post("/api/jobs", json=body)
    assert answer.status_code == 422
    assert client.get("/api/jobs").json() == []


def test_a_sweep_too_big_for_the_dashboard(client: TestClient) -> None:
    sweep = "name: huge\nreplications: 100\naxes:\n  - path: seed\n    values: [1, 2, 3]\n"
    answer = client.post("/api/jobs", json={"scenario": lab_yaml(), "kind": "sweep", "sweep": sweep})
    assert answer.status_code == 422 and "at most 200" in json.dumps(answer.json())
    assert client.get("/api/jobs").json() == []


# --- Uploads.

def test_upload_list_and_replace(client: TestClient, runs_dir: Path) -> None:
    assert client.put("/api/uploads/trace.csv", content=b"a,b\n1,2\n").json()["bytes"] == 8
    assert client.put("/api/uploads/trace.csv", content=b"a,b\n").status_code == 201
    assert (runs_dir / "uploads" / "trace.csv").read_bytes() == b"a,b\n"
    assert {"name": "trace.csv", "bytes": 4} in client.get("/api/uploads").json()
    assert not [p for p in (runs_dir / "uploads").iterdir() if p.name.startswith(".")]  # no temporary left


def test_unknown_routes_and_methods(client: TestClient) -> None:
    assert client.get("/nope", headers=HTML).status_code == 404
    assert client.get("/api/nope").json() == {"detail": "Not Found"}
    assert client.delete("/api/runs").status_code == 405
    assert client.get("/api/openapi.json").json()["info"]["title"] == "gpufleet"
