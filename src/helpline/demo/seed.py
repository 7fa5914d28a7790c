"""Seed the demo organisation into an empty database, in one transaction.

The result is deterministic for a given `seed` and `now`: every time is relative to
`now`, every choice comes from `random.Random(seed)`. Conversations are written the
way the services write them: numbers from the gap-free counter, messages and
activities on one sequence (`history.next_seq` / `record_activity`), and the
derived fields (waiting_since, first_response_at, solved_at, SLA deadlines) agree
with the history.
"""

from __future__ import annotations

import random
import secrets
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from helpline.adapters.db.counters import next_value
from helpline.adapters.db.models import (
    Article,
    CannedResponse,
    Contact,
    Conversation,
    ConversationTag,
    Inbox,
    InboxMember,
    Message,
    Participant,
    Rule,
    SLAPolicy,
    Team,
    TeamMember,
    User,
)
from helpline.adapters.passwords import hash_password
from helpline.demo import content
from helpline.demo.content import SCENARIOS, STAFF, Scenario, StaffSpec
from helpline.domain.enums import (
    ActivityKind,
    AuthorType,
    Channel,
    MessageKind,
    Plan,
    Priority,
    Role,
)
from helpline.domain.enums import ConversationStatus as S
from helpline.domain.rules import (
    SECURITY_RULE,
    TIER2_RULE,
    builtin_rules,
    rule_from_data,
    rule_to_data,
)
from helpline.domain.sla.calendar import BusinessCalendar, add_business_time, calendar_from_data
from helpline.services.history import next_seq, record_activity

DEFAULT_SEED = 20260302
AUTO_CLOSE_DAYS = 7.0


@dataclass(frozen=True, slots=True)
class DemoLogin:
    """A documented demo account, printed by `helpline demo`."""

    role: str
    name: str
    email: str
    password: str


def _login(spec: StaffSpec, label: str) -> DemoLogin:
    return DemoLogin(label, spec.name, spec.email, spec.password)


_BY_NAME = {spec.name: spec for spec in STAFF}
DEMO_ADMIN = _login(_BY_NAME["Alex Morgan"], "admin")
DEMO_SUPERVISOR = _login(_BY_NAME["Helena Fischer"], "supervisor")
DEMO_AGENT = _login(_BY_NAME["Anna Kowalska"], "agent")
DEMO_LOGINS: tuple[DemoLogin, ...] = (DEMO_ADMIN, DEMO_SUPERVISOR, DEMO_AGENT)


@dataclass(frozen=True, slots=True)
class DemoSummary:
    teams: int
    agents: int
    supervisors: int
    admins: int
    contacts: int
    conversations: int
    messages: int
    by_status: dict[str, int]


def demo_is_seeded(db: Session) -> bool:
    """Any user at all means the database is in use: never seed over it."""
    return db.scalar(select(User.id).limit(1)) is not None


# ---------------------------------------------------------------- the shapes a conversation takes

# (status, how it got there, how many). 64 conversations, every status present.
SHAPES: tuple[tuple[str, int], ...] = (
    ("new", 7),  # open, nobody has answered yet
    ("ongoing", 9),  # open, the customer answered the agent
    ("reopened", 2),  # solved, then the customer wrote again
    ("asked", 7),  # pending: the agent asked the customer something
    ("snoozed", 4),  # pending until a time in the future
    ("hold", 7),  # on hold: waiting on a colleague, courier or engineering
    ("solved", 14),
    ("closed_manual", 6),
    ("closed_auto", 8),  # closed by the clock a week after it was solved
)

AGE_HOURS: dict[str, tuple[float, float]] = {
    "new": (0.1, 8),
    "ongoing": (1, 48),
    "reopened": (24, 96),
    "asked": (6, 96),
    "snoozed": (24, 120),
    "hold": (24, 168),
    "solved": (6, 144),  # solved less than AUTO_CLOSE_DAYS ago: still solved
    "closed_manual": (48, 720),
    "closed_auto": (240, 960),
}

# Minutes between a message and the answer to it, by channel.
ANSWER_GAP: dict[Channel, tuple[float, float]] = {
    Channel.CHAT: (1, 6),
    Channel.EMAIL: (30, 600),
    Channel.PHONE: (2, 15),
    Channel.API: (20, 240),
}

REOPEN_TEXT = "Hi again, I'm afraid the problem is back. Could you take another look?"
HOLD_TEXT = (
    "I've checked with the team responsible and I'm waiting for their answer. "
    "I'll update you here as soon as I hear back, {first}."
)
ESCALATION_NOTE = "Beyond what tier 1 can do here; transferring to {team}."

PRIORITY_SCORE = {
    Priority.URGENT: 80.0,
    Priority.HIGH: 55.0,
    Priority.NORMAL: 30.0,
    Priority.LOW: 10.0,
}
PLAN_BONUS = {"enterprise": 15.0, "paid": 8.0, "trial": 5.0, "free": 0.0, None: 0.0}


@dataclass(slots=True)
class _Org:
    """What the conversations refer to, by name."""

    teams: dict[str, Team] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    inboxes: dict[Channel, Inbox] = field(default_factory=dict)
    sla: dict[Priority, SLAPolicy] = field(default_factory=dict)
    members: dict[str, list[str]] = field(default_factory=dict)
    """Team name -> names of its agents (not the supervisor)."""


# ---------------------------------------------------------------- entry point


def seed_demo(db: Session, *, now: datetime, seed: int = DEFAULT_SEED) -> DemoSummary:
    """Create the demo organisation and commit. Call on an empty database only."""
    rng = random.Random(seed)
    org = _Org()
    _seed_teams(db, org, now)
    _seed_staff(db, org, now, rng)
    _seed_inboxes(db, org, now)
    _seed_policies(db, org, now)
    contacts = _seed_contacts(db, now, rng)
    conversations = _seed_conversations(db, org, contacts, now, rng)
    _seed_knowledge(db, org, now, rng)
    db.flush()
    message_count = db.scalar(select(func.count(Message.id))) or 0
    db.commit()
    return DemoSummary(
        teams=len(org.teams),
        agents=sum(1 for spec in STAFF if spec.role == Role.AGENT),
        supervisors=sum(1 for spec in STAFF if spec.role == Role.SUPERVISOR),
        admins=sum(1 for spec in STAFF if spec.role == Role.ADMIN),
        contacts=len(contacts),
        conversations=len(conversations),
        messages=message_count,
        by_status=dict(Counter(c.status for c in conversations)),
    )


# ---------------------------------------------------------------- organisation


def _seed_teams(db: Session, org: _Org, now: datetime) -> None:
    for spec in content.TEAMS:
        team = Team(
            name=spec.name,
            tier=spec.tier,
            categories=list(spec.categories),
            description=spec.description,
            created_at=now - timedelta(days=400),
        )
        db.add(team)
        org.teams[spec.name] = team
        org.members[spec.name] = []
    db.flush()


@lru_cache(maxsize=8)
def _hash_demo_password(password: str) -> str:
    """argon2 is slow on purpose: hash each demo password once per process."""
    return hash_password(password)


def _seed_staff(db: Session, org: _Org, now: datetime, rng: random.Random) -> None:
    hashes = {spec.password: _hash_demo_password(spec.password) for spec in STAFF}
    for spec in STAFF:
        user = User(
            email=spec.email,
            name=spec.name,
            password_hash=hashes[spec.password],
            role=spec.role.value,
            tier=spec.tier,
            max_concurrent_chats=spec.max_chats,
            refund_limit_cents=spec.refund_limit_cents,
            skills=list(spec.skills),
            languages=list(spec.languages),
            status=spec.status.value,
            status_since=now - timedelta(minutes=rng.randint(3, 240)),
            password_changed_at=now - timedelta(days=300),
            created_at=now - timedelta(days=rng.randint(120, 400)),
            last_login_at=now - timedelta(hours=rng.randint(1, 30)),
        )
        db.add(user)
        org.users[spec.name] = user
    db.flush()
    for spec in STAFF:
        for team_name in spec.teams:
            db.add(TeamMember(team_id=org.teams[team_name].id, user_id=org.users[spec.name].id))
            if spec.role == Role.AGENT:
                org.members[team_name].append(spec.name)


def _seed_inboxes(db: Session, org: _Org, now: datetime) -> None:
    for spec in content.INBOXES:
        inbox = Inbox(
            name=spec.name,
            channel=spec.channel.value,
            public_key=secrets.token_urlsafe(12),
            secret=secrets.token_urlsafe(32),
            email_address=spec.email_address,
            default_team_id=org.teams[spec.default_team].id if spec.default_team else None,
            settings={"greeting": f"Hi! Welcome to {content.COMPANY} support.", "ask_nps": True}
            if spec.channel == Channel.CHAT
            else {},
            created_at=now - timedelta(days=400),
        )
        db.add(inbox)
        org.inboxes[spec.channel] = inbox
    db.flush()
    for staff in STAFF:
        if staff.role == Role.ADMIN:
            continue  # admins see every inbox anyway
        user = org.users[staff.name]
        for channel, inbox in org.inboxes.items():
            works_api = staff.tier == 2
            if channel != Channel.API or works_api:
                db.add(InboxMember(inbox_id=inbox.id, user_id=user.id))


def _business_hours(now: datetime) -> dict[str, Any]:
    """Weekdays 08-18 and Saturday mornings in Berlin time, with public holidays."""
    year = now.year
    weekday = ((time(8), time(18)),)
    calendar = BusinessCalendar(
        time_zone="Europe/Berlin",
        weekly_hours={**dict.fromkeys(range(5), weekday), 5: ((time(10), time(14)),)},
        holidays=frozenset(
            date(year, month, day) for month, day in ((1, 1), (5, 1), (10, 3), (12, 25), (12, 26))
        ),
    )
    return calendar.to_data()


def _seed_policies(db: Session, org: _Org, now: datetime) -> None:
    hours = _business_hours(now)
    policies: tuple[tuple[Priority | None, str, int, int, int, dict[str, Any]], ...] = (
        # Urgent problems (failed payments, locked accounts, fraud) run around the clock.
        (Priority.URGENT, "Urgent: 15 minutes, around the clock", 15, 60, 4 * 60, {}),
        (Priority.HIGH, "High: 1 business hour", 60, 4 * 60, 24 * 60, hours),
        (None, "Normal and low: 4 business hours", 4 * 60, 8 * 60, 3 * 24 * 60, hours),
    )
    for position, (priority, name, first, following, resolution, calendar) in enumerate(policies):
        policy = SLAPolicy(
            name=name,
            position=position,
            match_priority=priority.value if priority else None,
            first_response_minutes=first,
            next_response_minutes=following,
            resolution_minutes=resolution,
            calendar=calendar,
            created_at=now - timedelta(days=200),
        )
        db.add(policy)
        org.sla[priority or Priority.NORMAL] = policy
    org.sla[Priority.LOW] = org.sla[Priority.NORMAL]
    db.flush()

    teams = org.teams
    billing = rule_from_data(
        "Billing questions go to the Billing team",
        [{"field": "category", "op": "is", "value": "billing"}],
        [{"action": "set_team", "value": teams["Billing"].id}],
    )
    builtin = builtin_rules(
        tier2_team_id=teams["Senior support"].id, security_team_id=teams["Security"].id
    )
    kinds = {SECURITY_RULE: "routing", TIER2_RULE: "escalation"}
    for position, rule in enumerate((billing, *builtin)):
        stored = rule_to_data(rule)
        conditions = stored["conditions"]
        kind = kinds.get(rule.name, "routing" if rule is billing else "escalation")
        db.add(
            Rule(
                name=rule.name,
                kind=kind,
                trigger="conversation_created" if kind == "routing" else "conversation_updated",
                # A top-level "all" group is stored as the plain list of its conditions.
                conditions=conditions["all"] if set(conditions) == {"all"} else [conditions],
                actions=stored["actions"],
                position=position,
                active=True,
                created_at=now - timedelta(days=150),
            )
        )


# ---------------------------------------------------------------- customers


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.replace("ł", "l").replace("Ł", "L"))
    return "".join(ch for ch in folded if ch.isascii() and (ch.isalnum() or ch in "-")).lower()


_PLAN_WEIGHTS = (
    (Plan.FREE.value, 28),
    (Plan.TRIAL.value, 14),
    (Plan.PAID.value, 34),
    (Plan.ENTERPRISE.value, 12),
    (None, 12),
)


def _seed_contacts(db: Session, now: datetime, rng: random.Random) -> list[Contact]:
    contacts: list[Contact] = []
    plans = [plan for plan, _ in _PLAN_WEIGHTS]
    weights = [weight for _, weight in _PLAN_WEIGHTS]
    for language, names in content.CUSTOMER_NAMES.items():
        for first, last in names:
            plan = rng.choices(plans, weights)[0]
            if plan == "enterprise":
                value, orders = rng.randint(500_000, 6_000_000), rng.randint(20, 400)
            elif plan == "paid":
                value, orders = rng.randint(5_000, 250_000), rng.randint(1, 40)
            elif plan == "free":
                value, orders = rng.randint(0, 5_000), rng.randint(0, 3)
            else:
                value, orders = 0, 0
            local = f"{_ascii(first)}.{_ascii(last)}"
            attributes: dict[str, Any] = {"country": rng.choice(content.COUNTRIES[language])}
            if orders:
                attributes["order_number"] = f"ACM-{rng.randint(10_000, 99_999)}"
            if plan == "enterprise":
                attributes["company"] = rng.choice(content.COMPANIES)
                attributes["account_manager"] = "Priya Raman"
            if plan == "trial":
                attributes["trial_ends"] = (
                    (now + timedelta(days=rng.randint(1, 13))).date().isoformat()
                )
            first_seen = now - timedelta(days=rng.randint(20, 900))
            contact = Contact(
                name=f"{first} {last}",
                email=f"{local}@{rng.choice(content.CUSTOMER_EMAIL_DOMAINS)}",
                phone=f"+44 20 7946 {rng.randint(0, 999):04d}" if rng.random() < 0.35 else None,
                external_id=f"shop-{rng.randint(100_000, 999_999)}" if plan else None,
                verified=plan is not None and rng.random() < 0.8,
                plan=plan,
                lifetime_value_cents=value,
                orders_count=orders,
                language=language,
                custom_attributes=attributes,
                notes="Prefers email over phone." if rng.random() < 0.15 else "",
                first_seen_at=first_seen,
                last_seen_at=now - timedelta(hours=rng.randint(1, 200)),
                created_at=first_seen,
                updated_at=now - timedelta(days=rng.randint(0, 20)),
            )
            db.add(contact)
            contacts.append(contact)
    db.flush()
    return contacts


# ---------------------------------------------------------------- conversations


Step = tuple[float, Callable[[datetime], None]]
"""(minutes after the previous step, what happens then)."""


class _Thread:
    """Writes one conversation's history in time order, keeping its fields true."""

    def __init__(self, db: Session, conversation: Conversation, contact: Contact) -> None:
        self.db = db
        self.conversation = conversation
        self.contact = contact
        self.steps: list[Step] = []

    def at(self, gap_minutes: float, action: Callable[[datetime], None]) -> None:
        self.steps.append((gap_minutes, action))

    def run(self, start: datetime, latest: datetime) -> None:
        """Play the steps from `start`, squeezed if needed to end before `latest`."""
        total = sum(gap for gap, _ in self.steps)
        room = (latest - start).total_seconds() / 60
        factor = min(1.0, room / total) if total > 0 else 1.0
        moment = start
        for gap, action in self.steps:
            moment += timedelta(minutes=gap * factor)
            action(moment)

    # what can happen

    def _touch(self, moment: datetime) -> None:
        self.conversation.updated_at = moment
        self.conversation.last_activity_at = moment

    def customer_says(self, body: str) -> Callable[[datetime], None]:
        def act(moment: datetime) -> None:
            self._message(moment, AuthorType.CONTACT, None, MessageKind.REPLY, body)
            if self.conversation.waiting_since is None:
                self.conversation.waiting_since = moment
            self.contact.last_seen_at = max(self.contact.last_seen_at, moment)

        return act

    def agent_says(self, agent: User, body: str) -> Callable[[datetime], None]:
        def act(moment: datetime) -> None:
            self._message(moment, AuthorType.AGENT, agent, MessageKind.REPLY, body)
            if self.conversation.first_response_at is None:
                self.conversation.first_response_at = moment
            self.conversation.waiting_since = None

        return act

    def note(self, agent: User, body: str) -> Callable[[datetime], None]:
        return lambda moment: self._message(moment, AuthorType.AGENT, agent, MessageKind.NOTE, body)

    def _message(
        self, moment: datetime, author: AuthorType, agent: User | None, kind: MessageKind, body: str
    ) -> None:
        self.db.add(
            Message(
                conversation_id=self.conversation.id,
                seq=next_seq(self.conversation),
                author_type=author.value,
                author_user_id=agent.id if agent is not None else None,
                author_contact_id=self.contact.id if author == AuthorType.CONTACT else None,
                kind=kind.value,
                body=body,
                attachments=[],
                created_at=moment,
            )
        )
        self._touch(moment)

    def activity(
        self,
        kind: ActivityKind,
        data: dict[str, Any],
        *,
        actor: User | None = None,
        actor_type: str = "agent",
        then: Callable[[datetime], None] | None = None,
    ) -> Callable[[datetime], None]:
        def act(moment: datetime) -> None:
            if then is not None:
                then(moment)
            record_activity(
                self.db,
                self.conversation,
                kind,
                now=moment,
                actor_user_id=actor.id if actor is not None else None,
                # No acting agent means the system (a rule, the router, the clock) did it.
                actor_type="system" if actor is None and actor_type == "agent" else actor_type,
                data=data,
            )

        return act

    def assign(self, agent: User, *, by: User | None) -> Callable[[datetime], None]:
        previous = self.conversation.assignee_id

        def apply(moment: datetime) -> None:
            self.conversation.assignee_id = agent.id
            self.conversation.assigned_at = moment

        return self.activity(
            ActivityKind.ASSIGNED,
            {"from": previous, "to": agent.id, "from_name": None, "to_name": agent.name},
            actor=by,
            actor_type="agent" if by else "system",
            then=apply,
        )

    def status(
        self, agent: User | None, target: S, *, snoozed_until: datetime | None = None
    ) -> Callable[[datetime], None]:
        conversation = self.conversation

        def apply(moment: datetime) -> None:
            conversation.status = target.value
            conversation.snoozed_until = snoozed_until
            if target == S.SOLVED:
                conversation.solved_at = moment
                conversation.waiting_since = None
            elif target == S.CLOSED:
                conversation.closed_at = moment
                conversation.waiting_since = None
            else:
                conversation.solved_at = None

        def act(moment: datetime) -> None:
            current = conversation.status
            apply(moment)
            record_activity(
                self.db,
                conversation,
                ActivityKind.SNOOZED if snoozed_until else ActivityKind.STATUS_CHANGED,
                now=moment,
                actor_user_id=agent.id if agent else None,
                actor_type="agent" if agent else "system",
                data={
                    "from": current,
                    "to": target.value,
                    "snoozed_until": snoozed_until.isoformat() if snoozed_until else None,
                },
            )

        return act


def _shape_plan(rng: random.Random) -> list[str]:
    shapes = [shape for shape, count in SHAPES for _ in range(count)]
    rng.shuffle(shapes)
    return shapes


def _pick_scenarios(shapes: list[str], rng: random.Random) -> list[Scenario]:
    """Every scenario at least twice; the customer-language ones never need the
    English-only texts (reopen, hold update)."""
    pool = list(SCENARIOS)
    rng.shuffle(pool)
    english = [s for s in pool if s.language == "en"]
    chosen: list[Scenario] = []
    for index, shape in enumerate(shapes):
        scenario = pool[index % len(pool)]
        if scenario.language != "en" and shape in ("reopened", "hold"):
            scenario = english[index % len(english)]
        chosen.append(scenario)
    return chosen


def _agents_for(org: _Org, scenario: Scenario, rng: random.Random) -> tuple[User, User | None]:
    """Who answers first, and (for tier-2 teams) who it is escalated to."""
    speakers = [
        org.users[s.name]
        for s in STAFF
        if s.role == Role.AGENT and scenario.language in s.languages
    ]
    team = scenario.team
    if scenario.language != "en":
        return rng.choice(speakers), None
    if team in ("Senior support", "Security"):
        first = org.users[rng.choice(org.members["Technical"])]
        return first, org.users[rng.choice(org.members[team])]
    names = org.members[team] if team else [s.name for s in STAFF if s.role == Role.AGENT]
    if team == "Billing":
        names = [*names, "Anna Kowalska"]  # the documented demo agent has a busy queue
    return org.users[rng.choice(names)], None


def _seed_conversations(
    db: Session, org: _Org, contacts: list[Contact], now: datetime, rng: random.Random
) -> list[Conversation]:
    shapes = _shape_plan(rng)
    scenarios = _pick_scenarios(shapes, rng)
    by_language: dict[str, list[Contact]] = {}
    for contact in contacts:
        by_language.setdefault(contact.language or "en", []).append(contact)
    conversations = []
    for shape, scenario in zip(shapes, scenarios, strict=True):
        if scenario.language != "en":
            contact = rng.choice(by_language[scenario.language])
        else:
            contact = rng.choice(contacts)
        conversations.append(_seed_conversation(db, org, shape, scenario, contact, now, rng))
    return conversations


def _seed_conversation(
    db: Session,
    org: _Org,
    shape: str,
    scenario: Scenario,
    contact: Contact,
    now: datetime,
    rng: random.Random,
) -> Conversation:
    channel = rng.choice(scenario.channels)
    inbox = org.inboxes[channel]
    order = contact.custom_attributes.get("order_number") or f"ACM-{rng.randint(10_000, 99_999)}"
    first_name = contact.name.split(" ", 1)[0]
    first_agent, escalate_to = _agents_for(org, scenario, rng)
    handler = escalate_to or first_agent

    def say(text: str, agent: User | None = None) -> str:
        return text.format(
            first=first_name, order=order, agent=(agent or handler).name.split(" ", 1)[0]
        )

    priority = scenario.priority
    if contact.plan == "enterprise" and priority in (Priority.NORMAL, Priority.LOW):
        priority = Priority.HIGH  # the routing rules put enterprise customers first
    low, high = AGE_HOURS[shape]
    created_at = now - timedelta(hours=rng.uniform(low, high))
    # Escalated conversations start with tier 1 and end with the tier-2 team.
    team_name = scenario.team if escalate_to is None or shape == "new" else "Technical"
    team = org.teams[team_name] if team_name else None
    policy = org.sla[priority]
    conversation = Conversation(
        number=next_value(db, "conversation"),
        inbox_id=inbox.id,
        channel=channel.value,
        contact_id=contact.id,
        subject=say(scenario.subject),
        status=S.OPEN.value,
        priority=priority.value,
        priority_score=round(
            PRIORITY_SCORE[priority] + PLAN_BONUS[contact.plan] + rng.uniform(0, 5), 2
        ),
        category=scenario.category,
        team_id=team.id if team else None,
        language=scenario.language,
        sentiment=round(
            rng.uniform(-0.8, -0.1) if priority == Priority.URGENT else rng.uniform(-0.3, 0.6), 2
        ),
        sla_policy_id=policy.id,
        created_at=created_at,
        updated_at=created_at,
        last_activity_at=created_at,
        last_seq=0,
        custom_attributes={"order_number": order} if scenario.category == "orders" else {},
    )
    db.add(conversation)
    db.flush()
    initial_tags = list(scenario.tags[:1])
    final_tags = list(scenario.tags) + (["vip"] if contact.plan == "enterprise" else [])
    for tag in initial_tags if shape == "new" else final_tags:
        db.add(ConversationTag(conversation_id=conversation.id, tag=tag))

    thread = _Thread(db, conversation, contact)
    low_gap, high_gap = ANSWER_GAP[channel]

    def gap() -> float:
        return rng.uniform(low_gap, high_gap)

    def quick() -> float:
        return rng.uniform(0.3, 3)

    creator_type = {Channel.PHONE: "agent", Channel.API: "system"}.get(channel, "contact")
    creator = first_agent if channel == Channel.PHONE else None
    thread.at(
        0,
        thread.activity(
            ActivityKind.CREATED,
            {
                "inbox_id": inbox.id,
                "team_id": conversation.team_id,
                "priority": priority.value,
                "category": scenario.category,
                "tags": initial_tags,
            },
            actor=creator,
            actor_type=creator_type,
        ),
    )
    thread.at(0, thread.customer_says(say(scenario.opening)))
    for extra in scenario.extra_opening:
        thread.at(quick(), thread.customer_says(say(extra)))

    if shape != "new":
        supervisor = org.users["Helena Fischer"]
        by = supervisor if rng.random() < 0.25 else None
        thread.at(gap(), thread.assign(first_agent, by=by))
        if len(final_tags) > len(initial_tags):
            added = [t for t in final_tags if t not in initial_tags]
            thread.at(
                quick(),
                thread.activity(
                    ActivityKind.TAGS_CHANGED,
                    {"from": initial_tags, "to": sorted(final_tags), "added": added, "removed": []},
                    actor=first_agent,
                ),
            )
        if escalate_to is not None:
            _escalate(thread, org, scenario, first_agent, escalate_to, quick)
        thread.at(quick(), thread.agent_says(handler, say(scenario.reply)))
        if rng.random() < 0.55:
            colleague = handler if rng.random() < 0.6 else first_agent
            thread.at(quick(), thread.note(colleague, say(scenario.note)))

    _finish(thread, shape, scenario, handler, say, gap, quick, now, rng)
    if shape == "hold" and escalate_to is None and rng.random() < 0.5:
        _colleague_joins(thread, org.users["Tomasz Nowak"], gap)

    latest = now - timedelta(minutes=2)
    if shape == "closed_auto":
        # The clock closes solved conversations AUTO_CLOSE_DAYS later; play the
        # thread first, then add the auto-close at exactly that moment.
        thread.run(created_at, latest - timedelta(days=AUTO_CLOSE_DAYS))
        solved_at = conversation.solved_at
        assert solved_at is not None
        closed_at = solved_at + timedelta(days=AUTO_CLOSE_DAYS)
        conversation.status = S.CLOSED.value
        conversation.closed_at = closed_at
        record_activity(
            db,
            conversation,
            ActivityKind.AUTO_CLOSED,
            now=closed_at,
            actor_type="system",
            data={"from": S.SOLVED.value, "to": S.CLOSED.value, "after_days": AUTO_CLOSE_DAYS},
        )
    else:
        thread.run(created_at, latest)

    _set_deadlines(db, thread, policy, now)
    if conversation.status in (S.SOLVED.value, S.CLOSED.value) and rng.random() < 0.6:
        conversation.csat_score = rng.choices([5, 4, 3, 2], [55, 30, 10, 5])[0]
        if conversation.csat_score <= 3:
            conversation.csat_comment = "Solved in the end, but it took too long to get an answer."
        elif rng.random() < 0.4:
            conversation.csat_comment = "Quick and friendly, thank you!"
        if conversation.channel == Channel.CHAT.value:
            conversation.nps_score = _demo_nps(conversation.csat_score, conversation.number)
    db.flush()
    return conversation


NPS_BY_CSAT = {5: (8, 10), 4: (6, 9), 3: (4, 7), 2: (1, 5)}


def _demo_nps(csat_score: int, number: int) -> int:
    """A recommendation score that goes with the rating (the chat widget asks both).
    Its own generator, so the rest of the demo stays what it was."""
    low, high = NPS_BY_CSAT[csat_score]
    return random.Random(number).randint(low, high)


def _escalate(
    thread: _Thread,
    org: _Org,
    scenario: Scenario,
    first_agent: User,
    escalate_to: User,
    quick: Callable[[], float],
) -> None:
    assert scenario.team is not None
    team = org.teams[scenario.team]
    conversation = thread.conversation
    note = ESCALATION_NOTE.format(team=team.name)
    thread.at(quick(), thread.note(first_agent, note))

    def move(moment: datetime) -> None:
        conversation.team_id = team.id
        conversation.assignee_id = escalate_to.id
        conversation.assigned_at = moment

    thread.at(
        quick(),
        thread.activity(
            ActivityKind.TRANSFERRED,
            {
                "from_user_id": first_agent.id,
                "to_user_id": escalate_to.id,
                "from_team_id": org.teams["Technical"].id,
                "to_team_id": team.id,
                "from_user_name": first_agent.name,
                "to_user_name": escalate_to.name,
                "to_team_name": team.name,
                "note": note,
            },
            actor=first_agent,
            then=move,
        ),
    )


def _colleague_joins(thread: _Thread, colleague: User, gap: Callable[[], float]) -> None:
    """A tier-2 colleague joins the conversation to help, and leaves a note."""
    conversation = thread.conversation

    def join(moment: datetime) -> None:
        thread.db.add(
            Participant(conversation_id=conversation.id, user_id=colleague.id, joined_at=moment)
        )

    thread.at(
        gap(),
        thread.activity(
            ActivityKind.PARTICIPANT_JOINED,
            {"user_id": colleague.id, "user_name": colleague.name},
            actor=colleague,
            then=join,
        ),
    )
    thread.at(
        gap(),
        thread.note(
            colleague, "Had a look as well: nothing more we can do until they get back to us."
        ),
    )


def _finish(
    thread: _Thread,
    shape: str,
    scenario: Scenario,
    handler: User,
    say: Callable[..., str],
    gap: Callable[[], float],
    quick: Callable[[], float],
    now: datetime,
    rng: random.Random,
) -> None:
    """The rest of the story, up to the status this conversation ends in."""
    if shape == "new":
        return
    if shape == "ongoing":
        thread.at(gap(), thread.customer_says(say(scenario.follow_up)))
        return
    if shape in ("asked", "snoozed"):
        until = None
        if shape == "snoozed":
            until = (now + timedelta(hours=rng.randint(18, 72))).replace(
                minute=0, second=0, microsecond=0
            )
        thread.at(quick(), thread.status(handler, S.PENDING, snoozed_until=until))
        return
    if shape == "hold":
        thread.at(gap(), thread.customer_says(say(scenario.follow_up)))
        thread.at(quick(), thread.note(handler, say(scenario.hold_reason)))
        if scenario.language == "en":
            thread.at(quick(), thread.agent_says(handler, say(HOLD_TEXT)))
        thread.at(quick(), thread.status(handler, S.ON_HOLD))
        return
    thread.at(gap(), thread.customer_says(say(scenario.follow_up)))
    thread.at(gap(), thread.agent_says(handler, say(scenario.resolution)))
    if shape == "closed_manual":
        thread.at(gap(), thread.customer_says(say(scenario.thanks)))
        thread.at(quick(), thread.status(handler, S.SOLVED))
        thread.at(rng.uniform(30, 600), thread.status(handler, S.CLOSED))
        return
    thread.at(quick(), thread.status(handler, S.SOLVED))
    if shape == "reopened":
        conversation = thread.conversation

        def reopen(moment: datetime) -> None:
            conversation.status = S.OPEN.value
            conversation.solved_at = None

        thread.at(
            rng.uniform(120, 1200),
            thread.activity(
                ActivityKind.REOPENED,
                {"from": S.SOLVED.value, "to": S.OPEN.value},
                actor_type="contact",
                then=reopen,
            ),
        )
        thread.at(0.01, thread.customer_says(REOPEN_TEXT))


def _set_deadlines(db: Session, thread: _Thread, policy: SLAPolicy, now: datetime) -> None:
    """Deadlines of active conversations on the policy's business hours, and the
    breach the SLA clock would have recorded for an unanswered one."""
    conversation = thread.conversation
    if conversation.status not in (S.OPEN.value, S.PENDING.value, S.ON_HOLD.value):
        return
    calendar = calendar_from_data(policy.calendar)
    created = conversation.created_at
    if policy.first_response_minutes and conversation.first_response_at is None:
        due = add_business_time(calendar, created, policy.first_response_minutes)
        conversation.first_response_due_at = due
        if conversation.last_activity_at < due < now:
            record_activity(
                db,
                conversation,
                ActivityKind.SLA_BREACHED,
                now=due,
                actor_type="system",
                data={"target": "first_response", "due_at": due.isoformat()},
            )
    if policy.next_response_minutes and conversation.waiting_since is not None:
        conversation.next_response_due_at = add_business_time(
            calendar, conversation.waiting_since, policy.next_response_minutes
        )
    if policy.resolution_minutes:
        conversation.resolution_due_at = add_business_time(
            calendar, created, policy.resolution_minutes
        )


# ---------------------------------------------------------------- knowledge


def _seed_knowledge(db: Session, org: _Org, now: datetime, rng: random.Random) -> None:
    for spec in content.CANNED_RESPONSES:
        db.add(
            CannedResponse(
                shortcut=spec.shortcut,
                title=spec.title,
                body=spec.body,
                language=spec.language,
                tags=list(spec.tags),
                scope=spec.scope,
                owner_id=org.users[spec.owner].id if spec.owner else None,
                team_id=org.teams[spec.team].id if spec.team else None,
                usage_count=rng.randint(0, 240),
                last_used_at=now - timedelta(hours=rng.randint(1, 300)),
                last_reviewed_at=now - timedelta(days=rng.randint(5, 200)),
                created_at=now - timedelta(days=rng.randint(200, 380)),
                updated_at=now - timedelta(days=rng.randint(1, 120)),
            )
        )
    author = org.users["Helena Fischer"]
    for article in content.ARTICLES:
        created = now - timedelta(days=rng.randint(30, 300))
        db.add(
            Article(
                slug=article.slug,
                title=article.title,
                body_markdown=article.body,
                category=article.category,
                language="en",
                published=article.published,
                internal=article.internal,
                helpful_yes=article.helpful[0],
                helpful_no=article.helpful[1],
                author_id=author.id,
                created_at=created,
                updated_at=created + timedelta(days=rng.randint(0, 25)),
            )
        )
    db.flush()
