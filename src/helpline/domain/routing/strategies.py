"""Who gets which waiting conversation: the routing strategies and their one entry point.

`route(queue, agents, teams, now, config)` returns a `RoutingPlan`; the service
layer applies it in one transaction. Whatever the strategy, a plan never pushes an
agent past their cap, never offers a conversation to an ineligible agent, assigns
each conversation at most once, and is the same for the same input (every tie is
broken by id).

A strategy is two choices: the order in which conversations are served, and which
of the eligible agents gets each one. A returning customer is first offered to the
agent who last served them (sticky preference) before the strategy chooses.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from helpline.domain.enums import AgentStatus, Channel
from helpline.domain.routing.config import DEFAULT_CONFIG, RoutingConfig, Strategy
from helpline.domain.routing.eligibility import (
    agent_load,
    as_team_map,
    conversation_cost,
    eligible,
    fits_under_cap,
    static_problems,
)
from helpline.domain.routing.model import (
    AgentState,
    QueuedConversation,
    TeamInfo,
    normalise_language,
)
from helpline.domain.routing.priority import PriorityScore, score_conversation

_NEVER = datetime.min.replace(tzinfo=UTC)
"""`last_assigned_at` of an agent who never got a conversation: first in turn."""

LIVE_CHANNELS = frozenset({Channel.CHAT, Channel.PHONE})
"""Channels where a customer waits on the line for an answer."""


@dataclass(frozen=True, slots=True)
class Assignment:
    conversation_id: int
    agent_id: int
    reason: str
    score: PriorityScore | None = None
    """The priority score that ordered the queue (priority strategy only)."""


@dataclass(frozen=True, slots=True)
class Held:
    """A returning customer kept for their busy previous agent until `until`."""

    conversation_id: int
    agent_id: int
    until: datetime


@dataclass(frozen=True, slots=True)
class Unrouted:
    conversation_id: int
    reason: str


@dataclass(frozen=True, slots=True)
class RoutingPlan:
    """What one routing round decided, for the service layer to apply."""

    assignments: tuple[Assignment, ...]
    loads: Mapping[int, float]
    """Every agent's load (open chats + weighted email tickets) after the plan."""
    held: tuple[Held, ...] = ()
    unrouted: tuple[Unrouted, ...] = ()

    def agent_for(self, conversation_id: int) -> int | None:
        for assignment in self.assignments:
            if assignment.conversation_id == conversation_id:
                return assignment.agent_id
        return None


Decision = Assignment | Held | Unrouted

PoolKey = tuple[int | None, str | None, str | None, int, float]
"""(team, category, language, tier, cost): conversations with the same key have the
same statically eligible agents."""


@dataclass(slots=True)
class _Pool:
    cost: float
    members: frozenset[int]
    heap: list[tuple[tuple[object, ...], int, int]]
    """(agent order key, agent version, agent index); stale entries are skipped."""


def _pool_key(conversation: QueuedConversation, cost: float) -> PoolKey:
    category = None if conversation.team_id is not None else conversation.category
    language = normalise_language(conversation.language)
    return (conversation.team_id, category, language, conversation.tier, cost)


class Router:
    """One routing round over a fixed set of agents: indexes plus running loads.

    Agents are indexed by team, skill, language and tier, so finding the eligible
    pool of a conversation does not scan every agent; each pool keeps a heap of
    its agents ordered by the strategy, so picking the best one is logarithmic.
    Pools are built lazily and shared by every conversation with the same needs.
    """

    def __init__(
        self,
        agents: Iterable[AgentState],
        teams: Mapping[int, TeamInfo] | Iterable[TeamInfo],
        now: datetime,
        config: RoutingConfig = DEFAULT_CONFIG,
    ) -> None:
        self.now = now
        self.config = config
        self.teams = as_team_map(teams)
        self.agents: list[AgentState] = sorted(agents, key=lambda agent: agent.id)
        self._position: dict[int, int] = {}
        for index, agent in enumerate(self.agents):
            if agent.id in self._position:
                raise ValueError(f"agent {agent.id} is listed twice")
            self._position[agent.id] = index
        self._load = [agent_load(agent, config) for agent in self.agents]
        self._open_chats = [agent.open_chats for agent in self.agents]
        self._last: list[tuple[datetime, int]] = [
            (agent.last_assigned_at or _NEVER, 0) for agent in self.agents
        ]
        self._version = [0] * len(self.agents)
        self._assigned_in_round = 0
        self._pools: dict[PoolKey, _Pool] = {}
        self._agent_pools: list[list[_Pool]] = [[] for _ in self.agents]
        self._routed: set[int] = set()

        self._online: set[int] = set()
        self._by_team: dict[int, set[int]] = {}
        self._by_skill: dict[str, set[int]] = {}
        self._by_language: dict[str, set[int]] = {}
        self._team_members_without_skills: dict[int, set[int]] = {}
        self._every_category: set[int] = set()
        self._tier_two: set[int] = set()
        self._category_cache: dict[str, frozenset[int]] = {}
        for index, agent in enumerate(self.agents):
            if agent.status != AgentStatus.ONLINE:
                continue
            self._online.add(index)
            for team_id in agent.team_ids:
                self._by_team.setdefault(team_id, set()).add(index)
                if not agent.skills:
                    self._team_members_without_skills.setdefault(team_id, set()).add(index)
            for skill in agent.skills:
                self._by_skill.setdefault(skill, set()).add(index)
            if not agent.skills and not agent.team_ids:
                self._every_category.add(index)
            for language in agent.languages:
                normalised = normalise_language(language)
                if normalised is not None:
                    self._by_language.setdefault(normalised, set()).add(index)
            if agent.tier >= 2:
                self._tier_two.add(index)

    # -- agent order ----------------------------------------------------------------

    def _agent_key(self, index: int) -> tuple[object, ...]:
        agent_id = self.agents[index].id
        strategy = self.config.strategy
        if strategy == Strategy.ROUND_ROBIN:
            return (self._last[index], agent_id)
        if strategy == Strategy.LEAST_LOADED:
            return (self._open_chats[index], self._last[index], agent_id)
        return (self._load[index], self._last[index], agent_id)

    # -- pools ----------------------------------------------------------------------

    def _handling_category(self, category: str) -> frozenset[int]:
        cached = self._category_cache.get(category)
        if cached is None:
            handlers = set(self._by_skill.get(category, ())) | self._every_category
            for team_id, members in self._team_members_without_skills.items():
                team = self.teams.get(team_id)
                if team is not None and (not team.categories or category in team.categories):
                    handlers |= members
            cached = frozenset(handlers)
            self._category_cache[category] = cached
        return cached

    def pool_members(self, conversation: QueuedConversation) -> frozenset[int]:
        """Indexes of the online agents statically eligible for the conversation."""
        return self._pool(conversation).members

    def _pool(self, conversation: QueuedConversation) -> _Pool:
        cost = conversation_cost(conversation, self.config)
        key = _pool_key(conversation, cost)
        pool = self._pools.get(key)
        if pool is not None:
            return pool
        team_id, category, language, tier, _ = key
        if team_id is not None:
            candidates = set(self._by_team.get(team_id, ()))
        elif category is not None:
            candidates = set(self._handling_category(category))
        else:
            candidates = set(self._online)
        if language is not None:
            candidates &= self._by_language.get(language, set())
        if tier >= 2:
            candidates &= self._tier_two
        # The index only narrows the search; the one eligibility rule decides.
        members = frozenset(
            index
            for index in candidates
            if not static_problems(
                self.agents[index],
                team_id=team_id,
                category=category,
                language=language,
                tier=tier,
                teams=self.teams,
            )
        )
        heap = [
            (self._agent_key(index), self._version[index], index)
            for index in members
            if self._fits(index, cost)
        ]
        heapq.heapify(heap)
        pool = _Pool(cost=cost, members=members, heap=heap)
        self._pools[key] = pool
        for index in members:
            self._agent_pools[index].append(pool)
        return pool

    def _fits(self, index: int, cost: float) -> bool:
        return fits_under_cap(self._load[index], cost, self.agents[index].max_concurrent_chats)

    def _best_in_pool(self, pool: _Pool, excluded: frozenset[int]) -> int | None:
        heap = pool.heap
        set_aside = []
        best: int | None = None
        while heap:
            _, version, index = heap[0]
            if version != self._version[index] or not self._fits(index, pool.cost):
                # Loads only grow during a round: an agent who is full stays full.
                heapq.heappop(heap)
                continue
            if self.agents[index].id in excluded:
                set_aside.append(heapq.heappop(heap))
                continue
            best = index
            break
        for entry in set_aside:
            heapq.heappush(heap, entry)
        return best

    # -- deciding -------------------------------------------------------------------

    def _assign(
        self, conversation: QueuedConversation, index: int, reason: str, score: PriorityScore | None
    ) -> Assignment:
        cost = conversation_cost(conversation, self.config)
        self._load[index] += cost
        if conversation.channel != Channel.EMAIL:
            self._open_chats[index] += 1
        self._assigned_in_round += 1
        self._last[index] = (self.now, self._assigned_in_round)
        self._version[index] += 1
        key = self._agent_key(index)
        for pool in self._agent_pools[index]:
            if self._fits(index, pool.cost):
                heapq.heappush(pool.heap, (key, self._version[index], index))
        self._routed.add(conversation.id)
        return Assignment(
            conversation_id=conversation.id,
            agent_id=self.agents[index].id,
            reason=reason,
            score=score,
        )

    def _describe_choice(self, index: int) -> str:
        agent = self.agents[index]
        load = f"load {self._load[index]:g} of {agent.max_concurrent_chats}"
        strategy = self.config.strategy
        if strategy == Strategy.ROUND_ROBIN:
            return f"next in turn ({load})"
        if strategy == Strategy.LEAST_LOADED:
            return f"fewest open chats ({self._open_chats[index]}, {load})"
        return f"least loaded eligible agent ({load})"

    def decide(
        self, conversation: QueuedConversation, score: PriorityScore | None = None
    ) -> Decision:
        """Offer one conversation: to its previous agent, else to the best eligible one.

        An assignment updates the running loads, so later decisions see it.
        """
        if conversation.id in self._routed:
            return Unrouted(conversation.id, "already assigned in this round")
        pool = self._pool(conversation)
        previous = conversation.previous_agent_id
        if previous is not None and previous not in conversation.excluded_agent_ids:
            index = self._position.get(previous)
            if index is not None and index in pool.members:
                if self._fits(index, pool.cost):
                    return self._assign(
                        conversation, index, "returning customer: their previous agent", score
                    )
                until = conversation.waiting_since + timedelta(
                    seconds=self.config.sticky_wait_seconds
                )
                if self.now < until:
                    return Held(conversation.id, previous, until)
        if not pool.members:
            return Unrouted(conversation.id, "no eligible agent is online")
        excluded = conversation.excluded_agent_ids
        best = self._best_in_pool(pool, excluded)
        if best is None:
            if all(self.agents[index].id in excluded for index in pool.members):
                return Unrouted(conversation.id, "only agents who let it go unanswered are online")
            return Unrouted(conversation.id, "every eligible agent is at capacity")
        return self._assign(conversation, best, self._describe_choice(best), score)

    def loads(self) -> dict[int, float]:
        return {agent.id: load for agent, load in zip(self.agents, self._load, strict=True)}


def _unique(queue: Iterable[QueuedConversation]) -> list[QueuedConversation]:
    """The queue without repeats (first occurrence wins): never route one twice."""
    seen: set[int] = set()
    unique = []
    for conversation in queue:
        if conversation.id not in seen:
            seen.add(conversation.id)
            unique.append(conversation)
    return unique


def serving_order(
    queue: Iterable[QueuedConversation], now: datetime, config: RoutingConfig = DEFAULT_CONFIG
) -> list[tuple[QueuedConversation, PriorityScore | None]]:
    """The order in which the strategy serves the queue, with scores where it uses them."""
    conversations = _unique(queue)
    strategy = config.strategy
    if strategy == Strategy.PRIORITY:
        scored = [
            (conversation, score_conversation(conversation, now, config.weights))
            for conversation in conversations
        ]
        scored.sort(key=lambda item: (-item[1].total, item[0].waiting_since, item[0].id))
        return [(conversation, score) for conversation, score in scored]
    if strategy == Strategy.EASIEST_FIRST:
        conversations.sort(
            key=lambda conversation: (
                config.expected_handling_minutes(conversation.category),
                conversation.waiting_since,
                conversation.id,
            )
        )
    else:
        conversations.sort(key=lambda conversation: (conversation.waiting_since, conversation.id))
    return [(conversation, None) for conversation in conversations]


def route(
    queue: Sequence[QueuedConversation],
    agents: Sequence[AgentState],
    teams: Mapping[int, TeamInfo] | Iterable[TeamInfo],
    now: datetime,
    config: RoutingConfig = DEFAULT_CONFIG,
) -> RoutingPlan:
    """Decide who gets which waiting conversation now, under `config.strategy`."""
    router = Router(agents, teams, now, config)
    if config.strategy == Strategy.PULL:
        return RoutingPlan(
            assignments=(),
            loads=router.loads(),
            unrouted=tuple(
                Unrouted(conversation.id, "pull: agents take conversations themselves")
                for conversation in _unique(queue)
            ),
        )
    assignments: list[Assignment] = []
    held: list[Held] = []
    unrouted: list[Unrouted] = []
    for conversation, score in serving_order(queue, now, config):
        decision = router.decide(conversation, score)
        if isinstance(decision, Assignment):
            assignments.append(decision)
        elif isinstance(decision, Held):
            held.append(decision)
        else:
            unrouted.append(decision)
    return RoutingPlan(
        assignments=tuple(assignments),
        loads=router.loads(),
        held=tuple(held),
        unrouted=tuple(unrouted),
    )


def next_for_agent(
    agent: AgentState,
    queue: Iterable[QueuedConversation],
    teams: Mapping[int, TeamInfo] | Iterable[TeamInfo] = (),
    config: RoutingConfig = DEFAULT_CONFIG,
) -> QueuedConversation | None:
    """Pull: the oldest waiting conversation this agent may take, if any."""
    team_map = as_team_map(teams)
    candidates = [
        conversation for conversation in queue if eligible(agent, conversation, team_map, config)
    ]
    return min(candidates, key=lambda c: (c.waiting_since, c.id), default=None)


# -- re-offering unanswered chats -----------------------------------------------------


class ReofferReason(StrEnum):
    UNANSWERED = "unanswered"
    """The agent did not answer within the answer timeout."""
    AGENT_OFFLINE = "agent_offline"
    """The agent went offline with the customer still on the line."""
    AGENT_UNAVAILABLE = "agent_unavailable"
    """The agent went away or on a break before answering."""


@dataclass(frozen=True, slots=True)
class OpenAssignment:
    """An assigned conversation as the re-offer check needs it."""

    conversation_id: int
    agent_id: int
    assigned_at: datetime
    agent_status: AgentStatus
    answered_at: datetime | None = None
    """The agent's first reply since the assignment; None: not answered yet."""
    channel: Channel = Channel.CHAT


@dataclass(frozen=True, slots=True)
class Reoffer:
    conversation_id: int
    agent_id: int
    reason: ReofferReason

    @property
    def message(self) -> str:
        return {
            ReofferReason.UNANSWERED: "not answered in time",
            ReofferReason.AGENT_OFFLINE: "agent went offline",
            ReofferReason.AGENT_UNAVAILABLE: "agent became unavailable before answering",
        }[self.reason]


def reoffer_due(
    assignments_state: Iterable[OpenAssignment],
    now: datetime,
    answer_timeout_seconds: float = 45.0,
) -> list[Reoffer]:
    """Live conversations to take back and offer to someone else.

    Email tickets stay with their agent (nobody waits on the line). The agent who
    let a chat go should be added to the conversation's `excluded_agent_ids`.
    """
    timeout = timedelta(seconds=answer_timeout_seconds)
    due: list[Reoffer] = []
    for state in assignments_state:
        if state.channel not in LIVE_CHANNELS:
            continue
        reason: ReofferReason | None = None
        if state.agent_status == AgentStatus.OFFLINE:
            reason = ReofferReason.AGENT_OFFLINE
        elif state.answered_at is None:
            if state.agent_status != AgentStatus.ONLINE:
                reason = ReofferReason.AGENT_UNAVAILABLE
            elif now - state.assigned_at >= timeout:
                reason = ReofferReason.UNANSWERED
        if reason is not None:
            due.append(Reoffer(state.conversation_id, state.agent_id, reason))
    due.sort(key=lambda reoffer: reoffer.conversation_id)
    return due
