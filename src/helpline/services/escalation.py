"""Escalation rules in the live server: looked at on the events their trigger names,
carried out on the conversation, recorded once per conversation.

Conditions and actions are `helpline.domain.rules`; this module gathers the facts
(category, priority, plan, what the customer wrote, minutes unresolved, SLA
breached, the refund asked for and the assigned agent's authority), applies the
actions (team, tier 2, priority, tags, urgency, assignment, notifying supervisors
and senior agents), tells the customer when their conversation moves to another
team, and keeps the admin's rules (CRUD, built-in examples).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from helpline.adapters.db.models import (
    Activity,
    Contact,
    Conversation,
    ConversationTag,
    InboxMember,
    Message,
    Rule,
    Team,
    TeamMember,
    User,
)
from helpline.domain.enums import (
    ActivityKind,
    AuthorType,
    Channel,
    ConversationStatus,
    MessageKind,
    Plan,
    Priority,
    Role,
)
from helpline.domain.rules import (
    SECURITY_RULE,
    TIER2_RULE,
    Action,
    ActionKind,
    Facts,
    builtin_rules,
    evaluate,
    matching_rules,
    rule_from_data,
    rule_to_data,
)
from helpline.domain.rules import Rule as DomainRule
from helpline.services.audit import record_audit
from helpline.services.conversations import conversation_payload, message_payload
from helpline.services.errors import Conflict, NotFound, ValidationFailed
from helpline.services.events import LiveEvent, queue_event
from helpline.services.history import next_seq, record_activity
from helpline.services.recipients import recipients_for
from helpline.services.unique import flush_unique

log = logging.getLogger(__name__)

Event = Literal["created", "message", "updated", "refund", "sla_breached", "tick"]

TRIGGERS: dict[str, str] = {
    "conversation_created": "when a conversation starts and whenever the customer writes",
    "customer_message": "whenever the customer writes (the first message too)",
    "conversation_updated": "on every change, and on the periodic check (time-based rules)",
    "time": "on the periodic check only",
    "any": "on every event",
}
"""Stored trigger → when the rule is looked at (shown to admins)."""

EVENT_TRIGGERS: dict[Event, frozenset[str]] = {
    "created": frozenset({"conversation_created", "customer_message", "conversation_updated"}),
    "message": frozenset({"conversation_created", "customer_message", "conversation_updated"}),
    "updated": frozenset({"conversation_updated"}),
    "refund": frozenset({"conversation_updated"}),
    "sla_breached": frozenset({"conversation_updated"}),
    "tick": frozenset({"conversation_updated", "time"}),
}
RULE_KINDS = ("routing", "escalation", "automation")
EVALUATED_KINDS = ("routing", "escalation")
"""`automation` rules belong to other jobs (e.g. closing idle chats)."""
MAX_RULE_BYTES = 20_000

TRANSFER_NOTICE = (
    "We have passed your conversation to a colleague who can help further. "
    "They can see everything you wrote, so there is no need to repeat anything."
)
"""What the customer reads when their conversation moves to another team."""


# ---------------------------------------------------------------- rules as stored


@dataclass(frozen=True, slots=True)
class LoadedRule:
    row: Rule
    rule: DomainRule


def parse_rule(row: Rule) -> DomainRule:
    return rule_from_data(
        row.name,
        row.conditions if isinstance(row.conditions, list) else [row.conditions],
        row.actions,
        active=row.active,
    )


def load_rules(db: Session, *, event: Event | None = None) -> list[LoadedRule]:
    """Active routing and escalation rules in position order (those the event
    triggers, if given). A stored rule that no longer parses is skipped and logged."""
    rows = db.scalars(
        select(Rule)
        .where(Rule.active.is_(True), Rule.kind.in_(EVALUATED_KINDS))
        .order_by(Rule.position, Rule.id)
    )
    wanted = EVENT_TRIGGERS[event] | {"any"} if event is not None else None
    loaded = []
    for row in rows:
        if wanted is not None and row.trigger not in wanted:
            continue
        try:
            loaded.append(LoadedRule(row, parse_rule(row)))
        except (ValueError, TypeError):
            log.warning("rule %s (%s) cannot be read; skipped", row.id, row.name)
    return loaded


def has_time_rules(rules: Iterable[LoadedRule]) -> float | None:
    """The smallest `minutes_unresolved` threshold among the rules, if any."""
    thresholds = []
    for loaded in rules:
        stack: list[Any] = [loaded.row.conditions]
        while stack:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, Mapping):
                if item.get("field") == "minutes_unresolved":
                    value = item.get("value")
                    if isinstance(value, int | float) and not isinstance(value, bool):
                        thresholds.append(float(value))
                stack.extend(v for k, v in item.items() if k in ("all", "any"))
    return min(thresholds) if thresholds else None


# ---------------------------------------------------------------- facts and actions


def facts_for(db: Session, conversation: Conversation, *, now: datetime, text: str = "") -> Facts:
    contact = db.get(Contact, conversation.contact_id)
    assignee = db.get(User, conversation.assignee_id) if conversation.assignee_id else None
    plan = contact.plan if contact is not None else None
    return Facts(
        category=conversation.category,
        priority=Priority(conversation.priority),
        plan=Plan(plan) if plan is not None and plan in Plan._value2member_map_ else None,
        channel=Channel(conversation.channel),
        status=ConversationStatus(conversation.status),
        tier=conversation.tier,
        text=text,
        minutes_unresolved=max(0.0, (now - conversation.created_at).total_seconds() / 60),
        sla_breached=conversation.sla_state == "missed",
        refund_amount_cents=conversation.refund_requested_cents,
        agent_refund_limit_cents=assignee.refund_limit_cents if assignee is not None else None,
        fired_rules=frozenset(conversation.fired_rules or ()),
        frustration=conversation.frustration or 0.0,
    )


def time_rule_candidates(db: Session, *, now: datetime, older_than: datetime) -> list[int]:
    """Active conversations created before `older_than` that the time-triggered rules
    fire for now: facts read in one query of plain columns (no row loading), rules
    evaluated in memory. No locks; the caller locks and evaluates again."""
    rules = [item.rule for item in load_rules(db, event="tick")]
    if not rules:
        return []
    rows = db.execute(
        select(
            Conversation.id,
            Conversation.category,
            Conversation.priority,
            Conversation.channel,
            Conversation.status,
            Conversation.tier,
            Conversation.created_at,
            Conversation.sla_state,
            Conversation.refund_requested_cents,
            Conversation.fired_rules,
            Contact.plan,
            User.refund_limit_cents,
        )
        .join(Contact, Contact.id == Conversation.contact_id)
        .outerjoin(User, User.id == Conversation.assignee_id)
        .where(
            Conversation.status.in_(
                (
                    ConversationStatus.OPEN.value,
                    ConversationStatus.PENDING.value,
                    ConversationStatus.ON_HOLD.value,
                )
            ),
            Conversation.created_at <= older_than,
        )
        .order_by(Conversation.id)
    )
    firing = []
    for (
        conversation_id,
        category,
        priority,
        channel,
        status,
        tier,
        created_at,
        sla_state,
        refund,
        fired,
        plan,
        limit,
    ) in rows:
        facts = Facts(
            category=category,
            priority=Priority(priority),
            plan=Plan(plan) if plan is not None and plan in Plan._value2member_map_ else None,
            channel=Channel(channel),
            status=ConversationStatus(status),
            tier=tier,
            minutes_unresolved=max(0.0, (now - created_at).total_seconds() / 60),
            sla_breached=sla_state == "missed",
            refund_amount_cents=refund,
            agent_refund_limit_cents=limit,
            fired_rules=frozenset(fired or ()),
        )
        if matching_rules(rules, facts):
            firing.append(int(conversation_id))
    return firing


@dataclass(slots=True)
class EscalationResult:
    """What the rules did to one conversation (the caller re-scores, re-matches the
    SLA policy and routes accordingly)."""

    fired: list[str] = field(default_factory=list)
    activities: list[Activity] = field(default_factory=list)
    priority_changed: bool = False
    team_changed: bool = False
    freed_agent_id: int | None = None
    """The agent who lost the conversation (it needs another tier or team)."""
    previous_recipients: frozenset[int] = frozenset()


def _supervisors(db: Session, conversation: Conversation) -> set[int]:
    """Supervisors of the conversation's team, else of its inbox, else all of them;
    admins when there is no supervisor at all."""
    active_supervisor = (User.is_active.is_(True)) & (User.role == Role.SUPERVISOR.value)
    if conversation.team_id is not None:
        found = set(
            db.scalars(
                select(User.id)
                .join(TeamMember, TeamMember.user_id == User.id)
                .where(TeamMember.team_id == conversation.team_id, active_supervisor)
            )
        )
        if found:
            return found
    found = set(
        db.scalars(
            select(User.id)
            .join(InboxMember, InboxMember.user_id == User.id)
            .where(InboxMember.inbox_id == conversation.inbox_id, active_supervisor)
        )
    )
    if found:
        return found
    found = set(db.scalars(select(User.id).where(active_supervisor)))
    if found:
        return found
    return set(
        db.scalars(select(User.id).where(User.is_active.is_(True), User.role == Role.ADMIN.value))
    )


def _senior_agents(db: Session, conversation: Conversation) -> set[int]:
    """Tier-2 staff of the conversation's team, else of teams handling its
    category, else every tier-2 member of staff."""
    tier_two = (User.is_active.is_(True)) & (User.tier == 2)
    if conversation.team_id is not None:
        found = set(
            db.scalars(
                select(User.id)
                .join(TeamMember, TeamMember.user_id == User.id)
                .where(TeamMember.team_id == conversation.team_id, tier_two)
            )
        )
        if found:
            return found
    if conversation.category is not None:
        handling = [
            team_id
            for team_id, categories in db.execute(select(Team.id, Team.categories))
            if conversation.category in (categories or ())
        ]
        if handling:
            found = set(
                db.scalars(
                    select(User.id)
                    .join(TeamMember, TeamMember.user_id == User.id)
                    .where(TeamMember.team_id.in_(handling), tier_two)
                )
            )
            if found:
                return found
    return set(db.scalars(select(User.id).where(tier_two)))


def tier2_team_for(db: Session, conversation: Conversation, configured: int | None) -> int | None:
    """Where tier 2 lives: the configured team, else the first tier-2 team that
    handles the category (or every category)."""
    if configured is not None and db.get(Team, configured) is not None:
        return configured
    for team_id, categories in db.execute(
        select(Team.id, Team.categories).where(Team.tier == 2).order_by(Team.id)
    ):
        if not categories or conversation.category in categories:
            return int(team_id)
    return None


def tell_customer(db: Session, conversation: Conversation, body: str, *, now: datetime) -> Message:
    """A system message the customer sees (in the widget, on the live event)."""
    message = Message(
        conversation_id=conversation.id,
        seq=next_seq(conversation),
        author_type=AuthorType.SYSTEM.value,
        kind=MessageKind.REPLY.value,
        body=body,
        attachments=[],
        created_at=now,
    )
    db.add(message)
    conversation.updated_at = now
    conversation.last_activity_at = now
    db.flush()
    queue_event(
        db,
        LiveEvent(
            type="message.created",
            payload={
                "message": message_payload(message, "Helpline"),
                "conversation": conversation_payload(conversation),
            },
            user_ids=recipients_for(db, conversation),
            conversation_id=conversation.id,
            seq=message.seq,
            to_contact=True,
        ),
    )
    return message


def _add_tag(db: Session, conversation: Conversation, tag: str) -> bool:
    if db.get(ConversationTag, (conversation.id, tag)) is not None:
        return False
    db.add(ConversationTag(conversation_id=conversation.id, tag=tag))
    return True


def _member_of(db: Session, user_id: int, team_id: int) -> bool:
    return (
        db.scalar(
            select(TeamMember.user_id).where(
                TeamMember.team_id == team_id, TeamMember.user_id == user_id
            )
        )
        is not None
    )


def run_rules(
    db: Session,
    conversation: Conversation,
    *,
    event: Event,
    now: datetime,
    text: str = "",
    rules: Sequence[LoadedRule] | None = None,
    tier2_team_id: int | None = None,
) -> EscalationResult:
    """Evaluate the rules the event triggers and carry out their actions.

    The caller holds the conversation row (`lock_conversation`) and commits; one
    ESCALATED activity records which rules fired and what they did, and notified
    staff get an `escalation.notified` live event.
    """
    result = EscalationResult()
    loaded = list(rules) if rules is not None else load_rules(db, event=event)
    if not loaded:
        return result
    domain_rules = [item.rule for item in loaded]
    facts = facts_for(db, conversation, now=now, text=text)
    fired = matching_rules(domain_rules, facts)
    if not fired:
        return result
    actions = evaluate(domain_rules, facts)
    result.fired = [rule.name for rule in fired]
    result.previous_recipients = recipients_for(db, conversation)
    conversation.fired_rules = sorted(set(conversation.fired_rules or ()) | set(result.fired))

    done: list[dict[str, Any]] = []
    notified: set[int] = set()
    moved_to: Team | None = None
    for action in actions:
        moved = _carry_out(db, conversation, action, result, notified, done, tier2_team_id, now=now)
        moved_to = moved or moved_to
    if conversation.assignee_id is not None and (
        (moved_to is not None and not _member_of(db, conversation.assignee_id, moved_to.id))
        or (conversation.tier == 2 and _agent_tier(db, conversation.assignee_id) < 2)
    ):
        result.freed_agent_id = conversation.assignee_id
        conversation.assignee_id = None
        conversation.assigned_at = None
        conversation.offered_to_id = None
        conversation.offered_at = None
    if result.team_changed:
        tell_customer(db, conversation, TRANSFER_NOTICE, now=now)
    activity = record_activity(
        db,
        conversation,
        ActivityKind.ESCALATED,
        now=now,
        actor_type="system",
        data={
            "rules": result.fired,
            "actions": done,
            "to_team_id": moved_to.id if moved_to else None,
            "to_team_name": moved_to.name if moved_to else None,
            "tier": conversation.tier,
            "notified": sorted(notified),
            "unassigned": result.freed_agent_id,
        },
    )
    result.activities.append(activity)
    if notified:
        db.flush()
        queue_event(
            db,
            LiveEvent(
                type="escalation.notified",
                payload={
                    "conversation": conversation_payload(conversation),
                    "rules": result.fired,
                    "message": f"Escalation: {', '.join(result.fired)}",
                },
                user_ids=frozenset(notified),
                conversation_id=conversation.id,
                seq=conversation.last_seq,
            ),
        )
    return result


def _agent_tier(db: Session, user_id: int) -> int:
    user = db.get(User, user_id)
    return user.tier if user is not None else 1


def _carry_out(
    db: Session,
    conversation: Conversation,
    action: Action,
    result: EscalationResult,
    notified: set[int],
    done: list[dict[str, Any]],
    tier2_team_id: int | None,
    *,
    now: datetime,
) -> Team | None:
    """One action; returns the team the conversation moved to, if it moved."""
    kind, value = action.kind, action.value
    moved_to: Team | None = None
    if kind == ActionKind.SET_TEAM and isinstance(value, int):
        team = db.get(Team, value)
        if team is None:
            log.warning("rule action set_team names missing team %s", value)
            return None
        if conversation.team_id != team.id:
            conversation.team_id = team.id
            result.team_changed = True
            moved_to = team
    elif kind == ActionKind.SET_PRIORITY and isinstance(value, str):
        if conversation.priority != value:
            conversation.priority = value
            result.priority_changed = True
    elif kind == ActionKind.ADD_TAG and isinstance(value, str):
        if not _add_tag(db, conversation, value):
            return None
    elif kind == ActionKind.ESCALATE_TO_TIER2:
        conversation.tier = 2
        team_id = (
            value if isinstance(value, int) else tier2_team_for(db, conversation, tier2_team_id)
        )
        team = db.get(Team, team_id) if team_id is not None else None
        if team is not None and conversation.team_id != team.id:
            conversation.team_id = team.id
            result.team_changed = True
            moved_to = team
    elif kind == ActionKind.NOTIFY_SUPERVISOR:
        notified.update(_supervisors(db, conversation))
    elif kind == ActionKind.NOTIFY_SENIOR_AGENTS:
        notified.update(_senior_agents(db, conversation))
    elif kind == ActionKind.ASSIGN and isinstance(value, int):
        user = db.get(User, value)
        if user is None or not user.is_active:
            log.warning("rule action assign names missing user %s", value)
            return None
        conversation.assignee_id = user.id
        conversation.assigned_at = now
        conversation.offered_to_id = None
        conversation.offered_at = None
    elif kind == ActionKind.SET_URGENT and isinstance(value, str):
        conversation.urgent_reason = value[:100]
    done.append({"action": kind.value, "value": value})
    return moved_to


# ---------------------------------------------------------------- admin: rules


@dataclass(frozen=True, slots=True)
class RuleInput:
    name: str
    kind: str = "escalation"
    trigger: str = "conversation_updated"
    conditions: Any = field(default_factory=list)
    actions: list[Any] = field(default_factory=list)
    position: int = 0
    active: bool = True


def check_rule(db: Session, values: RuleInput) -> tuple[RuleInput, DomainRule]:
    """Validate a rule as the engine will read it; ValidationFailed says why."""
    name = " ".join(values.name.split())
    if not 0 < len(name) <= 100:
        raise ValidationFailed("a name is 1 to 100 characters", {"field": "name"})
    if values.kind not in RULE_KINDS:
        raise ValidationFailed(f"kind is one of {', '.join(RULE_KINDS)}", {"field": "kind"})
    if values.trigger not in TRIGGERS:
        raise ValidationFailed(f"trigger is one of {', '.join(TRIGGERS)}", {"field": "trigger"})
    if not 0 <= values.position <= 10_000:
        raise ValidationFailed("position is 0 to 10000", {"field": "position"})
    conditions = values.conditions
    if isinstance(conditions, Mapping):
        conditions = [conditions]
    if not isinstance(conditions, list) or not conditions:
        raise ValidationFailed("a rule needs at least one condition", {"field": "conditions"})
    if len(repr(conditions)) + len(repr(values.actions)) > MAX_RULE_BYTES:
        raise ValidationFailed("the rule is too large", {"field": "conditions"})
    try:
        rule = rule_from_data(name, conditions, values.actions, active=values.active)
    except (ValueError, TypeError) as exc:
        field_name = "actions" if "action" in str(exc) else "conditions"
        raise ValidationFailed(str(exc), {"field": field_name}) from exc
    for action in rule.actions:
        names_team = action.kind in (ActionKind.SET_TEAM, ActionKind.ESCALATE_TO_TIER2)
        if names_team and isinstance(action.value, int) and db.get(Team, action.value) is None:
            raise ValidationFailed(
                f"{action.kind.value}: no team with id {action.value}", {"field": "actions"}
            )
        if action.kind == ActionKind.ASSIGN and isinstance(action.value, int):
            user = db.get(User, action.value)
            if user is None or not user.is_active:
                raise ValidationFailed(
                    f"assign: no active user with id {action.value}", {"field": "actions"}
                )
    stored = rule_to_data(rule)
    group = stored["conditions"]
    clean_conditions = group["all"] if set(group) == {"all"} else [group]
    actions = [
        {"action": item["action"], "value": item["value"]}
        if item["value"] is not None
        else {"action": item["action"]}
        for item in stored["actions"]
    ]
    clean = RuleInput(
        name=name,
        kind=values.kind,
        trigger=values.trigger,
        conditions=clean_conditions,
        actions=actions,
        position=values.position,
        active=values.active,
    )
    return clean, rule


def list_rules(db: Session) -> list[Rule]:
    return list(db.scalars(select(Rule).order_by(Rule.position, Rule.id)))


def access_rule(db: Session, rule_id: int) -> Rule:
    rule = db.get(Rule, rule_id)
    if rule is None:
        raise NotFound("rule", rule_id)
    return rule


def _rule_name_taken(db: Session, name: str, except_id: int | None) -> bool:
    query = select(Rule.id).where(func.lower(Rule.name) == name.lower())
    if except_id is not None:
        query = query.where(Rule.id != except_id)
    return db.scalar(query) is not None


def do_save_rule(
    db: Session,
    admin: User,
    values: RuleInput,
    *,
    rule_id: int | None = None,
    now: datetime,
    ip: str = "",
) -> Rule:
    """Create a rule or replace one's fields (`rule_id`). Audited; commits."""
    clean, _ = check_rule(db, values)
    row = access_rule(db, rule_id) if rule_id is not None else Rule(created_at=now)
    if _rule_name_taken(db, clean.name, rule_id):
        raise Conflict("a rule with this name exists", {"field": "name"})
    row.name = clean.name
    row.kind = clean.kind
    row.trigger = clean.trigger
    row.conditions = clean.conditions
    row.actions = clean.actions
    row.position = clean.position
    row.active = clean.active
    if rule_id is None:
        db.add(row)
    flush_unique(db, "a rule with this name exists", "name")
    record_audit(
        db,
        actor_user_id=admin.id,
        action="rule.created" if rule_id is None else "rule.updated",
        target_type="rule",
        target_id=row.id,
        details={"name": clean.name, "active": clean.active},
        ip=ip,
        now=now,
    )
    db.commit()
    return row


def do_delete_rule(db: Session, admin: User, rule_id: int, *, now: datetime, ip: str = "") -> None:
    row = access_rule(db, rule_id)
    record_audit(
        db,
        actor_user_id=admin.id,
        action="rule.deleted",
        target_type="rule",
        target_id=row.id,
        details={"name": row.name},
        ip=ip,
        now=now,
    )
    db.delete(row)
    db.commit()


BUILTIN_TRIGGERS = {
    SECURITY_RULE: "conversation_created",
    TIER2_RULE: "time",
}


def do_install_builtin_rules(
    db: Session,
    admin: User | None,
    *,
    tier2_team_id: int | None = None,
    security_team_id: int | None = None,
    tier1_minutes: float = 30,
    now: datetime,
    ip: str = "",
) -> list[Rule]:
    """Install (or reset) the four built-in escalation rules: security keywords,
    technical issues unresolved by tier 1, refunds above the agent's authority,
    SLA breaches. A rule of the same name is replaced. Audited; commits."""
    for team_id, field_name in (
        (tier2_team_id, "tier2_team_id"),
        (security_team_id, "security_team_id"),
    ):
        if team_id is not None and db.get(Team, team_id) is None:
            raise ValidationFailed("no team with this id", {"field": field_name})
    if not 1 <= tier1_minutes <= 7 * 24 * 60:
        raise ValidationFailed("tier1_minutes is 1 to 10080", {"field": "tier1_minutes"})
    installed = []
    for position, rule in enumerate(
        builtin_rules(
            tier2_team_id=tier2_team_id,
            security_team_id=security_team_id,
            tier1_minutes=tier1_minutes,
        )
    ):
        stored = rule_to_data(rule)
        values = RuleInput(
            name=rule.name,
            kind="escalation",
            trigger=BUILTIN_TRIGGERS.get(rule.name, "conversation_updated"),
            conditions=stored["conditions"]["all"],
            actions=stored["actions"],
            position=position,
        )
        clean, _ = check_rule(db, values)
        row = db.scalar(select(Rule).where(Rule.name == clean.name))
        if row is None:
            row = Rule(name=clean.name, created_at=now)
            db.add(row)
        row.kind = clean.kind
        row.trigger = clean.trigger
        row.conditions = clean.conditions
        row.actions = clean.actions
        row.position = clean.position
        row.active = True
        installed.append(row)
    db.flush()
    record_audit(
        db,
        actor_user_id=admin.id if admin is not None else None,
        action="rule.builtin_installed",
        target_type="rule",
        details={
            "tier2_team_id": tier2_team_id,
            "security_team_id": security_team_id,
            "tier1_minutes": tier1_minutes,
        },
        ip=ip,
        now=now,
    )
    db.commit()
    return installed


def ensure_builtin_rules(db: Session, *, now: datetime) -> bool:
    """A fresh installation (no rules at all) starts with the built-in ones, sent to
    the first tier-2 team and a team named like "Security" when those exist.
    Commits; True when it installed them."""
    if db.scalar(select(func.count()).select_from(Rule)):
        return False
    tier2 = db.scalar(select(Team.id).where(Team.tier == 2).order_by(Team.id).limit(1))
    security = db.scalar(
        select(Team.id).where(func.lower(Team.name).like("%security%")).order_by(Team.id).limit(1)
    )
    try:
        do_install_builtin_rules(db, None, tier2_team_id=tier2, security_team_id=security, now=now)
    except IntegrityError:
        db.rollback()  # another worker installed them at the same moment
        return False
    return True
