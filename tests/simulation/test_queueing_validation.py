"""The simulator reproduces queueing theory: Erlang C, Erlang A and an M/M/N·K chain.

One chat per agent, exponential handling (and patience), FIFO, instant replies:
the long-run figures of the reference file (a copy of
shared/data/queueing/reference_values.json) must lie inside the 99.9% confidence
intervals of the simulated replications, Bonferroni-corrected over the metrics
checked. Replications are independent runs with their own seeds, so the t
interval across them is valid despite the correlation within a run; a warm-up is
discarded so the empty start does not bias the waits.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from helpline.domain.routing.config import Strategy
from helpline.simulation.arrivals import generate_customers
from helpline.simulation.engine import RunResult, simulate
from helpline.simulation.metrics import run_metrics, service_level
from helpline.simulation.scenario import Model
from helpline.simulation.stats import Estimate, mean_interval
from tests.simulation.support import pool_scenario

REFERENCE = json.loads(
    (
        Path(__file__).parent.parent / "domain" / "routing" / "erlang_reference_values.json"
    ).read_text()
)
FAMILY_CONFIDENCE = 0.999


def _case(kind: str, **match: float) -> dict[str, Any]:
    for case in REFERENCE[kind]["cases"]:
        if all(case.get(key) == value for key, value in match.items()):
            return dict(case)
    raise LookupError(match)


def _replicate(model: Model, replications: int) -> list[RunResult]:
    return [
        simulate(
            model,
            generate_customers(model, replication),
            Strategy.FIFO,
            replication=replication,
            record_expected_wait=False,
        )
        for replication in range(replications)
    ]


def _intervals(
    results: list[RunResult], wanted: dict[str, float], within: float | None = None
) -> dict[str, Estimate]:
    """Bonferroni: each of the m intervals at 1 - 0.001/m, so all hold jointly at 99.9%."""
    confidence = 1 - (1 - FAMILY_CONFIDENCE) / len(wanted)
    samples: dict[str, list[float]] = {key: [] for key in wanted}
    for result in results:
        metrics = run_metrics(result)
        if within is not None:
            metrics["service_level_t"] = service_level(list(result.outcomes), within)
        for key in wanted:
            samples[key].append(metrics[key])
    return {key: mean_interval(values, confidence) for key, values in samples.items()}


def _check(intervals: dict[str, Estimate], wanted: dict[str, float]) -> None:
    misses = {
        key: (value, round(intervals[key].low, 5), round(intervals[key].high, 5))
        for key, value in wanted.items()
        if not intervals[key].contains(value)
    }
    assert not misses, f"reference outside the simulated interval: {misses}"


def _narrow(
    intervals: dict[str, Estimate], wanted: dict[str, float], *, share: float = 0.5
) -> None:
    """The check has teeth: each interval reaches at most `share` x the reference value
    either side of the mean (waits are heavy-tailed, so they get a wider allowance)."""
    wide = {
        key: intervals[key].half_width
        for key, value in wanted.items()
        if intervals[key].half_width is None
        or (intervals[key].half_width or 0) > share * value * (2 if key == "mean_wait" else 1)
    }
    assert not wide, f"intervals too wide to tell anything: {wide}"


def test_erlang_c_ten_erlangs_on_fourteen_agents() -> None:
    case = _case("erlang_c", A=10, N=14)
    model = pool_scenario(
        agents=case["N"],
        max_chats=1,
        arrivals_per_minute=case["arrivals_per_minute"],
        handling_minutes=case["aht_minutes"],
        patience_minutes=None,
        hours=8,
    )
    wanted = {
        "p_wait": case["p_wait"],
        "mean_wait": case["asa_seconds"],
        "service_level_t": case["service_level"],
        "occupancy": case["A"] / case["N"],
    }
    intervals = _intervals(
        _replicate(model, 16), wanted, within=case["service_level_t_minutes"] * 60
    )
    _check(intervals, wanted)
    _narrow(intervals, wanted)


def test_erlang_c_two_erlangs_on_three_agents() -> None:
    case = _case("erlang_c", A=2, N=3)
    model = pool_scenario(
        agents=case["N"],
        max_chats=1,
        arrivals_per_minute=case["arrivals_per_minute"],
        handling_minutes=case["aht_minutes"],
        patience_minutes=None,
        hours=8,
    )
    wanted = {"p_wait": case["p_wait"], "mean_wait": case["mean_wait_minutes"] * 60}
    intervals = _intervals(_replicate(model, 16), wanted)
    _check(intervals, wanted)
    _narrow(intervals, wanted)


def test_erlang_a_customers_who_give_up() -> None:
    case = REFERENCE["erlang_a"]["cases"][0]
    model = pool_scenario(
        agents=case["N"],
        max_chats=1,
        arrivals_per_minute=case["arrivals_per_minute"],
        handling_minutes=case["aht_minutes"],
        patience_minutes=case["mean_patience_minutes"],
        hours=8,
    )
    wanted = {
        "p_wait": case["p_wait"],
        "abandonment": case["p_abandon"],
        "occupancy": case["occupancy"],
        "mean_wait": case["asa_minutes"] * 60,
        "service_level_t": case["service_level"],
    }
    intervals = _intervals(
        _replicate(model, 16), wanted, within=case["service_level_t_minutes"] * 60
    )
    _check(intervals, wanted)
    _narrow(intervals, {key: wanted[key] for key in ("p_wait", "occupancy", "service_level_t")})
    assert intervals["abandonment"].mean > 0


def _birth_death(
    arrival_rate: float, service_rate: float, patience_rate: float, slots: int
) -> dict[str, float]:
    """Long-run figures of the chain with `slots` chats served at once, each at its own
    rate, and exponential patience in the queue (an M/M/N·K+M queue when alpha = 0)."""
    weights = [1.0]
    n = 0
    while True:
        n += 1
        death = min(n, slots) * service_rate + max(0, n - slots) * patience_rate
        weights.append(weights[-1] * arrival_rate / death)
        if n > slots and weights[-1] < 1e-16 * sum(weights):
            break
    total = sum(weights)
    states = [weight / total for weight in weights]
    queued = sum(max(0, k - slots) * p for k, p in enumerate(states))
    busy = sum(min(k, slots) * p for k, p in enumerate(states))
    return {
        "p_wait": sum(p for k, p in enumerate(states) if k >= slots),
        "abandonment": patience_rate * queued / arrival_rate,
        "mean_wait": queued / arrival_rate * 60,  # rates per minute -> seconds
        "occupancy": busy / slots,
    }


@pytest.mark.parametrize("strategy", ["fifo", "least_loaded"])
def test_several_chats_per_agent_without_slowdown_match_the_birth_death_chain(
    strategy: str,
) -> None:
    agents, chats_each, handling, patience = 4, 3, 4.0, 3.0
    arrivals_per_minute = 0.85 * agents * chats_each / handling
    model = pool_scenario(
        agents=agents,
        max_chats=chats_each,
        arrivals_per_minute=arrivals_per_minute,
        handling_minutes=handling,
        patience_minutes=patience,
        hours=8,
        strategy=strategy,
    )
    assert model.slowdown == 0
    wanted = _birth_death(arrivals_per_minute, 1 / handling, 1 / patience, agents * chats_each)
    results = [
        simulate(
            model,
            generate_customers(model, replication),
            Strategy(strategy),
            replication=replication,
            record_expected_wait=False,
        )
        for replication in range(16)
    ]
    intervals = _intervals(results, wanted)
    _check(intervals, wanted)
    _narrow(intervals, {key: wanted[key] for key in ("p_wait", "occupancy", "mean_wait")})
    assert math.isclose(
        max(run_metrics(result)["concurrency_max"] for result in results), chats_each
    )
