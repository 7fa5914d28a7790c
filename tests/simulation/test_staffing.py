"""The staffing helper: fewest agents meeting a service level, with the curve."""

from __future__ import annotations

import pytest

from helpline.domain.routing.config import Strategy
from helpline.simulation.scenario import ScenarioError, load_scenario
from helpline.simulation.staffing import find_staffing, split_agents, with_agents


def test_agents_are_shared_among_groups_in_proportion() -> None:
    assert split_agents({"day": 6, "late": 2}, 12) == {"day": 9, "late": 3}
    assert sum(split_agents({"a": 3, "b": 3, "c": 1}, 10).values()) == 10


def test_resizing_keeps_the_arrivals() -> None:
    model = load_scenario("saas")
    smaller = with_agents(model, 4)
    assert smaller.agent_count == 4
    assert smaller.hourly_rates == model.hourly_rates
    assert with_agents(model, 3, group="support").agent_count == 4
    with pytest.raises(ScenarioError, match="no agent group"):
        with_agents(model, 3, group="night")


def test_the_fewest_agents_meeting_the_target() -> None:
    model = load_scenario("saas", replications=2, hours=13)
    result = find_staffing(model, target=0.9, strategy=Strategy.PRIORITY)
    assert result.needed is not None
    levels = {point.agents: point.service_level.mean for point in result.points}
    assert levels[result.needed] >= 0.9
    assert levels[result.needed - 1] < 0.9
    assert result.needed + 1 in levels
    ordered = [levels[n] for n in sorted(levels)]
    assert ordered == sorted(ordered), "more agents never answer fewer in time"
