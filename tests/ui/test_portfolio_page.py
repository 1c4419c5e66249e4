"""A run with several contracts shows its Contracts section on the dashboard, as the report does."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from gpufleet import api
from gpufleet.store import RunSpec, RunStore
from gpufleet.testing import jobs_workload, scenario
from gpufleet.ui import UiSettings, create_app
from tests.portfolio.test_ledger import CONTRACTS, FLEET, JOBS
from tests.ui.helpers import HTML


def test_a_portfolio_run_page_shows_each_contract(tmp_path: Path) -> None:
    spec = scenario(FLEET, [jobs_workload(JOBS)], contracts=CONTRACTS)
    runs = tmp_path / "runs"
    store = RunStore(runs / "store")
    key = RunSpec.of(spec, 1).key
    store.put(RunSpec.of(spec, 1), api.run(spec, seed=1), "2026-05-01T10:00:00", 0.5)
    with TestClient(create_app(UiSettings.for_address(runs)), base_url="http://127.0.0.1:8000") as client:
        page = client.get(f"/runs/{key}", headers=HTML)
    assert page.status_code == 200
    body = page.text
    assert "<h2>Contracts</h2>" in body and "Commitment remaining per contract" in body
    for contract in ("aws", "azure", "oracle"):
        assert f"<td>{contract}</td>" in body
