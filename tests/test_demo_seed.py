"""The demo organisation: complete, consistent with the services' rules, on both
databases, and written in the formats the domain modules read."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from helpline.adapters.db.counters import current_value
from helpline.adapters.db.models import (
    Activity,
    CannedResponse,
    Conversation,
    ConversationTag,
    Message,
    Rule,
    SLAPolicy,
    User,
)
from helpline.adapters.passwords import verify_password
from helpline.demo.seed import DEMO_LOGINS, SHAPES, demo_is_seeded, seed_demo
from helpline.domain.enums import ConversationStatus
from helpline.domain.rules import rule_from_data
from helpline.domain.sla.calendar import calendar_from_data
from helpline.domain.templates import validate_template
from tests.support import FrozenClock


def test_seed_fills_an_empty_database(db: Session, clock: FrozenClock) -> None:
    assert not demo_is_seeded(db)
    summary = seed_demo(db, now=clock())
    assert demo_is_seeded(db)
    assert summary.conversations == sum(count for _, count in SHAPES) >= 60
    assert set(summary.by_status) == {status.value for status in ConversationStatus}
    assert summary.contacts >= 40
    assert (summary.agents, summary.supervisors, summary.admins) == (8, 1, 1)
    assert current_value(db, "conversation") == summary.conversations
    statuses = {user.status for user in db.scalars(select(User))}
    assert {"online", "away", "on_break", "offline"} <= statuses
    languages = {lang for user in db.scalars(select(User)) for lang in user.languages}
    assert {"pl", "it", "el", "de"} <= languages
    assert (db.scalar(select(func.count(ConversationTag.tag))) or 0) > 0
    channels = set(db.scalars(select(Conversation.channel).distinct()))
    assert {"chat", "email", "phone"} <= channels


def test_demo_logins_work_with_their_documented_passwords(db: Session, clock: FrozenClock) -> None:
    seed_demo(db, now=clock())
    for login in DEMO_LOGINS:
        user = db.scalars(select(User).where(User.email == login.email)).one()
        assert user.role == login.role
        assert verify_password(user.password_hash, login.password)
        assert user.password_changed_at < clock()  # sessions opened now are valid


def test_seed_is_deterministic(db: Session, clock: FrozenClock) -> None:
    seed_demo(db, now=clock())
    first = [
        (c.number, c.subject, c.status, c.priority, c.created_at)
        for c in db.scalars(select(Conversation).order_by(Conversation.number))
    ]
    bodies = list(db.scalars(select(Message.body).order_by(Message.id)))
    db.rollback()
    # A second organisation from the same seed and time looks the same.
    from tests.conftest import _clean

    engine = db.get_bind()
    db.close()
    _clean(engine)  # type: ignore[arg-type]
    seed_demo(db, now=clock())
    again = [
        (c.number, c.subject, c.status, c.priority, c.created_at)
        for c in db.scalars(select(Conversation).order_by(Conversation.number))
    ]
    assert again == first
    assert list(db.scalars(select(Message.body).order_by(Message.id))) == bodies


def test_knowledge_is_in_the_domain_formats(db: Session, clock: FrozenClock) -> None:
    seed_demo(db, now=clock())
    canned = db.scalars(select(CannedResponse)).all()
    assert len(canned) >= 10
    for response in canned:
        assert validate_template(response.body) == [], response.shortcut
    assert any("contact.first_name" in response.body for response in canned)
    rules = db.scalars(select(Rule)).all()
    assert len(rules) >= 2
    for rule in rules:
        rule_from_data(rule.name, rule.conditions, rule.actions)
    policies = db.scalars(select(SLAPolicy).order_by(SLAPolicy.position)).all()
    assert [p.match_priority for p in policies] == ["urgent", "high", None]
    assert calendar_from_data(policies[0].calendar) is None  # urgent: around the clock
    assert calendar_from_data(policies[1].calendar) is not None


def test_history_matches_the_conversation_fields(db: Session, clock: FrozenClock) -> None:
    """Messages and activities share one gap-free sequence per conversation, in time
    order, and the derived fields agree with what the history says."""
    now = clock()
    seed_demo(db, now=now)
    conversations = db.scalars(select(Conversation).order_by(Conversation.number)).all()
    assert [c.number for c in conversations] == list(range(1, len(conversations) + 1))
    for conversation in conversations:
        messages = db.scalars(
            select(Message).where(Message.conversation_id == conversation.id)
        ).all()
        activities = db.scalars(
            select(Activity).where(Activity.conversation_id == conversation.id)
        ).all()
        entries = sorted(
            [(m.seq, m.created_at) for m in messages] + [(a.seq, a.created_at) for a in activities]
        )
        assert [seq for seq, _ in entries] == list(range(1, conversation.last_seq + 1))
        times = [at for _, at in entries]
        assert times == sorted(times)
        assert conversation.created_at <= times[0] and times[-1] < now
        assert conversation.last_activity_at == times[-1]
        agent_replies = [m for m in messages if m.kind == "reply" and m.author_type == "agent"]
        assert conversation.first_response_at == min(
            (m.created_at for m in agent_replies), default=None
        )
        last_reply = max((m for m in messages if m.kind == "reply"), key=lambda m: m.seq)
        status = conversation.status
        if status == "open":
            assert last_reply.author_type == "contact"
            assert conversation.waiting_since is not None
        if status in ("pending", "on_hold"):
            assert last_reply.author_type == "agent"
            assert conversation.waiting_since is None
        if status in ("solved", "closed"):
            assert conversation.solved_at is not None
            assert conversation.waiting_since is None
        if status == "solved":
            assert conversation.solved_at is not None
            assert (now - conversation.solved_at).days < 7  # not yet due for auto-close
        if status == "closed":
            assert conversation.closed_at is not None
        if conversation.snoozed_until is not None:
            assert status == "pending" and conversation.snoozed_until > now
        if conversation.assignee_id is not None:
            assert conversation.assigned_at is not None
