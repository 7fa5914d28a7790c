"""Reply suggestions for the focused conversation: canned responses rendered for the
contact, help-center articles, the team's past replies to similar messages, an
empathetic opening when the customer is frustrated, and an LLM draft grounded in
them (with the fallback when the endpoint fails). Both databases."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from helpline.adapters.ai.llm import OpenAICompatibleClient
from helpline.services import ai_suggestions
from helpline.services.canned import CannedInput, CannedTags, do_create_canned
from helpline.services.conversations import (
    do_add_contact_message,
    do_add_reply,
    do_create_conversation,
)
from helpline.services.viewer import load_viewer
from tests.ai.test_llm import server  # noqa: F401 (the local OpenAI-compatible server fixture)
from tests.canned.support import Desk, as_user, make_desk
from tests.help_center.support import editor, write
from tests.support import FrozenClock

API = "/api/v1"


def knowledge(db: Session, desk: Desk, clock: FrozenClock) -> None:
    """A shared canned answer, a published article and a past conversation of the team."""
    do_create_canned(
        db,
        load_viewer(db, desk.sue),
        CannedInput(
            shortcut="parcel",
            title="Parcel delayed",
            body="Hi {{ contact.first_name }}, your parcel for order "
            "{{ contact.custom.order_number }} is delayed by the carrier.",
            scope="shared",
            tags=CannedTags(topic=("orders",)),
        ),
        now=clock(),
    )
    write(
        db,
        editor(db),
        clock(),
        "Tracking a parcel",
        "You can track your parcel from the orders page. Tracking updates every hour.",
    )
    viewer = load_viewer(db, desk.ada)
    earlier = do_create_conversation(
        db,
        viewer,
        inbox_id=desk.inbox.id,
        contact_id=desk.sarah.id,
        subject="Late parcel",
        first_message="My parcel is late and tracking has not moved for days",
        team_id=desk.team.id,
        now=clock() - timedelta(days=3),
    )
    do_add_reply(
        db,
        viewer,
        earlier.id,
        body="The carrier had a backlog; your parcel moves again tomorrow.",
        now=clock() - timedelta(days=3),
    )


def test_the_top_three_come_from_canned_articles_and_past_replies(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    desk = make_desk(db)
    knowledge(db, desk, clock)
    do_add_contact_message(
        db, desk.conversation.id, body="Where is my parcel? Tracking has not moved", now=clock()
    )
    as_user(client, desk.ada)

    response = client.get(f"{API}/conversations/{desk.conversation.id}/suggestions")

    assert response.status_code == 200, response.text
    found = response.json()
    assert found["count"] == 3
    by_kind = {item["kind"]: item for item in found["data"]}
    assert set(by_kind) == {"canned", "article", "past_reply"}
    assert by_kind["canned"]["text"].startswith("Hi Sarah, your parcel for order 1245")
    assert by_kind["article"]["url"].endswith("/help/articles/tracking-a-parcel")
    assert "orders page" in by_kind["article"]["snippet"]
    assert by_kind["past_reply"]["text"].startswith("The carrier had a backlog")
    assert found["opening"] is None
    assert found["draft"] is None  # no LLM configured


def test_a_frustrated_customer_gets_an_empathetic_opening_in_their_register(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    desk = make_desk(db)
    knowledge(db, desk, clock)
    do_add_contact_message(
        db,
        desk.conversation.id,
        body="ugh this is the third time i ask, where is my parcel?? u guys are useless!!!",
        now=clock(),
    )
    as_user(client, desk.ada)

    found = client.get(f"{API}/conversations/{desk.conversation.id}/suggestions").json()

    assert found["opening"]
    assert "again" in found["opening"]  # the "sorry you had to come back" variant
    assert all(item["text"].startswith(found["opening"]) for item in found["data"])


def test_suggestions_follow_the_access_rule(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    desk = make_desk(db)
    as_user(client, desk.carol)  # another team, not in the inbox

    response = client.get(f"{API}/conversations/{desk.conversation.id}/suggestions")

    assert response.status_code == 404


@pytest.mark.parametrize(
    ("behaviour", "source"),
    [("ok", "llm"), ("slow", "suggestion"), ("error", "suggestion"), ("not-json", "suggestion")],
)
def test_an_llm_drafts_from_the_sources_or_falls_back_with_a_warning(
    db: Session,
    clock: FrozenClock,
    server: str,  # noqa: F811
    behaviour: str,
    source: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    desk = make_desk(db)
    knowledge(db, desk, clock)
    do_add_contact_message(db, desk.conversation.id, body="Where is my parcel?", now=clock())
    caplog.set_level(logging.WARNING, logger="helpline.adapters.ai.llm")
    llm = OpenAICompatibleClient(f"{server}/{behaviour}/v1", "local-model", timeout_seconds=0.3)
    from helpline.settings import Settings

    found = ai_suggestions.suggest_replies(
        db,
        load_viewer(db, desk.ada),
        desk.conversation.id,
        settings=Settings(environment="test", base_url="http://testserver"),
        now=clock(),
        llm=llm,
    )
    llm.close()

    assert found.draft is not None
    assert found.draft.source == source
    if source == "llm":
        assert found.draft.text == "Your parcel is on its way."
        assert not caplog.records
    else:
        assert found.draft.text == found.suggestions[0].text
        assert any("LLM draft failed" in record.message for record in caplog.records)


def test_the_llm_draft_is_grounded_in_the_sources(
    db: Session,
    clock: FrozenClock,
    server: str,  # noqa: F811
) -> None:
    from helpline.settings import Settings
    from tests.ai.test_llm import FakeLlmServer

    desk = make_desk(db)
    knowledge(db, desk, clock)
    do_add_contact_message(db, desk.conversation.id, body="Where is my parcel?", now=clock())
    FakeLlmServer.requests.clear()
    settings = Settings(
        environment="test",
        base_url="http://testserver",
        llm_base_url=f"{server}/ok/v1",
        llm_model="local-model",
        llm_api_key="sk-local",
    )

    found = ai_suggestions.suggest_replies(
        db, load_viewer(db, desk.ada), desk.conversation.id, settings=settings, now=clock()
    )

    assert found.draft is not None and found.draft.source == "llm"
    (request,) = FakeLlmServer.requests
    assert request["auth"] == "Bearer sk-local"
    system, user = request["body"]["messages"]
    assert "Parcel delayed" in system["content"]  # the canned answer is a source
    assert "Hi Sarah" in system["content"]  # rendered for this customer
    assert "Where is my parcel?" in user["content"]


def test_a_handover_summary_comes_from_the_llm_when_one_answers(
    db: Session,
    clock: FrozenClock,
    server: str,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    from sqlalchemy import select

    from helpline.adapters.db.models import Activity
    from helpline.services import ai_assist
    from helpline.services.conversations import do_transfer

    desk = make_desk(db)
    do_add_contact_message(db, desk.conversation.id, body="Order 1245 never came", now=clock())
    do_transfer(
        db,
        load_viewer(db, desk.sue),
        desk.conversation.id,
        to_team_id=desk.other_team.id,
        now=clock(),
    )
    transfer = db.scalars(select(Activity).where(Activity.kind == "transferred")).one()
    assert transfer.data["summary_source"] == "extractive"
    transfer.data = {key: value for key, value in transfer.data.items() if key != "summary"}
    activity_id = transfer.id
    db.commit()

    caplog.set_level(logging.WARNING, logger="helpline.adapters.ai.llm")
    broken = OpenAICompatibleClient(f"{server}/error/v1", "local-model")
    ai_assist.after_handover(db, [activity_id], now=clock(), llm=broken)
    broken.close()
    db.expire_all()
    after_failure = db.get(Activity, activity_id)
    assert after_failure is not None
    assert after_failure.data["summary_source"] == "extractive"
    assert any("LLM summary failed" in record.message for record in caplog.records)
    after_failure.data = {k: v for k, v in after_failure.data.items() if k != "summary"}
    db.commit()

    working = OpenAICompatibleClient(f"{server}/ok/v1", "local-model")
    ai_assist.after_handover(db, [activity_id], now=clock(), llm=working)
    working.close()
    db.expire_all()
    summarised = db.get(Activity, activity_id)
    assert summarised is not None
    assert summarised.data["summary_source"] == "llm"
    assert summarised.data["summary"] == "Your parcel is on its way."
    db.commit()
