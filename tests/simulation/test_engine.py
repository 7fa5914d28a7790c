"""The simulation engine: conservation, common random numbers, agents and rules."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import pytest

from helpline.domain.enums import AgentStatus
from helpline.domain.routing import priority as priority_rules
from helpline.domain.routing import strategies as routing_strategies
from helpline.domain.routing.config import Strategy
from helpline.domain.routing.strategies import RoutingPlan
from helpline.simulation.arrivals import generate_customers
from helpline.simulation.engine import Simulation, simulate
from helpline.simulation.metrics import run_metrics
from helpline.simulation.scenario import COMPARED_STRATEGIES, Model, load_scenario
from tests.simulation.support import model_from_toml

ALL_STRATEGIES = [*COMPARED_STRATEGIES, Strategy.EASIEST_FIRST]


@pytest.fixture(scope="module")
def overload_morning() -> Model:
    """The overload day until 11:00, stopped mid-peak with customers still waiting."""
    return load_scenario("overload", hours=11, replications=1)


@pytest.mark.parametrize("strategy", ALL_STRATEGIES, ids=lambda s: s.value)
def test_every_customer_is_answered_gone_or_still_waiting(
    overload_morning: Model, strategy: Strategy
) -> None:
    customers = generate_customers(overload_morning, 0)
    result = simulate(overload_morning, customers, strategy)
    totals = result.totals
    assert totals["arrivals"] == len(customers) > 1000
    assert totals["arrivals"] == totals["answered"] + totals["abandoned"] + totals["waiting"]
    assert totals["waiting"] > 0, "the day is cut off mid-peak: some are still waiting"
    assert totals["abandoned"] > 0
    # The counted customers obey the same identity.
    outcomes = result.outcomes
    answered = sum(1 for o in outcomes if o.first_response is not None)
    gone = sum(1 for o in outcomes if o.abandoned_after is not None)
    waiting = sum(1 for o in outcomes if o.waiting_at_end is not None)
    assert answered + gone + waiting == len(outcomes) == len(customers)


def test_every_strategy_meets_the_same_customers(overload_morning: Model) -> None:
    first = generate_customers(overload_morning, 3)
    again = generate_customers(overload_morning, 3)
    assert first == again
    arrivals = {
        strategy: [o.arrival for o in simulate(overload_morning, first, strategy).outcomes]
        for strategy in (Strategy.PRIORITY, Strategy.FIFO)
    }
    assert arrivals[Strategy.PRIORITY] == arrivals[Strategy.FIFO]
    assert generate_customers(overload_morning, 4) != first


def test_a_run_is_the_same_for_the_same_seed(overload_morning: Model) -> None:
    customers = generate_customers(overload_morning, 0)
    one = simulate(overload_morning, customers, Strategy.PRIORITY)
    two = simulate(overload_morning, customers, Strategy.PRIORITY)
    assert one.outcomes == two.outcomes
    assert one.totals == two.totals


def test_common_random_numbers_keep_arrivals_when_handling_changes() -> None:
    model = load_scenario("saas", replications=1)
    slower_topics = tuple(
        topic.model_copy(update={"handling_minutes": topic.handling_minutes.scaled(2)})
        for topic in model.file.topics
    )
    from helpline.simulation.scenario import compile_scenario

    slower = compile_scenario(
        model.file.model_copy(update={"topics": slower_topics}), source=model.source
    )
    slower = dataclasses.replace(slower, hourly_rates=model.hourly_rates)
    before, after = generate_customers(model, 0), generate_customers(slower, 0)
    assert [c.arrival for c in before] == [c.arrival for c in after]
    assert [c.patience for c in before] == [c.patience for c in after]
    assert all(b.work * 2 == pytest.approx(a.work) for b, a in zip(before, after, strict=True))


def test_the_routing_functions_called_are_the_servers(
    overload_morning: Model, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Take urgency out of the domain's priority score: urgent chats lose their head start."""
    customers = generate_customers(overload_morning, 0)
    with_urgency = run_metrics(simulate(overload_morning, customers, Strategy.PRIORITY))

    monkeypatch.setattr(priority_rules, "urgency_reason", lambda conversation, weights: None)
    without = run_metrics(simulate(overload_morning, customers, Strategy.PRIORITY))

    assert without["service_level_urgent"] < with_urgency["service_level_urgent"] - 0.1
    assert without["service_level_standard_value"] != with_urgency["service_level_standard_value"]


def test_the_router_itself_is_called_at_run_time(
    overload_morning: Model, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    real_route = routing_strategies.route

    def counting_route(*args: Any, **kwargs: Any) -> RoutingPlan:
        calls.append(args[3])
        return real_route(*args, **kwargs)

    monkeypatch.setattr(routing_strategies, "route", counting_route)
    result = simulate(overload_morning, generate_customers(overload_morning, 0), Strategy.FIFO)
    assert len(calls) > 100
    assert all(moment.utcoffset() is not None for moment in calls)
    assert result.totals["answered"] > 0


SMALL_TEAM = """
name = "two agents"
[simulation]
hours = 4
replications = 1
seed = 5
[routing]
concurrency_slowdown = {slowdown}
[[teams]]
name = "support"
[[agents]]
group = "pair"
count = 2
teams = ["support"]
max_chats = {cap}
first_response_seconds = {{ dist = "fixed", mean = {reply} }}
shifts = ["{shifts}"]
{extra}
[[topics]]
name = "question"
share = 1
category = "general"
handling_minutes = {{ dist = "fixed", mean = 10 }}
[customers]
patience_minutes = {{ dist = "none" }}
returning_share = {returning}
[arrivals]
chats_per_day = {chats}
"""


def small_team(
    *,
    slowdown: float = 0.0,
    cap: int = 3,
    reply: float = 0.0,
    extra: str = "",
    chats: float = 240,
    returning: float = 0.0,
    shifts: str = "00:00-04:00",
) -> Model:
    return model_from_toml(
        SMALL_TEAM.format(
            slowdown=slowdown,
            cap=cap,
            reply=reply,
            extra=extra,
            chats=chats,
            returning=returning,
            shifts=shifts,
        )
    )


def test_concurrent_chats_slow_each_other_down() -> None:
    fast = small_team(slowdown=0.0)
    slow = small_team(slowdown=0.5)
    customers = generate_customers(fast, 0)
    quick = simulate(fast, customers, Strategy.FIFO)
    sluggish = simulate(slow, customers, Strategy.FIFO)
    assert run_metrics(sluggish)["concurrency_mean"] > run_metrics(quick)["concurrency_mean"]
    assert run_metrics(sluggish)["mean_wait"] > run_metrics(quick)["mean_wait"]


def test_slowdown_stretches_a_chat_by_one_plus_alpha_per_extra_chat(tmp_path: Path) -> None:
    """One agent, alpha = 0.5, two 10-minute chats arriving a minute apart.

    The first runs alone for 60 s, then both run at 1/1.5 speed: the first's
    remaining 540 s of work take 810 s (done at 870 s); the second has done 540 s of
    work by then and finishes its last 60 s alone (done at 930 s).
    """
    (tmp_path / "trace.csv").write_text(
        "timestamp,channel,category,plan,first_time,language\n"
        "2026-03-02T00:00:00+00:00,chat,general,,false,en\n"
        "2026-03-02T00:01:00+00:00,chat,general,,false,en\n"
    )
    model = model_from_toml(
        """
        name = "one agent, two chats"
        [simulation]
        hours = 1
        [routing]
        concurrency_slowdown = 0.5
        [[agents]]
        group = "solo"
        max_chats = 2
        first_response_seconds = { dist = "fixed", mean = 0 }
        [[topics]]
        name = "question"
        share = 1
        category = "general"
        handling_minutes = { dist = "fixed", mean = 10 }
        [arrivals]
        trace = "trace.csv"
        """,
        source=tmp_path / "scenario.toml",
    )
    simulation = Simulation(model, generate_customers(model, 0), Strategy.FIFO)
    simulation.run()
    first, second = sorted(simulation.chats.values(), key=lambda chat: chat.customer.arrival)
    assert first.done_at == pytest.approx(870)
    assert second.done_at == pytest.approx(930)


def test_an_unanswered_chat_is_offered_to_someone_else_after_45_seconds() -> None:
    model = small_team(reply=60, chats=48)
    result = simulate(model, generate_customers(model, 0), Strategy.FIFO)
    assert result.totals["reoffers"] > 0
    assert all(o.reoffers >= 1 for o in result.outcomes if o.first_response is not None)


def test_an_agent_on_a_break_takes_nothing_new() -> None:
    model = small_team(extra='breaks = [{ at = "01:00", minutes = 60 }]', chats=480)
    simulation = Simulation(model, generate_customers(model, 0), Strategy.FIFO)
    result = simulation.run()
    assert result.totals["breaks"] == 2
    for chat in simulation.chats.values():
        if chat.first_assigned_at is not None:
            # Nobody is given a chat while both are on their one-hour break.
            assert not 3600 + 600 * 3 < chat.first_assigned_at < 7200
    assert result.timeline and min(sample[2] for sample in result.timeline) == 0


def test_pomodoro_breaks_and_moments_away_change_status() -> None:
    model = small_team(
        extra=(
            "pomodoro = { work_minutes = 25, break_minutes = 5 }\n"
            'away = { per_hour = 2, minutes = { dist = "fixed", mean = 2 } }'
        ),
    )
    result = simulate(model, generate_customers(model, 0), Strategy.FIFO)
    assert result.totals["breaks"] >= 8
    assert result.totals["away"] > 0
    online = [agent.online_time for agent in result.agents]
    shift = [agent.shift_time for agent in result.agents]
    assert all(o < s for o, s in zip(online, shift, strict=True))


def test_a_returning_customer_goes_back_to_their_previous_agent() -> None:
    model = small_team(returning=1.0, chats=60)
    simulation = Simulation(model, generate_customers(model, 0), Strategy.PRIORITY)
    simulation.run()
    returning = [
        chat
        for chat in simulation.chats.values()
        if chat.previous_agent is not None and chat.answered_by is not None
    ]
    assert returning
    same = sum(1 for chat in returning if chat.answered_by == chat.previous_agent)
    assert same / len(returning) > 0.9


def test_agents_finish_their_chats_after_the_shift_then_go_offline() -> None:
    model = small_team(shifts="00:00-03:00", chats=240)
    simulation = Simulation(model, generate_customers(model, 0), Strategy.FIFO)
    result = simulation.run()
    assert all(agent.status == AgentStatus.OFFLINE for agent in simulation.agents.values())
    for agent in result.agents:
        assert agent.online_time == pytest.approx(3 * 3600)
        assert 3 * 3600 <= agent.shift_time <= 3 * 3600 + 11 * 60  # wrapping up, then gone
    late = [chat for chat in simulation.chats.values() if chat.customer.arrival > 3 * 3600]
    assert late and all(chat.answered_at is None for chat in late)


def test_escalation_rules_move_long_technical_chats_to_tier_two() -> None:
    model = load_scenario("saas", replications=1)
    simulation = Simulation(model, generate_customers(model, 0), Strategy.PRIORITY)
    result = simulation.run()
    assert result.totals["action:escalate_to_tier2"] > 0
    assert result.totals["transfers"] > 0
    tier_two = {agent.id for agent in model.agents if agent.tier == 2}
    moved = [chat for chat in simulation.chats.values() if chat.transfers and chat.agent is None]
    assert moved
    for chat in moved:
        assert chat.tier == 2
        assert chat.customer.category == "technical"
    handled_by_tier_two = [
        chat for chat in simulation.chats.values() if chat.tier == 2 and chat.done_at is not None
    ]
    assert handled_by_tier_two
    assert tier_two


def test_security_keywords_send_the_chat_to_the_security_team() -> None:
    model = load_scenario("ecommerce", replications=1)
    simulation = Simulation(model, generate_customers(model, 0), Strategy.PRIORITY)
    simulation.run()
    security_team = next(i for i, name in model.team_names.items() if name == "security")
    flagged = [c for c in simulation.chats.values() if "hacked" in c.customer.text]
    assert flagged
    assert all(chat.team_id == security_team for chat in flagged)
    assert all(chat.priority_class == "urgent" for chat in flagged)
    members = {agent.id for agent in model.agents if security_team in agent.team_ids}
    assert all(c.answered_by in members for c in flagged if c.answered_by is not None)


def test_expected_waits_are_recorded_at_arrival() -> None:
    model = load_scenario("saas", replications=1)
    result = simulate(model, generate_customers(model, 0), Strategy.PRIORITY)
    predicted = [o.predicted_wait for o in result.outcomes if o.first_response is not None]
    assert sum(1 for p in predicted if p is not None) > 0.9 * len(predicted)
    assert any(p is not None and p > 0 for p in predicted)
    metrics = run_metrics(result)
    assert 0 <= metrics["expected_wait_within"] <= 1
    assert not math.isnan(metrics["sla_attainment"])
