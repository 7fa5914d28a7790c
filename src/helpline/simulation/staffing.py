"""How many agents a scenario needs to reach a service-level target.

The arrivals stay those of the scenario as written (an `offered_load` is turned
into fixed arrival rates first), and only the number of agents changes: all
groups in proportion, or one named group. Every staffing level meets the same
customers (common random numbers), so the curve is smooth and the answer stable.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass

from helpline.domain.routing.config import Strategy
from helpline.simulation.arrivals import Customer, generate_customers
from helpline.simulation.engine import simulate
from helpline.simulation.metrics import run_metrics, service_level
from helpline.simulation.scenario import Model, ScenarioError, compile_scenario
from helpline.simulation.stats import Estimate, mean_interval


@dataclass(frozen=True, slots=True)
class StaffingPoint:
    agents: int
    service_level: Estimate
    abandonment: Estimate
    occupancy: Estimate
    mean_wait: Estimate

    def meets(self, target: float) -> bool:
        return self.service_level.mean >= target


@dataclass(frozen=True, slots=True)
class StaffingResult:
    scenario: str
    strategy: Strategy
    target: float
    within: float
    group: str | None
    base_agents: int
    points: tuple[StaffingPoint, ...]
    """Every staffing level tried, fewest agents first."""
    needed: int | None
    """Fewest agents meeting the target; None if none tried did."""


def split_agents(counts: dict[str, int], total: int) -> dict[str, int]:
    """Share `total` agents among groups in proportion to `counts` (largest remainder)."""
    base = sum(counts.values())
    if base <= 0:
        raise ScenarioError("the scenario has no agents to scale")
    exact = {group: count * total / base for group, count in counts.items()}
    shares = {group: math.floor(value) for group, value in exact.items()}
    leftover = total - sum(shares.values())
    by_remainder = sorted(counts, key=lambda group: (-(exact[group] - shares[group]), group))
    for group in by_remainder[:leftover]:
        shares[group] += 1
    return shares


def with_agents(model: Model, total: int, group: str | None = None) -> Model:
    """The scenario with `total` agents (or `group` resized to `total`), same arrivals."""
    if total < 1:
        raise ScenarioError("at least one agent is needed")
    counts = {section.group: section.count for section in model.file.agents}
    if group is not None:
        if group not in counts:
            raise ScenarioError(f"no agent group {group!r}; groups: {', '.join(counts)}")
        counts[group] = total
    else:
        counts = split_agents(counts, total)
    agents = tuple(
        section.model_copy(update={"count": counts[section.group]}) for section in model.file.agents
    )
    resized = compile_scenario(
        model.file.model_copy(update={"agents": agents}), source=model.source
    )
    # Keep the arrivals of the scenario as given, whatever the staffing.
    return dataclasses.replace(resized, hourly_rates=model.hourly_rates, trace=model.trace)


def evaluate_staffing(
    model: Model,
    customers: list[list[Customer]],
    strategy: Strategy,
    total: int,
    within: float,
    group: str | None = None,
    confidence: float = 0.95,
) -> StaffingPoint:
    resized = with_agents(model, total, group)
    levels, abandoned, occupancy, waits = [], [], [], []
    for replication, people in enumerate(customers):
        result = simulate(
            resized, people, strategy, replication=replication, record_expected_wait=False
        )
        metrics = run_metrics(result)
        levels.append(service_level([o for o in result.outcomes if o.live], within))
        abandoned.append(metrics["abandonment"])
        occupancy.append(metrics["occupancy"])
        waits.append(metrics["mean_wait"])
    return StaffingPoint(
        agents=total,
        service_level=mean_interval(levels, confidence),
        abandonment=mean_interval(abandoned, confidence),
        occupancy=mean_interval(occupancy, confidence),
        mean_wait=mean_interval(waits, confidence),
    )


def find_staffing(
    model: Model,
    *,
    target: float,
    within: float | None = None,
    strategy: Strategy = Strategy.PRIORITY,
    group: str | None = None,
    replications: int | None = None,
    max_agents: int | None = None,
    confidence: float = 0.95,
    on_point: Callable[[StaffingPoint], None] | None = None,
) -> StaffingResult:
    """The fewest agents whose mean service level reaches `target`, with the curve.

    Starts from the scenario's own staffing and walks down while the target is
    still met, or up until it is: one agent at a time, so the curve shows what each
    agent more or less buys.
    """
    if not 0 < target < 1:
        raise ValueError("the target is a share between 0 and 1, e.g. 0.9")
    seconds = within if within is not None else model.service_target
    count = replications or model.replications
    customers = [generate_customers(model, replication) for replication in range(count)]
    counts = {section.group: section.count for section in model.file.agents}
    base = counts[group] if group is not None else sum(counts.values())
    if group is None:
        base = max(base, 1)
    ceiling = max_agents or max(3 * base, base + 10)
    tried: dict[int, StaffingPoint] = {}

    def at(total: int) -> StaffingPoint:
        if total not in tried:
            tried[total] = evaluate_staffing(
                model, customers, strategy, total, seconds, group, confidence
            )
            if on_point is not None:
                on_point(tried[total])
        return tried[total]

    total = max(base, 1)
    if at(total).meets(target):
        while total > 1 and at(total - 1).meets(target):
            total -= 1
        needed: int | None = total
        if total > 1:
            at(total - 1)
    else:
        needed = None
        while total < ceiling:
            total += 1
            if at(total).meets(target):
                needed = total
                break
    if needed is not None and needed + 1 <= ceiling:
        at(needed + 1)
    return StaffingResult(
        scenario=model.name,
        strategy=strategy,
        target=target,
        within=seconds,
        group=group,
        base_agents=base,
        points=tuple(tried[key] for key in sorted(tried)),
        needed=needed,
    )
