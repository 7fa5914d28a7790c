"""The reports page in Chromium: a supervisor opens it from the navigation, picks
the days and a channel, reads the numbers and downloads the days as CSV."""

from __future__ import annotations

from datetime import UTC, datetime

from playwright.sync_api import expect

from tests.browser.conftest import LiveServer
from tests.browser_supervision.conftest import SignIn
from tests.factories import make_contact, make_conversation, make_inbox, make_user


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def test_a_supervisor_reads_the_week_and_downloads_it(
    live_server: LiveServer, sign_in: SignIn
) -> None:
    with live_server.session() as db:
        chat = make_inbox(db, "Website chat")
        mail = make_inbox(db, "Support mail", channel="email", email_address="help@shop.example")
        make_user(db, "sue@example.com", name="Sue Lead", role="supervisor")
        contact = make_contact(db, "mia@example.com", name="Mia")
        make_conversation(
            db,
            chat,
            contact,
            created_at=_at(2, 8),
            first_response_at=_at(2, 8, 2),
            solved_at=_at(2, 10),
            status="solved",
            csat_score=5,
        )
        make_conversation(db, mail, contact, created_at=_at(3, 9), csat_score=3)
        db.commit()
    page = sign_in("sue@example.com", "/inbox")
    page.get_by_role("link", name="Reports").click()
    filters = page.locator("#report-filters")
    filters.get_by_label("From").fill("2026-03-02")
    filters.get_by_label("To").fill("2026-03-03")
    filters.get_by_role("button", name="Show").click()
    expect(page.locator("#tile-created")).to_have_text("2")
    expect(page.locator("#tile-first-response")).to_have_text("2 min")
    expect(page.locator("#tile-resolution")).to_have_text("2 h 00 min")
    expect(page.locator("#tile-csat")).to_have_text("50 %")
    expect(page.locator("#report-days tbody tr")).to_have_count(2)

    filters.get_by_label("Channel").select_option(label="Email")
    filters.get_by_role("button", name="Show").click()
    expect(page.locator("#tile-created")).to_have_text("1")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the days as CSV").click()
    assert download.value.suggested_filename == "helpline-report-2026-03-02-2026-03-03.csv"
    lines = download.value.path().read_text().splitlines()
    assert lines[0].startswith("day,created,chat,email,phone,api,solved")
    assert lines[1:] == ["2026-03-02,0,0,0,0,0,0,", "2026-03-03,1,0,1,0,0,0,"]
