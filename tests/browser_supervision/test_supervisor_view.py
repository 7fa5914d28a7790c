"""The supervisor view in Chromium: a supervisor drags a chat from one agent to
another and both agents' screens follow live; the Move menu at tablet size; an
agent takes a break from the status control and the next chat goes to a colleague."""

from __future__ import annotations

from datetime import UTC, datetime

from playwright.sync_api import Locator, Page, expect

from helpline.adapters.db.models import Conversation
from tests.browser.conftest import LiveServer
from tests.browser_supervision.conftest import SignIn
from tests.factories import make_contact, make_conversation, make_inbox, make_team, make_user


def _arrange(live_server: LiveServer) -> tuple[int, int]:
    """Anna and Ben online in one team; Anna serves Mia's chat. Returns
    (conversation id, its number)."""
    with live_server.session() as db:
        team = make_team(db, "Support")
        inbox = make_inbox(db, "Website chat")
        now = datetime.now(UTC)
        anna = make_user(
            db,
            "anna@example.com",
            name="Anna Kowalska",
            teams=[team],
            inboxes=[inbox],
            status="online",
            status_since=now,
        )
        make_user(
            db,
            "ben@example.com",
            name="Ben Okafor",
            teams=[team],
            inboxes=[inbox],
            status="online",
            status_since=now,
        )
        make_user(
            db, "sue@example.com", name="Sue Park", role="supervisor", teams=[team], inboxes=[inbox]
        )
        chat = make_conversation(
            db,
            inbox,
            make_contact(db, name="Mia Rossi"),
            team_id=team.id,
            assignee_id=anna.id,
            subject="Where is my parcel?",
            waiting_since=now,
        )
        db.commit()
        return chat.id, chat.number


def _load(page: Page) -> Locator:
    return page.locator("[data-agent-status] [data-load]")


def _assignee(live_server: LiveServer, conversation_id: int) -> int | None:
    with live_server.session() as db:
        conversation = db.get(Conversation, conversation_id)
        assert conversation is not None
        return conversation.assignee_id


def test_a_supervisor_drags_a_chat_to_another_agent_and_both_screens_update(
    live_server: LiveServer, sign_in: SignIn
) -> None:
    chat_id, number = _arrange(live_server)
    anna = sign_in("anna@example.com")
    ben = sign_in("ben@example.com")
    sue = sign_in("sue@example.com", "/supervisor")
    expect(_load(anna)).to_have_text("1 / 3 chats")
    expect(_load(ben)).to_have_text("0 / 3 chats")
    expect(sue.locator("#live-state")).to_have_text("Live")

    anna_row = sue.locator('tr.sv-agent[data-agent-name="Anna Kowalska"]')
    ben_row = sue.locator('tr.sv-agent[data-agent-name="Ben Okafor"]')
    chip = anna_row.locator(".sv-chip", has_text=f"#{number}")
    expect(chip).to_contain_text("Mia Rossi")
    expect(anna_row.locator(".sv-load-text")).to_have_text("1 / 3")

    chip.drag_to(ben_row)

    expect(sue.locator("#live-state")).to_have_text(f"Moved #{number} to Ben Okafor.")
    expect(ben_row.locator(".sv-chip", has_text=f"#{number}")).to_be_visible()
    expect(anna_row.locator(".sv-chip")).to_have_count(0)
    expect(ben_row.locator(".sv-load-text")).to_have_text("1 / 3")
    # Both agents' screens follow without a reload.
    expect(_load(anna)).to_have_text("0 / 3 chats")
    expect(_load(ben)).to_have_text("1 / 3 chats")
    assert _assignee(live_server, chat_id) == _user_id(live_server, "ben@example.com")


def _user_id(live_server: LiveServer, email: str) -> int:
    from sqlalchemy import select

    from helpline.adapters.db.models import User

    with live_server.session() as db:
        user_id = db.scalar(select(User.id).where(User.email == email))
        assert user_id is not None
        return user_id


def test_on_a_tablet_the_move_menu_reassigns(live_server: LiveServer, sign_in: SignIn) -> None:
    chat_id, number = _arrange(live_server)
    sue = sign_in(
        "sue@example.com",
        "/supervisor",
        viewport={"width": 1024, "height": 768},
        has_touch=True,
        is_mobile=True,
    )
    row = sue.locator('tr.sv-agent[data-agent-name="Anna Kowalska"]')
    row.locator(".sv-chip summary", has_text="Move").click()
    row.get_by_label(f"Move #{chat_id} to").select_option(
        value=str(_user_id(live_server, "ben@example.com"))
    )
    row.get_by_role("button", name="Move").click()
    expect(sue.locator(".flash")).to_have_text(f"Conversation #{number} moved.")
    expect(
        sue.locator('tr.sv-agent[data-agent-name="Ben Okafor"]').locator(".sv-chip")
    ).to_contain_text(f"#{number}")
    assert _assignee(live_server, chat_id) == _user_id(live_server, "ben@example.com")


def test_on_a_break_the_next_chat_goes_to_a_colleague(
    live_server: LiveServer, sign_in: SignIn
) -> None:
    _arrange(live_server)
    anna = sign_in("anna@example.com")
    ben = sign_in("ben@example.com")
    expect(_load(ben)).to_have_text("0 / 3 chats")

    anna.get_by_label("My status").select_option("on_break")
    expect(anna.locator("[data-break-banner]")).to_contain_text("On a break until")
    expect(anna.locator("[data-agent-status]")).to_have_attribute("data-status", "on_break")

    with live_server.session() as db:
        from sqlalchemy import select

        from helpline.adapters.db.models import Contact, Inbox

        inbox_id = db.scalar(select(Inbox.id))
        contact = make_contact(db, name="Noor Haddad")
        db.commit()
        contact_id = db.scalar(select(Contact.id).where(Contact.id == contact.id))
    csrf = ben.locator("[data-agent-status]").get_attribute("data-csrf")
    created = ben.request.post(
        f"{live_server.url}/api/v1/conversations",
        data={"inbox_id": inbox_id, "contact_id": contact_id, "first_message": "Hello?"},
        headers={"X-CSRF-Token": csrf or ""},
        timeout=60_000,  # the first chat of a process also loads the language models
    )
    assert created.ok, created.text()
    # Anna is on a break: the new chat goes to Ben, whose load follows live.
    expect(_load(ben)).to_have_text("1 / 3 chats")
    expect(_load(anna)).to_have_text("1 / 3 chats")  # her own chat, nothing new
    assert _assignee(live_server, created.json()["id"]) == _user_id(live_server, "ben@example.com")

    anna.get_by_role("button", name="I\u2019m back").click()
    expect(anna.locator("[data-agent-status]")).to_have_attribute("data-status", "online")
