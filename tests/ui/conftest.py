"""A runs folder the dashboard tests share (built once a session): a store with three runs
of a small lab, a run that failed, a sweep and a plan written as their commands write them;
and a client for the dashboard over it."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
import yaml
from fastapi.testclient import TestClient

from gpufleet import api
from gpufleet.report.replications import write_replication_report
from gpufleet.report.sweep import write_sweep_report
from gpufleet.store import RunSpec, RunStore
from gpufleet.ui import UiSettings, bind, create_app
from tests.plan.helpers import lab
from tests.plan.test_planner import deadline_base

SEEDS = (1, 2, 3)


def build_runs_folder(folder: Path) -> dict[str, object]:
    """The runs folder (`folder/store` and outputs beside it); what the tests need to know of it."""
    store_root = folder / "store"
    store = RunStore(store_root)
    keys = []
    for seed in SEEDS:
        spec = RunSpec.of(lab(), seed)
        store.put(spec, api.run(lab(), seed=seed), "2026-05-01T10:00:0" + str(seed), 0.5)
        keys.append(spec.key)
    replicated = api.replicate(lab(), 3, seed=1, workers=1, store_root=store_root)  # the three runs above
    replicated.write(folder / "lab-x3", report=write_replication_report)
    broken = RunSpec.of(lab(end="2026-01-15"), 99)
    store.put_failure(broken, "test", "RuntimeError: boom", "2026-04-01T09:00:00", 0.1)
    inputs = folder.parent / f"{folder.name}-inputs"
    inputs.mkdir(exist_ok=True)
    (inputs / "lab.yaml").write_text(yaml.safe_dump(lab().model_dump(mode="json", exclude_defaults=True),
                                                    sort_keys=False))
    (inputs / "grid.yaml").write_text(yaml.safe_dump({
        "name": "grid", "base": "lab.yaml", "replications": 2, "seed": 1, "axes": [
            {"path": "fleet.pools[pool].deliveries[*].racks", "name": "racks", "scale": [0.5, 1.0]},
            {"path": "scheduler.backfill", "values": ["easy", "none"]}]}, sort_keys=False))
    api.sweep(str(inputs / "grid.yaml"), workers=1, store_root=store_root).write(folder / "grid",
                                                                             report=write_sweep_report)
    planned = api.plan(deadline_base(), ["finish_day[big] <= 2026-03-02"], ["scale:pool=1..2/0.5"],
                       replications=1, demand=(), workers=1, store_root=store_root)
    planned.write(folder / "deadline")
    shutil.rmtree(inputs)
    return {"keys": keys, "failed": broken.key}


@pytest.fixture(scope="session")
def runs_folder(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    folder = tmp_path_factory.mktemp("ui") / "runs"
    folder.mkdir()
    return folder, build_runs_folder(folder)


@pytest.fixture(scope="session")
def runs_dir(runs_folder: tuple[Path, dict[str, object]]) -> Path:
    return runs_folder[0]


@pytest.fixture(scope="session")
def keys(runs_folder: tuple[Path, dict[str, object]]) -> list[str]:
    found = runs_folder[1]["keys"]
    assert isinstance(found, list)
    return found


@pytest.fixture(scope="session")
def failed_key(runs_folder: tuple[Path, dict[str, object]]) -> str:
    return str(runs_folder[1]["failed"])


@pytest.fixture(scope="module")
def client(runs_dir: Path) -> Iterator[TestClient]:
    """The dashboard over the shared runs folder, on loopback (no token)."""
    with TestClient(create_app(UiSettings.for_address(runs_dir)), base_url="http://127.0.0.1:8000") as test:
        yield test


# --- A live dashboard for the browser tests, and screenshots of failures.

ARTIFACTS = Path(__file__).resolve().parents[2] / "runs" / "test-artifacts" / "ui"
"""Where a failed browser test leaves its page's screenshot (CI keeps runs/test-artifacts)."""


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[pytest.TestReport]:
    report = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    return report


_REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


def failed(item: pytest.Item) -> bool:
    return any(report.failed for report in item.stash.get(_REPORTS, {}).values())


@dataclass
class LiveServer:
    """The dashboard served by uvicorn in a thread of this process, over a runs folder of its own."""

    url: str
    runs_dir: Path


@pytest.fixture(scope="module")
def live_server(runs_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    own = tmp_path_factory.mktemp("live") / "runs"
    shutil.copytree(runs_dir, own, symlinks=True, ignore=shutil.ignore_patterns(".gpufleet-ui", "uploads"))
    settings = UiSettings.for_address(own, port=0)
    sock = bind("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(create_app(settings), log_level="warning", access_log=False,
                                           lifespan="on", timeout_graceful_shutdown=2))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30.0
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the dashboard did not start"
    try:
        yield LiveServer(f"http://127.0.0.1:{sock.getsockname()[1]}", own)
    finally:
        server.should_exit = True
        thread.join(15.0)
        sock.close()
