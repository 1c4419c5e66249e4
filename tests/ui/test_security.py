"""Safe by default: the token beyond loopback, the Host header on loopback, no cross-site
changes, body and upload limits, no path outside the runs folder or the allowed folders."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from gpufleet import api
from gpufleet.ui import UiSettings, create_app
from gpufleet.ui.security import COOKIE, safe_name
from gpufleet.ui.settings import is_loopback
from tests.ui.helpers import HTML, lab_yaml

TOKEN = "s3cret-token-for-tests"


@pytest.fixture
def open_client(runs_dir: Path) -> Iterator[TestClient]:
    """The dashboard as `gpufleet ui --host 0.0.0.0` serves it: a token on every request."""
    settings = UiSettings.for_address(runs_dir, host="0.0.0.0", token=TOKEN)
    with TestClient(create_app(settings), base_url="http://10.1.2.3:8000", follow_redirects=False) as test:
        yield test


@pytest.fixture
def own_folder(tmp_path: Path) -> Iterator[tuple[TestClient, Path]]:
    """A dashboard over an empty runs folder of its own, with small limits."""
    settings = UiSettings.for_address(tmp_path / "runs", max_body_bytes=4096, max_upload_bytes=1000)
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as test:
        yield test, tmp_path / "runs"


def test_any_address_but_loopback_gets_a_token() -> None:
    assert UiSettings.for_address("runs").token is None
    assert UiSettings.for_address("runs", host="::1").token is None
    made = UiSettings.for_address("runs", host="0.0.0.0")
    assert made.token is not None and len(made.token) >= 32
    assert UiSettings.for_address("runs", host="0.0.0.0").token != made.token  # random
    assert UiSettings.for_address("runs", host="192.168.1.5", token="mine").token == "mine"
    assert [is_loopback(h) for h in ("localhost", "127.0.0.2", "::1", "[::1]", "0.0.0.0", "example.com")] == [
        True, True, True, True, False, False]


def test_the_python_api_makes_the_same_application(runs_dir: Path) -> None:
    with TestClient(api.dashboard(runs_dir), base_url="http://127.0.0.1:8000") as local:
        assert local.get("/api/health").json()["ok"]
    beyond = api.dashboard(runs_dir, host="0.0.0.0", max_jobs=3)
    settings = beyond.state.ui.settings
    assert settings.token is not None and settings.max_jobs == 3
    with TestClient(beyond, base_url="http://10.0.0.1:8000") as remote:
        assert remote.get("/api/health").status_code == 401
        assert remote.get("/api/health", headers={"Authorization": f"Bearer {settings.token}"}).status_code == 200


@pytest.mark.parametrize("path", ["/", "/api/runs", "/api/health", "/static/app.js", "/new", "/api/openapi.json",
                                  "/api/docs"])
def test_without_the_token_nothing_is_served(open_client: TestClient, path: str) -> None:
    answer = open_client.get(path, headers=HTML)
    assert answer.status_code == 401 and "token" in answer.text
    assert open_client.get(path, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert open_client.get(path, headers={"Cookie": f"{COOKIE}=wrong"}).status_code == 401
    assert open_client.get(path, params={"token": "wrong"}).status_code == 401
    assert open_client.get(path, headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_posts_need_the_token_too(open_client: TestClient) -> None:
    assert open_client.post("/api/validate", json={"scenario": lab_yaml()}).status_code == 401
    assert open_client.post("/api/jobs", json={"scenario": lab_yaml()}).status_code == 401
    assert open_client.put("/api/uploads/x.csv", content=b"1").status_code == 401
    assert open_client.post("/api/validate", json={"scenario": lab_yaml()},
                            headers={"Authorization": f"Bearer {TOKEN}"}).json()["ok"]


def test_the_printed_address_logs_a_browser_in(open_client: TestClient) -> None:
    first = open_client.get("/runs/abc", params={"token": TOKEN, "q": "x"})
    assert first.status_code == 303 and first.headers["location"] == "/runs/abc?q=x"  # the token leaves the URL
    cookie = first.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}={TOKEN}") and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert open_client.get("/api/health", headers={"Cookie": f"{COOKIE}={TOKEN}"}).status_code == 200
    assert open_client.get("/api/health", headers={"Cookie": "garbage;;=\x7f"}).status_code == 401


def test_loopback_answers_only_to_its_own_names(runs_dir: Path) -> None:
    with TestClient(create_app(UiSettings.for_address(runs_dir)), base_url="http://127.0.0.1:8000") as test:
        assert test.get("/api/health").status_code == 200
        for host in ("localhost:8000", "[::1]:8000", "127.0.0.1"):
            assert test.get("/api/health", headers={"Host": host}).status_code == 200, host
        for host in ("evil.example:8000", "attacker.test", "127.0.0.1.evil.example"):
            answer = test.get("/api/health", headers={"Host": host})
            assert answer.status_code == 421 and "localhost" in answer.json()["detail"], host


def test_another_site_may_not_change_anything(client: TestClient) -> None:
    body = {"scenario": lab_yaml()}
    for headers in ({"Origin": "http://evil.example"}, {"Sec-Fetch-Site": "cross-site"}, {"Origin": "null"},
                    {"Origin": "http://127.0.0.1:9999"}):
        assert client.post("/api/validate", json=body, headers=headers).status_code == 403, headers
        assert client.post("/api/jobs", json=body, headers=headers).status_code == 403, headers
    assert client.get("/api/runs", headers={"Origin": "http://evil.example"}).status_code == 200  # reading is not
    same = {"Origin": "http://127.0.0.1:8000", "Sec-Fetch-Site": "same-origin"}
    assert client.post("/api/validate", json=body, headers=same).status_code == 200


def test_request_bodies_over_the_limit(own_folder: tuple[TestClient, Path]) -> None:
    client, _ = own_folder
    big = {"scenario": "x" * 5000}
    answer = client.post("/api/validate", json=big)
    assert answer.status_code == 413 and "4,096 bytes" in answer.json()["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams in
        yield b'{"scenario": "'
        for _ in range(10):
            yield b"y" * 1000
        yield b'"}'

    assert client.post("/api/validate", content=chunks(), headers={"Content-Type": "application/json"}
                       ).status_code == 413
    assert client.post("/api/validate", content=b"{}", headers={"Content-Length": "abc",
                                                                 "Content-Type": "application/json"}
                       ).status_code == 400


def test_uploads_over_the_limit_leave_nothing(own_folder: tuple[TestClient, Path]) -> None:
    client, runs = own_folder
    assert client.put("/api/uploads/ok.csv", content=b"runtime\n" + b"1\n" * 400).status_code == 201
    assert client.put("/api/uploads/big.csv", content=b"1" * 1001).status_code == 413

    def chunks() -> Iterator[bytes]:
        for _ in range(5):
            yield b"2" * 300

    assert client.put("/api/uploads/streamed.csv", content=chunks()).status_code == 413
    assert sorted(os.listdir(runs / "uploads")) == ["ok.csv"]  # nothing half-written, not even hidden


@pytest.mark.parametrize("name", ["..", ".hidden", "a%2Fb", "..%2F..%2Fetc%2Fpasswd", "%2Fetc%2Fpasswd", "a b",
                                  "x" * 200, "%00", "ok..csv"])
def test_uploads_take_plain_names_only(own_folder: tuple[TestClient, Path], name: str) -> None:
    client, runs = own_folder
    answer = client.put(f"/api/uploads/{name}", content=b"1")
    assert answer.status_code in (400, 404, 405)
    assert not (runs / "uploads").exists() or os.listdir(runs / "uploads") == []
    assert not (runs.parent / "etc").exists()


def test_safe_names() -> None:
    assert [safe_name(n) for n in ("trace.csv", "a-b_c.1", "..", ".x", "a/b", "a\\b", "a..b", "", "é")] == [
        True, True, False, False, False, False, False, False, False]


def _with_trace(path: str) -> str:
    data = yaml.safe_load(lab_yaml())
    data["workloads"][0]["synthetic"]["sizes"][0]["duration"] = {"dist": "trace", "format": "philly-runtime",
                                                                 "path": path}
    return yaml.safe_dump(data, sort_keys=False)


@pytest.mark.parametrize("path", ["/etc/passwd", "../../../../etc/passwd", "../store/catalog/runs.parquet",
                                  "~/.ssh/id_rsa", "uploads/../../x.csv", "escape.csv"])
def test_a_scenario_names_files_only_in_allowed_folders(own_folder: tuple[TestClient, Path], path: str) -> None:
    client, runs = own_folder
    (runs / "uploads").mkdir(parents=True, exist_ok=True)
    (runs / "uploads" / "escape.csv").symlink_to("/etc/passwd")  # a link out of the folder leads nowhere
    answer = client.post("/api/validate", json={"scenario": _with_trace(path)}).json()
    assert not answer["ok"]
    problem = answer["problems"][0]
    assert problem["field"] == "workloads[0].synthetic.sizes[0].duration.path" and problem["line"] is not None
    assert "reads files only in" in problem["message"]
    assert client.post("/api/jobs", json={"scenario": _with_trace(path)}).status_code == 422


def test_an_uploaded_trace_is_read_from_uploads(own_folder: tuple[TestClient, Path], tmp_path: Path) -> None:
    client, runs = own_folder
    assert client.put("/api/uploads/runtimes.csv", content=b"runtime\n3600\n7200\n900\n").status_code == 201
    answer = client.post("/api/validate", json={"scenario": _with_trace("runtimes.csv")}).json()
    assert answer["ok"], answer["problems"]
    missing = client.post("/api/validate", json={"scenario": _with_trace("absent.csv")}).json()
    assert not missing["ok"] and "absent.csv" in missing["problems"][0]["text"]


def test_data_folders_given_on_the_command_line_are_allowed(runs_dir: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "philly.csv").write_text("runtime\n60\n120\n")
    with TestClient(create_app(UiSettings.for_address(tmp_path / "runs", data_dirs=(data,))),
                    base_url="http://127.0.0.1:8000") as test:
        assert test.post("/api/validate", json={"scenario": _with_trace(str(data / "philly.csv"))}).json()["ok"]
        assert not test.post("/api/validate", json={"scenario": _with_trace(str(tmp_path / "x.csv"))}).json()["ok"]


def test_links_planted_in_the_runs_folder_lead_nowhere(tmp_path: Path, runs_dir: Path, keys: list[str]) -> None:
    runs = tmp_path / "runs"
    (runs / "store" / "runs").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "sweep.json").write_text('{"sweep": {}}')
    (runs / "stolen").symlink_to(outside)  # an output folder that is a link out
    (runs / "store" / "runs" / keys[0]).symlink_to(runs_dir / "store" / "runs" / keys[0])  # a run that is a link
    with TestClient(create_app(UiSettings.for_address(runs)), base_url="http://127.0.0.1:8000") as test:
        assert test.get("/api/outputs/sweep").json() == []
        assert test.get("/api/sweeps/stolen").status_code == 404
        assert test.get(f"/api/runs/{keys[0]}").status_code == 404


def test_sweep_names_stay_in_the_runs_folder(client: TestClient) -> None:
    for name in ("../escape", "store", "uploads", ".hidden", "/tmp/x", "a/b"):
        sweep = f"name: '{name}'\naxes:\n  - path: scheduler.backfill\n    values: [easy]\n"
        answer = client.post("/api/validate", json={"scenario": lab_yaml(), "sweep": sweep}).json()["sweep"]
        assert not answer["ok"] and answer["problems"][0]["field"] == "name", name
