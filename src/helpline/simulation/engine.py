"""The discrete-event simulation of a contact centre, routed by Helpline's own code.

The clock is float seconds since the scenario's start; at every call into the
domain it becomes a timezone-aware datetime (`start + seconds`). Routing decisions
come from `helpline.domain.routing.strategies` (`route`, `next_for_agent`,
`reoffer_due`), wait estimates from `expected_wait.expected_waits`, escalations
from `helpline.domain.rules` and first-response deadlines from
`helpline.domain.sla`: the functions the server runs, looked up at call time, so
whatever changes there changes the simulation.

Agents go through shifts, scheduled and Pomodoro breaks and random moments away.
A break or the end of a shift stops new chats at once (status away) and starts when
the agent's last chat ends. Each chat beyond the first an agent holds slows all
their chats by a factor 1 + alpha, so work in progress is re-timed whenever an
agent's number of chats changes.
"""

from __future__ import annotations

import dataclasses
import heapq
import math
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from helpline.domain.enums import AgentStatus, Channel, ConversationStatus, Priority
from helpline.domain.routing import expected_wait, strategies
from helpline.domain.routing.config import RoutingConfig, Strategy
from helpline.domain.routing.eligibility import eligibility
from helpline.domain.routing.model import AgentState, QueuedConversation
from helpline.domain.routing.priority import urgency_reason
from helpline.domain.rules import (
    ActionKind,
    Condition,
    ConditionGroup,
    Facts,
    Field,
    Operator,
    Rule,
    evaluate,
    matching_rules,
)
from helpline.domain.sla.clock import SlaClock, SlaTarget, TargetState
from helpline.domain.sla.policy import SlaPolicyRule, match_policy
from helpline.simulation.arrivals import Customer
from helpline.simulation.scenario import AgentSpec, Model
from helpline.simulation.streams import stream

# Chat states.
QUEUED, ASSIGNED, ACTIVE, DONE, ABANDONED = range(5)

# Event kinds.
(
    ARRIVE,
    ANSWER,
    TIMEOUT,
    COMPLETE,
    ABANDON,
    SHIFT_START,
    SHIFT_END,
    BREAK_DUE,
    BREAK_END,
    POMODORO,
    AWAY_START,
    AWAY_END,
    HOLD,
    RULE_CHECK,
    SLA_DUE,
    SAMPLE,
) = range(16)

RECENT_COMPLETIONS = 1800.0
"""Completions in the last 30 minutes give the service rate the wait estimate uses."""

_AFTER = 1e-3
"""Checks that need a time to have passed (timeouts, deadlines) run 1 ms after it."""


@dataclass(slots=True, eq=False)
class Chat:
    customer: Customer
    waiting_since: float
    priority: Priority
    state: int = QUEUED
    urgent_reason: str | None = None
    team_id: int | None = None
    tier: int = 1
    excluded: frozenset[int] = frozenset()
    previous_agent: int | None = None
    fired: frozenset[str] = frozenset()
    queued: QueuedConversation | None = None
    agent: Agent | None = None
    assignment: int = 0
    assigned_at: float = 0.0
    first_assigned_at: float | None = None
    answered_at: float | None = None
    answered_by: int | None = None
    queue_wait: float | None = None
    left_at: float | None = None
    done_at: float | None = None
    remaining: float = 0.0
    since: float = 0.0
    rate: float = 1.0
    version: int = 0
    reoffers: int = 0
    transfers: int = 0
    predicted_wait: float | None = None
    due: datetime | None = None
    policy: SlaPolicyRule | None = None
    priority_class: str = "normal"
    draws: int = 0

    @property
    def id(self) -> int:
        return self.customer.index + 1

    @property
    def live(self) -> bool:
        return self.customer.channel != Channel.EMAIL


@dataclass(slots=True, eq=False)
class Agent:
    spec: AgentSpec
    email_weight: float = 0.5
    """What an open e-mail ticket counts against the cap (the routing setting)."""
    status: AgentStatus = AgentStatus.OFFLINE
    chats: dict[int, Chat] = field(default_factory=dict)
    emails: int = 0
    last_assigned: float | None = None
    cached: AgentState | None = None
    on_shift: bool = False
    pending_break: float = 0.0
    break_until: float = -1.0
    away_until: float = -1.0
    pomodoro_version: int = 0
    rate: float = 1.0
    accounted_at: float = 0.0
    slot_time: float = 0.0
    busy_time: float = 0.0
    shift_time: float = 0.0
    capacity_time: float = 0.0
    online_time: float = 0.0
    max_chats: int = 0
    answered: int = 0
    completions: deque[float] = field(default_factory=deque)

    @property
    def id(self) -> int:
        return self.spec.id

    @property
    def has_room(self) -> bool:
        load = len(self.chats) - self.emails * (1 - self.email_weight)
        return load < self.spec.max_chats


@dataclass(frozen=True, slots=True)
class ChatOutcome:
    """What happened to one customer counted by the metrics."""

    arrival: float
    live: bool
    topic: str
    category: str
    priority_class: str
    high_value: bool
    first_response: float | None
    """Seconds from arrival to the first answer; None: never answered."""
    abandoned_after: float | None
    """Seconds waited before giving up; None: did not give up."""
    waited: bool
    """Not assigned the moment they arrived."""
    queue_wait: float | None
    """Seconds until assigned to the agent who answered."""
    predicted_wait: float | None
    """The wait `expected_waits` predicted at arrival (None: no estimate)."""
    sla: str | None
    """First-response target: met, missed, or None (no target, or undecided)."""
    reoffers: int
    transfers: int
    waiting_at_end: float | None
    """Seconds waited so far by a customer still waiting when the clock stopped."""


@dataclass(frozen=True, slots=True)
class AgentOutcome:
    id: int
    group: str
    max_chats: int
    shift_time: float
    online_time: float
    slot_time: float
    busy_time: float
    capacity_time: float
    max_concurrency: int
    answered: int


@dataclass(frozen=True, slots=True)
class RunResult:
    """One strategy on one replication: outcomes, agents, the day's curves, rule counts."""

    scenario: str
    strategy: Strategy
    replication: int
    outcomes: tuple[ChatOutcome, ...]
    agents: tuple[AgentOutcome, ...]
    timeline: tuple[tuple[float, int, int, int], ...]
    """(seconds, chats waiting, agents online, chats held by agents) samples."""
    totals: dict[str, int]
    """Counts over every customer of the run (conservation) and rule actions taken."""
    window: tuple[float, float]
    service_target: float


def _minute_thresholds(rules: Iterable[Rule]) -> list[float]:
    """Seconds after arrival when `minutes_unresolved` conditions can start to hold."""
    found: set[float] = set()

    def walk(node: Condition | ConditionGroup) -> None:
        if isinstance(node, ConditionGroup):
            for inner in node.conditions:
                walk(inner)
        elif (
            node.field == Field.MINUTES_UNRESOLVED
            and isinstance(node.value, float)
            and node.operator in (Operator.GT, Operator.GTE)
        ):
            found.add(node.value * 60 + (_AFTER if node.operator == Operator.GT else 0.0))

    for rule in rules:
        if rule.active:
            walk(rule.when)
    return sorted(found)


def _uses_sla_breach(rules: Iterable[Rule]) -> bool:
    def walk(node: Condition | ConditionGroup) -> bool:
        if isinstance(node, ConditionGroup):
            return any(walk(inner) for inner in node.conditions)
        return node.field == Field.SLA_BREACHED

    return any(rule.active and walk(rule.when) for rule in rules)


class Simulation:
    """One run: a scenario, its customers of one replication, and one strategy."""

    def __init__(
        self,
        model: Model,
        customers: list[Customer],
        strategy: Strategy,
        *,
        replication: int = 0,
        record_expected_wait: bool = True,
    ) -> None:
        self.model = model
        self.customers = customers
        self.strategy = strategy
        self.replication = replication
        self.record_expected_wait = record_expected_wait
        self.config: RoutingConfig = dataclasses.replace(model.routing, strategy=strategy)
        self.timeout = self.config.answer_timeout_seconds
        self.start = model.start
        self.window = (model.warmup, model.horizon)
        self.now = 0.0
        self.events: list[tuple[float, int, int, object, int]] = []
        self.seq = 0
        self.chats: dict[int, Chat] = {}
        self.waiting: dict[int, Chat] = {}
        self.agents = {
            spec.id: Agent(spec, email_weight=model.routing.email_weight) for spec in model.agents
        }
        self.online: dict[int, Agent] = {}
        self.unsettled: dict[int, Agent] = {}
        """Agents whose status must be worked out again, in the order they changed."""
        self.dirty = False
        self.held_ticks: set[float] = set()
        self.counts: Counter[str] = Counter()
        self.timeline: list[tuple[float, int, int, int]] = []
        self.fallback = stream(model.seed, replication, f"fallback:{strategy.value}")
        self.rule_checks = _minute_thresholds(model.rules)
        self.sla_rules = _uses_sla_breach(model.rules)
        self._handlers: dict[int, Callable[[object, int], None]] = {
            ARRIVE: self._on_arrive,
            ANSWER: self._on_answer,
            TIMEOUT: self._on_timeout,
            COMPLETE: self._on_complete,
            ABANDON: self._on_abandon,
            SHIFT_START: self._on_shift_start,
            SHIFT_END: self._on_shift_end,
            BREAK_DUE: self._on_break_due,
            BREAK_END: self._on_break_end,
            POMODORO: self._on_pomodoro,
            AWAY_START: self._on_away_start,
            AWAY_END: self._on_away_end,
            HOLD: self._on_hold,
            RULE_CHECK: self._on_rule_check,
            SLA_DUE: self._on_sla_due,
            SAMPLE: self._on_sample,
        }

    # -- plumbing ---------------------------------------------------------------------

    def _at(self, when: float, kind: int, subject: object = None, tag: int = 0) -> None:
        heapq.heappush(self.events, (when, self.seq, kind, subject, tag))
        self.seq += 1

    def moment(self, seconds: float) -> datetime:
        """The domain's view of a simulated time."""
        return self.start + timedelta(seconds=seconds)

    def run(self) -> RunResult:
        for index, customer in enumerate(self.customers):
            self._at(customer.arrival, ARRIVE, customer, index)
        for agent in self.agents.values():
            self._plan_agent(agent)
        self._at(0.0, SAMPLE)
        end = self.model.end
        events = self.events
        handlers = self._handlers
        while events and events[0][0] <= end:
            when, _, kind, subject, tag = heapq.heappop(events)
            self.now = when
            handlers[kind](subject, tag)
            self._settle_all()
            while self.dirty:
                self._dispatch()
                self._settle_all()
        self.now = end
        for agent in self.agents.values():
            self._account(agent)
        return self._result()

    def _settle_all(self) -> None:
        while self.unsettled:
            self._settle(self.unsettled.pop(next(iter(self.unsettled))))

    def _plan_agent(self, agent: Agent) -> None:
        spec = agent.spec
        for begin, finish in spec.shifts:
            self._at(begin, SHIFT_START, agent)
            self._at(finish, SHIFT_END, agent)
        for due, length in spec.breaks:
            self._at(due, BREAK_DUE, agent, round(length * 1000))
        if spec.away_seconds is not None and spec.away_per_second > 0:
            rng = stream(self.model.seed, self.replication, f"away:{spec.id}")
            at = 0.0
            while True:
                at += -math.log1p(-rng.random()) / spec.away_per_second
                if at >= self.model.end:
                    break
                length = spec.away_seconds.draw(rng.random())
                self._at(at, AWAY_START, agent, round(length * 1000))

    # -- accounting -------------------------------------------------------------------

    def _account(self, agent: Agent) -> None:
        """Add the time since the last change to the agent's totals (inside the window)."""
        start = max(agent.accounted_at, self.window[0])
        stop = min(self.now, self.window[1])
        agent.accounted_at = self.now
        if stop <= start:
            return
        span = stop - start
        held = len(agent.chats)
        if agent.status != AgentStatus.OFFLINE:
            agent.shift_time += span
            agent.capacity_time += span * agent.spec.max_chats
        if agent.status == AgentStatus.ONLINE:
            agent.online_time += span
        if held:
            agent.slot_time += held * span
            agent.busy_time += span

    def _in_window(self) -> bool:
        return self.window[0] <= self.now <= self.window[1]

    # -- the domain's view --------------------------------------------------------------

    def _agent_state(self, agent: Agent) -> AgentState:
        if agent.cached is None:
            spec = agent.spec
            agent.cached = AgentState(
                id=spec.id,
                status=agent.status,
                team_ids=spec.team_ids,
                skills=spec.skills,
                languages=spec.languages,
                tier=spec.tier,
                max_concurrent_chats=spec.max_chats,
                open_chats=len(agent.chats) - agent.emails,
                open_email_tickets=agent.emails,
                last_assigned_at=None
                if agent.last_assigned is None
                else self.moment(agent.last_assigned),
            )
        return agent.cached

    def _queued(self, chat: Chat) -> QueuedConversation:
        if chat.queued is None:
            customer = chat.customer
            chat.queued = QueuedConversation(
                id=chat.id,
                waiting_since=self.moment(chat.waiting_since),
                channel=customer.channel,
                category=customer.category,
                intent=customer.topic.intent,
                urgent_reason=chat.urgent_reason,
                priority=chat.priority,
                language=customer.language,
                team_id=chat.team_id,
                tier=chat.tier,
                plan=customer.plan,
                lifetime_value_cents=customer.lifetime_value_cents,
                orders_count=customer.orders_count,
                order_value_cents=customer.order_value_cents,
                first_time_customer=customer.first_time,
                first_response_due_at=chat.due if chat.answered_at is None else None,
                previous_agent_id=chat.previous_agent,
                excluded_agent_ids=chat.excluded,
            )
        return chat.queued

    def _facts(self, chat: Chat, *, minutes: float = 0.0, sla_breached: bool = False) -> Facts:
        customer = chat.customer
        agent = chat.agent
        return Facts(
            category=customer.category,
            priority=chat.priority,
            plan=customer.plan,
            channel=customer.channel,
            status=ConversationStatus.OPEN,
            tier=chat.tier,
            text=customer.text,
            minutes_unresolved=minutes,
            sla_breached=sla_breached,
            refund_amount_cents=customer.refund_cents if agent is not None else None,
            agent_refund_limit_cents=None if agent is None else agent.spec.refund_limit_cents,
            fired_rules=chat.fired,
        )

    # -- routing ----------------------------------------------------------------------

    def _dispatch(self) -> None:
        self.dirty = False
        if not self.waiting or not any(agent.has_room for agent in self.online.values()):
            return
        if self.strategy == Strategy.PULL:
            self._pull()
            return
        queue = [self._queued(chat) for chat in self.waiting.values()]
        # A full agent cannot be given anything this round, so only agents with room
        # are passed, plus the previous agents of returning customers (the router
        # holds a chat for a busy previous agent). The plan is the same as with
        # every online agent, at a fraction of the indexing cost.
        sticky = {chat.previous_agent for chat in self.waiting.values()}
        agents = [
            self._agent_state(agent)
            for agent in self.online.values()
            if agent.has_room or agent.id in sticky
        ]
        plan = strategies.route(queue, agents, self.model.teams, self.moment(self.now), self.config)
        for assignment in plan.assignments:
            self._assign(self.chats[assignment.conversation_id], self.agents[assignment.agent_id])
        for held in plan.held:
            until = (held.until - self.start).total_seconds() + _AFTER
            if until not in self.held_ticks:
                self.held_ticks.add(until)
                self._at(until, HOLD)

    def _pull(self) -> None:
        """Agents with room take the oldest chat they may take, longest idle first."""
        pulling = True
        while pulling and self.waiting:
            pulling = False
            ready = sorted(
                (agent for agent in self.online.values() if agent.has_room),
                key=lambda agent: (
                    -math.inf if agent.last_assigned is None else agent.last_assigned,
                    agent.id,
                ),
            )
            for agent in ready:
                if not self.waiting or not agent.has_room or agent.status != AgentStatus.ONLINE:
                    continue
                queue = [self._queued(chat) for chat in self.waiting.values()]
                taken = strategies.next_for_agent(
                    self._agent_state(agent), queue, self.model.teams, self.config
                )
                if taken is not None:
                    self._assign(self.chats[taken.id], agent)
                    pulling = True

    def _assign(self, chat: Chat, agent: Agent) -> None:
        now = self.now
        del self.waiting[chat.id]
        self._account(agent)
        chat.state = ASSIGNED
        chat.agent = agent
        chat.assignment += 1
        chat.assigned_at = now
        if chat.first_assigned_at is None:
            chat.first_assigned_at = now
        agent.chats[chat.id] = chat
        if not chat.live:
            agent.emails += 1
        agent.last_assigned = now
        agent.cached = None
        if self._in_window():
            agent.max_chats = max(agent.max_chats, len(agent.chats))
        self._rerate(agent)
        draws = chat.customer.reply_draws
        uniform = draws[chat.draws] if chat.draws < len(draws) else self.fallback.random()
        chat.draws += 1
        delay = agent.spec.first_response_seconds.draw(uniform)
        self._at(now + delay, ANSWER, chat, chat.assignment)
        if chat.live and chat.answered_at is None and delay >= self.timeout:
            self._at(now + self.timeout + _AFTER, TIMEOUT, chat, chat.assignment)
        if chat.customer.refund_cents is not None and self.model.rules:
            self._apply_rules(chat, self._facts(chat, minutes=(now - chat.customer.arrival) / 60))

    def _release(self, chat: Chat) -> None:
        agent = chat.agent
        if agent is None:
            return
        if chat.state == ACTIVE:
            chat.remaining = max(0.0, chat.remaining - (self.now - chat.since) * chat.rate)
            chat.since = self.now
        chat.version += 1
        self._account(agent)
        del agent.chats[chat.id]
        if not chat.live:
            agent.emails -= 1
        agent.cached = None
        chat.agent = None
        self._rerate(agent)
        self.unsettled[agent.id] = agent
        self.dirty = True

    def _rerate(self, agent: Agent) -> None:
        """Re-time the agent's chats in progress when their number changes (alpha > 0)."""
        slowdown = self.model.slowdown
        if slowdown == 0:
            return
        rate = (1 + slowdown) ** -max(0, len(agent.chats) - 1)
        if rate == agent.rate:
            return
        agent.rate = rate
        now = self.now
        for chat in agent.chats.values():
            if chat.state != ACTIVE:
                continue
            chat.remaining = max(0.0, chat.remaining - (now - chat.since) * chat.rate)
            chat.since = now
            chat.rate = rate
            chat.version += 1
            self._at(now + chat.remaining / rate, COMPLETE, chat, chat.version)

    def _requeue(self, chat: Chat, since: float) -> None:
        chat.state = QUEUED
        chat.waiting_since = since
        chat.queued = None
        self.waiting[chat.id] = chat
        self.dirty = True

    def _reoffer(self, chat: Chat) -> None:
        """Take an unanswered chat back; the customer keeps their place (arrival time)."""
        agent = chat.agent
        if agent is None:
            return
        self._release(chat)
        chat.excluded = chat.excluded | {agent.id}
        chat.reoffers += 1
        self.counts["reoffers"] += 1
        self._requeue(chat, chat.waiting_since)
        if chat.answered_at is None and self.now >= chat.customer.arrival + chat.customer.patience:
            self._abandon(chat)

    # -- rules ------------------------------------------------------------------------

    def _apply_rules(self, chat: Chat, facts: Facts) -> None:
        rules = self.model.rules
        fired = matching_rules(rules, facts)
        if not fired:
            return
        chat.fired = chat.fired | {rule.name for rule in fired if rule.once}
        team_id, tier = chat.team_id, chat.tier
        for action in evaluate(rules, facts):
            kind = action.kind
            self.counts[f"action:{kind.value}"] += 1
            if kind == ActionKind.SET_URGENT:
                chat.urgent_reason = str(action.value)
            elif kind == ActionKind.SET_PRIORITY:
                chat.priority = Priority(str(action.value))
            elif kind == ActionKind.SET_TEAM and isinstance(action.value, int):
                team_id = action.value
            elif kind == ActionKind.ESCALATE_TO_TIER2:
                tier = 2
                value = action.value if isinstance(action.value, int) else None
                team_id = value or self.model.tier2_team_id or team_id
        chat.queued = None
        if (team_id, tier) != (chat.team_id, chat.tier):
            self._transfer(chat, team_id, tier)

    def _transfer(self, chat: Chat, team_id: int | None, tier: int) -> None:
        """Move the chat to another team or tier; its agent keeps it if still eligible."""
        chat.team_id, chat.tier = team_id, tier
        chat.queued = None
        agent = chat.agent
        if chat.state == QUEUED:
            self.dirty = True
            return
        if agent is None or chat.state not in (ASSIGNED, ACTIVE):
            return
        verdict = eligibility(
            self._agent_state(agent),
            self._queued(chat),
            self.model.teams,
            self.config,
            check_capacity=False,
        )
        if [problem for problem in verdict.problems if not problem.startswith("status")]:
            self._release(chat)
            chat.transfers += 1
            self.counts["transfers"] += 1
            # Answered customers keep waiting for the new agent; the queue counts from now.
            self._requeue(chat, self.now if chat.answered_at is not None else chat.waiting_since)

    # -- agents -----------------------------------------------------------------------

    def _settle(self, agent: Agent) -> None:
        """Work out the agent's status from their shift, breaks and chats."""
        now = self.now
        if not agent.on_shift:
            status = AgentStatus.AWAY if agent.chats else AgentStatus.OFFLINE
        elif agent.break_until > now:
            status = AgentStatus.ON_BREAK
        elif agent.pending_break > 0:
            if agent.chats:
                status = AgentStatus.AWAY
            else:
                agent.break_until = now + agent.pending_break
                agent.pending_break = 0.0
                agent.pomodoro_version += 1
                self._at(agent.break_until, BREAK_END, agent)
                self.counts["breaks"] += 1
                status = AgentStatus.ON_BREAK
        elif agent.away_until > now:
            status = AgentStatus.AWAY
        else:
            status = AgentStatus.ONLINE
        if status == agent.status:
            return
        previous = agent.status
        self._account(agent)
        agent.status = status
        agent.cached = None
        if status == AgentStatus.ONLINE:
            self.online[agent.id] = agent
            self.dirty = True
            pomodoro = agent.spec.pomodoro
            if pomodoro is not None and previous in (AgentStatus.OFFLINE, AgentStatus.ON_BREAK):
                agent.pomodoro_version += 1
                self._at(now + pomodoro[0], POMODORO, agent, agent.pomodoro_version)
            return
        self.online.pop(agent.id, None)
        waiting_for_answer = [
            strategies.OpenAssignment(
                conversation_id=chat.id,
                agent_id=agent.id,
                assigned_at=self.moment(chat.assigned_at),
                agent_status=status,
                channel=chat.customer.channel,
            )
            for chat in agent.chats.values()
            if chat.state == ASSIGNED
        ]
        if waiting_for_answer:
            due = strategies.reoffer_due(waiting_for_answer, self.moment(now), self.timeout)
            for reoffer in due:
                self._reoffer(self.chats[reoffer.conversation_id])

    def _on_shift_start(self, subject: object, tag: int) -> None:
        agent = _agent(subject)
        agent.on_shift = True
        self.unsettled[agent.id] = agent

    def _on_shift_end(self, subject: object, tag: int) -> None:
        agent = _agent(subject)
        if any(begin <= self.now < finish for begin, finish in agent.spec.shifts):
            return  # back-to-back shifts: still on
        agent.on_shift = False
        agent.pending_break = 0.0
        self.unsettled[agent.id] = agent

    def _on_break_due(self, subject: object, tag: int) -> None:
        agent = _agent(subject)
        if agent.on_shift and agent.break_until <= self.now:
            agent.pending_break = max(agent.pending_break, tag / 1000)
            self.unsettled[agent.id] = agent

    def _on_break_end(self, subject: object, tag: int) -> None:
        agent = _agent(subject)
        agent.break_until = -1.0
        self.unsettled[agent.id] = agent

    def _on_pomodoro(self, subject: object, tag: int) -> None:
        agent = _agent(subject)
        pomodoro = agent.spec.pomodoro
        if tag == agent.pomodoro_version and agent.on_shift and pomodoro is not None:
            agent.pending_break = max(agent.pending_break, pomodoro[1])
            self.unsettled[agent.id] = agent

    def _on_away_start(self, subject: object, tag: int) -> None:
        agent = _agent(subject)
        if agent.status == AgentStatus.ONLINE:
            agent.away_until = self.now + tag / 1000
            self._at(agent.away_until, AWAY_END, agent)
            self.counts["away"] += 1
            self.unsettled[agent.id] = agent

    def _on_away_end(self, subject: object, tag: int) -> None:
        agent = _agent(subject)
        if agent.away_until <= self.now:
            agent.away_until = -1.0
        self.unsettled[agent.id] = agent

    # -- customers --------------------------------------------------------------------

    def _on_arrive(self, subject: object, tag: int) -> None:
        customer = _customer(subject)
        now = self.now
        chat = Chat(customer=customer, waiting_since=now, priority=customer.priority)
        self.chats[chat.id] = chat
        chat.remaining = customer.work
        if customer.returning_of is not None:
            earlier = self.chats.get(customer.returning_of + 1)
            if earlier is not None:
                chat.previous_agent = earlier.answered_by
        model = self.model
        if model.rules:
            self._apply_rules(chat, self._facts(chat))
        if model.sla_policies:
            chat.policy = match_policy(
                model.sla_policies,
                priority=chat.priority,
                category=customer.category,
                plan=customer.plan,
                channel=customer.channel,
            )
            if chat.policy is not None:
                clock = SlaClock.for_policy(chat.policy, self.moment(now))
                chat.due = clock.due_at(SlaTarget.FIRST_RESPONSE)
                if chat.due is not None and self.sla_rules:
                    due = (chat.due - self.start).total_seconds() + _AFTER
                    self._at(due, SLA_DUE, chat)
        queued = self._queued(chat)
        urgent = urgency_reason(queued, model.routing.weights)
        chat.priority_class = (
            "urgent"
            if urgent is not None or chat.priority == Priority.URGENT
            else chat.priority.value
        )
        self.waiting[chat.id] = chat
        if math.isfinite(customer.patience):
            self._at(now + customer.patience, ABANDON, chat)
        for after in self.rule_checks:
            self._at(now + after, RULE_CHECK, chat)
        if self.record_expected_wait and chat.live:
            chat.predicted_wait = self._estimate(chat)
        self.dirty = True

    def _estimate(self, chat: Chat) -> float | None:
        cutoff = self.now - RECENT_COMPLETIONS
        rates: dict[int, float] = {}
        for agent in self.online.values():
            recent = agent.completions
            while recent and recent[0] < cutoff:
                recent.popleft()
            rates[agent.id] = len(recent) / (RECENT_COMPLETIONS / 60)
        estimates = expected_wait.expected_waits(
            [self._queued(waiting) for waiting in self.waiting.values()],
            [self._agent_state(agent) for agent in self.online.values()],
            self.model.teams,
            self.moment(self.now),
            self.config,
            rates,
        )
        return estimates[chat.id].seconds

    def _on_answer(self, subject: object, tag: int) -> None:
        chat = _chat(subject)
        agent = chat.agent
        if chat.assignment != tag or chat.state != ASSIGNED or agent is None:
            return
        now = self.now
        chat.state = ACTIVE
        if chat.answered_at is None:
            chat.answered_at = now
            chat.answered_by = agent.id
            chat.queue_wait = chat.assigned_at - chat.customer.arrival
            chat.queued = None
            if self._in_window():
                agent.answered += 1
        chat.since = now
        chat.rate = agent.rate
        chat.version += 1
        self._at(now + chat.remaining / chat.rate, COMPLETE, chat, chat.version)

    def _on_timeout(self, subject: object, tag: int) -> None:
        chat = _chat(subject)
        agent = chat.agent
        if chat.assignment != tag or chat.state != ASSIGNED or agent is None:
            return
        state = strategies.OpenAssignment(
            conversation_id=chat.id,
            agent_id=agent.id,
            assigned_at=self.moment(chat.assigned_at),
            agent_status=agent.status,
            channel=chat.customer.channel,
        )
        if strategies.reoffer_due([state], self.moment(self.now), self.timeout):
            self._reoffer(chat)

    def _on_complete(self, subject: object, tag: int) -> None:
        chat = _chat(subject)
        agent = chat.agent
        if chat.version != tag or chat.state != ACTIVE or agent is None:
            return
        chat.remaining = 0.0
        self._release(chat)
        chat.state = DONE
        chat.done_at = self.now
        agent.completions.append(self.now)

    def _on_abandon(self, subject: object, tag: int) -> None:
        """Patience runs out; only a customer still in the queue leaves.

        Once an agent has taken the chat the widget shows them joining, so the
        customer stays (the Erlang A model). Should the agent let it go unanswered,
        a customer whose patience is gone leaves when the chat returns to the queue.
        """
        chat = _chat(subject)
        if chat.state == QUEUED and chat.answered_at is None:
            self._abandon(chat)

    def _abandon(self, chat: Chat) -> None:
        del self.waiting[chat.id]
        chat.state = ABANDONED
        chat.left_at = self.now

    def _on_hold(self, subject: object, tag: int) -> None:
        self.held_ticks.discard(self.now)
        self.dirty = True

    def _on_rule_check(self, subject: object, tag: int) -> None:
        chat = _chat(subject)
        if chat.state in (DONE, ABANDONED):
            return
        minutes = (self.now - chat.customer.arrival) / 60
        self._apply_rules(chat, self._facts(chat, minutes=minutes))

    def _on_sla_due(self, subject: object, tag: int) -> None:
        chat = _chat(subject)
        if chat.answered_at is not None or chat.state in (DONE, ABANDONED):
            return
        self.counts["sla_breaches"] += 1
        minutes = (self.now - chat.customer.arrival) / 60
        self._apply_rules(chat, self._facts(chat, minutes=minutes, sla_breached=True))

    def _on_sample(self, subject: object, tag: int) -> None:
        held = sum(len(agent.chats) for agent in self.agents.values())
        self.timeline.append((self.now, len(self.waiting), len(self.online), held))
        following = self.now + self.model.sample_every
        if following <= self.model.end:
            self._at(following, SAMPLE)

    # -- the outcome ------------------------------------------------------------------

    def _sla_state(self, chat: Chat) -> str | None:
        if chat.policy is None or chat.policy.targets.first_response_minutes is None:
            return None
        clock = SlaClock(
            started_at=self.moment(chat.customer.arrival),
            targets=chat.policy.targets,
            calendar=chat.policy.calendar,
            first_response_at=None if chat.answered_at is None else self.moment(chat.answered_at),
        )
        status = clock.target_status(SlaTarget.FIRST_RESPONSE, self.moment(self.now))
        if status is None or status.state == TargetState.ACTIVE:
            return None
        return status.state.value

    def _result(self) -> RunResult:
        start, stop = self.window
        outcomes = []
        totals: Counter[str] = Counter()
        for chat in self.chats.values():
            customer = chat.customer
            if chat.answered_at is not None:
                totals["answered"] += 1
            elif chat.state == ABANDONED:
                totals["abandoned"] += 1
            else:
                totals["waiting"] += 1
            if not start <= customer.arrival < stop:
                continue
            still_waiting = chat.answered_at is None and chat.state != ABANDONED
            outcomes.append(
                ChatOutcome(
                    arrival=customer.arrival,
                    live=chat.live,
                    topic=customer.topic.name,
                    category=customer.category,
                    priority_class=chat.priority_class,
                    high_value=customer.high_value,
                    first_response=None
                    if chat.answered_at is None
                    else chat.answered_at - customer.arrival,
                    abandoned_after=None
                    if chat.left_at is None
                    else chat.left_at - customer.arrival,
                    waited=chat.first_assigned_at is None
                    or chat.first_assigned_at > customer.arrival,
                    queue_wait=chat.queue_wait,
                    predicted_wait=chat.predicted_wait,
                    sla=self._sla_state(chat),
                    reoffers=chat.reoffers,
                    transfers=chat.transfers,
                    waiting_at_end=self.now - customer.arrival if still_waiting else None,
                )
            )
        totals["arrivals"] = len(self.chats)
        totals.update(self.counts)
        agents = tuple(
            AgentOutcome(
                id=agent.id,
                group=agent.spec.group,
                max_chats=agent.spec.max_chats,
                shift_time=agent.shift_time,
                online_time=agent.online_time,
                slot_time=agent.slot_time,
                busy_time=agent.busy_time,
                capacity_time=agent.capacity_time,
                max_concurrency=agent.max_chats,
                answered=agent.answered,
            )
            for agent in self.agents.values()
        )
        return RunResult(
            scenario=self.model.name,
            strategy=self.strategy,
            replication=self.replication,
            outcomes=tuple(outcomes),
            agents=agents,
            timeline=tuple(self.timeline),
            totals=dict(totals),
            window=self.window,
            service_target=self.model.service_target,
        )


def _agent(subject: object) -> Agent:
    assert isinstance(subject, Agent)
    return subject


def _chat(subject: object) -> Chat:
    assert isinstance(subject, Chat)
    return subject


def _customer(subject: object) -> Customer:
    assert isinstance(subject, Customer)
    return subject


def simulate(
    model: Model,
    customers: list[Customer],
    strategy: Strategy,
    *,
    replication: int = 0,
    record_expected_wait: bool = True,
) -> RunResult:
    """Run one strategy over one replication's customers."""
    return Simulation(
        model,
        customers,
        strategy,
        replication=replication,
        record_expected_wait=record_expected_wait,
    ).run()
