"""Random quantities of a scenario (handling time, patience, delays) and how they are drawn.

Every draw is one uniform number turned into a value by the inverse of the
distribution function, so each customer uses exactly one number of each random
stream whatever the distribution: changing the handling-time model of one topic
does not shift the patience or arrival of anybody else (common random numbers).
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

DistKind = Literal["exponential", "lognormal", "fixed", "uniform", "empirical", "none"]

_STANDARD_NORMAL = NormalDist()
_TINY = 1e-12


class Distribution(BaseModel):
    """A positive random quantity: `{dist = "lognormal", mean = 6, cv = 0.8}`.

    - `exponential`: `mean`;
    - `lognormal`: `mean` and coefficient of variation `cv` (standard deviation / mean);
    - `fixed`: always `mean`;
    - `uniform`: between `low` and `high`;
    - `empirical`: one of `values`, equally likely (a distribution given as data);
    - `none`: infinite (e.g. customers who never give up).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    dist: DistKind
    mean: float | None = Field(default=None, ge=0)
    cv: float | None = Field(default=None, gt=0)
    low: float | None = Field(default=None, ge=0)
    high: float | None = Field(default=None, ge=0)
    values: tuple[float, ...] | None = None

    @model_validator(mode="after")
    def _check_parameters(self) -> Distribution:
        needed: dict[str, tuple[str, ...]] = {
            "exponential": ("mean",),
            "lognormal": ("mean", "cv"),
            "fixed": ("mean",),
            "uniform": ("low", "high"),
            "empirical": ("values",),
            "none": (),
        }
        wanted = needed[self.dist]
        for name in ("mean", "cv", "low", "high", "values"):
            given = getattr(self, name) is not None
            if name in wanted and not given:
                raise ValueError(f"a {self.dist} distribution needs `{name}`")
            if name not in wanted and given:
                raise ValueError(f"a {self.dist} distribution takes no `{name}`")
        if self.dist in ("exponential", "lognormal") and not self.mean:
            raise ValueError(f"a {self.dist} distribution needs a positive mean")
        if self.dist == "uniform" and (self.low or 0) > (self.high or 0):
            raise ValueError("uniform: low must not be above high")
        if self.dist == "empirical":
            if not self.values:
                raise ValueError("empirical: give at least one value")
            if any(value < 0 or math.isnan(value) for value in self.values):
                raise ValueError("empirical: values cannot be negative")
        return self

    @classmethod
    def exponential(cls, mean: float) -> Distribution:
        return cls(dist="exponential", mean=mean)

    @classmethod
    def fixed(cls, value: float) -> Distribution:
        return cls(dist="fixed", mean=value)

    @property
    def expected(self) -> float:
        """The mean of the distribution (inf for `none`)."""
        if self.dist == "none":
            return math.inf
        if self.dist == "uniform":
            return ((self.low or 0.0) + (self.high or 0.0)) / 2
        if self.dist == "empirical":
            values = self.values or (0.0,)
            return sum(values) / len(values)
        return float(self.mean or 0.0)

    def draw(self, uniform: float) -> float:
        """The value whose distribution function is `uniform` (0 <= uniform < 1)."""
        u = min(max(uniform, _TINY), 1 - _TINY)
        kind = self.dist
        if kind == "exponential":
            return -float(self.mean or 0.0) * math.log1p(-u)
        if kind == "lognormal":
            mean, cv = float(self.mean or 0.0), float(self.cv or 0.0)
            sigma2 = math.log1p(cv * cv)
            mu = math.log(mean) - sigma2 / 2
            return math.exp(mu + math.sqrt(sigma2) * _STANDARD_NORMAL.inv_cdf(u))
        if kind == "fixed":
            return float(self.mean or 0.0)
        if kind == "uniform":
            low, high = float(self.low or 0.0), float(self.high or 0.0)
            return low + (high - low) * u
        if kind == "empirical":
            values = self.values or (0.0,)
            return values[min(int(u * len(values)), len(values) - 1)]
        return math.inf

    def scaled(self, factor: float) -> Distribution:
        """The same shape with every value multiplied by `factor` (unit changes)."""
        if self.dist == "none":
            return self
        return self.model_copy(
            update={
                "mean": None if self.mean is None else self.mean * factor,
                "low": None if self.low is None else self.low * factor,
                "high": None if self.high is None else self.high * factor,
                "values": None
                if self.values is None
                else tuple(value * factor for value in self.values),
            }
        )
