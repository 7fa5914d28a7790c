"""Routing micro-benchmark: the pure domain code, no database.

    python -m bench.routing_domain [--conversations 10000] [--agents 1000] [--seed 7]

Builds a synthetic queue and staff (deterministic for a seed), then measures one
assignment decision (p50/p99), a decision for a newly arrived chat including
indexing every agent, scoring, a full-queue route, a re-route after 100 agents
come online, and expected waits for the whole queue. Prints a table; the target
(p99 < 10 ms per decision) is from issue 3.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import statistics
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial

from helpline.domain.enums import AgentStatus, Channel, Plan, Priority
from helpline.domain.routing import (
    AgentState,
    QueuedConversation,
    RoutingConfig,
    TeamInfo,
    expected_waits,
    route,
    score_conversation,
)
from helpline.domain.routing.strategies import Router, serving_order

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
CATEGORIES = ("billing", "account", "technical", "orders", "sales", "general")
LANGUAGES = ("en", "en", "en", "en", "pl", "de", "es", "fr")
DECISION_TARGET_MS = 10.0


def make_teams() -> list[TeamInfo]:
    teams = [TeamInfo(id=i + 1, categories=frozenset({c})) for i, c in enumerate(CATEGORIES)]
    teams.append(TeamInfo(id=7))  # generalists
    teams.append(TeamInfo(id=8, tier=2, categories=frozenset({"technical", "account"})))
    return teams


def make_agents(count: int, rng: random.Random) -> list[AgentState]:
    agents = []
    statuses = [AgentStatus.ONLINE] * 8 + [AgentStatus.AWAY, AgentStatus.ON_BREAK]
    for agent_id in range(1, count + 1):
        cap = rng.randint(2, 6)
        tier = 2 if rng.random() < 0.15 else 1
        teams = {rng.randint(1, 7) for _ in range(rng.randint(1, 2))}
        if tier == 2:
            teams.add(8)
        agents.append(
            AgentState(
                id=agent_id,
                status=rng.choice(statuses) if agent_id > 100 else AgentStatus.OFFLINE,
                team_ids=frozenset(teams),
                skills=frozenset(rng.sample(CATEGORIES, 2)) if rng.random() < 0.2 else frozenset(),
                languages=frozenset({"en", rng.choice(LANGUAGES)}),
                tier=tier,
                max_concurrent_chats=cap,
                open_chats=rng.randint(0, cap),
                open_email_tickets=rng.randint(0, 3),
                last_assigned_at=NOW - timedelta(seconds=rng.randint(0, 7200)),
            )
        )
    return agents


def make_queue(count: int, agent_count: int, rng: random.Random) -> list[QueuedConversation]:
    queue = []
    for conversation_id in range(1, count + 1):
        category = rng.choice(CATEGORIES)
        queue.append(
            QueuedConversation(
                id=conversation_id,
                waiting_since=NOW - timedelta(seconds=rng.randint(0, 1800)),
                channel=Channel.EMAIL if rng.random() < 0.2 else Channel.CHAT,
                category=category,
                intent="login_problem" if category == "account" and rng.random() < 0.5 else None,
                priority=rng.choice(list(Priority)),
                language=rng.choice((*LANGUAGES, None)),
                team_id=rng.randint(1, 7) if rng.random() < 0.1 else None,
                tier=2 if rng.random() < 0.05 else 1,
                plan=rng.choice((None, *Plan)),
                lifetime_value_cents=rng.randint(0, 500_000),
                orders_count=rng.randint(0, 12),
                first_time_customer=rng.random() < 0.2,
                first_response_due_at=NOW + timedelta(minutes=rng.randint(-10, 60)),
                previous_agent_id=rng.randint(1, agent_count) if rng.random() < 0.1 else None,
            )
        )
    return queue


def percentiles(samples_ms: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples_ms, n=100, method="inclusive")
    return statistics.median(samples_ms), cuts[98]


def _index_and_decide(
    agents: Sequence[AgentState],
    teams: Sequence[TeamInfo],
    config: RoutingConfig,
    conversation: QueuedConversation,
) -> object:
    """A chat arrives: index all agents from scratch, then decide it."""
    return Router(agents, teams, NOW, config).decide(conversation)


def timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--agents", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=5, help="runs of the whole-queue steps")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    teams = make_teams()
    agents = make_agents(args.agents, rng)
    queue = make_queue(args.conversations, args.agents, rng)
    config = RoutingConfig()
    rows: list[tuple[str, int, str, str, str, str]] = []

    def sampled(name: str, samples: list[float], target: float | None = None) -> None:
        p50, p99 = percentiles(samples)
        verdict = "" if target is None else ("ok" if p99 < target else "MISSED")
        target_text = "" if target is None else f"p99 < {target:g} ms {verdict}"
        rows.append((name, len(samples), f"{p50:.3f}", f"{p99:.3f}", "", target_text))

    def whole(name: str, call: Callable[[], object]) -> None:
        runs = [timed(call) for _ in range(args.repeat)]
        rows.append((name, args.repeat, "", "", f"{statistics.median(runs):.1f}", ""))

    sampled("score one conversation", [timed(partial(score_conversation, c, NOW)) for c in queue])

    # One decision with the round's indexes in place: the router's steady state.
    router = Router(agents, teams, NOW, config)
    order = serving_order(queue, NOW, config)
    decisions = [timed(partial(router.decide, c, s)) for c, s in order]
    sampled("one assignment decision", decisions, DECISION_TARGET_MS)

    # A chat arrives: index all agents from scratch, then decide it.
    arrivals = rng.sample(queue, 300)
    sampled(
        "new chat: index agents + decide",
        [timed(partial(_index_and_decide, agents, teams, config, c)) for c in arrivals],
        DECISION_TARGET_MS,
    )

    plan = route(queue, agents, teams, NOW, config)
    whole("route whole queue", lambda: route(queue, agents, teams, NOW, config))
    back_online = [
        dataclasses.replace(agent, status=AgentStatus.ONLINE) if agent.id <= 100 else agent
        for agent in agents
    ]
    rerouted = route(queue, back_online, teams, NOW, config)
    whole(
        "re-route after 100 agents come online",
        lambda: route(queue, back_online, teams, NOW, config),
    )
    whole("expected waits, whole queue", lambda: expected_waits(queue, agents, teams, NOW, config))

    online = sum(agent.status == AgentStatus.ONLINE for agent in agents)
    print(
        f"routing domain benchmark: {len(queue):,} waiting conversations, {len(agents):,} agents"
        f" ({online} online), strategy {config.strategy.value}"
    )
    print(
        f"first route assigns {len(plan.assignments):,}, holds {len(plan.held)} for their"
        f" previous agent; after 100 more agents come online: {len(rerouted.assignments):,}"
    )
    header = f"{'measurement':<40} {'n':>6} {'p50 ms':>9} {'p99 ms':>9} {'median ms':>10}  target"
    print(header)
    print("-" * len(header))
    for name, count, p50, p99, total, target in rows:
        print(f"{name:<40} {count:>6} {p50:>9} {p99:>9} {total:>10}  {target}")


if __name__ == "__main__":
    main()
