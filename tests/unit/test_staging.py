"""Outputs whole or not at all: a run killed (SIGKILL) at any point of its write phase leaves
the previous complete output or the new complete output under the name, and the next
write removes what the dead writer left beside it.

The kills are driven deterministically: a forked child counts the file-system steps of
the write (each Parquet and text file, each rename, exchange, unlink and rmdir) and
kills itself with SIGKILL at step k, for every k.
"""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from gpufleet import api, staging
from gpufleet.errors import InputError
from gpufleet.results.run_result import RunResult
from gpufleet.testing import jobs_workload, scenario, small_fleet


@pytest.fixture(scope="module")
def results() -> tuple[RunResult, RunResult]:
    spec = scenario(small_fleet(racks=2), [jobs_workload([
        {"name": f"j{i}", "gpus": 4, "duration_hours": 1 + i} for i in range(6)])], end="2026-01-03")
    return api.run(spec, seed=1), api.run(spec.model_copy(update={"name": "other"}), seed=2)


def _contents(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def _instrumented(kill_at: int) -> Callable[[], None]:
    """Patch the write phase's steps in this (child) process; SIGKILL itself at step `kill_at`."""
    count = [0]

    def step() -> None:
        count[0] += 1
        if count[0] == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    def wrap(owner: object, name: str) -> None:
        original = getattr(owner, name)

        def wrapper(*args: object, **kwargs: object) -> object:
            step()
            out = original(*args, **kwargs)
            step()
            return out
        setattr(owner, name, wrapper)

    for owner, name in ((pq, "write_table"), (Path, "write_text"), (os, "rename"), (os, "unlink"),
                        (os, "rmdir"), (staging, "exchange"), (staging, "_replace_in_two_renames")):
        wrap(owner, name)
    return lambda: None


def _write_killed_at(result: RunResult, out: Path, kill_at: int, exchange: bool) -> bool:
    """Write `result` to `out` in a child killed at step `kill_at`; True if the child was killed."""
    pid = os.fork()
    if pid == 0:  # the child: write, and die by SIGKILL at step kill_at (or exit 0 if there are fewer steps)
        try:
            if not exchange:
                staging.exchange = lambda new, old: (os.rename(new, old) or True) if not old.exists() else False
            _instrumented(kill_at)
            result.write(out)
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    return os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL


@pytest.mark.parametrize("exchange", [True, False], ids=["exchange", "two-renames"])
def test_a_write_killed_at_any_step_leaves_old_or_new_whole(tmp_path: Path, exchange: bool,
                                                           results: tuple[RunResult, RunResult]) -> None:
    old_result, new_result = results
    reference = tmp_path / "reference"
    old_result.write(reference / "old")
    new_result.write(reference / "new")
    old, new = _contents(reference / "old"), _contents(reference / "new")
    assert old != new
    seen = {"old": 0, "new": 0}
    kill_at = 1
    while True:
        folder = tmp_path / f"k{kill_at}"
        out = folder / "run"
        shutil.copytree(reference / "old", out)
        killed = _write_killed_at(new_result, out, kill_at, exchange)
        # Right after the kill: the name holds one whole output, or (two renames, killed
        # between them) nothing, with the old output kept aside for the next writer.
        if out.exists():
            state = _contents(out)
            assert state in (old, new), f"step {kill_at}: a mixed or partial output"
        else:
            assert not exchange and killed, f"step {kill_at}: the output vanished"
        # The next writer (here, only the cleaning a write starts with) restores and tidies.
        staging.clean_abandoned(out)
        assert [path.name for path in folder.iterdir()] == ["run"], f"step {kill_at}: debris left"
        final = _contents(out)
        assert final in (old, new)
        seen["old" if final == old else "new"] += 1
        if not killed:
            assert final == new
            break
        kill_at += 1
    assert kill_at > 20 and seen["old"] > 3 and seen["new"] > 3


def test_an_abandoned_sibling_is_removed_and_a_live_one_kept(tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    dead = tmp_path / ".run.abc.staging"
    dead.mkdir()
    (dead / "jobs.parquet").write_bytes(b"partial")
    (tmp_path / ".run.def.tmp").write_text("half a file")
    (tmp_path / ".run.keep").mkdir()  # not ours: another name pattern
    (tmp_path / ".other.x.staging").mkdir()  # another output's
    with staging.staged_directory(tmp_path / "elsewhere"):
        pass
    live = tmp_path / ".run.live.staging"
    live.mkdir()
    lock = os.open(live, os.O_RDONLY)
    import fcntl

    fcntl.flock(lock, fcntl.LOCK_EX)
    pid = os.fork()
    if pid == 0:  # another process cleans: the live sibling's lock is held by its parent
        removed = staging.clean_abandoned(out)
        os._exit(0 if sorted(path.name for path in removed) == [".run.abc.staging", ".run.def.tmp"] else 1)
    _, status = os.waitpid(pid, 0)
    os.close(lock)
    assert os.WEXITSTATUS(status) == 0
    assert sorted(path.name for path in tmp_path.iterdir()) == [".other.x.staging", ".run.keep", ".run.live.staging",
                                                               "elsewhere", "run"]


def test_a_failed_write_leaves_the_old_output_and_no_debris(tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "summary.json").write_text("{}")
    with pytest.raises(RuntimeError), staging.staged_directory(out) as folder:
        (folder / "summary.json").write_text('{"new": 1}')
        raise RuntimeError("boom")
    assert _contents(out) == {"summary.json": b"{}"}
    assert [path.name for path in tmp_path.iterdir()] == ["run"]


def test_an_unwritable_place_is_a_clean_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(InputError) as caught, staging.staged_directory(blocker / "run"):
        pass
    assert str(caught.value).startswith(f"{blocker / 'run'}: cannot write:")
    with pytest.raises(InputError):
        staging.write_whole(blocker / "a.yaml", "text")


def test_write_whole_replaces_and_cleans(tmp_path: Path) -> None:
    path = tmp_path / "out.yaml"
    (tmp_path / ".out.yaml.zz.tmp").write_text("left by a killed writer")
    staging.write_whole(path, "one")
    staging.write_whole(path, "two")
    assert path.read_text() == "two" and [p.name for p in tmp_path.iterdir()] == ["out.yaml"]
    assert oct(path.stat().st_mode & 0o777) == "0o644"
