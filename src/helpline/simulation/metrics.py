"""What a run achieved: service levels per class, waits, abandonment, SLA, agent load.

Definitions follow the queueing reference: the wait of a customer who gave up is
the time until they left, of one still waiting at the end the time waited so far;
the average speed of answer (`mean_wait`) averages over every arrival; a service
level is chats answered within the target divided by all arrivals of the class.
Email tickets are left out of the live-chat figures (nobody waits on the line).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from helpline.simulation.engine import ChatOutcome, RunResult
from helpline.simulation.stats import coefficient_of_variation, jain_index, quantile

PRIORITY_CLASSES = ("urgent", "high", "normal", "low")
EXPECTED_WAIT_TOLERANCE = 0.5
"""An estimate is good when within +-50% of the realised wait."""


@dataclass(frozen=True, slots=True)
class MetricInfo:
    key: str
    label: str
    kind: str
    """share (shown in %), seconds, number or count."""
    higher_is_better: bool | None


METRICS: tuple[MetricInfo, ...] = (
    MetricInfo("arrivals", "arrivals", "count", None),
    MetricInfo("service_level", "answered <= target", "share", True),
    MetricInfo("service_level_urgent", "urgent <= target", "share", True),
    MetricInfo("service_level_high", "high priority <= target", "share", True),
    MetricInfo("service_level_normal", "normal priority <= target", "share", True),
    MetricInfo("service_level_low", "low priority <= target", "share", True),
    MetricInfo("service_level_high_value", "high-value <= target", "share", True),
    MetricInfo("service_level_standard_value", "other customers <= target", "share", True),
    MetricInfo("mean_wait", "mean wait (s)", "seconds", False),
    MetricInfo("p90_wait", "p90 wait (s)", "seconds", False),
    MetricInfo("mean_wait_answered", "mean wait, answered (s)", "seconds", False),
    MetricInfo("p_wait", "had to queue", "share", False),
    MetricInfo("abandonment", "abandoned", "share", False),
    MetricInfo("sla_attainment", "SLA first response met", "share", True),
    MetricInfo("occupancy", "agent occupancy", "share", None),
    MetricInfo("concurrency_mean", "avg chats per agent", "number", None),
    MetricInfo("concurrency_max", "max chats per agent", "number", None),
    MetricInfo("fairness", "load fairness (Jain)", "number", True),
    MetricInfo("chats_per_hour_cv", "chats/agent-hour CV", "number", False),
    MetricInfo("expected_wait_within", "wait estimate within +-50%", "share", True),
    MetricInfo("expected_wait_within_waited", "estimate within +-50%, queued", "share", True),
    MetricInfo("reoffers", "re-offered (per chat)", "number", False),
    MetricInfo("transfers", "transfers", "count", None),
)
METRIC_INFO = {metric.key: metric for metric in METRICS}

Metrics = dict[str, float]


def waited_seconds(outcome: ChatOutcome) -> float:
    """Time in queue as the reference defines it (until answered, gone, or the end)."""
    if outcome.first_response is not None:
        return outcome.first_response
    if outcome.abandoned_after is not None:
        return outcome.abandoned_after
    return outcome.waiting_at_end or 0.0


def service_level(outcomes: Sequence[ChatOutcome], within: float) -> float:
    """Share of arrivals answered within `within` seconds (nan without arrivals)."""
    if not outcomes:
        return math.nan
    answered = sum(
        1
        for outcome in outcomes
        if outcome.first_response is not None and outcome.first_response <= within
    )
    return answered / len(outcomes)


def _share(outcomes: Sequence[ChatOutcome], test: Callable[[ChatOutcome], bool]) -> float:
    if not outcomes:
        return math.nan
    return sum(1 for outcome in outcomes if test(outcome)) / len(outcomes)


def estimate_pairs(outcomes: Sequence[ChatOutcome]) -> list[tuple[float, float]]:
    """(predicted, realised) queue wait of every answered chat that had an estimate."""
    return [
        (outcome.predicted_wait, outcome.queue_wait)
        for outcome in outcomes
        if outcome.predicted_wait is not None and outcome.queue_wait is not None
    ]


def estimate_within(predicted: float, realised: float) -> bool:
    return abs(predicted - realised) <= EXPECTED_WAIT_TOLERANCE * realised


def run_metrics(result: RunResult) -> Metrics:
    """Every figure of one run, as plain floats (nan when it does not apply)."""
    live = [outcome for outcome in result.outcomes if outcome.live]
    target = result.service_target
    waits = [waited_seconds(outcome) for outcome in live]
    answered_waits = [o.first_response for o in live if o.first_response is not None]
    metrics: Metrics = {
        "arrivals": float(len(live)),
        "service_level": service_level(live, target),
        "mean_wait": math.fsum(waits) / len(waits) if waits else math.nan,
        "p90_wait": quantile(waits, 0.9),
        "mean_wait_answered": math.fsum(answered_waits) / len(answered_waits)
        if answered_waits
        else math.nan,
        "p_wait": _share(live, lambda outcome: outcome.waited),
        "abandonment": _share(live, lambda outcome: outcome.abandoned_after is not None),
        "answered": _share(live, lambda outcome: outcome.first_response is not None),
        "reoffers": math.fsum(o.reoffers for o in live) / len(live) if live else math.nan,
        "transfers": float(sum(o.transfers for o in result.outcomes)),
    }
    for name in PRIORITY_CLASSES:
        members = [outcome for outcome in live if outcome.priority_class == name]
        metrics[f"service_level_{name}"] = service_level(members, target)
    high_value = [outcome for outcome in live if outcome.high_value]
    standard = [outcome for outcome in live if not outcome.high_value]
    metrics["service_level_high_value"] = service_level(high_value, target)
    metrics["service_level_standard_value"] = service_level(standard, target)
    important = [o for o in live if o.high_value or o.priority_class == "urgent"]
    metrics["service_level_urgent_or_high_value"] = service_level(important, target)

    decided = [outcome.sla for outcome in result.outcomes if outcome.sla is not None]
    metrics["sla_attainment"] = decided.count("met") / len(decided) if decided else math.nan

    agents = [agent for agent in result.agents if agent.shift_time > 0]
    capacity = math.fsum(agent.capacity_time for agent in agents)
    shift = math.fsum(agent.shift_time for agent in agents)
    slots = math.fsum(agent.slot_time for agent in agents)
    metrics["occupancy"] = slots / capacity if capacity else math.nan
    metrics["concurrency_mean"] = slots / shift if shift else math.nan
    metrics["concurrency_max"] = float(max((a.max_concurrency for a in agents), default=0))
    metrics["fairness"] = jain_index([agent.slot_time / agent.shift_time for agent in agents])
    metrics["chats_per_hour_cv"] = coefficient_of_variation(
        [agent.answered / (agent.shift_time / 3600) for agent in agents]
    )

    pairs = estimate_pairs(live)
    metrics["expected_wait_within"] = (
        sum(1 for p, r in pairs if estimate_within(p, r)) / len(pairs) if pairs else math.nan
    )
    queued = [(p, r) for p, r in pairs if p > 0 or r > 0]
    metrics["expected_wait_within_waited"] = (
        sum(1 for p, r in queued if estimate_within(p, r)) / len(queued) if queued else math.nan
    )
    return metrics


def estimate_errors(outcomes: Sequence[ChatOutcome]) -> dict[str, float]:
    """The error distribution of the wait estimate (seconds and relative)."""
    pairs = estimate_pairs([outcome for outcome in outcomes if outcome.live])
    errors = [predicted - realised for predicted, realised in pairs]
    queued = [(p, r) for p, r in pairs if r > 0]
    relative = [(p - r) / r for p, r in queued]
    return {
        "answered_with_estimate": float(len(pairs)),
        "share_within": _fraction(pairs, lambda p, r: estimate_within(p, r)),
        "share_exact_zero": _fraction(pairs, lambda p, r: p == 0 and r == 0),
        "share_predicted_zero_but_queued": _fraction(pairs, lambda p, r: p == 0 and r > 0),
        "error_p10_seconds": quantile(errors, 0.1),
        "error_median_seconds": quantile(errors, 0.5),
        "error_p90_seconds": quantile(errors, 0.9),
        "queued_count": float(len(queued)),
        "queued_share_within": _fraction(queued, lambda p, r: estimate_within(p, r)),
        "queued_relative_error_p10": quantile(relative, 0.1),
        "queued_relative_error_median": quantile(relative, 0.5),
        "queued_relative_error_p90": quantile(relative, 0.9),
    }


def _fraction(pairs: Sequence[tuple[float, float]], test: Callable[[float, float], bool]) -> float:
    if not pairs:
        return math.nan
    return sum(1 for p, r in pairs if test(p, r)) / len(pairs)
