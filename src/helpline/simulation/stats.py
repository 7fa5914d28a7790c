"""Small statistics for comparing strategies: t-based confidence intervals, quantiles, fairness.

Implemented here (regularised incomplete beta by continued fraction, inverted by
bisection) so the simulator needs no scientific library.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

_EPSILON = 3e-16
_TINY = 1e-300


def _beta_fraction(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz method)."""
    c = 1.0
    d = 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    result = d
    for m in range(1, 10_000):
        even = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
        d = 1.0 + even * d
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = 1.0 + even / c
        c = c if abs(c) > _TINY else _TINY
        result *= d * c
        odd = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
        d = 1.0 + odd * d
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = 1.0 + odd / c
        c = c if abs(c) > _TINY else _TINY
        step = d * c
        result *= step
        if abs(step - 1.0) < _EPSILON:
            break
    return result


def regularized_beta(a: float, b: float, x: float) -> float:
    """I_x(a, b), the distribution function of the beta distribution."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x < (a + 1) / (a + b + 2):
        return math.exp(log_front) * _beta_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_fraction(b, a, 1.0 - x) / b


def t_cdf(value: float, degrees: float) -> float:
    """Student's t distribution function with `degrees` degrees of freedom."""
    tail = 0.5 * regularized_beta(degrees / 2, 0.5, degrees / (degrees + value * value))
    return 1.0 - tail if value > 0 else tail


def t_quantile(probability: float, degrees: float) -> float:
    """The value below which Student's t falls with `probability`."""
    if not 0 < probability < 1:
        raise ValueError("probability must be between 0 and 1")
    if degrees <= 0:
        raise ValueError("degrees of freedom must be positive")
    if probability < 0.5:
        return -t_quantile(1 - probability, degrees)
    low, high = 0.0, 1.0
    while t_cdf(high, degrees) < probability:
        high *= 2
        if high > 1e12:
            return math.inf
    for _ in range(200):
        middle = (low + high) / 2
        if t_cdf(middle, degrees) < probability:
            low = middle
        else:
            high = middle
        if high - low <= 1e-12 * max(1.0, high):
            break
    return (low + high) / 2


@dataclass(frozen=True, slots=True)
class Estimate:
    """A mean over replications with the half-width of its confidence interval."""

    mean: float
    half_width: float | None
    """None with a single replication: no interval."""
    count: int

    @property
    def low(self) -> float:
        return self.mean - (self.half_width or 0.0)

    @property
    def high(self) -> float:
        return self.mean + (self.half_width or 0.0)

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high


def mean_interval(values: Sequence[float], confidence: float = 0.95) -> Estimate:
    """Mean and t-distribution confidence interval of independent replications."""
    clean = [value for value in values if not math.isnan(value)]
    if not clean:
        return Estimate(math.nan, None, 0)
    count = len(clean)
    mean = math.fsum(clean) / count
    if count < 2:
        return Estimate(mean, None, count)
    variance = math.fsum((value - mean) ** 2 for value in clean) / (count - 1)
    quantile = t_quantile(1 - (1 - confidence) / 2, count - 1)
    return Estimate(mean, quantile * math.sqrt(variance / count), count)


def quantile(values: Sequence[float], probability: float) -> float:
    """Linear-interpolation quantile of `values` (nan when empty)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    position = probability * (len(ordered) - 1)
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    share = position - below
    return ordered[below] * (1 - share) + ordered[above] * share


def jain_index(values: Sequence[float]) -> float:
    """Jain's fairness index: 1 when all equal, 1/n when one takes everything."""
    if not values:
        return math.nan
    total = math.fsum(values)
    squares = math.fsum(value * value for value in values)
    if squares == 0:
        return 1.0
    return total * total / (len(values) * squares)


def coefficient_of_variation(values: Sequence[float]) -> float:
    if len(values) < 2:
        return math.nan
    mean = math.fsum(values) / len(values)
    if mean == 0:
        return math.nan
    variance = math.fsum((value - mean) ** 2 for value in values) / (len(values) - 1)
    return math.sqrt(variance) / mean
