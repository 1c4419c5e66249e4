"""Which engine runs: auto / native / python, the errors and the behaviour of the extension."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from gpufleet import _core, api
from gpufleet.errors import InputError
from gpufleet.sched.policies.fifo import FifoPolicy
from gpufleet.sim import native
from gpufleet.sim.build import build
from gpufleet.sim.load import parse_scenario

sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))
from engine import scenario_yaml  # noqa: E402


class LatestFirstPolicy(FifoPolicy):
    """A user's policy written in Python: only the Python engine can run it."""

    def key(self, job: int) -> tuple[int, ...]:
        return (-job, job)


def test_auto_takes_the_core_when_it_covers_the_run() -> None:
    result = api.run(api.load("research-lab"))
    assert (result.engine, result.engine_note) == ("native", None)
    assert api.run(api.load("research-lab"), engine="python").engine == "python"


def test_auto_runs_features_outside_the_core_on_python_and_says_why() -> None:
    simulation = build(api.load("gavel-style"))  # Gavel's linear programme stays on Python (scipy HiGHS)
    ran, why = native.choose(simulation, "auto")
    assert not ran and why is not None and why.startswith("policy GavelLasPolicy")
    with pytest.raises(InputError, match="native core does not cover policy GavelLasPolicy"):
        native.choose(simulation, "native")


def test_a_custom_python_policy_selects_the_python_engine() -> None:
    simulation = build(api.load("research-lab"))
    simulation.scheduler.policy = LatestFirstPolicy(simulation.scheduler.policy.context)
    record, ran, why = native.run(simulation, "auto")
    assert ran == "python" and "LatestFirstPolicy" in why
    assert record.events > 0
    with pytest.raises(InputError, match="LatestFirstPolicy"):
        native.run(simulation, "native")


def test_the_default_scenario_stays_on_the_python_engine() -> None:
    """Its services are outside the core: the default outputs come from the Python engine;
    without them (failures, spares, planning for failures) it runs on the core."""
    default = api.load("openai-aws-2025")
    assert native.choose(build(default), "auto") == (False, "inference services")
    assert native.choose(build(default.model_copy(update={"services": []})), "auto") == (True, None)


def test_native_on_an_unsupported_scenario_exits_2_naming_the_feature(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "gpufleet.cli", "run", "gavel-style", "--engine", "native",
                           "--out", str(tmp_path / "out"), "--no-report"], capture_output=True, text=True)
    assert done.returncode == 2, done.stderr
    assert "GavelLasPolicy" in done.stdout + done.stderr
    assert not (tmp_path / "out").exists()


def test_the_cli_says_which_engine_ran(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "gpufleet.cli", "run", "research-lab", "--out", str(tmp_path / "r"),
                           "--no-report"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "on the native engine" in " ".join(done.stdout.split())


def small_benchmark() -> native.Simulation:
    return build(parse_scenario(scenario_yaml(3_000, 3_600), source="<benchmark>"))


def test_a_panic_in_the_core_becomes_a_python_exception_with_context() -> None:
    spec = native.core_spec(small_benchmark())
    spec["shape_of"] = np.full_like(spec["shape_of"], 10**6)  # inconsistent inputs: a bug's stand-in
    with pytest.raises(RuntimeError, match=r"native core failed at simulated second [0-9.]+ after \d+ events"):
        _core.run(spec)


def test_an_exception_in_the_progress_callback_stops_the_run() -> None:
    spec = native.core_spec(small_benchmark())
    spec["progress_every"] = 100
    calls = []

    def progress(now: float, finished: int, events: int) -> None:
        calls.append((now, finished, events))
        if len(calls) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _core.run(spec, progress)
    assert [events for _, _, events in calls] == [100, 200, 300]


def test_the_gil_is_released_while_the_core_runs() -> None:
    spec = native.core_spec(small_benchmark())
    spec["progress_every"] = 10**12  # no callback during the run
    entered = threading.Event()

    def work() -> None:
        entered.set()
        _core.run(spec)

    worker = threading.Thread(target=work)
    worker.start()
    entered.wait()
    spins = 0
    while worker.is_alive():
        spins += 1
    worker.join()
    # Holding the GIL, the core would leave this thread a handful of turns; released, millions.
    assert spins > 10_000
