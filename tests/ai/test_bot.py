"""The FAQ bot through the widget API: it answers from published articles with the
source, and hands over with a summary and the transcript (an internal note) when it
is unsure, after two unhelpful answers, for frustrated customers, for sensitive
topics and when the customer asks for a person. Both databases."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from helpline.adapters.db.models import Contact, Conversation, Message
from tests.ai.bot_support import faq_articles
from tests.factories import make_user
from tests.support import FrozenClock
from tests.widget_api.support import (
    client_id,
    headers,
    make_chat_inbox,
    open_session,
    send,
    start_conversation,
    widget_url,
)


def bot_desk(db: Session, clock: FrozenClock, *, agent_online: bool = True) -> Any:
    inbox = make_chat_inbox(db, faq_bot=True)
    make_user(
        db, "ada@example.com", inboxes=[inbox], status="online" if agent_online else "offline"
    )
    faq_articles(db, clock())
    db.commit()
    db.refresh(inbox)
    db.expunge(inbox)  # keeps its loaded fields without a transaction (SQLite's write lock)
    db.commit()
    return inbox


@dataclass(frozen=True)
class Said:
    author_type: str
    kind: str
    body: str


@dataclass(frozen=True)
class ChatState:
    bot_active: bool
    assignee_id: int | None
    waiting_since: object


def messages(db: Session, conversation_id: int) -> list[Said]:
    """What the conversation holds, read in one transaction that ends here (on SQLite
    an open transaction would hold the write lock the app needs)."""
    db.expire_all()
    rows = [
        Said(m.author_type, m.kind, m.body)
        for m in db.scalars(
            select(Message).where(Message.conversation_id == conversation_id).order_by(Message.seq)
        )
    ]
    db.commit()
    return rows


def conversation(db: Session, conversation_id: int) -> ChatState:
    db.expire_all()
    found = db.get(Conversation, conversation_id)
    assert found is not None
    state = ChatState(found.bot_active, found.assignee_id, found.waiting_since)
    db.commit()
    return state


def assert_handed_over(db: Session, conversation_id: int, reason: str) -> str:
    chat = conversation(db, conversation_id)
    assert chat.bot_active is False
    assert chat.waiting_since is not None
    (note,) = [m for m in messages(db, conversation_id) if m.kind == "note"]
    assert note.author_type == "bot"
    assert note.body.startswith(f"Bot handed over: {reason}")
    assert "Summary:\nCustomer:" in note.body
    assert "Bot transcript:\nCustomer:" in note.body
    return note.body


def test_the_bot_answers_from_an_article_with_its_source(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    inbox = bot_desk(db, clock)
    token = open_session(client, inbox)

    started = start_conversation(client, inbox, token, message="How can I track my parcel?")

    chat = conversation(db, started["id"])
    assert chat.bot_active is True
    assert chat.assignee_id is None  # kept out of the agents' queue
    answer = messages(db, started["id"])[-1]
    assert answer.author_type == "bot"
    assert answer.kind == "reply"
    assert "follow your parcel on the Orders page" in answer.body
    assert "Source: Track your parcel — " in answer.body
    assert "/articles/track-your-parcel" in answer.body
    state = client.get(
        widget_url(inbox, f"conversations/{started['id']}/bot"), headers=headers(token)
    )
    assert state.json()["bot_active"] is True


@pytest.mark.parametrize(
    ("question", "reason"),
    [
        ("Do you sell gift cards for weddings in Norway?", "the bot was not sure of an answer"),
        (
            "WHERE IS MY PARCEL??? This is the third time I ask, useless!!!",
            "the customer sounds very frustrated",
        ),
        ("I was charged twice for my order and want a refund", "a sensitive topic"),
        ("My lawyer will contact you about my parcel", "a sensitive topic"),
        ("Can I talk to a human please?", "the customer asked for a person"),
    ],
)
def test_the_bot_hands_over(
    client: TestClient, db: Session, clock: FrozenClock, question: str, reason: str
) -> None:
    inbox = bot_desk(db, clock)
    token = open_session(client, inbox)

    started = start_conversation(client, inbox, token, message=question)

    note = assert_handed_over(db, started["id"], reason)
    assert question in note
    visible = [
        m for m in messages(db, started["id"]) if m.kind == "reply" and m.author_type == "bot"
    ]
    assert visible[-1].body.startswith("I'm passing you to a colleague")


def test_two_unhelpful_answers_hand_over(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    inbox = bot_desk(db, clock)
    token = open_session(client, inbox)
    started = start_conversation(client, inbox, token, message="How can I track my parcel?")
    url = widget_url(inbox, f"conversations/{started['id']}/bot/unhelpful")

    first = client.post(url, headers=headers(token)).json()
    assert first["bot_active"] is True
    second_answer = messages(db, started["id"])[-1]
    assert second_answer.body.startswith("Sorry that didn't help.")
    assert "Source: Track your parcel" not in second_answer.body

    send(client, inbox, token, started["id"], "No, that didn't help either")

    assert_handed_over(db, started["id"], "two answers did not help")


def test_talk_to_a_human_is_one_call_and_nobody_online_means_the_offline_form(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    inbox = bot_desk(db, clock, agent_online=False)
    token = open_session(client, inbox)
    config = client.get(widget_url(inbox, "config"), headers=headers()).json()
    assert config["faq_bot"] is True
    started = start_conversation(client, inbox, token, message="How can I track my parcel?")

    state = client.post(
        widget_url(inbox, f"conversations/{started['id']}/bot/handover"), headers=headers(token)
    ).json()

    assert state == {
        "bot_active": False,
        "handed_over": True,
        "reason": "asked_for_person",
        "offline": True,
    }
    assert_handed_over(db, started["id"], "the customer asked for a person")
    assert messages(db, started["id"])[-1].body.startswith("Nobody from the team is available")


def test_another_visitor_cannot_press_the_buttons(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    inbox = bot_desk(db, clock)
    started = start_conversation(
        client, inbox, open_session(client, inbox), message="How can I track my parcel?"
    )
    stranger = open_session(client, inbox, name="Eve")

    response = client.post(
        widget_url(inbox, f"conversations/{started['id']}/bot/handover"), headers=headers(stranger)
    )

    assert response.status_code == 404
    assert conversation(db, started["id"]).bot_active is True


@pytest.mark.parametrize(
    ("question", "reply_starts"),
    [
        ("Chcę porozmawiać z konsultantem, proszę", "Przekazuję Cię teraz koledze"),
        ("Vorrei parlare con un operatore, per favore", "Ti passo ora a un collega"),
        ("Θέλω να μιλήσω με έναν άνθρωπο, παρακαλώ", "Σας μεταφέρω τώρα"),  # noqa: RUF001
        ("Ich möchte mit einem Mitarbeiter sprechen", "I'm passing you to a colleague"),
    ],
)
def test_the_bot_hands_over_in_the_customers_language(
    client: TestClient, db: Session, clock: FrozenClock, question: str, reply_starts: str
) -> None:
    """The widget speaks English, Polish, Italian and Greek, and so does the bot (read
    from the customer's words when nothing else says); others get English."""
    inbox = bot_desk(db, clock)
    token = open_session(client, inbox)

    started = start_conversation(client, inbox, token, message=question)

    assert_handed_over(db, started["id"], "the customer asked for a person")
    visible = [
        m for m in messages(db, started["id"]) if m.kind == "reply" and m.author_type == "bot"
    ]
    assert visible[-1].body.startswith(reply_starts)


def test_a_customer_whose_language_is_known_gets_the_bot_in_it_all_along(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    inbox = bot_desk(db, clock)
    token = open_session(client, inbox, name="Ola Nowak")
    contact = db.scalars(select(Contact).where(Contact.name == "Ola Nowak")).one()
    contact.language = "pl-PL"  # e.g. from the shop's customer profile
    db.commit()
    started = start_conversation(client, inbox, token, message="How can I track my parcel?")
    first = messages(db, started["id"])[-1]
    assert "Źródło: Track your parcel — " in first.body

    client.post(
        widget_url(inbox, f"conversations/{started['id']}/bot/unhelpful"), headers=headers(token)
    )

    second = messages(db, started["id"])[-1]
    assert second.body.startswith("Przykro mi, że to nie pomogło.")
    assert "Track your parcel" not in second.body  # the answer given is read back in Polish


def test_the_widgets_language_is_the_conversations_and_the_bot_speaks_it(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    """Until AI assist reads a language in the customer's words (three words or
    more), the conversation has the widget's."""
    inbox = bot_desk(db, clock)
    token = open_session(client, inbox)

    started = client.post(
        widget_url(inbox, "conversations"),
        json={
            "message": "Human?",  # too short to tell its language: the widget's counts
            "client_message_id": client_id(),
            "locale": "it",
        },
        headers=headers(token),
    )

    assert started.status_code == 201, started.text
    db.expire_all()
    stored = db.get(Conversation, started.json()["id"])
    assert stored is not None and stored.language == "it"
    db.commit()
    assert messages(db, started.json()["id"])[-1].body.startswith("Ti passo ora a un collega")
    unknown = client.post(
        widget_url(inbox, "conversations"),
        json={"message": "Hi", "client_message_id": client_id(), "locale": "xx"},
        headers=headers(token),
    )
    assert unknown.status_code == 422
