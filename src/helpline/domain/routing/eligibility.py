"""Who may be offered a conversation, and why not when they may not.

An agent is eligible when they are online, work the conversation's team or handle
its category, speak its language, have the tier it needs, did not already let it go
unanswered, and have room below their concurrent-chat cap. Load counts open chats
plus open email tickets at a configurable weight, and an agent is never pushed past
their cap: the conversation's own weight must still fit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from helpline.domain.enums import AgentStatus, Channel
from helpline.domain.routing.config import DEFAULT_CONFIG, RoutingConfig
from helpline.domain.routing.model import (
    AgentState,
    QueuedConversation,
    TeamInfo,
    normalise_language,
)

__all__ = [
    "AgentState",
    "Eligibility",
    "TeamInfo",
    "agent_load",
    "as_team_map",
    "conversation_cost",
    "eligibility",
    "eligible",
    "fits_under_cap",
    "handles_category",
    "speaks",
    "static_problems",
]

_CAP_TOLERANCE = 1e-9
"""Loads are sums of fractional email weights; absorb float rounding at the cap."""


@dataclass(frozen=True, slots=True)
class Eligibility:
    """The verdict for one agent and one conversation, with the reasons against."""

    agent_id: int
    conversation_id: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    def __bool__(self) -> bool:
        return self.ok


def as_team_map(teams: Mapping[int, TeamInfo] | Iterable[TeamInfo]) -> Mapping[int, TeamInfo]:
    if isinstance(teams, Mapping):
        return teams
    return {team.id: team for team in teams}


def agent_load(agent: AgentState, config: RoutingConfig = DEFAULT_CONFIG) -> float:
    return agent.open_chats + config.email_weight * agent.open_email_tickets


def conversation_cost(
    conversation: QueuedConversation, config: RoutingConfig = DEFAULT_CONFIG
) -> float:
    """What taking this conversation adds to an agent's load."""
    return config.email_weight if conversation.channel == Channel.EMAIL else 1.0


def fits_under_cap(load: float, cost: float, cap: int) -> bool:
    return load + cost <= cap + _CAP_TOLERANCE


def handles_category(
    agent: AgentState, category: str | None, teams: Mapping[int, TeamInfo]
) -> bool:
    """Skills decide when the agent has any; otherwise their teams do.

    A team without categories handles all of them, and so does an agent with
    neither skills nor teams (a small installation that configured nothing).
    """
    if category is None:
        return True
    if agent.skills:
        return category in agent.skills
    if not agent.team_ids:
        return True
    for team_id in agent.team_ids:
        team = teams.get(team_id)
        if team is not None and (not team.categories or category in team.categories):
            return True
    return False


def speaks(agent: AgentState, language: str | None) -> bool:
    wanted = normalise_language(language)
    if wanted is None:
        return True
    return any(normalise_language(spoken) == wanted for spoken in agent.languages)


def static_problems(
    agent: AgentState,
    *,
    team_id: int | None,
    category: str | None,
    language: str | None,
    tier: int,
    teams: Mapping[int, TeamInfo],
) -> list[str]:
    """The checks that do not change while routing runs (no status, no load)."""
    problems: list[str] = []
    if team_id is not None:
        if team_id not in agent.team_ids:
            problems.append(f"not a member of team {team_id}")
    elif not handles_category(agent, category, teams):
        problems.append(f"does not handle category {category}")
    if not speaks(agent, language):
        problems.append(f"does not speak {normalise_language(language)}")
    if agent.tier < tier:
        problems.append(f"tier {agent.tier} agent, conversation needs tier {tier}")
    return problems


def eligibility(
    agent: AgentState,
    conversation: QueuedConversation,
    teams: Mapping[int, TeamInfo] | Iterable[TeamInfo],
    config: RoutingConfig = DEFAULT_CONFIG,
    *,
    check_capacity: bool = True,
) -> Eligibility:
    """Every reason `agent` may not be offered `conversation` (none: eligible)."""
    problems: list[str] = []
    if agent.status != AgentStatus.ONLINE:
        problems.append(f"status is {agent.status.value}, not online")
    problems += static_problems(
        agent,
        team_id=conversation.team_id,
        category=conversation.category,
        language=conversation.language,
        tier=conversation.tier,
        teams=as_team_map(teams),
    )
    if agent.id in conversation.excluded_agent_ids:
        problems.append("already let this conversation go unanswered")
    if check_capacity:
        load = agent_load(agent, config)
        cost = conversation_cost(conversation, config)
        if not fits_under_cap(load, cost, agent.max_concurrent_chats):
            problems.append(f"at capacity: load {load:g} of {agent.max_concurrent_chats}")
    return Eligibility(agent_id=agent.id, conversation_id=conversation.id, problems=tuple(problems))


def eligible(
    agent: AgentState,
    conversation: QueuedConversation,
    teams: Mapping[int, TeamInfo] | Iterable[TeamInfo],
    config: RoutingConfig = DEFAULT_CONFIG,
) -> bool:
    return eligibility(agent, conversation, teams, config).ok
