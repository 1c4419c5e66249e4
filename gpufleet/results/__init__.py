"""What came out of a run: tables, summary, and writing them."""

from gpufleet.results.run_result import RunResult

__all__ = ["RunResult"]
