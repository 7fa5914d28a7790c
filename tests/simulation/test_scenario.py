"""Scenario files: the shipped ones load, mistakes are named, loads are as stated."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpline.domain.enums import Channel, Plan
from helpline.simulation.arrivals import generate_customers
from helpline.simulation.scenario import (
    ScenarioError,
    day_load,
    load_scenario,
    offered_load_by_hour,
    read_scenario_file,
    shipped_scenarios,
)

MINIMAL = """
name = "minimal"
[[agents]]
group = "all"
[[topics]]
name = "question"
share = 1
category = "general"
handling_minutes = { dist = "exponential", mean = 5 }
[arrivals]
chats_per_day = 100
"""


@pytest.mark.parametrize("name", sorted(shipped_scenarios()))
def test_shipped_scenarios_load(name: str) -> None:
    model = load_scenario(name)
    assert model.agents and model.topics
    assert model.expected_arrivals() > 0


def test_the_shipped_scenarios_are_the_ones_promised() -> None:
    assert {"saas", "ecommerce", "overload"} <= set(shipped_scenarios())
    ecommerce = load_scenario("ecommerce")
    assert ecommerce.start.weekday() == 0, "the e-commerce day is a Monday"
    categories = {topic.name for topic in ecommerce.topics}
    assert {"failed payment", "where is my order", "returns and refunds", "product question"} <= (
        categories
    )
    saas = load_scenario("saas")
    assert {"login failure", "pricing question", "trial upgrade"} <= {t.name for t in saas.topics}
    assert len(saas.agents) == 8 and {a.max_chats for a in saas.agents} == {3}


def test_normal_load_is_eighty_percent_of_capacity() -> None:
    model = load_scenario("ecommerce")
    offered, busiest = day_load(model)
    assert offered == pytest.approx(0.8)
    assert busiest < 0.9, "the rota follows the forecast"
    morning = [rate for rate, _ in offered_load_by_hour(model)]
    assert max(range(len(morning)), key=morning.__getitem__) in (9, 10), "Monday-morning peak"
    assert day_load(load_scenario("overload"))[0] == pytest.approx(1.3)
    doubled = load_scenario("ecommerce", offered_load=1.6)
    assert doubled.expected_arrivals() == pytest.approx(2 * model.expected_arrivals())


def test_customers_follow_the_mix() -> None:
    model = load_scenario("saas", replications=1)
    customers = generate_customers(model, 0)
    first_time = [c for c in customers if c.first_time]
    assert 0.2 < len(first_time) / len(customers) < 0.4
    assert all(c.plan is None and c.lifetime_value_cents == 0 for c in first_time)
    assert any(c.plan == Plan.ENTERPRISE and c.high_value for c in customers)
    assert all(c.high_value for c in customers if c.plan in (Plan.PAID, Plan.ENTERPRISE))
    assert any(c.returning_of is not None for c in customers)
    assert all(8 <= (c.arrival / 3600 + 0) % 24 < 18 for c in customers)


def test_a_trace_is_replayed_as_recorded() -> None:
    model = load_scenario("saas_trace_replay")
    customers = generate_customers(model, 0)
    assert len(customers) == 16
    assert customers[0].arrival == 70.0
    assert customers[0].topic.name == "login failure"
    assert customers[0].plan == Plan.PAID
    assert customers[1].first_time and customers[1].plan is None
    assert any(c.channel == Channel.EMAIL for c in customers)
    fallback = next(c for c in customers if c.topic.category == "general")
    assert fallback.topic.name == "general"
    assert [c.arrival for c in generate_customers(model, 1)] == [c.arrival for c in customers]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("[arrivals]\nchats_per_day = 100\noffered_load = 0.8", "exactly one of"),
        ('[[agents]]\ngroup = "all"\nmax_chats = 11', "agents.1.max_chats"),
        ('[[agents]]\ngroup = "x"\nteams = ["nobody"]', "unknown team 'nobody'"),
        ('[[agents]]\ngroup = "x"\nshifts = ["9-17"]', "not a time of day"),
        ('[[agents]]\ngroup = "x"\ncolour = "blue"', "Extra inputs are not permitted"),
        ("[arrivals]\nchats_per_day = 100\nprofile = [1, 2]", "24 hourly weights"),
    ],
)
def test_mistakes_are_reported_with_their_place(change: str, message: str) -> None:
    text = MINIMAL
    if change.startswith("[arrivals]"):
        text = text[: text.index("[arrivals]")] + change
    else:
        text += "\n" + change.replace("[[agents]]", "[[agents]]", 1)
    with pytest.raises(ScenarioError, match=message.replace("[", r"\[").replace("'", ".")):
        read_scenario_file(text)


def test_bad_toml_and_unknown_names() -> None:
    with pytest.raises(ScenarioError, match="not valid TOML"):
        read_scenario_file("name = ")
    with pytest.raises(ScenarioError, match="no scenario 'nowhere'"):
        load_scenario("nowhere")


def test_custom_rules_name_teams(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(
        MINIMAL.replace(
            '[[agents]]\ngroup = "all"',
            '[[teams]]\nname = "vip"\n[[agents]]\ngroup = "all"\nteams = ["vip"]',
        )
        + """
[[rules.custom]]
name = "enterprise to vip"
conditions = [{ field = "plan", op = "is", value = "enterprise" }]
actions = [{ action = "set_team", value = "vip" }]
"""
    )
    model = load_scenario(path)
    assert [rule.name for rule in model.rules] == ["enterprise to vip"]
    path.write_text(path.read_text().replace('value = "vip" }]', 'value = "ghosts" }]'))
    with pytest.raises(ScenarioError, match="unknown team 'ghosts'"):
        load_scenario(path)
