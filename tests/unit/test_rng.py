"""Random streams: `pick` draws exactly what numpy's `Generator.choice` with p draws."""

from __future__ import annotations

import numpy as np
import pytest

from gpufleet.rng import cumulative, pick, stream


@pytest.mark.parametrize("n", [1, 2, 3, 8, 9, 17, 40])
def test_pick_draws_as_generator_choice_does(n: int) -> None:
    # Sizes on both sides of numpy's pairwise-summation block (8), uneven weights.
    weights = stream(7, f"weights/{n}").random(n) * 10 + 0.01
    ours, numpys = stream(1, "a"), stream(1, "a")
    cdf = cumulative(weights.tolist())
    drawn = [pick(ours, cdf) for _ in range(2_000)]
    expected = [int(numpys.choice(n, p=weights / weights.sum())) for _ in range(2_000)]
    assert drawn == expected
    assert ours.random() == numpys.random()  # both consumed the same stream


def test_pick_follows_the_weights() -> None:
    cdf = cumulative([1.0, 3.0])
    rng = np.random.default_rng(0)
    share = sum(pick(rng, cdf) for _ in range(20_000)) / 20_000
    assert share == pytest.approx(0.75, abs=0.01)
