"""Where a waiting customer stands in the queue and how long they will likely wait.

Position counts the waiting conversations that the router would serve before this
one and that compete for the same agents (their eligible pools overlap), so it can
grow when an urgent chat arrives. The wait comes from how fast that pool has been
finishing conversations lately and how much room its agents have right now. For a
single pool of one-chat agents it is the same estimate Erlang C averages over
(see `queueing`), which the tests check.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from helpline.domain.routing.config import DEFAULT_CONFIG, RoutingConfig
from helpline.domain.routing.eligibility import conversation_cost, fits_under_cap
from helpline.domain.routing.model import AgentState, QueuedConversation, TeamInfo
from helpline.domain.routing.strategies import Router, serving_order

NO_AGENT_ONLINE = "no agent who can take this conversation is online"


@dataclass(frozen=True, slots=True)
class WaitEstimate:
    conversation_id: int
    ahead: int
    """Waiting conversations that will be routed before this one to the same agents."""
    seconds: float | None
    """Estimated wait from now; None when no estimate is possible (see `reason`)."""
    reason: str

    @property
    def position(self) -> int:
        """1 for the next conversation to be served: what the widget shows."""
        return self.ahead + 1


def _free_slots(agent: AgentState, load: float, cost: float) -> int:
    if not fits_under_cap(load, cost, agent.max_concurrent_chats):
        return 0
    if cost == 0:
        return agent.max_concurrent_chats
    return math.floor((agent.max_concurrent_chats - load) / cost + 1e-9)


def expected_waits(
    queue: Sequence[QueuedConversation],
    agents: Sequence[AgentState],
    teams: Mapping[int, TeamInfo] | Iterable[TeamInfo],
    now: datetime,
    config: RoutingConfig = DEFAULT_CONFIG,
    completions_per_minute: Mapping[int, float] | None = None,
) -> dict[int, WaitEstimate]:
    """Position and estimated wait of every waiting conversation, by id.

    `completions_per_minute` maps agent id to the rate at which they finished
    conversations recently (e.g. over the last 30 minutes). Without it, or for a
    pool with no recent completions, each agent is assumed to finish a full set
    of `max_concurrent_chats` conversations per expected handling time.
    """
    router = Router(agents, teams, now, config)
    order = serving_order(queue, now, config)

    # Conversations with the same eligible agents form a group; groups whose
    # agents overlap compete. Without online agents, only exact twins compete.
    group_ids: dict[object, int] = {}
    group_members: list[frozenset[int]] = []
    group_of: list[int] = []
    for conversation, _ in order:
        members = router.pool_members(conversation)
        key: object = members if members else _twin_key(conversation)
        group = group_ids.get(key)
        if group is None:
            group = group_ids[key] = len(group_members)
            group_members.append(members)
        group_of.append(group)
    competing: list[list[int]] = []
    for members in group_members:
        if not members:
            competing.append([len(competing)])
            continue
        competing.append(
            [other for other, theirs in enumerate(group_members) if not members.isdisjoint(theirs)]
        )

    pools = _PoolStats(router, completions_per_minute or {}, config)
    waiting_in_group = [0] * len(group_members)
    estimates: dict[int, WaitEstimate] = {}
    for position, (conversation, _) in enumerate(order):
        group = group_of[position]
        ahead = sum(map(waiting_in_group.__getitem__, competing[group]))
        waiting_in_group[group] += 1
        estimates[conversation.id] = pools.estimate(
            conversation, ahead, group, group_members[group]
        )
    return estimates


def _twin_key(conversation: QueuedConversation) -> tuple[object, ...]:
    return (
        "unstaffed",
        conversation.team_id,
        conversation.category,
        conversation.language,
        conversation.tier,
        conversation.channel,
    )


class _PoolStats:
    """Free slots and service rate of each pool, worked out once per pool."""

    def __init__(self, router: Router, rates: Mapping[int, float], config: RoutingConfig) -> None:
        self._router = router
        self._loads = router.loads()
        self._rates = rates
        self._config = config
        self._cache: dict[tuple[int, float, float], tuple[int, float, str]] = {}

    def _stats(
        self, group: int, members: frozenset[int], cost: float, handling: float
    ) -> tuple[int, float, str]:
        key = (group, cost, handling)
        cached = self._cache.get(key)
        if cached is None:
            pool_agents = [self._router.agents[index] for index in members]
            free = sum(_free_slots(a, self._loads[a.id], cost) for a in pool_agents)
            observed = sum(max(0.0, self._rates.get(a.id, 0.0)) for a in pool_agents)
            if observed > 0:
                cached = (free, observed, "recent service rate")
            else:
                capacity = sum(a.max_concurrent_chats for a in pool_agents)
                cached = (free, capacity / handling, _PRIOR)
            self._cache[key] = cached
        return cached

    def estimate(
        self,
        conversation: QueuedConversation,
        ahead: int,
        group: int,
        members: frozenset[int],
    ) -> WaitEstimate:
        if not members:
            return WaitEstimate(conversation.id, ahead, None, NO_AGENT_ONLINE)
        cost = conversation_cost(conversation, self._config)
        handling = self._config.expected_handling_minutes(conversation.category)
        free, per_minute, basis = self._stats(group, members, cost, handling)
        if ahead < free:
            return WaitEstimate(conversation.id, ahead, 0.0, "an agent has room now")
        seconds = (ahead - free + 1) / per_minute * 60
        return WaitEstimate(conversation.id, ahead, seconds, basis)


_PRIOR = "expected handling time (no recent completions)"
