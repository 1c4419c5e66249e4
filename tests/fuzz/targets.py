"""The entry points under fuzzing, run as a user runs them (the `gpufleet` command, in
process), and the property every input must meet:

- it ends in success (exit 0) or in a clean error (exit 2, every message naming the file,
  with a line where the error has one), never in a traceback or any other exit code;
- a failed command leaves no output at all, a successful one its whole output, and
  nothing else is left beside them;
- it ends within a time limit (a hang is a crash too).
"""

from __future__ import annotations

import functools
import re
import signal
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import typer.testing
from typer.testing import CliRunner

from gpufleet.cli import app
from gpufleet.errors import InputError
from gpufleet.sim.load import load_scenario

OUTCOMES: Counter[str] = Counter()
SHARED = Path(__file__).resolve().parents[3] / "shared"
TIME_LIMIT_S = 120
RUN_OUTPUTS = {"summary.json", "jobs.parquet", "timeseries.parquet", "ledger.parquet", "scenario.json"}
_runner = CliRunner()
# typer's runner builds the click command from the app on every call (most of a small case's time).
typer.testing._get_command = functools.cache(typer.testing._get_command)  # type: ignore[attr-defined]


class CrashError(AssertionError):
    """An input that broke the property."""


class HangError(Exception):
    """An input that ran past the time limit."""


@contextmanager
def _time_limit(seconds: int) -> Iterator[None]:
    def expire(signum: int, frame: object) -> None:
        raise HangError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def gpufleet(args: list[str], input_file: Path) -> tuple[int, str]:
    """Run the command in process; return (exit code, stderr). Raises CrashError unless the
    property holds."""
    with _time_limit(TIME_LIMIT_S):
        result = _runner.invoke(app, args)
    stderr = result.stderr
    if result.exit_code not in (0, 2) or (result.exception is not None and not isinstance(result.exception,
                                                                                         SystemExit)):
        raise CrashError(f"exit {result.exit_code}: {result.exception!r}\n{stderr[-2000:]}") from result.exception
    if "Traceback" in stderr or "Traceback" in result.stdout:
        raise CrashError(f"a traceback reached the user:\n{stderr[-2000:]}")
    if result.exit_code == 2:
        messages = _joined(stderr).split("error: ")[1:]
        if not messages:
            raise CrashError(f"exit 2 without an error line:\n{stderr[-2000:]}")
        if any(str(input_file) not in message for message in messages):
            raise CrashError(f"an error that does not name the file {input_file}:\n{stderr[-2000:]}")
    return result.exit_code, stderr


def _joined(text: str) -> str:
    """stderr with rich's soft wraps undone (a long path may be broken over lines)."""
    return re.sub(r"\n(?!error: )", "", text)


def _left_beside(folder: Path, keep: set[str]) -> list[str]:
    return sorted(path.name for path in folder.iterdir() if path.name not in keep)


def scenario_case(data: bytes, folder: Path, run: bool) -> str:
    """Validate a scenario file (and, if it is valid and `run`, simulate its first two
    days and write the results); return 'ok' or 'error'."""
    path = folder / "scenario.yaml"
    path.write_bytes(data)
    code, _ = gpufleet(["validate", str(path)], path)
    if code == 2 or not run:
        OUTCOMES["scenario " + ("error" if code else "ok")] += 1
        return "error" if code else "ok"
    try:
        spec = load_scenario(path)
    except InputError as error:
        raise CrashError(f"validate passed but loading failed: {error}") from None
    until = min(spec.end, spec.start + timedelta(days=2))
    out = folder / "out"
    args = ["run", str(path), "--out", str(out), "--no-report"]
    if until < spec.end:
        args += ["--until", until.isoformat()]
    code, _ = gpufleet(args, path)
    if code == 0 and {item.name for item in out.iterdir()} < RUN_OUTPUTS:
        raise CrashError(f"a run wrote only {sorted(item.name for item in out.iterdir())}")
    if code == 2 and out.exists():
        raise CrashError("a failed run left an output")
    leftovers = _left_beside(folder, {"scenario.yaml", "out"})
    if leftovers:
        raise CrashError(f"left beside the output: {leftovers}")
    OUTCOMES["scenario run " + ("error" if code else "ok")] += 1
    return "error" if code else "ok"


def trace_case(format_name: str, data: bytes, suffix: str, folder: Path, options: list[str]) -> str:
    """`gpufleet trace stats` on a trace file of `format_name`, writing JSON; 'ok' or 'error'."""
    path = folder / f"trace{suffix}"
    path.write_bytes(data)
    out = folder / "stats.json"
    code, _ = gpufleet(["trace", "stats", str(path), "--format", format_name, *options, "--json", str(out)], path)
    if (code == 0) != out.exists():
        raise CrashError("stats.json written on failure, or missing on success")
    if _left_beside(folder, {path.name, out.name}):
        raise CrashError(f"left beside the output: {_left_beside(folder, {path.name, out.name})}")
    OUTCOMES[f"trace {format_name} " + ("error" if code else "ok")] += 1
    return "error" if code else "ok"


def parse_case(entry: str, data: bytes, folder: Path) -> str:
    """The parser alone, called directly (for coverage-guided fuzzing, where speed counts):
    the scenario loader, a trace reader with its statistics, or the fault-log fit. Each
    returns or raises InputError naming the file; anything else is a crash."""
    from gpufleet.failures.fit import fit_faults
    from gpufleet.traces.faults import read_faults
    from gpufleet.traces.formats import ReadOptions, characterise, read_trace

    suffix = {"scenario": ".yaml", "faults": ".json", "trace:generic-requests": ".jsonl",
              "trace:stepfun-faults": ".json", "trace:slurm-sacct": ".log", "trace:swf": ".swf"}.get(entry, ".csv")
    path = folder / f"input{suffix}"
    path.write_bytes(data)
    try:
        with _time_limit(TIME_LIMIT_S):
            if entry == "scenario":
                load_scenario(path)
            elif entry == "faults":
                fit_faults(read_faults(path, servers=400, observed_days=None), str(path))
            else:
                format_name = entry.removeprefix("trace:")
                options = ReadOptions(extra={"servers": 400}) if format_name == "stepfun-faults" else None
                trace = read_trace(path, format_name, options)
                trace.report.check(False)
                characterise(trace)
    except InputError as error:
        if any(problem.file is not None and str(path) not in str(problem) for problem in error.problems):
            raise CrashError(f"an error naming another file: {error}") from None
        OUTCOMES[f"{entry} error"] += 1
        return "error"
    OUTCOMES[f"{entry} ok"] += 1
    return "ok"


def faults_case(data: bytes, folder: Path) -> str:
    """`gpufleet faults fit` on a fault log, writing the failures YAML; 'ok' or 'error'."""
    path = folder / "faults.json"
    path.write_bytes(data)
    out = folder / "failures.yaml"
    code, _ = gpufleet(["faults", "fit", str(path), "--servers", "400", "-o", str(out)], path)
    if (code == 0) != out.exists():
        raise CrashError("failures.yaml written on failure, or missing on success")
    if _left_beside(folder, {path.name, out.name}):
        raise CrashError(f"left beside the output: {_left_beside(folder, {path.name, out.name})}")
    OUTCOMES["faults " + ("error" if code else "ok")] += 1
    return "error" if code else "ok"
