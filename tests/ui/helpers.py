"""What the dashboard tests share: the lab scenario as the editor's text, and waiting for a job."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

import yaml

from tests.plan.helpers import lab

HTML = {"Accept": "text/html"}


class Getter(Protocol):
    def get(self, url: str) -> Any: ...  # noqa: ANN401 - an httpx or TestClient response


def lab_yaml(end: str = "2026-01-20") -> str:
    """The small lab (tests/plan/helpers.py) as scenario YAML, as a user would type it."""
    return yaml.safe_dump(lab(end=end).model_dump(mode="json", exclude_defaults=True), sort_keys=False)


def wait_for(client: Getter, job_id: str, done: Callable[[dict[str, Any]], bool],
             timeout_s: float = 120.0) -> dict[str, Any]:
    """Poll the background job until `done(job)`; the job."""
    deadline = time.monotonic() + timeout_s
    job: dict[str, Any] = {}
    while time.monotonic() < deadline:
        job = client.get(f"/api/jobs/{job_id}").json()
        if done(job):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not get there in {timeout_s} s: {job}")
