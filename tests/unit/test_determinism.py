"""The same seed gives the same bits on every x86-64 CPU.

numpy picks vector code for its transcendental ufuncs (np.exp, np.log, np.power, ...) by
the CPU it finds; on AVX-512 CPUs that code rounds some results differently from the C
library. So every value that decides a run goes through the C library element by element
(`gpufleet.numerics`) or through the random Generator's own distributions, which call it.

The tests here recompute the run-deciding values element by element with `math` and
demand equality: on a CPU whose numpy takes a vector path, any value computed with a
numpy ufunc instead fails them. The source scan keeps such ufuncs out of the package, and
the last test runs a scenario with numpy's AVX-512 dispatch on and off (where the CPU has
it) and compares the output bytes.
"""

from __future__ import annotations

import ast
import math
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from gpufleet import numerics
from gpufleet.rng import stream
from gpufleet.serving.erlang import _LEG_W, _LEG_X
from gpufleet.serving.quadrature import LAGUERRE_W, LAGUERRE_X, LEGENDRE_W, LEGENDRE_X
from gpufleet.spec.workload import DurationSpec, SyntheticSpec
from gpufleet.workload.synthetic import HOUR_S, draw_durations_s, generate

PACKAGE = Path(__file__).resolve().parents[2] / "gpufleet"

SPECIALS = [0.0, -0.0, 1.0, -1.0, 1e-300, -1e-300, 5e-324, 709.0, 709.8, 710.0, -745.2, -800.0, 1e308,
            -1e308, math.inf, -math.inf, math.nan]


def _same(actual: np.ndarray, expected: list[float]) -> bool:
    """Bit-for-bit equality, nan included."""
    return np.asarray(actual, dtype=np.float64).tobytes() == np.asarray(expected, dtype=np.float64).tobytes()


def _scalar(function, value: float) -> float:  # noqa: ANN001
    """`math`'s answer, with numpy's conventions where math raises (overflow, log of 0 or below)."""
    try:
        return function(value)
    except OverflowError:
        return math.inf
    except ValueError:
        edge = -1.0 if function is math.log1p else 0.0
        return -math.inf if value == edge else math.nan


@pytest.mark.parametrize("name", ["exp", "expm1", "log", "log1p"])
def test_numerics_equal_the_c_library_element_by_element(name: str) -> None:
    rng = np.random.default_rng(5)
    values = np.concatenate([rng.normal(0, 3, 4000), rng.uniform(-800, 800, 4000), rng.lognormal(0, 20, 4000),
                             SPECIALS])
    if name in ("log", "log1p"):
        values = np.abs(values) - (1.0 if name == "log1p" else 0.0)
    got = getattr(numerics, name)(values)
    assert _same(got, [_scalar(getattr(math, name), v) for v in values.tolist()])
    assert got.shape == values.shape
    square = values[:4000].reshape(40, 100)
    assert _same(getattr(numerics, name)(square).ravel(), [_scalar(getattr(math, name), v) for v in square.ravel()])


def test_logaddexp_and_powers_equal_the_c_library() -> None:
    rng = np.random.default_rng(6)
    a, b = rng.normal(0, 50, 3000), rng.normal(0, 50, 3000)
    a[:5] = [-math.inf, math.inf, 3.0, -math.inf, math.nan]
    b[:5] = [-math.inf, 2.0, 3.0, 1.0, 0.0]
    expected = []
    for x, y in zip(a.tolist(), b.tolist(), strict=True):
        top, gap = max(x, y), -abs(x - y)
        expected.append(top if math.isnan(x) or not math.isfinite(gap) else top + math.log1p(math.exp(gap)))
    assert _same(numerics.logaddexp(a, b), expected)
    months = rng.integers(0, 120, 5000)
    assert _same(numerics.powers(1.0 + 0.037, months), [math.pow(1.037, k) for k in months.tolist()])
    assert _same(numerics.powers(10.0, np.array([3, 0, 9])), [1e3, 1.0, 1e9])


def test_weighted_sum_adds_columns_in_order() -> None:
    rng = np.random.default_rng(7)
    matrix, weights = rng.uniform(0, 1e6, (500, 3)), np.array([2.1, 3.7, 0.3])
    rows = [((0.0 + row[0] * weights[0]) + row[1] * weights[1]) + row[2] * weights[2] for row in matrix.tolist()]
    assert _same(numerics.weighted_sum(matrix, weights), rows)


def test_lognormal_and_quantile_run_times_are_the_c_librarys() -> None:
    lognormal = DurationSpec.model_validate({"dist": "lognormal", "median_hours": 3.5, "sigma": 1.7})
    got = draw_durations_s(lognormal, 20_000, stream(11, "d"))
    z = stream(11, "d").standard_normal(20_000)
    assert _same(got, [3.5 * HOUR_S * math.exp(1.7 * v) for v in z.tolist()])
    quantiles = DurationSpec.model_validate({"dist": "quantiles",
                                             "quantiles_hours": {0.0: 0.1, 0.5: 2.0, 0.9: 30.0, 1.0: 400.0}})
    got = draw_durations_s(quantiles, 20_000, stream(12, "q"))
    u = stream(12, "q").uniform(size=20_000)
    probabilities, hours = [0.0, 0.5, 0.9, 1.0], [0.1, 2.0, 30.0, 400.0]
    logs = [math.log(h) for h in hours]
    expected = [math.exp(float(np.interp(v, probabilities, logs))) * HOUR_S for v in u.tolist()]
    assert _same(got, expected)


def test_growing_arrival_rates_are_the_c_librarys() -> None:
    """Shaped arrivals draw Poisson counts from rates with (1 + g) ** month: a vector power would
    change the counts. Recompute the whole process with math.pow and compare the times."""
    spec = SyntheticSpec.model_validate({
        "name": "w", "arrivals": {"rate_per_day": 300, "monthly_growth": 0.173, "hour_of_day": [1.0] * 23 + [2.0]},
        "sizes": [{"gpus": 1, "weight": 1, "duration": {"dist": "fixed", "hours": 1}}]})
    start, end = datetime(2026, 1, 1), datetime(2027, 6, 1)
    jobs = generate(spec, start, end, 3)
    original = numerics.powers
    try:
        numerics.powers = lambda base, k: np.array([math.pow(base, int(e)) for e in np.ravel(k)])  # type: ignore
        again = generate(spec, start, end, 3)
    finally:
        numerics.powers = original
    assert len(jobs) > 100_000 and _same(jobs.submit_s, again.submit_s.tolist())


def test_quadrature_nodes_are_numpys_to_rounding() -> None:
    from numpy.polynomial.laguerre import laggauss
    from numpy.polynomial.legendre import leggauss

    for fixed, computed in ((LAGUERRE_X, laggauss(32)[0]), (LAGUERRE_W, laggauss(32)[1]),
                            (LEGENDRE_X, leggauss(64)[0]), (LEGENDRE_W, leggauss(64)[1])):
        assert np.allclose(fixed, computed, rtol=1e-14, atol=1e-300)
    assert _LEG_X.tolist() == list(LEGENDRE_X) and _LEG_W.tolist() == list(LEGENDRE_W)


# numpy ufuncs and functions whose results depend on the CPU's vector extensions or BLAS kernels.
VECTOR_MATH = {"exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "logaddexp", "logaddexp2", "power",
               "float_power", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "arctan2", "sinh", "cosh", "tanh",
               "arcsinh", "arccosh", "arctanh", "cbrt", "hypot", "dot", "matmul", "einsum", "inner", "vdot",
               "tensordot", "linalg", "laggauss", "leggauss", "hermgauss", "polyfit", "lstsq"}
INTEGER_MATMUL = "same bits on every CPU: integers, no BLAS"


def test_the_package_uses_no_cpu_dependent_numpy_math() -> None:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text()
        lines = text.splitlines()
        for node in ast.walk(ast.parse(text)):
            where = f"{path.relative_to(PACKAGE.parent)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Attribute) and node.attr in VECTOR_MATH and isinstance(node.value, ast.Name) \
                    and node.value.id in ("np", "numpy"):
                found.append(f"{where}: np.{node.attr}")
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("numpy") \
                    and any(alias.name in VECTOR_MATH for alias in node.names):
                found.append(f"{where}: from {node.module} import ...")
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult) \
                    and INTEGER_MATMUL not in lines[node.lineno - 1]:
                found.append(f"{where}: @ (BLAS for floats)")
    assert not found, "use gpufleet.numerics instead:\n" + "\n".join(found)


def _avx512() -> bool:
    from numpy._core._multiarray_umath import __cpu_features__

    return bool(__cpu_features__.get("AVX512F"))


@pytest.mark.skipif(not _avx512(), reason="this CPU has no AVX-512: numpy takes the same path either way")
def test_avx512_dispatch_on_and_off_give_the_same_bytes(tmp_path: Path) -> None:
    """The default scenario's first weeks (lognormal and quantile run times, shaped arrivals
    with growth, failures, a ChatGPT-scale service and its queueing model), run with numpy's
    AVX-512 code and without it."""
    outputs = {}
    for label, disabled in (("on", None), ("off", "X86_V4 AVX512_ICL AVX512_SPR")):
        env = {key: value for key, value in os.environ.items() if key != "NPY_DISABLE_CPU_FEATURES"}
        if disabled:
            env["NPY_DISABLE_CPU_FEATURES"] = disabled
        done = subprocess.run([sys.executable, "-m", "gpufleet.cli", "run", "--until", "2026-02-20", "--no-report",
                               "--out", str(tmp_path / label)], capture_output=True, text=True, env=env, timeout=600)
        assert done.returncode == 0, done.stderr
        outputs[label] = {path.name: path.read_bytes() for path in (tmp_path / label).iterdir()}
    assert outputs["on"].keys() == outputs["off"].keys()
    assert [name for name in outputs["on"] if outputs["on"][name] != outputs["off"][name]] == []
