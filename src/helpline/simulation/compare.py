"""Several strategies, several replications, the same customers: the comparison.

Replication r draws its customers once (`generate_customers(model, r)`) and every
strategy runs on that same list, so differences between strategies come from the
routing, not from luck (common random numbers). Replications are independent, so
each figure gets a t-distribution confidence interval across them.
"""

from __future__ import annotations

import math
import multiprocessing
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from helpline.domain.routing.config import Strategy
from helpline.simulation.arrivals import generate_customers
from helpline.simulation.engine import ChatOutcome, RunResult, simulate
from helpline.simulation.metrics import Metrics, estimate_errors, run_metrics
from helpline.simulation.scenario import Model, day_load
from helpline.simulation.stats import Estimate, mean_interval

Progress = Callable[[int, int, str], None]
"""Called after each run with (runs done, runs in all, what just finished)."""


@dataclass
class Comparison:
    model: Model
    strategies: tuple[Strategy, ...]
    replications: int
    confidence: float
    results: dict[Strategy, list[RunResult]] = field(default_factory=dict)
    metrics: dict[Strategy, list[Metrics]] = field(default_factory=dict)
    seconds: dict[Strategy, list[float]] = field(default_factory=dict)
    """Wall-clock seconds of each run (speed)."""

    def summary(self, strategy: Strategy) -> dict[str, Estimate]:
        runs = self.metrics[strategy]
        keys = sorted({key for run in runs for key in run})
        return {
            key: mean_interval([run.get(key, math.nan) for run in runs], self.confidence)
            for key in keys
        }

    def outcomes(self, strategy: Strategy) -> list[ChatOutcome]:
        """Every counted customer of every replication under `strategy`."""
        return [outcome for result in self.results[strategy] for outcome in result.outcomes]

    def estimate_errors(self, strategy: Strategy) -> dict[str, float]:
        return estimate_errors(self.outcomes(strategy))

    def paired_difference(self, key: str, ours: Strategy, theirs: Strategy) -> Estimate:
        """Mean of `ours - theirs` over replications, with its interval.

        Both ran on the same customers, so the difference is far less noisy than
        either figure on its own (common random numbers pay off here).
        """
        differences = [
            mine.get(key, math.nan) - other.get(key, math.nan)
            for mine, other in zip(self.metrics[ours], self.metrics[theirs], strict=True)
        ]
        return mean_interval(differences, self.confidence)

    def best(self, key: str, *, among: Sequence[Strategy] | None = None) -> Strategy:
        """The strategy with the highest mean of `key` (among `among`)."""
        candidates = list(among or self.strategies)
        return max(candidates, key=lambda strategy: self.summary(strategy)[key].mean)

    @property
    def load(self) -> tuple[float, float]:
        return day_load(self.model)


_FORKED_MODEL: Model | None = None
"""The model a forked worker inherits (domain settings hold read-only mappings that
cannot be pickled, so workers are forked with the model already in memory)."""


def _run_replication(
    replication: int, strategies: tuple[Strategy, ...], record_expected_wait: bool
) -> list[tuple[RunResult, float]]:
    model = _FORKED_MODEL
    assert model is not None
    return _replication(model, replication, strategies, record_expected_wait)


def _replication(
    model: Model, replication: int, strategies: Sequence[Strategy], record_expected_wait: bool
) -> list[tuple[RunResult, float]]:
    customers = generate_customers(model, replication)
    runs = []
    for strategy in strategies:
        started = time.perf_counter()
        result = simulate(
            model,
            customers,
            strategy,
            replication=replication,
            record_expected_wait=record_expected_wait,
        )
        runs.append((result, time.perf_counter() - started))
    return runs


def run_comparison(
    model: Model,
    *,
    strategies: Sequence[Strategy] | None = None,
    replications: int | None = None,
    confidence: float = 0.95,
    jobs: int = 1,
    record_expected_wait: bool = True,
    on_progress: Progress | None = None,
) -> Comparison:
    """Simulate every strategy on every replication's customers."""
    chosen = tuple(strategies or model.file.routing.strategies)
    count = replications or model.replications
    if not 0 < confidence < 1:
        raise ValueError("confidence must be between 0 and 1")
    comparison = Comparison(model, chosen, count, confidence)
    for strategy in chosen:
        comparison.results[strategy] = []
        comparison.metrics[strategy] = []
        comparison.seconds[strategy] = []
    total = count * len(chosen)
    done = 0

    def collect(runs: list[tuple[RunResult, float]]) -> None:
        nonlocal done
        for result, seconds in runs:
            comparison.results[result.strategy].append(result)
            comparison.metrics[result.strategy].append(run_metrics(result))
            comparison.seconds[result.strategy].append(seconds)
            done += 1
            if on_progress is not None:
                label = f"{result.strategy.value}, replication {result.replication + 1}"
                on_progress(done, total, label)

    if jobs > 1 and count > 1 and "fork" in multiprocessing.get_all_start_methods():
        global _FORKED_MODEL
        _FORKED_MODEL = model
        try:
            context = multiprocessing.get_context("fork")
            with context.Pool(min(jobs, count)) as pool:
                pending = [
                    pool.apply_async(_run_replication, (r, chosen, record_expected_wait))
                    for r in range(count)
                ]
                for job in pending:
                    collect(job.get())
        finally:
            _FORKED_MODEL = None
    else:
        for replication in range(count):
            if len(chosen) == 1 or on_progress is None:
                collect(_replication(model, replication, chosen, record_expected_wait))
                continue
            customers = generate_customers(model, replication)
            for strategy in chosen:
                started = time.perf_counter()
                result = simulate(
                    model,
                    customers,
                    strategy,
                    replication=replication,
                    record_expected_wait=record_expected_wait,
                )
                collect([(result, time.perf_counter() - started)])
    for strategy in chosen:
        order = sorted(
            range(len(comparison.results[strategy])),
            key=lambda index: comparison.results[strategy][index].replication,
        )
        comparison.results[strategy] = [comparison.results[strategy][i] for i in order]
        comparison.metrics[strategy] = [comparison.metrics[strategy][i] for i in order]
        comparison.seconds[strategy] = [comparison.seconds[strategy][i] for i in order]
    return comparison
