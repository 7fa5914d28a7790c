"""Every workspace shortcut, pressed in Chromium: the default chord, the working
alternative where Chrome or Linux keep the default for themselves, AltGr never
triggering Ctrl+Alt shortcuts, the cheat sheet, the palette and remapping.

One server and one signed-in page serve the whole module (a shortcut test only
needs fresh conversations, which each test creates), so the module stays quick.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
import uvicorn
from playwright.sync_api import FilePayload, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from helpline.adapters.db.engine import make_engine, make_session_factory
from helpline.adapters.db.migrate import upgrade_to_head
from helpline.adapters.db.models import (
    Conversation,
    Inbox,
    Message,
    Participant,
    UserPreferences,
)
from helpline.settings import Settings
from helpline.web.app import create_app
from tests.browser.conftest import LIVE_SERVER_SECRET, listening_socket
from tests.browser_workspace.conftest import EXPECT_TIMEOUT_MS, sign_in
from tests.factories import make_contact, make_conversation, make_inbox, make_team, make_user

if TYPE_CHECKING:
    from playwright.sync_api import Browser

AGENT = "kai@example.com"


@dataclass
class Desk:
    url: str
    session: Callable[[], Session]
    inbox_id: int
    agent_id: int
    colleague_id: int
    team_id: int


@pytest.fixture(scope="module")
def desk_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    tmp = tmp_path_factory.mktemp("shortcuts")
    sock = listening_socket()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = Settings(
        environment="test",
        data_dir=tmp / "data",
        secret_key=LIVE_SERVER_SECRET,
        migrate_on_start=False,
        run_worker_in_server=False,
        base_url=url,
    )
    engine = make_engine(f"sqlite:///{tmp / 'live.sqlite3'}")
    upgrade_to_head(engine)
    factory = make_session_factory(engine)
    with factory() as db:
        team = make_team(db, "Support", tier=2)
        inbox = make_inbox(db, "Website chat")
        agent = make_user(db, AGENT, name="Kai Nowak", inboxes=[inbox], teams=[team])
        colleague = make_user(db, "lea@example.com", name="Lea Berg", inboxes=[inbox])
        db.commit()
        ids = (inbox.id, agent.id, colleague.id, team.id)
    app = create_app(settings, engine=engine, start_worker=False)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        yield Desk(url, factory, *ids)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()
        engine.dispose()


@pytest.fixture(scope="module")
def agent_page(browser: Browser, desk_server: Desk) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="en-GB")
    context.set_default_timeout(EXPECT_TIMEOUT_MS)
    page = context.new_page()
    sign_in(page, desk_server.url, AGENT)
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def ws(agent_page: Page, desk_server: Desk) -> Page:
    """The workspace with no pane open, nothing selected, fresh from a reload."""
    agent_page.goto(f"{desk_server.url}/workspace")
    agent_page.locator("#ws[data-state='ready'][data-socket='open']").wait_for()
    return agent_page


def new_chats(desk: Desk, *names: str, assignee: bool = True, **fields: Any) -> list[int]:
    with desk.session() as db:
        ids = []
        for name in names:
            conversation = make_conversation(
                db,
                db.get_one(Inbox, desk.inbox_id),
                make_contact(db, name=name),
                assignee_id=desk.agent_id if assignee else None,
                subject=f"Question from {name}",
                **fields,
            )
            ids.append(conversation.id)
        db.commit()
        return ids


def open_panes(page: Page, ids: list[int]) -> None:
    for conversation_id in ids:
        page.evaluate(
            "id => window.helplineWorkspace.openConversation(id, {focus: true})", conversation_id
        )
        expect(pane(page, conversation_id).locator(".pane-name")).not_to_be_empty()


def pane(page: Page, conversation_id: int) -> Any:
    return page.locator(f".pane[data-conversation-id='{conversation_id}']")


def status_of(desk: Desk, conversation_id: int) -> str:
    with desk.session() as db:
        conversation = db.get_one(Conversation, conversation_id)
        return conversation.status


def eventually_status(desk: Desk, conversation_id: int, wanted: str) -> None:
    deadline = time.monotonic() + 10
    while status_of(desk, conversation_id) != wanted:
        assert time.monotonic() < deadline, f"status never became {wanted}"
        time.sleep(0.05)


def focused(page: Page, conversation_id: int) -> None:
    expect(pane(page, conversation_id)).to_have_class(re.compile(r"\bis-focused\b"))


# ---------------------------------------------------------------- panes


@pytest.mark.parametrize("slot", [1, 2, 3, 4])
def test_alt_digit_focuses_that_pane(ws: Page, desk_server: Desk, slot: int) -> None:
    ids = new_chats(desk_server, "Ann One", "Ben Two", "Cy Three", "Di Four")
    open_panes(ws, ids)
    ws.keyboard.press(f"Alt+{slot}")
    focused(ws, ids[slot - 1])
    expect(pane(ws, ids[slot - 1]).locator(".composer-text")).to_be_focused()
    expect(ws.locator(".pane.is-focused")).to_have_count(1)


def test_focus_moves_a_hidden_tab_into_view_at_1280(ws: Page, desk_server: Desk) -> None:
    ws.set_viewport_size({"width": 1280, "height": 720})
    try:
        ids = new_chats(desk_server, "Eve Five", "Fay Six", "Gus Seven")
        open_panes(ws, ids)
        expect(ws.locator(".pane")).to_have_count(2)  # two side by side at 1280
        expect(ws.locator(".ws-tab")).to_have_count(3)
        ws.keyboard.press("Alt+1")
        focused(ws, ids[0])
        expect(pane(ws, ids[0])).to_be_visible()
    finally:
        ws.set_viewport_size({"width": 1920, "height": 1080})


def test_close_pane_and_focus_inbox(ws: Page, desk_server: Desk) -> None:
    (chat,) = new_chats(desk_server, "Hal Eight")
    open_panes(ws, [chat])
    ws.keyboard.press("Alt+w")
    expect(pane(ws, chat)).to_have_count(0)
    ws.keyboard.press("Alt+0")
    expect(ws.locator(".ws-list .row-open").first).to_be_focused()


# ---------------------------------------------------------------- status


@pytest.mark.parametrize(
    ("chord", "status"),
    [
        ("Control+Alt+p", "pending"),
        ("Alt+Shift+p", "pending"),
        ("Control+Alt+d", "on_hold"),
        ("Alt+Shift+d", "on_hold"),
        ("Control+Alt+s", "solved"),
        ("Alt+Shift+s", "solved"),
    ],
)
def test_status_shortcuts(ws: Page, desk_server: Desk, chord: str, status: str) -> None:
    (chat,) = new_chats(desk_server, "Ida Status")
    open_panes(ws, [chat])
    ws.keyboard.press(chord)
    expect(pane(ws, chat).locator(".badge.status")).to_have_attribute("data-status", status)
    eventually_status(desk_server, chat, status)


@pytest.mark.parametrize("chord", ["Control+Alt+o", "Alt+Shift+o"])
def test_set_open_shortcut(ws: Page, desk_server: Desk, chord: str) -> None:
    (chat,) = new_chats(desk_server, "Jo Open", status="pending")
    open_panes(ws, [chat])
    ws.keyboard.press(chord)
    eventually_status(desk_server, chat, "open")


def altgr_chord(page: Page, letter: str) -> None:
    """What Windows sends for AltGr+letter on a Polish keyboard: Ctrl and Alt set,
    AltGraph down, the key is the accented character."""
    page.evaluate(
        """([code, key]) => {
            const target = document.activeElement || document.body;
            const init = {key, code, ctrlKey: true, altKey: true, modifierAltGraph: true,
                          bubbles: true, cancelable: true};
            const down = new KeyboardEvent("keydown", init);
            target.dispatchEvent(down);
            if (!down.defaultPrevented && target.tagName === "TEXTAREA") {
                target.setRangeText(key, target.selectionStart, target.selectionEnd, "end");
            }
            target.dispatchEvent(new KeyboardEvent("keyup", init));
        }""",
        [f"Key{letter.upper()}", {"s": "ś", "o": "ó", "n": "ń"}[letter]],
    )


@pytest.mark.parametrize("letter", ["s", "o", "n"])
def test_altgr_letters_type_and_never_fire_ctrl_alt_shortcuts(
    ws: Page, desk_server: Desk, letter: str
) -> None:
    (chat,) = new_chats(desk_server, "Zofia Łąka", status="pending")
    open_panes(ws, [chat])
    composer = pane(ws, chat).locator(".composer-text")
    composer.focus()
    altgr_chord(ws, letter)
    expect(composer).to_have_value({"s": "ś", "o": "ó", "n": "ń"}[letter])
    expect(ws.locator("#ws-form-dialog")).not_to_have_attribute("open", "")
    assert status_of(desk_server, chat) == "pending"
    # The same physical chord without AltGraph is the shortcut.
    if letter == "s":
        ws.keyboard.press("Control+Alt+s")
        eventually_status(desk_server, chat, "solved")


# ---------------------------------------------------------------- chat actions


@pytest.mark.parametrize("chord", ["Shift+Escape", "Alt+Shift+e"])
def test_end_chat(ws: Page, desk_server: Desk, chord: str) -> None:
    (chat,) = new_chats(desk_server, "Kim End")
    open_panes(ws, [chat])
    ws.keyboard.press(chord)
    expect(pane(ws, chat)).to_have_count(0)
    eventually_status(desk_server, chat, "solved")


@pytest.mark.parametrize(
    ("join", "leave"), [("Control+Shift+j", "Control+Shift+k"), ("Alt+Shift+j", "Alt+Shift+l")]
)
def test_join_and_leave_a_colleagues_chat(
    ws: Page, desk_server: Desk, join: str, leave: str
) -> None:
    (chat,) = new_chats(desk_server, "Lou Help", assignee=False)
    with desk_server.session() as db:
        db.get_one(Conversation, chat).assignee_id = desk_server.colleague_id
        db.commit()
    open_panes(ws, [chat])

    def joined() -> bool:
        with desk_server.session() as db:
            return (
                db.scalar(
                    select(Participant.id).where(
                        Participant.conversation_id == chat,
                        Participant.user_id == desk_server.agent_id,
                        Participant.left_at.is_(None),
                    )
                )
                is not None
            )

    ws.keyboard.press(join)
    expect(ws.locator("#ws-toasts")).to_contain_text("Joined chat")
    assert joined()
    ws.keyboard.press(leave)
    expect(ws.locator("#ws-toasts")).to_contain_text("Left chat")
    assert not joined()


@pytest.mark.parametrize("chord", ["Control+Shift+x", "Alt+Shift+x"])
def test_transfer_chat(ws: Page, desk_server: Desk, chord: str) -> None:
    (chat,) = new_chats(desk_server, "Max Move")
    open_panes(ws, [chat])
    ws.keyboard.press(chord)
    dialog = ws.locator("#ws-form-dialog")
    expect(dialog).to_contain_text("Transfer chat")
    dialog.get_by_label("To agent").select_option(label="Lea Berg")
    dialog.get_by_label("Note for the colleague").fill("Knows billing")
    dialog.get_by_role("button", name="Transfer").click()

    def moved() -> bool:
        with desk_server.session() as db:
            return db.get_one(Conversation, chat).assignee_id == desk_server.colleague_id

    deadline = time.monotonic() + 10
    while not moved():
        assert time.monotonic() < deadline
        time.sleep(0.05)


@pytest.mark.parametrize("chord", ["Control+Shift+u", "Alt+Shift+u"])
def test_add_attachment_opens_the_file_chooser(ws: Page, desk_server: Desk, chord: str) -> None:
    # Playwright intercepts file choosers only once a listener exists, and turning
    # interception on is a round trip to the browser: do it before the chord, so a
    # busy machine cannot let the chooser open (and be dismissed) before it is on.
    def ignore(_chooser: Any) -> None:
        return None

    ws.on("filechooser", ignore)
    (chat,) = new_chats(desk_server, "Ned Files")
    open_panes(ws, [chat])
    expect(pane(ws, chat).locator(".composer-text")).to_be_focused()  # the chord's target
    try:
        with ws.expect_file_chooser() as chooser:
            ws.keyboard.press(chord)
    finally:
        ws.remove_listener("filechooser", ignore)
    receipt: FilePayload = {"name": "receipt.txt", "mimeType": "text/plain", "buffer": b"x"}
    chooser.value.set_files(files=[receipt])
    expect(pane(ws, chat).locator(".composer-files")).to_contain_text("receipt.txt")
    pane(ws, chat).locator(".composer-text").press("Enter")
    expect(pane(ws, chat).locator(".attachment")).to_contain_text("receipt.txt")


def test_send_and_solve(ws: Page, desk_server: Desk) -> None:
    (chat,) = new_chats(desk_server, "Ola Solve")
    open_panes(ws, [chat])
    ws.keyboard.type("All done, have a nice day")
    ws.keyboard.press("Control+e")
    eventually_status(desk_server, chat, "solved")
    with desk_server.session() as db:
        bodies = list(db.scalars(select(Message.body).where(Message.conversation_id == chat)))
    assert bodies == ["All done, have a nice day"]


def test_internal_note_mode(ws: Page, desk_server: Desk) -> None:
    (chat,) = new_chats(desk_server, "Pia Note")
    open_panes(ws, [chat])
    ws.keyboard.press("Alt+i")
    composer = pane(ws, chat).locator(".composer")
    expect(composer).to_have_attribute("data-mode", "note")
    expect(composer).to_contain_text("Pia Note will not see it")
    ws.keyboard.type("Customer is a VIP")
    ws.keyboard.press("Enter")
    expect(pane(ws, chat).locator(".entry.note")).to_contain_text("Customer is a VIP")
    with desk_server.session() as db:
        kinds = list(db.scalars(select(Message.kind).where(Message.conversation_id == chat)))
    assert kinds == ["note"]


def test_insert_article_opens_the_article_search(ws: Page, desk_server: Desk) -> None:
    (chat,) = new_chats(desk_server, "Quinn Help")
    open_panes(ws, [chat])
    ws.keyboard.press("Alt+h")
    expect(
        pane(ws, chat).get_by_role("combobox", name="Search help-center articles")
    ).to_be_focused()
    ws.keyboard.press("Escape")
    expect(pane(ws, chat).locator(".picker")).to_have_count(0)


# ---------------------------------------------------------------- tickets


@pytest.mark.parametrize("chord", ["Control+Alt+n", "Alt+Shift+n"])
def test_new_ticket(ws: Page, desk_server: Desk, chord: str) -> None:
    ws.keyboard.press(chord)
    dialog = ws.locator("#ws-form-dialog")
    expect(dialog).to_contain_text("New ticket")
    dialog.get_by_label("Customer email").fill(f"new-{chord[-1]}@example.com")
    dialog.get_by_label("Customer name").fill("Rita New")
    dialog.get_by_label("Subject").fill("Phone call about an invoice")
    dialog.get_by_role("button", name="Create").click()
    expect(ws.locator(".pane.is-focused .pane-name")).to_have_text("Rita New")


@pytest.mark.parametrize(
    ("chord", "step"),
    [
        ("Control+Alt+k", 1),
        ("Alt+Shift+ArrowDown", 1),
        ("Control+Alt+j", -1),
        ("Alt+Shift+ArrowUp", -1),
    ],
)
def test_next_and_previous_ticket(ws: Page, desk_server: Desk, chord: str, step: int) -> None:
    ids = new_chats(desk_server, "Sam First", "Tia Second", priority_score=500.0)
    ws.reload()
    ws.locator("#ws[data-state='ready'][data-socket='open']").wait_for()
    rows = ws.locator(".ws-list .row")
    expect(rows.first).to_have_attribute("data-id", str(ids[1]))  # same score: newest id first
    start, expected = (ids[1], ids[0]) if step == 1 else (ids[0], ids[1])
    open_panes(ws, [start])
    ws.keyboard.press(chord)
    focused(ws, expected)


# ---------------------------------------------------------------- help


def test_cheat_sheet_shows_the_bindings_that_work_in_this_browser(ws: Page) -> None:
    ws.locator("body").press("?")
    sheet = ws.locator("#ws-cheatsheet")
    expect(sheet).to_be_visible()
    end_chat = sheet.locator("tr[data-action='end_chat']")
    expect(end_chat.locator("kbd.works")).to_have_text(["Alt+Shift+E"])
    expect(end_chat.locator("kbd.taken")).to_have_text(["Shift+Esc"])
    expect(end_chat).to_contain_text("task manager")
    join = sheet.locator("tr[data-action='join_chat']")
    expect(join.locator("kbd.works")).to_have_text(["Alt+Shift+J"])
    attach = sheet.locator("tr[data-action='add_attachment']")
    expect(attach.locator("kbd.works")).to_have_text(["Alt+Shift+U"])  # Linux: IBus
    expect(sheet.locator("tr[data-action='set_solved'] kbd.works")).to_have_text(
        ["Ctrl+Alt+S", "Alt+Shift+S"]
    )
    ws.keyboard.press("Escape")
    expect(sheet).not_to_be_visible()


def test_question_mark_in_the_composer_is_just_text(ws: Page, desk_server: Desk) -> None:
    (chat,) = new_chats(desk_server, "Uma Asks")
    open_panes(ws, [chat])
    ws.keyboard.type("Really?")
    expect(pane(ws, chat).locator(".composer-text")).to_have_value("Really?")
    expect(ws.locator("#ws-cheatsheet")).not_to_be_visible()


def test_command_palette_runs_a_command(ws: Page, desk_server: Desk) -> None:
    (chat,) = new_chats(desk_server, "Vic Palette")
    open_panes(ws, [chat])
    ws.keyboard.press("Control+k")
    palette = ws.get_by_role("combobox", name="Type a command")
    expect(palette).to_be_focused()
    ws.keyboard.type("set pend")
    ws.keyboard.press("Enter")
    eventually_status(desk_server, chat, "pending")


def test_remapping_in_the_cheat_sheet_is_kept_on_the_server(ws: Page, desk_server: Desk) -> None:
    ws.locator("body").press("?")
    sheet = ws.locator("#ws-cheatsheet")
    sheet.get_by_role("button", name="Change the shortcut for Set pending").click()
    field = sheet.get_by_label("Shortcuts, comma separated")
    field.fill("")
    field.press("Alt+Shift+Y")
    expect(field).to_have_value("Alt+Shift+Y")
    sheet.get_by_role("button", name="Save", exact=True).click()
    expect(sheet.locator("tr[data-action='set_pending'] kbd.works")).to_have_text(["Alt+Shift+Y"])
    ws.keyboard.press("Escape")
    try:
        ws.reload()
        ws.locator("#ws[data-state='ready'][data-socket='open']").wait_for()
        (chat,) = new_chats(desk_server, "Wes Remap")
        open_panes(ws, [chat])
        ws.keyboard.press("Control+Alt+p")  # no longer bound
        ws.keyboard.press("Alt+Shift+y")
        eventually_status(desk_server, chat, "pending")
    finally:
        with desk_server.session() as db:
            row = db.get(UserPreferences, desk_server.agent_id)
            if row is not None:
                row.keymap = {}
                db.commit()


# ---------------------------------------------------------------- badges


def test_badges_show_what_the_api_computes(ws: Page, desk_server: Desk) -> None:
    (chat,) = new_chats(
        desk_server,
        "Yara Badge",
        priority="urgent",
        priority_score=87.4,
        priority_breakdown=[["urgent: login problem", 40.0], ["customer value", 27.4]],
        frustration=0.85,
    )
    http = httpx_client(desk_server)
    try:
        api_view = http.get(f"/api/v1/conversations/{chat}").json()
    finally:
        http.close()
    open_panes(ws, [chat])
    badge = pane(ws, chat).locator(".badge.priority")
    expect(badge).to_have_text(f"Urgent · {round(api_view['priority_score'])}")
    badge.click()
    breakdown = pane(ws, chat).locator(".breakdown li")
    expect(breakdown).to_have_count(len(api_view["priority_breakdown"]))
    for index, reason in enumerate(api_view["priority_breakdown"]):
        expect(breakdown.nth(index)).to_contain_text(reason["reason"])
    frustration = pane(ws, chat).locator(".badge.frustration")
    assert api_view["frustration_level"] == "high"
    expect(frustration).to_have_attribute("data-level", "high")
    expect(frustration).to_contain_text(f"{round(api_view['frustration'] * 100)}%")
    ws.evaluate("() => window.helplineWorkspace.inbox.reload({now: true})")  # made in the db
    row = ws.locator(f".ws-list .row[data-id='{chat}'] .badge.priority")
    expect(row).to_have_text(f"Urgent · {round(api_view['priority_score'])}")


def httpx_client(desk: Desk) -> Any:
    import httpx

    from tests.support import DEFAULT_PASSWORD

    client = httpx.Client(base_url=desk.url, timeout=10)
    response = client.post(
        "/api/v1/auth/login", json={"email": AGENT, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 200, response.text
    return client
