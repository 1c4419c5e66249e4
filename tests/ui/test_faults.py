"""A dashboard killed mid-run (`gpufleet ui` as a process, killed with SIGKILL): started
again, it shows every finished run whole, the job interrupted, nothing half-written; resume
runs the rest and skips what is stored. And the command itself: the printed address, the
token beyond loopback, a port already taken."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import yaml
from fastapi.testclient import TestClient

from gpufleet import api
from gpufleet.store import RunStore
from gpufleet.ui import UiSettings, create_app
from tests.plan.helpers import lab
from tests.ui.helpers import wait_for

COMMAND = [sys.executable, "-c", "from gpufleet.cli import main; main()", "ui"]
ADDRESS = re.compile(r"gpufleet dashboard on (http://\S+/)(\?token=(\S+))?")


@contextmanager
def dashboard(runs: Path, *options: str) -> Iterator[tuple[subprocess.Popen[str], str, str | None]]:
    """`gpufleet ui --runs RUNS --port 0 OPTIONS`: the process, its address and its token."""
    process = subprocess.Popen([*COMMAND, "--runs", str(runs), "--port", "0", *options], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        found = ADDRESS.search(line)
        assert found, (line, process.stderr.read() if process.poll() is not None else "")
        yield process, found.group(1), found.group(3)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat").read_text().split()[2] if Path(f"/proc/{pid}/stat").exists() else "X"
    return state not in ("Z", "X")


def hidden(folder: Path) -> list[str]:
    """Names beginning with a dot anywhere under `folder` (staging folders, temporary files)."""
    return [str(p.relative_to(folder)) for p in folder.rglob(".*") if ".gpufleet-ui" not in p.parts]


def test_killed_mid_run_restarts_whole(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    scenario = yaml.safe_dump(lab(end="2026-06-01").model_dump(mode="json", exclude_defaults=True))
    with dashboard(runs) as (process, address, token), httpx.Client(base_url=address, timeout=30.0) as client:
        assert token is None  # loopback: no token
        job = client.post("/api/jobs", json={"scenario": scenario, "replications": 3, "seed": 4}).json()
        # Kill when one run is stored and the next is under way: the dashboard and its worker at once.
        wait_for(client, job["id"], lambda j: j["done"] >= 1 and j["progress"] > 1 / 3)
        os.kill(worker_of(runs, job["id"]), signal.SIGKILL)
        process.kill()
        process.wait()
    store = RunStore(runs / "store")
    finished = [key for key in store.keys() if store.record(key).ok]
    assert 1 <= len(finished) < 3
    with dashboard(runs) as (process, address, _), httpx.Client(base_url=address, timeout=30.0) as client:
        job = client.get(f"/api/jobs/{job['id']}").json()
        assert job["status"] == "interrupted" and f"{len(finished)} of 3 runs had finished" in job["error"]
        rows = {row["key"]: row["status"] for row in client.get("/api/runs").json()["rows"]}
        assert rows == {key: "ok" if key in finished else "interrupted" for key in job["keys"]}
        for key in finished:  # whole: the run page renders from its files
            assert client.get(f"/runs/{key}").status_code == 200
        fresh = api.run(lab(end="2026-06-01"), seed=store.record(finished[0]).seed)  # and holds a fresh run's numbers
        assert store.load_summary(finished[0])["jobs"] == fresh.summary["jobs"]
        assert hidden(runs) == [] and store.debris() == []  # nothing half-written, visible or not
        # Resume: the stored runs are skipped. Kill the dashboard alone this time: its worker stops too.
        client.post(f"/api/jobs/{job['id']}/resume")
        resumed = wait_for(client, job["id"], lambda j: j["skipped"] == len(finished) and j["progress"] > 0
                           and j["current_seed"] is not None)
        worker = worker_of(runs, job["id"])
        assert resumed["attempts"] == 2
        process.kill()
        process.wait()
    deadline = time.monotonic() + 15.0
    while alive(worker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(worker), "the worker outlived its dashboard"
    assert hidden(runs) == [] and store.debris() == []
    # Started again (in this process this time), the job resumes to the end.
    with TestClient(create_app(UiSettings.for_address(runs)), base_url="http://127.0.0.1:8000") as client:
        assert client.get(f"/api/jobs/{job['id']}").json()["status"] == "interrupted"
        client.post(f"/api/jobs/{job['id']}/resume")
        done = wait_for(client, job["id"], lambda j: not j["active"])
        assert done["status"] == "done" and done["done"] == 3 and done["skipped"] >= len(finished)
        assert {row["status"] for row in client.get("/api/runs").json()["rows"]} == {"ok"}
    assert len(store.keys()) == 3 and hidden(runs) == []


def worker_of(runs: Path, job_id: str) -> int:
    """The pid of the job's worker, from the dashboard's journal."""
    return int(json.loads((runs / ".gpufleet-ui" / "jobs" / f"{job_id}.json").read_text())["pid"])


def test_beyond_loopback_a_token_and_a_port_taken(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GPUFLEET_UI_TOKEN", "token-from-the-environment")
    with dashboard(tmp_path / "runs", "--host", "0.0.0.0") as (_, address, token):
        assert token == "token-from-the-environment"
        local = address.replace("0.0.0.0", "127.0.0.1")
        with httpx.Client(base_url=local) as client:
            assert client.get("/api/health").status_code == 401
            assert client.get("/api/health", headers={"Authorization": f"Bearer {token}"}).json()["ok"]
        port = address.rsplit(":", 1)[1].strip("/")
        taken = subprocess.run([*COMMAND, "--runs", str(tmp_path / "runs"), "--host", "0.0.0.0", "--port", port],
                               capture_output=True, text=True, timeout=60)
    assert taken.returncode == 2 and f"cannot listen on 0.0.0.0:{port}" in taken.stderr
    assert "Traceback" not in taken.stderr


@pytest.mark.parametrize("options", [["--max-jobs", "0"], ["--port", "70000"], ["--max-upload-mb", "0"]])
def test_bad_options(tmp_path: Path, options: list[str]) -> None:
    answer = subprocess.run([*COMMAND, "--runs", str(tmp_path), *options], capture_output=True, text=True,
                            timeout=60)
    assert answer.returncode == 2 and "Traceback" not in answer.stderr
