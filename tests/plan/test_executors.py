"""Same results bit for bit whichever executor runs a point: in-process, a local process
pool, Ray on this machine; Ray records a failed run and can send files back."""

from __future__ import annotations

from pathlib import Path

import pytest

from gpufleet import api
from gpufleet.plan.executors import LocalPool, SerialExecutor
from gpufleet.plan.runner import Runner
from gpufleet.store import RunSpec, RunStore
from tests.plan.helpers import FAILING_SEED, failing_run, lab

FILES = ("summary.json", "jobs.parquet", "timeseries.parquet", "ledger.parquet", "scenario.json")


def _files(store: RunStore, key: str) -> dict[str, bytes]:
    return {name: (store.path(key) / name).read_bytes() for name in FILES}


def _specs() -> list[RunSpec]:
    return [RunSpec.of(lab(), seed) for seed in (1, 2, 3)]


def _serial(root: Path) -> RunStore:
    store = RunStore(root)
    Runner(store, SerialExecutor(), api.run).run(_specs())
    return store


def test_local_pool_gives_the_same_bytes(tmp_path) -> None:  # noqa: ANN001
    serial = _serial(tmp_path / "serial")
    store = RunStore(tmp_path / "pool")
    pool = LocalPool(2)
    try:
        outcomes = Runner(store, pool, api.run).run(_specs())
    finally:
        pool.close()
    assert all(outcome.ok for outcome in outcomes.values())
    for spec in _specs():
        assert _files(store, spec.key) == _files(serial, spec.key)
        assert store.record(spec.key).metrics == serial.record(spec.key).metrics


@pytest.mark.ray
def test_ray_gives_the_same_bytes_records_failures_and_sends_back(tmp_path) -> None:  # noqa: ANN001
    from gpufleet.plan.ray_executor import RayExecutor

    serial = _serial(tmp_path / "serial")
    executor = RayExecutor(workers=2)
    try:
        assert executor.workers == 2
        store = RunStore(tmp_path / "ray")
        specs = _specs() + [RunSpec.of(lab(), FAILING_SEED)]
        outcomes = Runner(store, executor, failing_run).run(specs)
        back = RunStore(tmp_path / "ray-sent-back")
        sent = Runner(back, executor, api.run, send_back=True).run(_specs())
    finally:
        executor.close()
    for spec in _specs():
        assert _files(store, spec.key) == _files(serial, spec.key)
        assert _files(back, spec.key) == _files(serial, spec.key)
        assert sent[spec.key].ok
    failed = outcomes[specs[-1].key].record
    assert not failed.ok and "boom" in failed.error and store.record(specs[-1].key).status == "failed"
