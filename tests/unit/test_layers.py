"""The package layers (pyproject.toml [tool.importlinter], ARCHITECTURE.md): the tree keeps
them, and a deliberately bad import in a copy of the tree breaks them, function-level and
TYPE_CHECKING imports included."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """`lint-imports` with the repository's contracts over the `gpufleet` package under `root`."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "--config", str(root / "pyproject.toml")],
                          cwd=root, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the package's sources and the contracts."""
    shutil.copytree(ROOT / "gpufleet", tmp_path / "gpufleet", ignore=shutil.ignore_patterns("__pycache__", "*.yaml"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def add(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def test_the_tree_keeps_every_contract() -> None:
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 kept, 0 broken" in done.stdout


def test_an_upward_import_inside_a_function_breaks_the_layers(tree: Path) -> None:
    add(tree / "gpufleet" / "spec" / "units.py",
        "\n\ndef _sneaky() -> object:\n    from gpufleet.sim.engine import Engine\n\n    return Engine\n")
    done = lint_imports(tree)
    assert done.returncode == 1
    assert "gpufleet.spec is not allowed to import gpufleet.sim" in done.stdout
    assert "gpufleet.spec.units -> gpufleet.sim.engine" in done.stdout


def test_a_cycle_behind_type_checking_breaks_the_acyclic_contract(tree: Path) -> None:
    add(tree / "gpufleet" / "sched" / "quota.py",
        "\n\nfrom typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n"
        "    from gpufleet.sched.scheduler import Scheduler  # noqa: F401\n")
    done = lint_imports(tree)
    assert done.returncode == 1
    assert "No cycles are allowed in gpufleet.sched" in done.stdout
    assert "Packages import only from the layers below KEPT" in done.stdout  # within one layer: only a cycle
