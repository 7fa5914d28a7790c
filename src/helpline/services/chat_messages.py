"""The chat message path: messages of open chats, many stored in one transaction.

Most chat traffic is the plain case: a visitor or an agent writes in a conversation
that is open, and nothing is re-routed, escalated or re-timed. `do_post_chat_messages`
stores a batch of such messages with a handful of Core statements in one
transaction, however many there are (the WebSocket hub sends everything that
arrived while the previous batch was being written: group commit), and publishes
each message's live event after that commit. Whatever is not plain — a reopen, a
rule that fires, an SLA warning, breach, pause or resume, an email reply, an
unknown id — goes through the full services in `conversations` instead (one
transaction per message, after the batch), so behaviour is the same either way.

Every message is committed before its outcome is returned; client message ids make
retries idempotent (within the batch too); sequence numbers come from the
conversation rows locked here (`FOR UPDATE` on PostgreSQL; SQLite's single
writer holds everything).
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import (
    ARRAY,
    String,
    and_,
    bindparam,
    func,
    insert,
    literal,
    select,
    tuple_,
    update,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from helpline.adapters.db.base import UTCDateTime, table_of
from helpline.adapters.db.engine import is_postgres
from helpline.adapters.db.models import Contact, Conversation, Message, Participant, User
from helpline.domain.access import Viewer, can_see_conversation
from helpline.domain.enums import AuthorType, Channel, ConversationStatus, MessageKind, Plan
from helpline.domain.errors import ConversationClosed, DomainError
from helpline.domain.mentions import mention_handles
from helpline.domain.routing import score_conversation
from helpline.domain.rules import Facts, matching_rules
from helpline.services import config_cache, conversations, routing, routing_hooks, sla
from helpline.services.errors import NotFound, ValidationFailed
from helpline.services.escalation import load_rules
from helpline.services.events import LiveEvent, queue_event
from helpline.services.recipients import staff_recipients
from helpline.services.visitors import Visitor, check_visitor_conversation

log = logging.getLogger(__name__)

LAST_SEEN_RESOLUTION = timedelta(minutes=1)
"""A contact's `last_seen_at` is rewritten at most this often by chat messages."""


@dataclass(frozen=True, slots=True)
class ChatPost:
    """One message to store: from a visitor (their token) or from staff."""

    conversation_id: int
    body: str
    client_message_id: str | None
    visitor: Visitor | None = None
    viewer: Viewer | None = None
    kind: MessageKind = MessageKind.REPLY


Outcome = conversations.PostedMessage | Exception


class _NeedsFullPath(Exception):
    """The plain path met something only the full services handle."""


class _NoHistory:
    """Stands in for the session while the SLA clock runs on a copy: writing a
    history entry (pause, resume, warning, breach) is not plain, so any use of the
    session sends the message down the full path."""

    def __getattr__(self, name: str) -> Any:
        raise _NeedsFullPath(name)


@dataclass(slots=True)
class _Item:
    index: int
    post: ChatPost
    text: str
    client_id: str | None


@dataclass(slots=True)
class _Stored:
    item: _Item
    row: dict[str, Any]
    conversation: SimpleNamespace
    author_name: str
    participants: set[int]
    message: ChatMessage | None = None


def check_visitor_client_id(client_message_id: str) -> str:
    """Visitors always name their messages (1 to 64 characters), so retries are safe."""
    value = client_message_id.strip()
    if not value or len(value) > 64 or "\x00" in value:
        raise ValidationFailed(
            "client_message_id is 1 to 64 characters", {"field": "client_message_id"}
        )
    return value


def _check(post: ChatPost, max_chars: int | None) -> tuple[str, str | None]:
    """The checks made before the conversation is looked at, in the order the full
    services make them (a visitor's body is checked once the conversation is
    theirs, so a stranger's id answers "not found" whatever the body)."""
    if post.visitor is not None:
        return "", check_visitor_client_id(post.client_message_id or "")
    text = conversations.check_message_body(post.body, max_chars=max_chars)
    return text, conversations._check_client_message_id(post.client_message_id)


@dataclass(slots=True)
class FollowUp:
    """Work a committed batch calls for, which may run later and merged with other
    batches' (`merge`): nothing in it changes what the senders are told."""

    route: set[int] = field(default_factory=set)
    """Conversations waiting for an agent that a customer wrote in: a routing round."""
    customer_texts: dict[int, str] = field(default_factory=dict)
    """Conversation → its latest plain customer message (AI assist reads the whole
    conversation again, so one pass covers every message merged here)."""

    def merge(self, other: FollowUp) -> None:
        self.route |= other.route
        self.customer_texts.update(other.customer_texts)

    def __bool__(self) -> bool:
        return bool(self.route or self.customer_texts)


def do_post_chat_messages(
    db: Session,
    posts: Sequence[ChatPost],
    *,
    now: datetime,
    max_chars: int | None = None,
) -> list[Outcome]:
    """Store chat messages and run their follow-up at once; one outcome per post, in
    order: the stored message (`created` False for a retry of a stored one) or the
    error that refused it. Commits."""
    outcomes, follow_up = store_chat_messages(db, posts, now=now, max_chars=max_chars)
    run_follow_up(db, follow_up, now=now)
    return outcomes


def store_chat_messages(
    db: Session,
    posts: Sequence[ChatPost],
    *,
    now: datetime,
    max_chars: int | None = None,
) -> tuple[list[Outcome], FollowUp]:
    """`do_post_chat_messages` leaving the follow-up of the plain messages to the
    caller (`run_follow_up`, possibly merged with other batches').

    Plain messages share one transaction that locks their conversations; the others
    run through `conversations` one by one afterwards (with their own follow-up)."""
    outcomes: list[Outcome | None] = [None] * len(posts)
    follow_up = FollowUp()
    items: list[_Item] = []
    for index, post in enumerate(posts):
        try:
            text, client_id = _check(post, max_chars)
        except DomainError as error:
            outcomes[index] = error
            continue
        items.append(_Item(index, post, text, client_id))
    if items:
        try:
            full = _store_plain(db, items, outcomes, follow_up, now=now, max_chars=max_chars)
        except Exception:
            db.rollback()
            log.exception("batched chat messages failed; storing them one by one")
            follow_up = FollowUp()
            full = items
            for item in full:
                outcomes[item.index] = None
        for item in full:
            outcomes[item.index] = _full_path(db, item, now=now, max_chars=max_chars)
    done = [outcome if outcome is not None else RuntimeError("not stored") for outcome in outcomes]
    return done, follow_up


def run_follow_up(db: Session, follow_up: FollowUp, *, now: datetime) -> None:
    """After the commit: routing rounds for waiting chats, then AI assist for the
    conversations customers wrote in. Never raises (the periodic jobs catch up on
    what fails here)."""
    route_follow_up(db, follow_up, now=now)
    from helpline.services import ai_assist_batch  # AI assist: after the commit

    ai_assist_batch.after_customer_messages(db, follow_up.customer_texts, now=now)


def route_follow_up(db: Session, follow_up: FollowUp, *, now: datetime) -> None:
    """The routing round of `run_follow_up` (the live server runs AI assist apart:
    its screening reads without the writer lock). Never raises."""
    if not follow_up.route:
        return
    try:
        routing_hooks.route_after(
            db, routing_hooks.RouteAfter(conversation_ids=set(follow_up.route)), now=now
        )
    except Exception:
        db.rollback()
        log.exception("routing after chat messages failed")


# ---------------------------------------------------------------- the plain path


@dataclass(slots=True)
class _Loaded:
    """A locked conversation (a mutable copy of its row) and what the batch needs
    around it."""

    conversation: SimpleNamespace
    extra: dict[str, Any]
    participants: set[int]
    stored: dict[str, int]
    """client message id → id of a message already stored with it."""


READ_COLUMNS = (
    # the event payload (conversations.conversation_payload)
    "id", "number", "subject", "status", "priority", "priority_score", "category",
    "team_id", "assignee_id", "inbox_id", "contact_id", "channel", "last_activity_at",
    "waiting_since", "first_response_at", "snoozed_until", "last_seq", "updated_at",
    "frustration_reasons", "ai_category", "ai_category_confidence", "ai_language",
    # the SLA clock (sla.sync_sla)
    "created_at", "solved_at", "closed_at", "sla_policy_id", "sla_pauses", "sla_notified",
    "sla_state", "sla_next_check_at", "first_response_due_at", "next_response_due_at",
    "resolution_due_at",
    # the priority score (routing.queued_from_conversation) and rule facts
    "urgent_reason", "language", "tier", "custom_attributes", "first_contact",
    "previous_agent_id", "routing_excluded_ids", "frustration", "priority_breakdown",
    "refund_requested_cents", "fired_rules",
    # a reply accepts a routed offer
    "offered_to_id", "offered_at",
)  # fmt: skip
"""The conversation columns the plain path reads: decoding a row's dates and JSON
dominates a read, so only these are loaded (code below that reads another one
fails on the batch, which then takes the full path: slower, never wrong)."""


@functools.cache
def _load_statement() -> Any:
    """Built once: the conversations (locked) with their contact's and assignee's
    fields and current participants (a row per participant: rarely more than one)."""
    conversations_table = table_of(Conversation)
    contacts = table_of(Contact)
    users = table_of(User)
    participants = table_of(Participant)
    return (
        select(
            *(conversations_table.c[name] for name in READ_COLUMNS),
            contacts.c.name.label("_contact_name"),
            contacts.c.email.label("_contact_email"),
            contacts.c.last_seen_at.label("_contact_last_seen_at"),
            contacts.c.plan.label("_contact_plan"),
            contacts.c.lifetime_value_cents.label("_contact_lifetime_value_cents"),
            contacts.c.orders_count.label("_contact_orders_count"),
            users.c.name.label("_assignee_name"),
            users.c.refund_limit_cents.label("_assignee_refund_limit_cents"),
            participants.c.user_id.label("_participant"),
            # The configuration token, read with the rows (no statement of its own).
            config_cache.version_column().label("_config_version"),
        )
        .outerjoin(contacts, contacts.c.id == conversations_table.c.contact_id)
        .outerjoin(users, users.c.id == conversations_table.c.assignee_id)
        .outerjoin(
            participants,
            and_(
                participants.c.conversation_id == conversations_table.c.id,
                participants.c.left_at.is_(None),
            ),
        )
        .where(conversations_table.c.id.in_(bindparam("ids", expanding=True)))
        .order_by(conversations_table.c.id)
        .with_for_update(of=conversations_table)
    )


@functools.cache
def _stored_statement(postgres: bool) -> Any:
    """Messages already stored under given (conversation, client message id) pairs,
    built once per dialect. PostgreSQL probes the unique index once per pair for a
    row-value `IN`; SQLite would scan the whole index for one (a cost that grows with
    every message stored), so there the pairs come as one JSON array, joined to
    the index row by row."""
    messages = table_of(Message)
    found = select(messages.c.conversation_id, messages.c.client_message_id, messages.c.id)
    if postgres:
        pair = tuple_(messages.c.conversation_id, messages.c.client_message_id)
        return found.where(pair.in_(bindparam("pairs", expanding=True)))
    wanted = func.json_each(bindparam("pairs_json", type_=String)).table_valued("value")
    return found.join_from(
        wanted,
        messages,
        and_(
            messages.c.conversation_id == func.json_extract(wanted.c.value, "$[0]"),
            messages.c.client_message_id == func.json_extract(wanted.c.value, "$[1]"),
        ),
    )


def _load(db: Session, ids: list[int], pairs: list[tuple[int, str]]) -> dict[int, _Loaded]:
    loaded: dict[int, _Loaded] = {}
    connection = db.connection()
    # All rows at once: iterating a result fetches one row per driver call.
    for row in connection.execute(_load_statement(), {"ids": ids}).all():
        values = dict(row._mapping)
        participant = values.pop("_participant")
        config_cache.note_version(db, values.pop("_config_version"))
        found = loaded.get(values["id"])
        if found is None:
            extra = {key: values.pop(key) for key in list(values) if key.startswith("_")}
            found = _Loaded(SimpleNamespace(**values), extra, set(), {})
            loaded[values["id"]] = found
        if participant is not None:
            found.participants.add(participant)
    if pairs:  # messages already stored under these client ids (retries)
        postgres = is_postgres(db)
        parameters = {"pairs": pairs} if postgres else {"pairs_json": json.dumps(pairs)}
        for conversation_id, client_id, message_id in connection.execute(
            _stored_statement(postgres), parameters
        ).all():
            if conversation_id in loaded:
                loaded[conversation_id].stored[client_id] = message_id
    return loaded


def _may_post(post: ChatPost, conversation: SimpleNamespace, participants: set[int]) -> bool:
    if post.visitor is not None:
        return bool(
            conversation.contact_id == post.visitor.contact_id
            and conversation.inbox_id == post.visitor.inbox_id
        )
    assert post.viewer is not None
    return can_see_conversation(
        post.viewer,
        assignee_id=conversation.assignee_id,
        team_id=conversation.team_id,
        inbox_id=conversation.inbox_id,
        participant_ids=participants,
    )


def _message_rules(db: Session) -> list[Any]:
    """The rules a customer message triggers, parsed once per configuration."""
    return config_cache.cached(
        db,
        "chat_messages.message_rules",
        lambda: [item.rule for item in load_rules(db, event="message")],
    )


def _recipients(
    db: Session, conversation: SimpleNamespace, participants: set[int]
) -> frozenset[int]:
    return staff_recipients(
        db,
        assignee_id=conversation.assignee_id,
        team_id=conversation.team_id,
        inbox_id=conversation.inbox_id,
        participants=participants,
    )


def _plan(value: str | None) -> Plan | None:
    return Plan(value) if value is not None and value in Plan._value2member_map_ else None


def _customer_message(
    work: SimpleNamespace,
    extra: dict[str, Any],
    text: str,
    context: routing_hooks.HookContext,
    rules: list[Any],
    *,
    now: datetime,
) -> None:
    """What `conversations._store_contact_message` and `routing_hooks.on_customer_message`
    do to an open conversation, on a copy; _NeedsFullPath when it is not plain."""
    if work.status != ConversationStatus.OPEN.value:
        raise _NeedsFullPath("reopen")
    work.updated_at = now
    work.last_activity_at = now
    if work.waiting_since is None:
        work.waiting_since = now
    if rules:
        facts = Facts(
            category=work.category,
            priority=routing._priority(work.priority),
            plan=_plan(extra["_contact_plan"]),
            channel=Channel(work.channel),
            status=ConversationStatus(work.status),
            tier=work.tier,
            text=text,
            minutes_unresolved=max(0.0, (now - work.created_at).total_seconds() / 60),
            sla_breached=work.sla_state == "missed",
            refund_amount_cents=work.refund_requested_cents,
            agent_refund_limit_cents=extra["_assignee_refund_limit_cents"]
            if work.assignee_id is not None
            else None,
            fired_rules=frozenset(work.fired_rules or ()),
            frustration=work.frustration or 0.0,
        )
        if matching_rules(rules, facts):
            raise _NeedsFullPath("rules")
    sla.sync_sla(
        cast(Session, _NoHistory()),
        cast(Conversation, work),
        now=now,
        book=context.book,
        warn_before=context.warn_before,
    )
    contact = SimpleNamespace(
        plan=extra["_contact_plan"],
        lifetime_value_cents=extra["_contact_lifetime_value_cents"],
        orders_count=extra["_contact_orders_count"],
    )
    score = score_conversation(
        routing.queued_from_conversation(cast(Conversation, work), cast(Contact, contact)),
        now,
        context.setup.base.weights,
    )
    work.priority_score = round(score.total, 2)
    work.priority_breakdown = routing.breakdown_data(score)


def _agent_message(
    work: SimpleNamespace,
    post: ChatPost,
    context: routing_hooks.HookContext,
    *,
    now: datetime,
) -> None:
    """What `conversations.do_post_agent_message` and `routing_hooks.on_agent_reply`
    do, on a copy; _NeedsFullPath when it is not plain."""
    assert post.viewer is not None
    work.updated_at = now
    work.last_activity_at = now
    if post.kind != MessageKind.REPLY:
        if mention_handles(post.body):
            raise _NeedsFullPath("a note with @mentions notifies colleagues")
        return
    if work.channel == Channel.EMAIL.value:
        raise _NeedsFullPath("email reply")
    replied_to = work.waiting_since
    if work.first_response_at is None:
        work.first_response_at = now
    work.waiting_since = None
    if work.offered_to_id is not None and work.offered_to_id == post.viewer.user_id:
        work.offered_to_id = None
        work.offered_at = None
    sla.sync_sla(
        cast(Session, _NoHistory()),
        cast(Conversation, work),
        now=now,
        book=context.book,
        warn_before=context.warn_before,
        replied_to=replied_to,
    )


def _author_names(db: Session, user_ids: set[int]) -> dict[int, str]:
    users = table_of(User)
    rows = db.connection().execute(select(users.c.id, users.c.name).where(users.c.id.in_(user_ids)))
    return {int(row[0]): str(row[1]) for row in rows}


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """A message just stored by the plain path: the attributes of `Message` that
    callers read (`PostedMessage.message`), without an ORM object per message."""

    id: int
    conversation_id: int
    seq: int
    author_type: str
    author_user_id: int | None
    author_contact_id: int | None
    kind: str
    body: str
    attachments: list[dict[str, Any]]
    client_message_id: str | None
    created_at: datetime


MESSAGE_COLUMNS = (
    "conversation_id", "seq", "author_type", "author_user_id", "author_contact_id",
    "kind", "body", "client_message_id",
)  # fmt: skip
"""The columns of a stored chat message that differ from row to row (`attachments`
is always empty on this path and `created_at` is the group's `now`)."""


@functools.cache
def _insert_statement(postgres: bool) -> Any:
    """The group's messages in one INSERT that returns their ids, built once per
    dialect. Rows come back in any order, matched by (conversation, seq): asking for
    the parameters' order makes SQLite insert one row per statement.

    On PostgreSQL the rows travel as one array per column (`unnest`): the statement
    is the same text for every group, so the driver converts it once and the server
    plans it once, where a multi-row VALUES list (SQLAlchemy's form for a returning
    executemany) was converted again for every group: a twentieth of the server's
    time at 900 messages/s."""
    messages = table_of(Message)
    if not postgres:
        return insert(messages).returning(messages.c.id, messages.c.conversation_id, messages.c.seq)
    rows = (
        func.unnest(
            *(sql_cast(bindparam(name), ARRAY(messages.c[name].type)) for name in MESSAGE_COLUMNS)
        )
        .table_valued(*MESSAGE_COLUMNS)
        .render_derived()
    )
    return (
        insert(messages)
        .from_select(
            [*MESSAGE_COLUMNS, "attachments", "created_at"],
            select(
                *(rows.c[name] for name in MESSAGE_COLUMNS),
                sql_cast(literal("[]"), JSONB),
                bindparam("created_at", type_=UTCDateTime()),
            ),
        )
        .returning(messages.c.id, messages.c.conversation_id, messages.c.seq)
    )


def _insert_parameters(rows: list[dict[str, Any]], postgres: bool, now: datetime) -> Any:
    if not postgres:
        return rows
    parameters: dict[str, Any] = {name: [row[name] for row in rows] for name in MESSAGE_COLUMNS}
    parameters["created_at"] = now
    return parameters


@functools.cache
def _last_seen_statement() -> Any:
    contacts = table_of(Contact)
    return (
        update(contacts)
        .where(contacts.c.id == bindparam("b_id"))
        .values(last_seen_at=bindparam("b_seen"))
    )


def _store_plain(
    db: Session,
    items: list[_Item],
    outcomes: list[Outcome | None],
    follow_up: FollowUp,
    *,
    now: datetime,
    max_chars: int | None,
) -> list[_Item]:
    """Store the plain messages in one transaction and commit; fills their outcomes
    (and those of refused ones) and returns the items for the full path."""
    ids = sorted({item.post.conversation_id for item in items})
    pairs = sorted(
        {(item.post.conversation_id, item.client_id) for item in items if item.client_id}
    )
    loaded = _load(db, ids, pairs)
    context = routing_hooks.hook_context(db)
    rules = _message_rules(db) if any(item.post.visitor is not None for item in items) else []
    originals = {key: dict(vars(found.conversation)) for key, found in loaded.items()}

    full: list[_Item] = []
    full_conversations: set[int] = set()
    stored: list[_Stored] = []
    in_batch: dict[tuple[int, str], _Stored] = {}
    retries: list[tuple[_Item, _Stored]] = []
    duplicates: list[tuple[_Item, int]] = []
    seen_contacts: dict[int, datetime] = {}
    unnamed_agents: set[int] = set()
    waiting: set[int] = set()

    for item in items:
        post = item.post
        found = loaded.get(post.conversation_id)
        if found is None or not _may_post(post, found.conversation, found.participants):
            outcomes[item.index] = NotFound("conversation", post.conversation_id)
            continue
        conversation, extra = found.conversation, found.extra
        if post.visitor is not None:
            try:
                item.text = conversations.check_message_body(post.body, max_chars=max_chars)
            except DomainError as error:
                outcomes[item.index] = error
                continue
        client_id = item.client_id
        if client_id is not None and client_id in found.stored:
            duplicates.append((item, found.stored[client_id]))
            continue
        if client_id is not None and (conversation.id, client_id) in in_batch:
            retries.append((item, in_batch[(conversation.id, client_id)]))
            continue
        if conversation.id in full_conversations:
            full.append(item)  # keeps this conversation's messages in order
            continue
        if conversation.status == ConversationStatus.CLOSED.value:
            outcomes[item.index] = ConversationClosed(
                "conversation is closed; start a follow-up conversation"
            )
            continue
        work = SimpleNamespace(**vars(conversation))
        try:
            if post.visitor is not None:
                _customer_message(work, extra, item.text, context, rules, now=now)
            else:
                _agent_message(work, post, context, now=now)
        except _NeedsFullPath:
            full_conversations.add(conversation.id)
            full.append(item)
            continue
        work.last_seq += 1
        vars(conversation).update(vars(work))
        if post.visitor is not None:
            author_name = extra["_contact_name"] or extra["_contact_email"] or "Customer"
            last_seen = seen_contacts.get(conversation.contact_id, extra["_contact_last_seen_at"])
            if last_seen is None or not now - LAST_SEEN_RESOLUTION < last_seen <= now:
                seen_contacts[conversation.contact_id] = now
            if conversation.assignee_id is None:
                waiting.add(conversation.id)  # open and unassigned: a routing round
            author_type, user_id, contact_id = AuthorType.CONTACT, None, conversation.contact_id
        else:
            assert post.viewer is not None
            author_type, user_id, contact_id = AuthorType.AGENT, post.viewer.user_id, None
            if user_id == conversation.assignee_id and extra["_assignee_name"] is not None:
                author_name = extra["_assignee_name"]
            else:
                author_name = ""
                unnamed_agents.add(user_id)
        row = {
            "conversation_id": conversation.id,
            "seq": conversation.last_seq,
            "author_type": author_type.value,
            "author_user_id": user_id,
            "author_contact_id": contact_id,
            "kind": post.kind.value,
            "body": item.text,
            "attachments": [],
            "client_message_id": client_id,
            "created_at": now,
        }
        entry = _Stored(item, row, conversation, author_name, found.participants)
        stored.append(entry)
        if client_id is not None:
            in_batch[(conversation.id, client_id)] = entry

    connection = db.connection()
    if unnamed_agents:
        names = _author_names(db, unnamed_agents)
        for entry in stored:
            if not entry.author_name:
                entry.author_name = names.get(entry.row["author_user_id"]) or "Agent"
    if stored:
        postgres = is_postgres(db)
        inserted = connection.execute(
            _insert_statement(postgres),
            _insert_parameters([entry.row for entry in stored], postgres, now),
        )
        id_of = {(row[1], row[2]): row[0] for row in inserted}
        message_ids = [id_of[(entry.conversation.id, entry.row["seq"])] for entry in stored]
        _write_conversations(db, loaded, originals)
        if seen_contacts:
            connection.execute(
                _last_seen_statement(),
                [
                    {"b_id": contact_id, "b_seen": seen}
                    # In id order: writers of other conversations lock them in the
                    # same order (no deadlock between concurrent groups).
                    for contact_id, seen in sorted(seen_contacts.items())
                ],
            )
        for entry, message_id in zip(stored, message_ids, strict=True):
            entry.message = ChatMessage(id=message_id, **entry.row)
            _queue_message_event(db, entry)
            outcomes[entry.item.index] = _posted(entry, created=True)
    for item, earlier in retries:  # the same message twice in this batch
        outcomes[item.index] = _posted(earlier, created=False)
    for item, message_id in duplicates:
        existing = db.get(Message, message_id)
        assert existing is not None
        outcomes[item.index] = conversations.PostedMessage(
            existing, created=False, author_name=conversations._author_name(db, existing)
        )
    db.commit()
    follow_up.route |= waiting
    for entry in stored:
        if entry.item.post.visitor is not None:
            follow_up.customer_texts[entry.conversation.id] = entry.item.text
    return full


def _posted(entry: _Stored, *, created: bool) -> conversations.PostedMessage:
    # A read-only stand-in with Message's attributes (see ChatMessage).
    message = cast(Message, entry.message)
    return conversations.PostedMessage(message, created=created, author_name=entry.author_name)


_NOT_COLUMNS = frozenset({"id"})


def _write_conversations(
    db: Session, loaded: dict[int, _Loaded], originals: dict[int, dict[str, Any]]
) -> None:
    """One UPDATE (executemany) for every conversation the batch changed, setting
    the columns that changed in any of them."""
    changed: dict[int, dict[str, Any]] = {}
    columns: set[str] = set()
    for conversation_id, found in loaded.items():
        before = originals[conversation_id]
        values = vars(found.conversation)
        diff = {
            name
            for name, value in values.items()
            if name not in _NOT_COLUMNS and before.get(name) != value
        }
        if diff:
            changed[conversation_id] = values
            columns |= diff
    if changed:
        db.connection().execute(
            _update_statement(frozenset(columns)),
            [
                {"b_id": conversation_id, **{f"b_{name}": values[name] for name in columns}}
                for conversation_id, values in changed.items()
            ],
        )


@functools.lru_cache(maxsize=64)
def _update_statement(columns: frozenset[str]) -> Any:
    table = table_of(Conversation)
    return (
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values(
            {name: bindparam(f"b_{name}", type_=table.c[name].type) for name in sorted(columns)}
        )
    )


def _queue_message_event(db: Session, entry: _Stored) -> None:
    assert entry.message is not None
    message = cast(Message, entry.message)
    payload: dict[str, Any] = {
        "message": conversations.message_payload(message, entry.author_name),
        "conversation": conversations.conversation_payload(cast(Conversation, entry.conversation)),
    }
    if entry.item.post.visitor is not None:
        payload["activities"] = []
    queue_event(
        db,
        LiveEvent(
            type="message.created",
            payload=payload,
            user_ids=_recipients(db, entry.conversation, entry.participants),
            conversation_id=entry.conversation.id,
            seq=message.seq,
            to_contact=message.kind == MessageKind.REPLY.value,
        ),
    )


# ---------------------------------------------------------------- the full path


def _full_path(db: Session, item: _Item, *, now: datetime, max_chars: int | None) -> Outcome:
    post = item.post
    try:
        if post.visitor is not None:
            check_visitor_conversation(db, post.visitor, post.conversation_id)
            return conversations.do_post_contact_message(
                db,
                post.conversation_id,
                body=post.body,
                now=now,
                client_message_id=item.client_id,
                max_chars=max_chars,
            )
        assert post.viewer is not None
        return conversations.do_post_agent_message(
            db,
            post.viewer,
            post.conversation_id,
            body=post.body,
            kind=post.kind,
            now=now,
            client_message_id=item.client_id,
            max_chars=max_chars,
        )
    except Exception as error:
        db.rollback()
        if not isinstance(error, DomainError):
            log.exception("storing a chat message failed")
        return error
