"""The run store: keys, whole runs only, failures recorded, done runs skipped, the catalog
rebuilt from the runs, DuckDB over the runs' Parquet files."""

from __future__ import annotations

import json
import multiprocessing
import shutil
import time

import pyarrow.parquet as pq
import pytest

from gpufleet import api
from gpufleet.errors import InputError
from gpufleet.plan.executors import LocalPool, SerialExecutor
from gpufleet.plan.runner import Runner
from gpufleet.plan.tasks import RunTask, execute
from gpufleet.store import RunSpec, RunStore, catalog
from tests.plan.helpers import FAILING_SEED, KILLING_SEED, failing_run, killing_run, lab, slow_write_run


def test_key_depends_on_scenario_seed_until_version_and_engine() -> None:
    base = lab()
    spec = RunSpec.of(base, 1)
    assert spec.key == RunSpec.of(lab(), 1).key  # same scenario built again: same key
    others = [RunSpec.of(base, 2), RunSpec.of(lab(end="2026-01-21"), 1),
              RunSpec(spec.scenario_json, 1, until="2026-01-10T00:00:00"),
              RunSpec(spec.scenario_json, 1, version="9.9.9"), RunSpec(spec.scenario_json, 1, engine="native")]
    assert len({spec.key, *(other.key for other in others)}) == 6


def test_skip_done_and_catalog(tmp_path) -> None:  # noqa: ANN001
    store = RunStore(tmp_path)
    specs = [RunSpec.of(lab(), seed) for seed in (1, 2, 3)]
    first = Runner(store, SerialExecutor(), api.run).run(specs)
    assert all(outcome.ok and not outcome.skipped for outcome in first.values())
    again = Runner(store, SerialExecutor(), failing_run).run(specs + [specs[0]])
    assert len(again) == 3 and all(outcome.skipped for outcome in again.values())
    rows = catalog.query(store, "SELECT key, seed, status, utilisation, metrics['wait_p95_h[1-8]'] AS p95 "
                                "FROM runs ORDER BY seed").to_pylist()
    assert [row["seed"] for row in rows] == [1, 2, 3]
    for row in rows:
        summary = store.load_summary(row["key"])
        assert row["utilisation"] == summary["capacity"]["utilisation"]
        assert row["p95"] == summary["wait_by_size_class"]["1-8"]["wait"]["p95_h"]
    jobs = catalog.query(store, "SELECT run, count(*) AS n FROM jobs GROUP BY run").to_pylist()
    assert {row["run"]: row["n"] for row in jobs} == {
        spec.key: pq.read_metadata(store.table_path(spec.key, "jobs")).num_rows for spec in specs}


def test_catalog_is_rebuilt_when_lost_or_broken(tmp_path) -> None:  # noqa: ANN001
    store = RunStore(tmp_path)
    Runner(store, SerialExecutor(), api.run).run([RunSpec.of(lab(), seed) for seed in (1, 2)])
    before = catalog.refresh(store).sort_by("key").to_pylist()
    shutil.rmtree(tmp_path / "catalog")
    assert catalog.refresh(store).sort_by("key").to_pylist() == before
    catalog.catalog_path(store).write_bytes(b"not parquet")
    assert catalog.refresh(store).sort_by("key").to_pylist() == before
    # A run removed by hand leaves the catalog too.
    shutil.rmtree(store.path(before[0]["key"]))
    assert [row["key"] for row in catalog.refresh(store).to_pylist()] == [before[1]["key"]]


def test_failed_run_recorded_and_the_batch_goes_on(tmp_path) -> None:  # noqa: ANN001
    store = RunStore(tmp_path)
    specs = [RunSpec.of(lab(), seed) for seed in (FAILING_SEED - 1, FAILING_SEED, FAILING_SEED + 1)]
    outcomes = Runner(store, SerialExecutor(), failing_run).run(specs)
    failed = outcomes[specs[1].key].record
    assert not failed.ok and "boom: a run that fails" in failed.error
    assert outcomes[specs[0].key].ok and outcomes[specs[2].key].ok
    meta = json.loads((store.path(specs[1].key) / "meta.json").read_text())
    assert meta["status"] == "failed" and "RuntimeError" in meta["error"]
    assert catalog.query(store, "SELECT count(*) AS n FROM runs WHERE status = 'failed'").to_pylist()[0]["n"] == 1
    # A failed run is tried again, and replaced when it succeeds.
    retried = Runner(store, SerialExecutor(), api.run).run(specs)
    assert retried[specs[1].key].ok and not retried[specs[1].key].skipped
    assert retried[specs[0].key].skipped
    assert store.record(specs[1].key).ok


def _write_slowly(root: str, spec: RunSpec) -> None:
    execute(slow_write_run, RunTask(spec, root))


def test_a_killed_writer_leaves_no_half_written_run(tmp_path) -> None:  # noqa: ANN001
    store = RunStore(tmp_path)
    spec = RunSpec.of(lab(), 5)
    process = multiprocessing.get_context("spawn").Process(target=_write_slowly, args=(str(tmp_path), spec))
    process.start()
    deadline = time.monotonic() + 60
    while not any((folder / "jobs.parquet").exists() for folder in store.debris([spec.key])):
        assert time.monotonic() < deadline and process.is_alive()
        time.sleep(0.02)
    process.kill()  # SIGKILL mid-write: no cleanup runs in the writer
    process.join()
    assert not store.path(spec.key).exists() and store.record(spec.key) is None and not store.has(spec.key)
    assert store.keys() == [] and catalog.refresh(store).num_rows == 0
    assert len(store.debris()) == 1
    # The runner of a batch removes what its killed workers left.
    outcome = Runner(store, SerialExecutor(), api.run).run([spec])[spec.key]
    assert outcome.ok and store.debris() == []
    with pytest.raises(InputError, match="no run"):
        store.resolve("zzz")


def test_local_pool_survives_a_killed_worker(tmp_path) -> None:  # noqa: ANN001
    store = RunStore(tmp_path)
    specs = [RunSpec.of(lab(), seed) for seed in (KILLING_SEED - 1, KILLING_SEED, KILLING_SEED + 1)]
    pool = LocalPool(2)
    try:
        outcomes = Runner(store, pool, killing_run).run(specs)
    finally:
        pool.close()
    assert outcomes[specs[0].key].ok and outcomes[specs[2].key].ok
    killed = outcomes[specs[1].key].record
    assert not killed.ok and "worker process died" in killed.error
    assert store.record(specs[1].key).status == "failed" and store.debris() == []
