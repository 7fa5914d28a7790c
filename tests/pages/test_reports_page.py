"""The reports page and its CSV over HTTP: who may open it, the numbers a team lead
reads, the default range, and choices that cannot be a report."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from helpline.web.pages.reports import span
from tests.api.test_reports import _arrange
from tests.pages.helpers import page_login

RANGE = {"from": "2026-03-02", "to": "2026-03-04"}


def test_supervisors_read_the_numbers_and_agents_are_turned_away(
    client: TestClient, db: Session
) -> None:
    world = _arrange(db)
    page_login(client, world.agent_a.email)
    assert 'href="/reports"' not in client.get("/inbox").text
    assert client.get("/reports").status_code == 403
    assert client.get("/reports.csv").status_code == 403

    client.cookies.clear()
    page_login(client, world.supervisor.email)
    assert 'href="/reports"' in client.get("/inbox").text
    page = client.get("/reports", params=RANGE)
    assert page.status_code == 200
    text = page.text
    assert 'id="tile-created">3<' in text
    assert 'id="tile-first-response">1 min<' in text  # 60 s and 300 s: the median is 60
    assert 'id="tile-resolution">1 h 00 min<' in text
    assert 'id="tile-sla">50 %<' in text
    assert 'id="tile-csat">50 %<' in text
    assert 'id="tile-nps">+0<' in text
    assert "<td>2026-03-02</td>" in text and "<td>2026-03-04</td>" in text
    assert 'value="2026-03-02"' in text  # the form keeps the choice
    agents = text[text.index('id="report-agents"') :]
    assert "<td>Ana</td>" in agents and "3.5" in agents and "Nobody yet" in agents


def test_without_choices_it_shows_the_last_seven_days(client: TestClient, db: Session) -> None:
    world = _arrange(db)
    page_login(client, world.admin.email)
    page = client.get("/reports")
    assert page.status_code == 200
    # The frozen clock's today is 2026-03-02.
    assert 'name="from" value="2026-02-24"' in page.text
    assert 'name="to" value="2026-03-02"' in page.text


def test_choices_that_cannot_be_a_report_say_why(client: TestClient, db: Session) -> None:
    world = _arrange(db)
    page_login(client, world.supervisor.email)
    bad_day = client.get("/reports", params={"from": "2 March", "to": "2026-03-04"})
    assert bad_day.status_code == 422
    assert "Enter a date such as 2026-03-02." in bad_day.text
    backwards = client.get("/reports", params={"from": "2026-03-04", "to": "2026-03-02"})
    assert backwards.status_code == 422
    assert "The last day comes before the first" in backwards.text
    zone = client.get("/reports", params={**RANGE, "time_zone": "Mars/Olympus"})
    assert zone.status_code == 422
    assert "Unknown time zone" in zone.text
    assert 'value="Mars/Olympus"' in zone.text  # kept, to be corrected


def test_the_days_download_as_csv(client: TestClient, db: Session) -> None:
    world = _arrange(db)
    page_login(client, world.supervisor.email)
    response = client.get("/reports.csv", params={**RANGE, "time_zone": "Europe/Warsaw"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert (
        'filename="helpline-report-2026-03-02-2026-03-04.csv"'
        in response.headers["content-disposition"]
    )
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(row["day"], row["created"], row["email"]) for row in rows] == [
        ("2026-03-02", "2", "0"),
        ("2026-03-03", "0", "0"),
        ("2026-03-04", "1", "1"),
    ]
    assert rows[0]["first_response_median_seconds"] == "60.0"
    refused = client.get("/reports.csv", params={"from": "2026-03-04", "to": "2026-03-02"})
    assert refused.status_code == 422


def test_long_times_read_in_days() -> None:
    assert span(None) == "\u2013"
    assert span(59) == "59 s"
    assert span(47 * 3600) == "47 h 00 min"
    assert span(2 * 86_400 + 4 * 3600 + 59) == "2 d 4 h"
