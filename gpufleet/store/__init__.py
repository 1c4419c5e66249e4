"""The run store: a directory of runs, each written whole or not at all, and a catalog
queried with DuckDB over their Parquet files (docs/planning.md)."""

from gpufleet.store.keys import ENGINE, RunSpec, canonical_json, run_key
from gpufleet.store.store import DEFAULT_STORE, RunRecord, RunStore

__all__ = ["DEFAULT_STORE", "ENGINE", "RunRecord", "RunSpec", "RunStore", "canonical_json", "run_key"]
