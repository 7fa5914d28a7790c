"""AI assist for a burst of chat messages (`services.ai_assist_batch`): the screen
reads each conversation's five latest customer replies, analyses them together, and
hands on only the conversations the analysis changes; those are stored exactly as
one-by-one analysis stores them. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

import pytest
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session

from helpline.adapters.db.models import Conversation, Message
from helpline.ai.categories import CategoryClassifier, CategoryPrediction
from helpline.domain.enums import AuthorType
from helpline.services import ai_assist, ai_assist_batch
from helpline.services.chat_messages import ChatPost, do_post_chat_messages
from helpline.services.visitors import Visitor
from tests.ai.test_assist_wiring import stored
from tests.factories import make_contact, make_conversation, make_user
from tests.widget_api.support import make_chat_inbox

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _say(db: Session, conversation: Conversation, body: str, *, at: datetime) -> None:
    visitor = Visitor(
        inbox_id=conversation.inbox_id,
        contact_id=conversation.contact_id,
        verified=False,
        issued_at=NOW,
    )
    (outcome,) = do_post_chat_messages(
        db, [ChatPost(conversation.id, body, f"c-{at.timestamp()}", visitor=visitor)], now=at
    )
    assert not isinstance(outcome, Exception), outcome


def _add(
    db: Session, conversation: Conversation, body: str, *, agent_id: int | None = None
) -> None:
    """A message written straight into the table (no follow-up runs)."""
    current = stored(db, conversation.id)
    current.last_seq += 1
    db.add(
        Message(
            conversation_id=conversation.id,
            seq=current.last_seq,
            author_type=AuthorType.AGENT.value if agent_id else AuthorType.CONTACT.value,
            author_user_id=agent_id,
            author_contact_id=None if agent_id else conversation.contact_id,
            body=body,
            created_at=NOW,
        )
    )
    db.commit()


def test_the_screen_reads_the_five_latest_customer_replies_in_order(db: Session) -> None:
    inbox = make_chat_inbox(db)
    agent = make_user(db, name="Anna", inboxes=[inbox])
    first = make_conversation(db, inbox, make_contact(db), assignee_id=agent.id, created_at=NOW)
    second = make_conversation(db, inbox, make_contact(db), assignee_id=agent.id, created_at=NOW)
    for n in range(7):
        _say(db, first, f"first conversation line {n}", at=NOW + timedelta(seconds=n))
    _say(db, second, "only one line here", at=NOW)
    _add(db, first, "agent words", agent_id=agent.id)  # not the customer's: not read

    _, texts = ai_assist_batch._statements(db.get_bind().dialect.name == "postgresql")
    found: dict[int, list[str]] = {}
    for conversation_id, body, _seq in db.execute(texts, {"ids": [first.id, second.id]}):
        found.setdefault(conversation_id, []).append(body)
    db.commit()

    assert found == {
        first.id: [f"first conversation line {n}" for n in range(2, 7)],
        second.id: ["only one line here"],
    }
    assert found[first.id] == ai_assist.customer_texts(db, first.id)


def test_words_that_change_nothing_are_not_written_again(db: Session, db_engine: Engine) -> None:
    inbox = make_chat_inbox(db)
    agent = make_user(db, name="Anna", inboxes=[inbox])
    conversation = make_conversation(
        db, inbox, make_contact(db), assignee_id=agent.id, created_at=NOW
    )
    _say(db, conversation, "Where is my parcel? It has not arrived yet", at=NOW)
    analysed = stored(db, conversation.id)
    assert analysed.ai_category is not None
    assert analysed.ai_text_hash is not None
    updated_at = analysed.updated_at

    # The customer adds a line that says nothing new: the screen settles it alone.
    _add(db, conversation, "Where is my parcel? It has not arrived yet")
    writes: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if not statement.lstrip().upper().startswith(("SELECT", "BEGIN", "SAVEPOINT", "RELEASE")):
            writes.append(statement)

    event.listen(db_engine, "before_cursor_execute", note)
    try:
        pending = ai_assist_batch.screen(
            db, {conversation.id: "It has not arrived yet"}, now=NOW + timedelta(seconds=5)
        )
    finally:
        event.remove(db_engine, "before_cursor_execute", note)

    assert pending == []
    assert writes == []
    assert stored(db, conversation.id).updated_at == updated_at


def test_a_burst_is_stored_as_one_by_one_analysis_would_store_it(db: Session) -> None:
    inbox = make_chat_inbox(db)
    agent = make_user(db, name="Anna", inboxes=[inbox])
    calm = make_conversation(db, inbox, make_contact(db), assignee_id=agent.id, created_at=NOW)
    angry = make_conversation(db, inbox, make_contact(db), assignee_id=agent.id, created_at=NOW)
    _say(db, calm, "Hello, where is my parcel?", at=NOW)
    _say(db, angry, "Hello, where is my parcel?", at=NOW)
    before = stored(db, angry.id).frustration or 0.0

    # Both write again; only the angry one changes anything worth storing.
    for conversation, body in (
        (calm, "Hello, where is my parcel?"),
        (angry, "THIS IS THE THIRD TIME I ASK!!! Useless service, I want a refund now"),
    ):
        _add(db, conversation, body)
    texts = {calm.id: "Hello, where is my parcel?", angry.id: "THIS IS THE THIRD TIME"}

    pending = ai_assist_batch.screen(db, texts, now=NOW + timedelta(seconds=10))
    assert [item.conversation_id for item in pending] == [angry.id]
    ai_assist_batch.store(db, pending, texts, now=NOW + timedelta(seconds=10))

    saved = stored(db, angry.id)
    expected = ai_assist.analyse(
        ai_assist.customer_texts(db, angry.id), subject=saved.subject or ""
    )
    db.commit()
    assert saved.frustration == expected.frustration.score
    assert saved.frustration > before
    assert saved.ai_text_hash == ai_assist._digest(
        ai_assist.customer_texts(db, angry.id), saved.subject or ""
    )
    db.commit()


def test_a_bot_conversation_always_goes_to_the_bot(db: Session) -> None:
    inbox = make_chat_inbox(db)
    inbox.settings = {**inbox.settings, "faq_bot": True}
    db.commit()
    waiting = make_conversation(db, inbox, make_contact(db), created_at=NOW)
    _add(db, waiting, "How do I reset my password?")

    pending = ai_assist_batch.screen(db, {waiting.id: "How do I reset my password?"}, now=NOW)

    assert [item.conversation_id for item in pending] == [waiting.id]
    assert pending[0].analysed is not None


def test_too_short_words_are_not_screened(db: Session) -> None:
    inbox = make_chat_inbox(db)
    conversation = make_conversation(db, inbox, make_contact(db), created_at=NOW)
    assert ai_assist_batch.screen(db, {conversation.id: "ok"}, now=NOW) == []
    assert db.scalars(select(Message).where(Message.conversation_id == conversation.id)).all() == []


def test_an_unsure_guess_never_replaces_the_hint_shown() -> None:
    shown = SimpleNamespace(
        ai_category="orders",
        ai_category_confidence=0.91,
        ai_category_source="model",
        ai_urgent_reasons=[],
        category="orders",
        urgent_reason=None,
        priority="normal",
        ai_language="en",
        language="en",
        frustration=0.0,
        frustration_reasons=[],
        tone_register="neutral",
        bot_active=False,
    )
    words = ["b12", "b99"]
    unsure = ai_assist.analyse(words, subject="Bench")
    unsure = replace(unsure, category=CategoryPrediction("billing", 0.42, False, (), "model"))
    sure = replace(unsure, category=CategoryPrediction("billing", 0.8, False, (), "model"))

    def apply(analysis: ai_assist.Analysis) -> tuple[str, float]:
        ai_assist._apply(
            cast(Session, None),
            cast(Conversation, shown),
            analysis,
            words=2,
            urgent_categories=frozenset(),
            now=NOW,
        )
        return shown.ai_category, shown.ai_category_confidence

    assert apply(unsure) == ("orders", 0.91)
    assert apply(sure) == ("billing", 0.8)
    assert shown.category == "orders"  # the conversation's own category stays


def _screened_chat(
    db: Session,
) -> tuple[Conversation, Any, dict[int, str], ai_assist_batch.Pending]:
    """A chat with Anna whose customer's first line was screened, not yet stored."""
    inbox = make_chat_inbox(db)
    agent = make_user(db, name="Anna", inboxes=[inbox])
    conversation = make_conversation(
        db, inbox, make_contact(db), assignee_id=agent.id, created_at=NOW
    )
    _add(db, conversation, "Hello, where is my parcel?")
    texts = {conversation.id: "Hello, where is my parcel?"}
    (pending,) = ai_assist_batch.screen(db, texts, now=NOW)
    return conversation, agent, texts, pending


def test_a_conversation_that_moved_on_since_the_screen_is_analysed_afresh(db: Session) -> None:
    conversation, _agent, texts, pending = _screened_chat(db)

    # Before the analysis is stored, the customer writes again.
    _add(db, conversation, "I was charged twice for it and the payment failed")
    ai_assist_batch.store(db, [pending], texts, now=NOW)

    saved = stored(db, conversation.id)
    latest = ai_assist.customer_texts(db, conversation.id)
    db.commit()
    assert saved.ai_text_hash == ai_assist._digest(latest, saved.subject or "")
    assert saved.ai_text_hash != pending.analysed[0]  # type: ignore[index]
    assert saved.urgent_reason == "failed payment"


def test_an_agent_reply_since_the_screen_does_not_send_it_one_by_one(
    db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    conversation, agent, texts, pending = _screened_chat(db)

    # Before the analysis is stored, the agent answers: the customer's words are
    # the same, so the screened analysis is stored with the others.
    _add(db, conversation, "Let me check that for you", agent_id=agent.id)

    def one_by_one(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("analysed again on its own")

    monkeypatch.setattr(ai_assist, "after_customer_message", one_by_one)
    ai_assist_batch.store(db, [pending], texts, now=NOW)

    saved = stored(db, conversation.id)
    db.commit()
    assert saved.ai_text_hash == pending.analysed[0]  # type: ignore[index]
    assert saved.ai_category == pending.analysed[1].category.category  # type: ignore[index]


class _NoModel(CategoryClassifier):
    """Rules only: the test fails if the category model is consulted."""

    @property
    def model(self) -> Any:
        raise AssertionError("the category model ran")


def test_a_chat_with_a_settled_topic_only_has_the_rules_read_again(db: Session) -> None:
    inbox = make_chat_inbox(db)
    agent = make_user(db, name="Anna", inboxes=[inbox])
    conversation = make_conversation(
        db,
        inbox,
        make_contact(db),
        assignee_id=agent.id,
        created_at=NOW,
        category="orders",
        ai_category="orders",
        ai_category_confidence=0.9,
        ai_category_source="model",
        ai_urgent_reasons=[],
        ai_language="en",
        language="en",
    )
    ai_assist.use_classifier(_NoModel(starter_rows=[]))

    _add(db, conversation, "ok, thanks, I will wait for the parcel then")
    calm = ai_assist_batch.screen(db, {conversation.id: "ok, thanks"}, now=NOW)
    for item in calm:  # stored only if the tone changed; the hint is the one kept
        assert item.analysed is not None
        assert item.analysed[1].category == CategoryPrediction("orders", 0.9, False, (), "model")

    _add(db, conversation, "Wait, someone hacked my account and changed my password!")
    (urgent,) = ai_assist_batch.screen(db, {conversation.id: "someone hacked"}, now=NOW)
    assert urgent.analysed is not None
    prediction = urgent.analysed[1].category
    assert prediction.urgent
    assert prediction.source == "urgent_topic"
    assert urgent.analysed[1].language.language == "en"
