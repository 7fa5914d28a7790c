"""Self-service lookups against a real HTTP server: configured by an admin, run by a
verified widget visitor only, to allowed hosts only, with timeouts, size limits, no
redirects, a checked answer and a rate limit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.orm import Session

from helpline.adapters.db.models import Inbox
from helpline.adapters.lookup_client import LookupCall, LookupFailure, fetch
from helpline.services.visitors import identifier_hash
from helpline.settings import Settings
from tests.conftest import TEST_SECRET
from tests.factories import make_user
from tests.help_center.shop import Shop, fixed, orders, redirect, running_shop, slow
from tests.support import login
from tests.widget_api.support import headers, make_chat_inbox, open_session, widget_url

CUSTOMER = "customer-42"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Plain HTTP is allowed here only because the test shop has no certificate."""
    return Settings(
        environment="test",
        data_dir=tmp_path / "data",
        secret_key=SecretStr(TEST_SECRET),
        migrate_on_start=False,
        run_worker_in_server=False,
        base_url="http://testserver",
        lookup_allow_http=True,
        lookup_per_visitor_per_minute=3,
    )


@pytest.fixture
def shop() -> Iterator[Shop]:
    with running_shop() as running:
        running.routes["/orders"] = orders(running)
        yield running


@pytest.fixture
def inbox(db: Session) -> Inbox:
    inbox = make_chat_inbox(db)
    make_user(db, "root@example.com", role="admin")
    db.commit()
    return inbox


def add_lookup(client: TestClient, inbox: Inbox, shop: Shop, **fields: Any) -> dict[str, Any]:
    login(client, "root@example.com")
    payload = {
        "key": "order_status",
        "label": {"en": "Order status", "pl": "Status zamówienia"},
        "input_label": {"en": "Order number"},
        "url_template": shop.url + "/orders?customer={external_id}&order={input}",
        "allowed_hosts": [shop.host],
        "timeout_seconds": 1.0,
        **fields,
    }
    response = client.post(f"/api/v1/inboxes/{inbox.id}/lookups", json=payload)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    shop.secret = created["secret"]
    client.cookies.clear()
    client.headers.pop("X-CSRF-Token", None)
    return created


def verified_visitor(client: TestClient, inbox: Inbox) -> str:
    return open_session(
        client,
        inbox,
        external_id=CUSTOMER,
        identifier_hash=identifier_hash(inbox.secret, CUSTOMER),
    )


def run(
    client: TestClient, inbox: Inbox, token: str, value: str = "1245", key: str = "order_status"
) -> Any:
    return client.post(
        widget_url(inbox, f"lookups/{key}"),
        json={"input": value, "language": "en"},
        headers=headers(token),
    )


def test_a_verified_customer_gets_their_order_status(
    client: TestClient, inbox: Inbox, shop: Shop
) -> None:
    created = add_lookup(client, inbox, shop)
    assert len(created["secret"]) >= 32

    config = client.get(widget_url(inbox, "config"), headers=headers()).json()
    assert config["lookups"] == [
        {
            "key": "order_status",
            "label": {"en": "Order status", "pl": "Status zamówienia"},
            "input_label": {"en": "Order number"},
        }
    ]
    assert "secret" not in str(config) and shop.url not in str(config)

    response = run(client, inbox, verified_visitor(client, inbox))
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["found"] is True
    assert result["title"] == "Order #1245"
    assert result["fields"][0] == {"label": "Status", "value": "On its way", "type": "text"}
    assert result["fields"][2]["type"] == "link"
    # The shop's text passes through as text; the widget never renders it as HTML.
    assert result["fields"][3]["value"] == "<img src=x onerror=alert(1)>"

    [request] = shop.received
    assert request.query == {"customer": [CUSTOMER], "order": ["1245"]}
    assert request.headers["X-Helpline-Signature"].startswith("v1=")

    missing = run(client, inbox, verified_visitor(client, inbox), value="9999")
    assert missing.status_code == 200
    assert missing.json() == {"found": False, "title": None, "message": None, "fields": []}


def test_a_wrong_secret_is_what_the_shop_refuses(
    client: TestClient, inbox: Inbox, shop: Shop
) -> None:
    add_lookup(client, inbox, shop)
    shop.secret = "not-the-secret"
    response = run(client, inbox, verified_visitor(client, inbox))
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "lookup_unavailable"
    assert response.json()["error"]["details"] == {"reason": "bad_status"}


@pytest.mark.parametrize(
    "identity",
    [
        {},  # anonymous
        {"external_id": CUSTOMER},  # a claim without proof
        {"external_id": CUSTOMER, "identifier_hash": "0" * 64},  # a forged proof
    ],
)
def test_unverified_visitors_are_refused_and_the_shop_is_not_asked(
    client: TestClient, inbox: Inbox, shop: Shop, identity: dict[str, str]
) -> None:
    add_lookup(client, inbox, shop)
    token = open_session(client, inbox, **identity)
    response = run(client, inbox, token)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "verification_required"
    no_token = client.post(widget_url(inbox, "lookups/order_status"), json={}, headers=headers())
    assert no_token.status_code == 401
    assert shop.received == []


def test_a_slow_shop_times_out(client: TestClient, inbox: Inbox, shop: Shop) -> None:
    shop.routes["/slow"] = slow(3.0)
    add_lookup(
        client,
        inbox,
        shop,
        url_template=shop.url + "/slow?customer={external_id}",
        input_label=None,
        timeout_seconds=0.5,
    )
    response = client.post(
        widget_url(inbox, "lookups/order_status"),
        json={},
        headers=headers(verified_visitor(client, inbox)),
    )
    assert response.status_code == 502
    assert response.json()["error"]["details"] == {"reason": "timeout"}


def test_redirects_are_never_followed(client: TestClient, inbox: Inbox, shop: Shop) -> None:
    with running_shop(host="localhost") as elsewhere:
        elsewhere.routes["/steal"] = fixed(200, b'{"found": true, "title": "stolen"}')
        shop.routes["/moved"] = redirect(elsewhere.url + "/steal?customer=customer-42")
        shop.routes["/moved-here"] = redirect(shop.url + "/orders?customer=customer-42&order=1245")
        add_lookup(client, inbox, shop, url_template=shop.url + "/moved?customer={external_id}")
        add_lookup(
            client,
            inbox,
            shop,
            key="order_status_2",
            url_template=shop.url + "/moved-here?customer={external_id}",
        )
        token = verified_visitor(client, inbox)
        to_other_host = run(client, inbox, token)
        to_same_host = run(client, inbox, token, key="order_status_2")
        assert elsewhere.received == []
    for response in (to_other_host, to_same_host):
        assert response.status_code == 502
        assert response.json()["error"]["details"] == {"reason": "redirect"}
    assert [request.path for request in shop.received] == ["/moved", "/moved-here"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<html>not json</html>", "not_json"),
        (b'["a", "list"]', "malformed"),
        (b'{"found": "yes"}', "malformed"),
        (b'{"fields": [{"label": "Status"}]}', "malformed"),
        (b'{"fields": "Shipped"}', "malformed"),
        (b'{"found": true}', "malformed"),
        (b'{"title": "' + b"x" * 70_000 + b'"}', "too_large"),
    ],
)
def test_malformed_or_huge_answers_are_refused(
    client: TestClient, inbox: Inbox, shop: Shop, body: bytes, reason: str
) -> None:
    shop.routes["/odd"] = fixed(200, body)
    add_lookup(client, inbox, shop, url_template=shop.url + "/odd?customer={external_id}")
    response = run(client, inbox, verified_visitor(client, inbox))
    assert response.status_code == 502, response.text
    assert response.json()["error"]["details"] == {"reason": reason}


def test_a_javascript_link_is_shown_as_text(client: TestClient, inbox: Inbox, shop: Shop) -> None:
    shop.routes["/js"] = fixed(
        200,
        b'{"title": "Balance", "fields": [{"label": "Pay", "value": "javascript:alert(1)",'
        b' "type": "link"}, {"label": "Due", "value": 12.5}]}',
    )
    add_lookup(client, inbox, shop, url_template=shop.url + "/js?customer={external_id}")
    result = run(client, inbox, verified_visitor(client, inbox)).json()
    assert result["fields"] == [
        {"label": "Pay", "value": "javascript:alert(1)", "type": "text"},
        {"label": "Due", "value": "12.5", "type": "text"},
    ]


def test_lookups_are_rate_limited_per_customer(
    client: TestClient, inbox: Inbox, shop: Shop
) -> None:
    add_lookup(client, inbox, shop)
    token = verified_visitor(client, inbox)
    codes = [run(client, inbox, token).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    limited = run(client, inbox, token)
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1
    assert len(shop.received) == 3


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"url_template": "http://localhost:1/orders?c={external_id}"}, "allowed hosts"),
        ({"url_template": "{input}://x/{external_id}"}, "allowed hosts"),
        ({"url_template": "http://127.0.0.1:1/orders?order={input}"}, "external_id"),
        ({"url_template": "http://127.0.0.1:1/{external_id}/{secret}"}, "unknown placeholders"),
        ({"url_template": "ftp://127.0.0.1/{external_id}"}, "allowed hosts"),
        ({"url_template": "http://user@127.0.0.1/{external_id}"}, "allowed hosts"),
        ({"allowed_hosts": ["127.0.0.1/path"]}, "host name"),
        ({"allowed_hosts": []}, "allowed hosts"),
        ({"timeout_seconds": 60}, "timeout"),
        ({"key": "Order Status"}, "key"),
    ],
)
def test_bad_configurations_are_refused(
    client: TestClient, inbox: Inbox, shop: Shop, fields: dict[str, Any], message: str
) -> None:
    login(client, "root@example.com")
    payload = {
        "key": "order_status",
        "label": "Order status",
        "url_template": shop.url + "/orders?customer={external_id}",
        "allowed_hosts": ["127.0.0.1"],
        **fields,
    }
    response = client.post(f"/api/v1/inboxes/{inbox.id}/lookups", json=payload)
    assert response.status_code == 422, response.text
    assert message in response.json()["error"]["message"]


def test_only_admins_configure_lookups_and_secrets_are_shown_once(
    client: TestClient, db: Session, inbox: Inbox, shop: Shop
) -> None:
    make_user(db, "sam@example.com", role="supervisor")
    db.commit()
    login(client, "sam@example.com")
    refused = client.post(
        f"/api/v1/inboxes/{inbox.id}/lookups",
        json={
            "key": "order_status",
            "label": "Order status",
            "url_template": shop.url + "/orders?customer={external_id}",
            "allowed_hosts": ["127.0.0.1"],
        },
    )
    assert refused.status_code == 403
    client.cookies.clear()

    created = add_lookup(client, inbox, shop)
    login(client, "root@example.com")
    listed = client.get(f"/api/v1/inboxes/{inbox.id}/lookups").json()
    assert listed["count"] == 1 and listed["data"][0]["secret"] is None

    rotated = client.patch(
        f"/api/v1/inboxes/{inbox.id}/lookups/order_status",
        json={"rotate_secret": True, "enabled": False},
    ).json()
    assert rotated["secret"] not in (None, created["secret"])
    config = client.get(widget_url(inbox, "config"), headers=headers()).json()
    assert config["lookups"] == []


def test_the_client_refuses_a_host_off_the_list_before_connecting(shop: Shop) -> None:
    call = LookupCall(
        url=shop.url.replace("127.0.0.1", "localhost") + "/orders",
        secret="s",
        allowed_hosts=("127.0.0.1",),
        timeout_seconds=1.0,
        max_bytes=1024,
        allow_http=True,
    )
    with pytest.raises(LookupFailure) as failure:
        fetch(call)
    assert failure.value.kind == "host_not_allowed"
    https_only = LookupCall(
        url=shop.url + "/orders",
        secret="s",
        allowed_hosts=("127.0.0.1",),
        timeout_seconds=1.0,
        max_bytes=1024,
    )
    with pytest.raises(LookupFailure):
        fetch(https_only)
    assert shop.received == []
