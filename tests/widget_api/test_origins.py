"""Allowed domains: the server checks Origin on every widget request and handshake."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from starlette.websockets import WebSocketDisconnect

from helpline.settings import Settings
from helpline.web.app import create_app
from helpline.web.origins import domain_matches, origin_host, same_origin, widget_origin_allowed
from tests.widget_api.support import (
    headers,
    make_chat_inbox,
    open_session,
    receive,
    widget_url,
)


def test_domain_patterns() -> None:
    assert domain_matches("shop.example", "shop.example")
    assert domain_matches("shop.example", "SHOP.example.")
    assert not domain_matches("evilshop.example", "shop.example")
    assert not domain_matches("shop.example.evil.test", "shop.example")
    assert domain_matches("www.shop.example", "*.shop.example")
    assert domain_matches("a.b.shop.example", "*.shop.example")
    assert not domain_matches("shop.example", "*.shop.example")
    assert not domain_matches("evilshop.example", "*.shop.example")
    assert not domain_matches("anything", "")


def test_origin_headers_are_parsed_strictly() -> None:
    assert origin_host("https://Shop.Example:8443") == "shop.example"
    for bad in (None, "", "null", "file://x", "javascript:alert(1)", "https://", "https://a:99999"):
        assert origin_host(bad) is None


def test_the_rule(settings: Settings) -> None:
    listed = ["shop.example"]
    assert widget_origin_allowed("https://shop.example", listed, settings=settings)
    assert not widget_origin_allowed("https://other.example", listed, settings=settings)
    assert not widget_origin_allowed(None, listed, settings=settings)
    # The server's own pages (base_url) are always allowed.
    assert widget_origin_allowed("http://testserver", listed, settings=settings)
    # No list: open outside production, closed in production.
    assert widget_origin_allowed("https://anyone.example", [], settings=settings)
    production = settings.model_copy(update={"environment": "production"})
    assert not widget_origin_allowed("https://anyone.example", [], settings=production)
    opened = production.model_copy(update={"widget_allow_unlisted_origins": True})
    assert widget_origin_allowed("https://anyone.example", [], settings=opened)


def test_same_origin_for_agent_sockets(settings: Settings) -> None:
    assert same_origin("http://testserver", host_header="testserver", settings=settings)
    assert same_origin("https://help.example", host_header="help.example", settings=settings)
    assert same_origin(
        "http://help.example:8000", host_header="help.example:8000", settings=settings
    )
    assert not same_origin("https://evil.example", host_header="help.example", settings=settings)
    assert not same_origin(None, host_header="help.example", settings=settings)


def test_requests_from_other_sites_are_refused(client: TestClient, db: Session) -> None:
    inbox = make_chat_inbox(db)
    db.commit()
    token = open_session(client, inbox)
    for origin in ("https://evil.example", "https://shop.example.evil.test", "null"):
        for method, path in (
            ("GET", "config"),
            ("POST", "sessions"),
            ("GET", "conversations"),
            ("POST", "offline"),
        ):
            response = client.request(
                method, widget_url(inbox, path), json={}, headers=headers(token, origin)
            )
            assert response.status_code == 403, (origin, path)
            assert response.json()["error"]["code"] == "origin_not_allowed"
    missing = client.get(widget_url(inbox, "config"))
    assert missing.status_code == 403
    allowed = client.get(
        widget_url(inbox, "config"), headers=headers(origin="https://www.shop.example")
    )
    assert allowed.status_code == 200


def test_sockets_from_other_sites_are_refused_before_accept(
    client: TestClient, db: Session
) -> None:
    inbox = make_chat_inbox(db)
    db.commit()
    token = open_session(client, inbox)
    url = widget_url(inbox, f"ws?token={token}")
    with (
        pytest.raises(WebSocketDisconnect) as refused,
        client.websocket_connect(url, headers={"Origin": "https://evil.example"}) as ws,
    ):
        receive(ws)
    assert refused.value.code == 1008
    with (
        pytest.raises(WebSocketDisconnect) as unknown,
        client.websocket_connect(f"/api/v1/widget/nope/ws?token={token}", headers=headers()) as ws,
    ):
        receive(ws)
    assert unknown.value.code == 1008
    with client.websocket_connect(url, headers=headers(origin="https://shop.example")) as ws:
        assert receive(ws)["type"] == "hello"


def test_cors_lets_the_calling_page_read_answers(client: TestClient, db: Session) -> None:
    inbox = make_chat_inbox(db)
    db.commit()
    preflight = client.options(
        widget_url(inbox, "sessions"),
        headers={
            "Origin": "https://shop.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, authorization",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "https://shop.example"
    assert "Authorization" in preflight.headers["access-control-allow-headers"]
    answer = client.get(widget_url(inbox, "config"), headers=headers())
    assert answer.headers["access-control-allow-origin"] == "https://shop.example"
    # Staff endpoints get no CORS headers.
    assert (
        "access-control-allow-origin" not in client.get("/api/v1/health", headers=headers()).headers
    )


def test_production_refuses_inboxes_without_a_list(
    settings: Settings, db: Session, db_engine: object
) -> None:
    production = settings.model_copy(
        update={
            "environment": "production",
            "secure_cookies": True,
            "mail_backend": "smtp",
        }
    )
    open_inbox = make_chat_inbox(db, allowed_domains=[])
    db.commit()
    app = create_app(production, engine=db_engine, start_worker=False)  # type: ignore[arg-type]
    with TestClient(app) as production_client:
        response = production_client.get(
            widget_url(open_inbox, "config"), headers=headers(origin="https://anyone.example")
        )
        assert response.status_code == 403
