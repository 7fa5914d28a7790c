"""The admin page for an inbox's self-service lookups, over HTTP: admins only, the
signing secret shown once, validation next to the fields with what was typed kept,
and create, change, new secret and delete stored by the lookup service."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from helpline.adapters.db.models import AuditLog, SelfServiceLookup
from tests.factories import make_inbox, make_user
from tests.pages.helpers import page_login
from tests.widget_api.support import fresh_session

_SECRET = re.compile(r'id="lookup-secret" class="secret" readonly value="([^"]+)"')

VALID = {
    "key": "order_status",
    "label_en": "Check my order",
    "label_pl": "Sprawdź zamówienie",
    "input_label_en": "Order number",
    "url_template": "https://shop.example/helpline/orders?customer={external_id}&order={input}",
    "allowed_hosts": "shop.example\n*.shop.example",
    "timeout_seconds": "4",
    "enabled": "on",
}


def _stored(db: Session, key: str = "order_status") -> SelfServiceLookup | None:
    """The lookup as stored now, read in a short session of its own (detached)."""
    with fresh_session(db) as check:
        lookup = check.scalar(select(SelfServiceLookup).where(SelfServiceLookup.key == key))
        if lookup is not None:
            check.expunge(lookup)
        return lookup


def test_only_admins_open_it_and_unknown_inboxes_are_not_found(
    client: TestClient, db: Session
) -> None:
    inbox = make_inbox(db, "Website chat")
    make_user(db, "ben@example.com", inboxes=[inbox])
    make_user(db, "ada@example.com", role="admin")
    db.commit()
    page_login(client, "ben@example.com")
    assert client.get(f"/admin/inboxes/{inbox.id}/lookups").status_code == 403
    client.cookies.clear()
    page_login(client, "ada@example.com")
    page = client.get(f"/admin/inboxes/{inbox.id}/lookups")
    assert page.status_code == 200
    assert "No lookups yet." in page.text
    assert client.get("/admin/inboxes/999999/lookups").status_code == 404
    assert client.get(f"/admin/inboxes/{inbox.id}/lookups/nothing_here").status_code == 404
    # The inbox's own page links here.
    assert (
        f'href="/admin/inboxes/{inbox.id}/lookups"' in client.get(f"/admin/inboxes/{inbox.id}").text
    )


def test_an_admin_adds_a_lookup_and_sees_its_secret_once(client: TestClient, db: Session) -> None:
    inbox = make_inbox(db, "Website chat")
    make_user(db, "ada@example.com", role="admin")
    db.commit()
    csrf = page_login(client, "ada@example.com")
    path = f"/admin/inboxes/{inbox.id}/lookups"

    refused = client.post(
        path,
        data={
            **VALID,
            "csrf_token": csrf,
            "url_template": "https://evil.example/x?c={external_id}",
            "timeout_seconds": "soon",
        },
    )
    assert refused.status_code == 422
    assert "Enter a number of seconds" in refused.text
    assert 'value="https://evil.example/x?c={external_id}"' in refused.text  # kept
    refused = client.post(
        path,
        data={
            **VALID,
            "csrf_token": csrf,
            "url_template": "https://evil.example/x?c={external_id}",
        },
    )
    assert refused.status_code == 422
    assert "on one of the allowed hosts" in refused.text
    refused = client.post(path, data={**VALID, "csrf_token": csrf, "label_en": "", "label_pl": ""})
    assert "Give the button a label" in refused.text
    assert _stored(db) is None

    created = client.post(path, data={**VALID, "csrf_token": csrf})
    assert created.status_code == 201, created.text
    assert created.headers["cache-control"] == "no-store"
    match = _SECRET.search(created.text)
    assert match is not None
    lookup = _stored(db)
    assert lookup is not None
    assert match.group(1) == lookup.secret
    assert lookup.label == {"en": "Check my order", "pl": "Sprawdź zamówienie"}
    assert lookup.input_label == {"en": "Order number"}
    assert lookup.allowed_hosts == ["shop.example", "*.shop.example"]
    assert (lookup.timeout_seconds, lookup.enabled) == (4.0, True)

    # Never again: not on the list, not on its own page.
    for url in (path, f"{path}/order_status"):
        page = client.get(url)
        assert page.status_code == 200
        assert lookup.secret not in page.text
    assert "Check my order" in client.get(path).text

    taken = client.post(path, data={**VALID, "csrf_token": csrf})
    assert taken.status_code == 422
    assert "already has a lookup" in taken.text

    no_token = client.post(path, data={**VALID, "key": "balance"})
    assert no_token.status_code == 403
    assert _stored(db, "balance") is None


def test_an_admin_changes_rotates_and_deletes_a_lookup(client: TestClient, db: Session) -> None:
    inbox = make_inbox(db, "Website chat")
    make_user(db, "ada@example.com", role="admin")
    db.commit()
    csrf = page_login(client, "ada@example.com")
    path = f"/admin/inboxes/{inbox.id}/lookups"
    assert client.post(path, data={**VALID, "csrf_token": csrf}).status_code == 201
    with fresh_session(db) as change:
        lookup = change.scalar(select(SelfServiceLookup))
        assert lookup is not None
        lookup.label = {**lookup.label, "de": "Bestellung prüfen"}  # set through the API
        first_secret = lookup.secret
        change.commit()

    edit = client.get(f"{path}/order_status")
    assert 'value="Sprawdź zamówienie"' in edit.text
    changes = {
        "csrf_token": csrf,
        "label_en": "Where is my order?",
        "label_it": "Dov'è il mio ordine?",
        "url_template": "https://api.shop.example/o?c={external_id}&n={input}&l={language}",
        "allowed_hosts": "api.shop.example",
        "timeout_seconds": "2.5",
    }  # no "enabled": the box is unticked
    bad = client.post(f"{path}/order_status", data={**changes, "timeout_seconds": "60"})
    assert bad.status_code == 422
    assert "0.5 to 15.0 seconds" in bad.text
    saved = client.post(f"{path}/order_status", data=changes, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"] == path
    lookup = _stored(db)
    assert lookup is not None
    assert lookup.label == {
        "en": "Where is my order?",
        "it": "Dov'è il mio ordine?",
        "de": "Bestellung prüfen",  # a language the form does not show is kept
    }
    assert lookup.input_label is None
    assert lookup.allowed_hosts == ["api.shop.example"]
    assert (lookup.timeout_seconds, lookup.enabled) == (2.5, False)
    assert lookup.secret == first_secret

    rotated = client.post(f"{path}/order_status/rotate-secret", data={"csrf_token": csrf})
    assert rotated.status_code == 200
    match = _SECRET.search(rotated.text)
    lookup = _stored(db)
    assert lookup is not None and match is not None
    assert match.group(1) == lookup.secret != first_secret

    deleted = client.post(
        f"{path}/order_status/delete", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert deleted.status_code == 303
    assert _stored(db) is None
    with fresh_session(db) as check:
        actions = check.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()
    assert [a for a in actions if a.startswith("lookup.")] == [
        "lookup.created",
        "lookup.updated",
        "lookup.updated",
        "lookup.deleted",
    ]
    assert client.post(f"{path}/order_status/delete", data={"csrf_token": csrf}).status_code == 404
