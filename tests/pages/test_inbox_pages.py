"""The inbox list and the conversation page, with their forms (PRG, CSRF, access)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from helpline.adapters.db.models import Conversation, Inbox, Message, Team, User
from helpline.domain.enums import ConversationStatus
from helpline.services.conversations import (
    do_add_note,
    do_assign,
    do_change_status,
    do_create_conversation,
)
from helpline.services.viewer import load_viewer
from tests.factories import make_contact, make_inbox, make_team, make_user
from tests.pages.helpers import csrf_of, page_login
from tests.support import FrozenClock


@dataclass
class Desk:
    team: Team
    inbox: Inbox
    ada: User
    bob: User
    admin: User


def _desk(db: Session) -> Desk:
    team = make_team(db, "Billing")
    inbox = make_inbox(db, "Website chat")
    ada = make_user(db, "ada@example.com", name="Ada Lovelace", teams=[team], inboxes=[inbox])
    bob = make_user(db, "bob@example.com", name="Bob Stone", teams=[team], inboxes=[inbox])
    admin = make_user(db, "admin@example.com", name="Alex Admin", role="admin")
    db.commit()
    return Desk(team, inbox, ada, bob, admin)


def _open(
    db: Session,
    desk: Desk,
    clock: FrozenClock,
    subject: str,
    *,
    customer: str = "Grace Hopper",
    team: bool = True,
) -> Conversation:
    contact = make_contact(db, name=customer)
    db.commit()
    conversation = do_create_conversation(
        db,
        load_viewer(db, desk.ada),
        inbox_id=desk.inbox.id,
        contact_id=contact.id,
        subject=subject,
        first_message=f"Hello, about: {subject}",
        team_id=desk.team.id if team else None,
        now=clock(),
    )
    clock.advance(minutes=1)
    return conversation


def _rows(html: str) -> list[str]:
    """Subjects of the inbox rows, top to bottom."""
    return re.findall(r'<td class="subject">\s*<a href="/conversations/\d+">([^<]*)</a>', html)


def test_inbox_lists_the_agents_conversations_by_view(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    desk = _desk(db)
    mine = _open(db, desk, clock, "Refund for order 7")
    _open(db, desk, clock, "Invoice copy")
    do_assign(db, load_viewer(db, desk.ada), mine.id, desk.ada.id, now=clock())
    page_login(client, "ada@example.com")

    inbox = client.get("/inbox")
    assert inbox.status_code == 200
    assert _rows(inbox.text) == ["Refund for order 7"]
    assert "1 conversation<" in inbox.text
    assert "Ada Lovelace" in inbox.text
    assert ">All<" not in inbox.text  # agents have no "All" view

    unassigned = client.get("/inbox?view=unassigned")
    assert _rows(unassigned.text) == ["Invoice copy"]
    assert "Unassigned" in unassigned.text

    teams = client.get("/inbox?view=teams")
    assert sorted(_rows(teams.text)) == ["Invoice copy", "Refund for order 7"]
    assert '<option value="' in teams.text and "Billing" in teams.text

    # "All" is not an agent's view: it falls back to "Mine".
    assert _rows(client.get("/inbox?view=all").text) == ["Refund for order 7"]


def test_admins_see_everything_in_all(client: TestClient, db: Session, clock: FrozenClock) -> None:
    desk = _desk(db)
    _open(db, desk, clock, "First")
    _open(db, desk, clock, "Second", team=False)
    page_login(client, "admin@example.com")
    inbox = client.get("/inbox")
    assert ">All<" in inbox.text
    assert _rows(inbox.text) == ["Second", "First"]  # last activity first


def test_status_filter_and_search(client: TestClient, db: Session, clock: FrozenClock) -> None:
    desk = _desk(db)
    solved = _open(db, desk, clock, "Card declined", customer="Katarzyna Nowak")
    _open(db, desk, clock, "Where is my parcel", customer="Marco Bianchi")
    do_change_status(
        db, load_viewer(db, desk.ada), solved.id, ConversationStatus.SOLVED, now=clock()
    )
    page_login(client, "admin@example.com")

    assert _rows(client.get("/inbox").text) == ["Where is my parcel"]
    assert _rows(client.get("/inbox?status=solved").text) == ["Card declined"]
    assert len(_rows(client.get("/inbox?status=any").text)) == 2
    assert _rows(client.get("/inbox?status=any&q=katarzyna").text) == ["Card declined"]
    assert _rows(client.get("/inbox?q=parcel").text) == ["Where is my parcel"]
    assert _rows(client.get(f"/inbox?status=any&q=%23{solved.number}").text) == ["Card declined"]
    empty = client.get("/inbox?q=nothing-matches-this")
    assert "No conversations match." in empty.text


def test_next_page_link_walks_through_every_conversation(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    desk = _desk(db)
    for number in range(30):
        _open(db, desk, clock, f"Question {number:02d}")
    page_login(client, "admin@example.com")

    first = client.get("/inbox")
    assert "30 conversations" in first.text
    seen = _rows(first.text)
    assert len(seen) == 25
    next_link = re.search(r'<a href="([^"]+)" rel="next"', first.text)
    assert next_link
    second = client.get(next_link.group(1).replace("&amp;", "&"))
    rest = _rows(second.text)
    assert len(rest) == 5
    assert 'rel="next"' not in second.text
    assert "First page" in second.text
    assert sorted(seen + rest) == [f"Question {n:02d}" for n in range(30)]


def test_a_stale_cursor_shows_the_first_page(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    desk = _desk(db)
    _open(db, desk, clock, "Only one")
    page_login(client, "admin@example.com")
    response = client.get("/inbox?cursor=not-a-cursor")
    assert response.status_code == 200
    assert "out of date" in response.text
    assert _rows(response.text) == ["Only one"]


def test_conversation_page_shows_the_whole_history(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    desk = _desk(db)
    conversation = _open(db, desk, clock, "Charged twice <b>urgent</b>")
    viewer = load_viewer(db, desk.bob)
    do_add_note(db, viewer, conversation.id, body="Check the <script> payment log", now=clock())
    clock.advance(minutes=1)
    do_change_status(db, viewer, conversation.id, ConversationStatus.PENDING, now=clock())
    page_login(client, "ada@example.com")

    page = client.get(f"/conversations/{conversation.id}")
    assert page.status_code == 200
    html = page.text
    assert f"#{conversation.number}" in html
    assert "Charged twice &lt;b&gt;urgent&lt;/b&gt;" in html  # escaped, never markup
    assert "<script>" not in html
    assert 'class="msg msg-contact"' in html
    assert "Hello, about: Charged twice" in html
    note = re.search(r'<li class="msg msg-note".*?</li>', html, re.S)
    assert note and "Internal note" in note.group(0) and "Bob Stone" in note.group(0)
    assert "Bob Stone changed the status from Open to Pending" in html
    order = [html.index(text) for text in ("Hello, about", "payment log", "from Open to Pending")]
    assert order == sorted(order)
    assert 'id="conversation-status">Pending<' in html
    assert "Would recommend us" not in html  # not asked yet

    conversation.csat_score, conversation.nps_score = 4, 9
    db.commit()
    html = client.get(f"/conversations/{conversation.id}").text
    assert "<dt>Satisfaction</dt><dd>4 / 5" in html
    assert "<dt>Would recommend us</dt><dd>9 / 10</dd>" in html


def test_reply_note_status_and_assign_forms(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    desk = _desk(db)
    conversation = _open(db, desk, clock, "Login problem")
    csrf = page_login(client, "ada@example.com")
    url = f"/conversations/{conversation.id}"

    reply = client.post(
        f"{url}/reply", data={"csrf_token": csrf, "body": "Try this link."}, follow_redirects=False
    )
    assert reply.status_code == 303
    assert reply.headers["location"] == f"{url}#latest"
    shown = client.get(url)
    assert "Reply sent." in shown.text
    assert re.search(r'class="msg msg-agent".*?Try this link\.', shown.text, re.S)
    assert "Reply sent." not in client.get(url).text  # the message shows once

    client.post(f"{url}/note", data={"csrf_token": csrf, "body": "Customer is on iOS."})
    client.post(f"{url}/assign", data={"csrf_token": csrf})
    client.post(
        f"{url}/status", data={"csrf_token": csrf, "status": "pending", "snooze_hours": "4"}
    )

    db.expire_all()
    stored = db.get(Conversation, conversation.id)
    assert stored is not None
    assert stored.assignee_id == desk.ada.id
    assert stored.status == "pending"
    assert stored.snoozed_until is not None
    kinds = [m.kind for m in db.scalars(select(Message).order_by(Message.seq))]
    db.rollback()
    assert kinds == ["reply", "reply", "note"]
    page = client.get(url).text
    assert "Snoozed" in page
    assert "Ada Lovelace took the conversation" in page
    assert 'id="conversation-assignee">Ada Lovelace<' in page


def test_refused_changes_come_back_as_a_message(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    desk = _desk(db)
    conversation = _open(db, desk, clock, "Empty reply")
    csrf = page_login(client, "ada@example.com")
    url = f"/conversations/{conversation.id}"

    empty = client.post(f"{url}/reply", data={"csrf_token": csrf, "body": "   "})
    assert empty.status_code == 200
    assert "The message is empty" in empty.text

    closed = client.post(f"{url}/status", data={"csrf_token": csrf, "status": "closed"})
    assert "Cannot change status from open to closed" in closed.text

    nonsense = client.post(f"{url}/status", data={"csrf_token": csrf, "status": "deleted"})
    assert "Choose a status." in nonsense.text


def test_forms_without_the_csrf_token_change_nothing(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    desk = _desk(db)
    conversation = _open(db, desk, clock, "Forged")
    page_login(client, "ada@example.com")
    url = f"/conversations/{conversation.id}"
    for action, data in (
        ("reply", {"body": "hi"}),
        ("note", {"body": "hi"}),
        ("status", {"status": "solved"}),
        ("assign", {}),
    ):
        response = client.post(f"{url}/{action}", data={**data, "csrf_token": "forged"})
        assert response.status_code == 403
        assert "This form has expired" in response.text
    db.expire_all()
    stored = db.get(Conversation, conversation.id)
    assert stored is not None and stored.status == "open" and stored.assignee_id is None
    assert len(db.scalars(select(Message)).all()) == 1
    db.rollback()


def test_posting_after_the_session_ended_asks_to_sign_in_again(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    desk = _desk(db)
    conversation = _open(db, desk, clock, "Late reply")
    csrf = page_login(client, "ada@example.com")
    url = f"/conversations/{conversation.id}"
    client.cookies.delete("helpline_session")
    response = client.post(
        f"{url}/reply",
        data={"csrf_token": csrf, "body": "hello"},
        headers={"referer": f"http://testserver{url}"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next={url}"


def test_conversations_out_of_reach_look_missing(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    desk = _desk(db)
    other_team = make_team(db, "Sales")
    outsider = make_user(db, "eve@example.com", teams=[other_team])
    db.commit()
    conversation = _open(db, desk, clock, "Private matter")
    csrf = page_login(client, outsider.email)

    for path in (f"/conversations/{conversation.id}", "/conversations/999999", "/conversations/x"):
        response = client.get(path)
        assert response.status_code == 404
        assert "Conversation not found" in response.text
        assert "Private matter" not in response.text

    response = client.post(
        f"/conversations/{conversation.id}/reply", data={"csrf_token": csrf, "body": "hi"}
    )
    assert "That conversation is not available." in response.text
    db.expire_all()
    assert len(db.scalars(select(Message)).all()) == 1
    db.rollback()


def test_closed_conversations_have_no_reply_form(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    desk = _desk(db)
    conversation = _open(db, desk, clock, "Done and dusted")
    viewer = load_viewer(db, desk.ada)
    do_change_status(db, viewer, conversation.id, ConversationStatus.SOLVED, now=clock())
    do_change_status(db, viewer, conversation.id, ConversationStatus.CLOSED, now=clock())
    page_login(client, "ada@example.com")
    page = client.get(f"/conversations/{conversation.id}").text
    assert "This conversation is closed" in page
    assert 'id="reply-form"' not in page
    assert 'id="status-form"' not in page
    assert csrf_of(page)  # the sign-out form is still there
