"""Who may be offered a conversation: status, team and category, language, tier, load."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from helpline.domain.enums import AgentStatus, Channel
from helpline.domain.routing.config import RoutingConfig
from helpline.domain.routing.eligibility import (
    AgentState,
    TeamInfo,
    agent_load,
    eligibility,
    eligible,
)
from helpline.domain.routing.model import QueuedConversation

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
BILLING_TEAM = TeamInfo(id=1, categories=frozenset({"billing", "orders"}))
GENERAL_TEAM = TeamInfo(id=2)  # no categories: handles everything
TIER2_TEAM = TeamInfo(id=3, tier=2, categories=frozenset({"technical"}))
TEAMS = {team.id: team for team in (BILLING_TEAM, GENERAL_TEAM, TIER2_TEAM)}


def agent(**fields: Any) -> AgentState:
    fields.setdefault("id", 10)
    fields.setdefault("team_ids", frozenset({1}))
    return AgentState(**fields)


def chat(**fields: Any) -> QueuedConversation:
    fields.setdefault("category", "billing")
    return QueuedConversation(id=100, waiting_since=NOW, **fields)


@pytest.mark.parametrize("status", [AgentStatus.AWAY, AgentStatus.ON_BREAK, AgentStatus.OFFLINE])
def test_only_online_agents_are_offered_conversations(status: AgentStatus) -> None:
    verdict = eligibility(agent(status=status), chat(), TEAMS)
    assert not verdict.ok
    assert verdict.problems == (f"status is {status.value}, not online",)
    assert eligible(agent(), chat(), TEAMS)


def test_agent_must_be_in_a_team_that_handles_the_category() -> None:
    assert eligible(agent(team_ids=frozenset({1})), chat(category="orders"), TEAMS)
    verdict = eligibility(agent(team_ids=frozenset({1})), chat(category="technical"), TEAMS)
    assert verdict.problems == ("does not handle category technical",)
    assert eligible(agent(team_ids=frozenset({2})), chat(category="technical"), TEAMS)


def test_skills_decide_when_the_agent_has_any() -> None:
    specialist = agent(team_ids=frozenset({2}), skills=frozenset({"sales"}))
    assert eligible(specialist, chat(category="sales"), TEAMS)
    assert not eligible(specialist, chat(category="billing"), TEAMS)


def test_an_agent_with_no_teams_and_no_skills_takes_any_category() -> None:
    assert eligible(agent(team_ids=frozenset()), chat(category="technical"), TEAMS)


def test_uncategorised_conversations_go_to_anyone() -> None:
    assert eligible(agent(), chat(category=None), TEAMS)


def test_a_conversation_with_a_team_goes_only_to_its_members() -> None:
    transferred = chat(category="technical", team_id=1)
    assert eligible(agent(team_ids=frozenset({1})), transferred, TEAMS)
    verdict = eligibility(agent(team_ids=frozenset({2})), transferred, TEAMS)
    assert verdict.problems == ("not a member of team 1",)


def test_language_must_be_spoken_and_unknown_language_lets_anyone_take_it() -> None:
    polish_speaker = agent(languages=frozenset({"en", "pl"}))
    assert eligible(polish_speaker, chat(language="pl-PL"), TEAMS)
    assert eligible(agent(), chat(language=None), TEAMS)
    assert eligibility(agent(), chat(language="de"), TEAMS).problems == ("does not speak de",)
    assert eligible(agent(languages=frozenset({"pt-BR"})), chat(language="pt"), TEAMS)


def test_tier_two_conversations_need_tier_two_agents() -> None:
    escalated = chat(category="technical", tier=2)
    senior = agent(team_ids=frozenset({3}), tier=2)
    junior = agent(team_ids=frozenset({3}), tier=1)
    assert eligible(senior, escalated, TEAMS)
    assert eligibility(junior, escalated, TEAMS).problems == (
        "tier 1 agent, conversation needs tier 2",
    )
    assert eligible(senior, chat(category="technical"), TEAMS)


def test_load_counts_email_tickets_at_their_weight() -> None:
    busy = agent(open_chats=2, open_email_tickets=1)
    assert agent_load(busy, RoutingConfig()) == 2.5
    assert agent_load(busy, RoutingConfig(email_weight=1.0)) == 3


def test_a_chat_must_fit_under_the_cap_but_a_light_email_may() -> None:
    nearly_full = agent(open_chats=2, open_email_tickets=1, max_concurrent_chats=3)
    verdict = eligibility(nearly_full, chat(), TEAMS)
    assert verdict.problems == ("at capacity: load 2.5 of 3",)
    assert eligible(nearly_full, chat(channel=Channel.EMAIL), TEAMS)
    assert eligible(agent(open_chats=2), chat(), TEAMS)
    assert not eligible(agent(open_chats=3), chat(), TEAMS)


def test_an_agent_who_let_the_chat_go_unanswered_is_not_offered_it_again() -> None:
    verdict = eligibility(agent(), chat(excluded_agent_ids=frozenset({10})), TEAMS)
    assert verdict.problems == ("already let this conversation go unanswered",)


def test_every_reason_against_is_listed() -> None:
    verdict = eligibility(
        agent(status=AgentStatus.AWAY, open_chats=3),
        chat(category="technical", language="de"),
        TEAMS,
    )
    assert len(verdict.problems) == 4
    assert not verdict


def test_capacity_check_can_be_left_out_for_explanations() -> None:
    full = agent(open_chats=3)
    assert eligibility(full, chat(), TEAMS, check_capacity=False).ok


@pytest.mark.parametrize("cap", [0, 11])
def test_chat_cap_is_between_one_and_ten(cap: int) -> None:
    with pytest.raises(ValueError, match="between 1 and 10"):
        agent(max_concurrent_chats=cap)


def test_teams_may_be_given_as_a_list() -> None:
    assert eligible(agent(), chat(), list(TEAMS.values()))
