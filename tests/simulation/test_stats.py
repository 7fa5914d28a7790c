"""The small statistics the comparison relies on."""

from __future__ import annotations

import math

import pytest

from helpline.simulation.distributions import Distribution
from helpline.simulation.stats import (
    coefficient_of_variation,
    jain_index,
    mean_interval,
    quantile,
    t_quantile,
)


@pytest.mark.parametrize(
    ("probability", "degrees", "expected"),
    [
        # Published t-table values.
        (0.975, 1, 12.7062),
        (0.975, 4, 2.7764),
        (0.975, 9, 2.2622),
        (0.995, 9, 3.2498),
        (0.9995, 9, 4.7809),
        (0.975, 30, 2.0423),
        (0.95, 120, 1.6577),
    ],
)
def test_t_quantiles_match_the_tables(probability: float, degrees: int, expected: float) -> None:
    assert t_quantile(probability, degrees) == pytest.approx(expected, abs=1e-4)
    assert t_quantile(1 - probability, degrees) == pytest.approx(-expected, abs=1e-4)


def test_interval_of_replications() -> None:
    estimate = mean_interval([1.0, 2.0, 3.0, 4.0, 5.0], 0.95)
    assert estimate.mean == 3.0
    assert estimate.half_width == pytest.approx(2.7764 * math.sqrt(2.5 / 5), abs=1e-4)
    assert estimate.contains(1.1) and not estimate.contains(0.9)
    single = mean_interval([4.0])
    assert single.half_width is None and single.contains(4.0)


def test_fairness_and_spread() -> None:
    assert jain_index([2.0, 2.0, 2.0]) == 1.0
    assert jain_index([1.0, 0.0, 0.0, 0.0]) == pytest.approx(0.25)
    assert coefficient_of_variation([1.0, 1.0]) == 0.0
    assert quantile([0.0, 10.0], 0.9) == pytest.approx(9.0)
    assert math.isnan(quantile([], 0.5))


@pytest.mark.parametrize(
    "distribution",
    [
        Distribution(dist="exponential", mean=3.0),
        Distribution(dist="lognormal", mean=3.0, cv=0.8),
        Distribution(dist="uniform", low=1.0, high=5.0),
        Distribution(dist="empirical", values=(1.0, 2.0, 6.0)),
    ],
    ids=lambda d: d.dist,
)
def test_draws_by_inversion_have_the_stated_mean(distribution: Distribution) -> None:
    steps = 20_000
    draws = [distribution.draw((i + 0.5) / steps) for i in range(steps)]
    assert sum(draws) / steps == pytest.approx(distribution.expected, rel=0.02)
    assert draws == sorted(draws), "one uniform number, monotone: common random numbers"


def test_distribution_parameters_are_checked() -> None:
    with pytest.raises(ValueError, match="needs `cv`"):
        Distribution(dist="lognormal", mean=3.0)
    with pytest.raises(ValueError, match="takes no `cv`"):
        Distribution(dist="exponential", mean=3.0, cv=1.0)
    assert Distribution(dist="none").draw(0.5) == math.inf
