"""Chat messages stored many at a time (`services.chat_messages`): each message is
stored once, in order, with its own live event to the right people; messages that
need more than a plain store take the full services in the same call; and a batch
costs the same few statements however many messages it holds."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session

from helpline.adapters.db.engine import make_session_factory
from helpline.adapters.db.models import Activity, Contact, Conversation, Inbox, Message
from helpline.domain.enums import ActivityKind, MessageKind
from helpline.domain.errors import ConversationClosed
from helpline.services.chat_messages import ChatPost, do_post_chat_messages, store_chat_messages
from helpline.services.conversations import PostedMessage
from helpline.services.errors import NotFound, ValidationFailed
from helpline.services.events import LiveEvent, install_publisher
from helpline.services.viewer import load_viewer
from helpline.services.visitors import Visitor
from tests.factories import make_contact, make_conversation, make_user
from tests.widget_api.support import make_chat_inbox

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _visitor(inbox: Inbox, contact: Contact) -> Visitor:
    return Visitor(inbox_id=inbox.id, contact_id=contact.id, verified=False, issued_at=NOW)


def _posted(outcome: PostedMessage | Exception) -> PostedMessage:
    assert isinstance(outcome, PostedMessage), outcome
    return outcome


@pytest.fixture
def published(db: Session) -> Iterator[list[LiveEvent]]:
    """The message events published (AI assist adds events of its own)."""
    events: list[LiveEvent] = []

    def keep(live_event: LiveEvent) -> None:
        if live_event.type == "message.created":
            events.append(live_event)

    install_publisher(db, keep)
    yield events


def test_a_batch_stores_each_message_once_in_order_with_its_own_event(
    db: Session, published: list[LiveEvent]
) -> None:
    inbox = make_chat_inbox(db)
    agent = make_user(db, name="Anna", inboxes=[inbox])
    colleague = make_user(db, name="Ben")  # sees only what is assigned to him
    mia, leo = make_contact(db, name="Mia"), make_contact(db, name="Leo")
    first = make_conversation(db, inbox, mia, assignee_id=agent.id, created_at=NOW)
    second = make_conversation(db, inbox, leo, assignee_id=colleague.id, created_at=NOW)
    db.commit()
    viewer = load_viewer(db, agent)
    mia_visitor = _visitor(inbox, mia)

    outcomes = do_post_chat_messages(
        db,
        [
            ChatPost(first.id, "Hello", "m-1", visitor=mia_visitor),
            ChatPost(first.id, "Hi Mia", "a-1", viewer=viewer),
            ChatPost(first.id, "Hello", "m-1", visitor=mia_visitor),  # a retry, same batch
            ChatPost(second.id, "Not mine", "m-2", visitor=mia_visitor),
            ChatPost(first.id, "Thanks", "m-3", visitor=mia_visitor),
            ChatPost(first.id, "   ", "m-4", visitor=mia_visitor),
        ],
        now=NOW,
    )

    hello, reply, retry = (_posted(outcome) for outcome in outcomes[:3])
    thanks = _posted(outcomes[4])
    assert isinstance(outcomes[3], NotFound)
    assert isinstance(outcomes[5], ValidationFailed)
    assert [hello.created, reply.created, retry.created, thanks.created] == [
        True,
        True,
        False,
        True,
    ]
    assert retry.message.id == hello.message.id
    assert [hello.message.seq, reply.message.seq, thanks.message.seq] == [1, 2, 3]
    assert (hello.author_name, reply.author_name) == ("Mia", "Anna")
    stored = db.execute(
        select(
            Message.seq,
            Message.body,
            Message.client_message_id,
            Message.author_type,
            Message.author_user_id,
            Message.author_contact_id,
            Message.kind,
            Message.attachments,
            Message.created_at,
        )
        .where(Message.conversation_id == first.id)
        .order_by(Message.seq)
    ).all()
    assert [tuple(row) for row in stored] == [
        (1, "Hello", "m-1", "contact", None, mia.id, "reply", [], NOW),
        (2, "Hi Mia", "a-1", "agent", agent.id, None, "reply", [], NOW),
        (3, "Thanks", "m-3", "contact", None, mia.id, "reply", [], NOW),
    ]
    assert db.scalar(select(Message.id).where(Message.conversation_id == second.id)) is None
    db.expire_all()
    conversation = db.get(Conversation, first.id)
    assert conversation is not None
    assert conversation.last_seq == 3
    assert conversation.first_response_at == NOW
    assert conversation.waiting_since == NOW  # Mia wrote again after the reply
    contact = db.get(Contact, mia.id)
    assert contact is not None and contact.last_seen_at == NOW

    # One event per stored message, in order, to the assignee (not to Ben).
    assert [(e.type, e.seq) for e in published] == [("message.created", s) for s in (1, 2, 3)]
    assert all(e.user_ids == frozenset({agent.id}) for e in published)
    assert all(e.to_contact for e in published)
    assert [e.payload["message"]["body"] for e in published] == ["Hello", "Hi Mia", "Thanks"]
    assert published[-1].payload["conversation"]["last_seq"] == 3


def test_a_retry_of_a_message_stored_earlier_stores_nothing(
    db: Session, published: list[LiveEvent]
) -> None:
    inbox = make_chat_inbox(db)
    mia = make_contact(db, name="Mia")
    conversation = make_conversation(db, inbox, mia, created_at=NOW)
    db.commit()
    post = ChatPost(conversation.id, "Hello", "m-1", visitor=_visitor(inbox, mia))
    (first,) = do_post_chat_messages(db, [post], now=NOW)
    (again,) = do_post_chat_messages(db, [post], now=NOW + timedelta(seconds=5))
    assert _posted(first).created and not _posted(again).created
    assert _posted(again).message.id == _posted(first).message.id
    assert len(published) == 1
    count = db.scalars(select(Message.id).where(Message.conversation_id == conversation.id))
    assert len(list(count)) == 1


def test_looking_up_retries_probes_the_index_instead_of_scanning_messages(
    db: Session, db_engine: Engine
) -> None:
    """The retry check runs on every batch: a scan of the messages index would grow
    with every message ever stored."""
    inbox = make_chat_inbox(db)
    contacts = [make_contact(db, name=f"Visitor {n}") for n in range(5)]
    chats = [make_conversation(db, inbox, contact, created_at=NOW) for contact in contacts]
    db.commit()
    posts = [
        ChatPost(chat.id, "Hello", f"m-{chat.id}", visitor=_visitor(inbox, contact))
        for chat, contact in zip(chats, contacts, strict=True)
    ]
    seen: list[tuple[str, object]] = []

    def capture(
        _conn: object, _cursor: object, statement: str, parameters: object, *_: object
    ) -> None:
        if "client_message_id" in statement and statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(db_engine, "before_cursor_execute", capture)
    try:
        do_post_chat_messages(db, posts, now=NOW)
    finally:
        event.remove(db_engine, "before_cursor_execute", capture)
    (statement, parameters), *_ = seen
    raw = db.connection().connection.driver_connection
    assert raw is not None
    if db_engine.dialect.name == "sqlite":
        plan = " ".join(
            str(row[-1]) for row in raw.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)
        )
        assert "SEARCH messages USING COVERING INDEX" in plan, plan
        assert "SCAN messages" not in plan, plan
    else:
        with raw.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {statement}", parameters)
            plan = " ".join(row[0] for row in cursor.fetchall())
        assert "Index" in plan and "client_message_id" in plan, plan
    db.rollback()


def test_messages_that_need_more_than_a_store_take_the_full_path_in_order(
    db: Session, published: list[LiveEvent]
) -> None:
    inbox = make_chat_inbox(db)
    agent = make_user(db, inboxes=[inbox])
    mia, leo, zoe = (make_contact(db, name=name) for name in ("Mia", "Leo", "Zoe"))
    solved = make_conversation(
        db, inbox, mia, status="solved", solved_at=NOW, assignee_id=agent.id, created_at=NOW
    )
    closed = make_conversation(db, inbox, leo, status="closed", created_at=NOW)
    plain = make_conversation(db, inbox, zoe, assignee_id=agent.id, created_at=NOW)
    db.commit()
    later = NOW + timedelta(minutes=5)

    outcomes = do_post_chat_messages(
        db,
        [
            ChatPost(solved.id, "It broke again", "m-1", visitor=_visitor(inbox, mia)),
            ChatPost(plain.id, "Quick question", "z-1", visitor=_visitor(inbox, zoe)),
            ChatPost(solved.id, "Still there?", "m-2", visitor=_visitor(inbox, mia)),
            ChatPost(closed.id, "Hello?", "l-1", visitor=_visitor(inbox, leo)),
        ],
        now=later,
    )

    assert isinstance(outcomes[3], ConversationClosed)
    reopened_first, quick, reopened_second = (_posted(o) for o in outcomes[:3])
    assert quick.message.seq == 1
    # The solved conversation reopened (an activity) and kept its messages in order.
    db.expire_all()
    reopened = db.get(Conversation, solved.id)
    assert reopened is not None and reopened.status == "open"
    kinds = db.scalars(
        select(Activity.kind).where(Activity.conversation_id == solved.id).order_by(Activity.seq)
    ).all()
    assert ActivityKind.REOPENED.value in kinds
    assert reopened_first.message.seq < reopened_second.message.seq
    bodies = db.scalars(
        select(Message.body).where(Message.conversation_id == solved.id).order_by(Message.seq)
    ).all()
    assert list(bodies) == ["It broke again", "Still there?"]
    assert sorted(e.payload["message"]["body"] for e in published) == [
        "It broke again",
        "Quick question",
        "Still there?",
    ]


def test_an_agent_note_reaches_staff_only(db: Session, published: list[LiveEvent]) -> None:
    inbox = make_chat_inbox(db)
    agent = make_user(db, name="Anna", inboxes=[inbox])
    conversation = make_conversation(db, inbox, assignee_id=agent.id, created_at=NOW)
    db.commit()
    (outcome,) = do_post_chat_messages(
        db,
        [
            ChatPost(
                conversation.id,
                "Refund it",
                "n-1",
                viewer=load_viewer(db, agent),
                kind=MessageKind.NOTE,
            )
        ],
        now=NOW,
    )
    assert _posted(outcome).message.kind == "note"
    assert [e.to_contact for e in published] == [False]
    db.expire_all()
    stored = db.get(Conversation, conversation.id)
    assert stored is not None and stored.first_response_at is None


def _statements(engine: Engine) -> tuple[list[str], Callable[..., None]]:
    seen: list[str] = []

    def count(*_args: object) -> None:
        seen.append("statement")

    event.listen(engine, "before_cursor_execute", count)
    return seen, count


def test_a_batch_costs_the_same_statements_for_one_message_or_twenty(
    db_engine: Engine,
) -> None:
    """The store itself (routing and AI assist follow after the acknowledgement)."""
    factory = make_session_factory(db_engine)
    with factory() as db:
        inbox = make_chat_inbox(db)
        agent = make_user(db, inboxes=[inbox])
        pairs = []
        for _ in range(21):
            contact = make_contact(db)
            pairs.append((make_conversation(db, inbox, contact, assignee_id=agent.id), contact))
        db.commit()
        posts = [
            ChatPost(conversation.id, f"message {n}", f"c-{n}", visitor=_visitor(inbox, contact))
            for n, (conversation, contact) in enumerate(pairs)
        ]
        do_post_chat_messages(db, posts[:1], now=NOW)  # warm the configuration cache

    seen, listener = _statements(db_engine)
    try:
        with factory() as db:
            store_chat_messages(db, [posts[1]], now=NOW)
        one = len(seen)
        seen.clear()
        with factory() as db:
            store_chat_messages(db, posts[2:], now=NOW)
        twenty = len(seen)
    finally:
        event.remove(db_engine, "before_cursor_execute", listener)
    assert twenty == one
    assert (
        one <= 6
    )  # BEGIN on SQLite, load (with the configuration token), retries, insert, update, last seen
