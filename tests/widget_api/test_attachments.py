"""Attachments: sniffed types, per-inbox limits, server-generated names, downloads
only for the conversation's parties, nothing kept when refused."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from helpline.adapters.db.models import Attachment, Message
from helpline.services.attachments import check_file_name, sniff_type
from helpline.settings import Settings
from tests.factories import make_user
from tests.support import login
from tests.widget_api.support import (
    headers,
    history,
    make_chat_inbox,
    open_session,
    start_conversation,
    widget_url,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(64)
PDF = b"%PDF-1.7\n" + b"1 0 obj\n<<>>\nendobj\n" * 4
ZIP = b"PK\x03\x04" + bytes(60)


def _stored_files(settings: Settings) -> list[Path]:
    root = settings.data_dir / "uploads"
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def test_types_are_decided_by_the_first_bytes() -> None:
    assert sniff_type(PNG) == "image/png"
    assert sniff_type(b"\xff\xd8\xff\xe0rest") == "image/jpeg"
    assert sniff_type(b"GIF89a....") == "image/gif"
    assert sniff_type(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert sniff_type(PDF) == "application/pdf"
    assert sniff_type(ZIP) == "application/zip"
    assert sniff_type("Zamówienie nr 12\nDziękuję".encode()) == "text/plain"
    assert sniff_type(b"MZ\x90\x00\x03\x00\x00\x00") is None
    assert sniff_type(b"") is None
    # A multi-byte character cut at the end of the sample is still text.
    assert sniff_type("abc ż".encode()[:-1]) == "text/plain"


def test_file_names_are_for_display_only() -> None:
    assert check_file_name("../../etc/passwd") == "passwd"
    assert check_file_name("C:\\Users\\mia\\invoice.pdf") == "invoice.pdf"
    assert check_file_name('a"<b>\x00\x07.png') == "ab.png"
    assert check_file_name("") == "file"
    assert check_file_name(".htaccess") == "htaccess"
    long_name = check_file_name("x" * 300 + ".jpeg")
    assert len(long_name) == 200 and long_name.endswith(".jpeg")


def test_an_image_round_trip_between_visitor_and_agent(
    client: TestClient, db: Session, settings: Settings
) -> None:
    inbox = make_chat_inbox(db)
    agent = make_user(db, inboxes=[inbox], role="admin")
    db.commit()
    token = open_session(client, inbox)
    cid = start_conversation(client, inbox, token)["id"]
    response = client.post(
        widget_url(inbox, f"conversations/{cid}/attachments"),
        files={"file": ("../receipt.png", PNG, "application/octet-stream")},
        headers=headers(token),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    attachment = body["attachment"]
    assert attachment["name"] == "receipt.png"
    assert attachment["mime"] == "image/png" and attachment["image"] is True
    assert attachment["size"] == len(PNG)
    assert attachment["url"] == widget_url(inbox, f"attachments/{attachment['id']}")
    assert body["message"]["attachments"] == [attachment]
    assert body["message"]["body"] == "receipt.png"
    # The visitor downloads it (header or ?token=), as a download, never sniffed.
    for download in (
        client.get(attachment["url"], headers=headers(token)),
        client.get(f"{attachment['url']}?token={token}", headers=headers()),
    ):
        assert download.status_code == 200
        assert download.content == PNG
        assert download.headers["content-type"] == "image/png"
        assert download.headers["content-disposition"].startswith("attachment")
        assert download.headers["x-content-type-options"] == "nosniff"
    # Stored under a server-generated name, never the uploaded one.
    files = _stored_files(settings)
    assert len(files) == 1 and "receipt" not in str(files[0])
    # The agent sees it in the conversation and downloads it with their session.
    login(client, agent.email)
    staff = client.get(f"/api/v1/attachments/{attachment['id']}")
    assert staff.status_code == 200 and staff.content == PNG
    agent_history = client.get(f"/api/v1/conversations/{cid}/history").json()
    messages = [entry for entry in agent_history["data"] if entry.get("message")]
    assert any(entry["message"]["attachments"] for entry in messages)
    # The agent replies with a file; the visitor sees it with a widget URL.
    reply = client.post(
        f"/api/v1/conversations/{cid}/attachments",
        files={"file": ("terms.pdf", PDF, "application/pdf")},
    )
    assert reply.status_code == 201, reply.text
    page = history(client, inbox, token, cid)
    last = page["events"][-1]["event"]["message"]
    assert last["author"] == "agent"
    assert last["attachments"][0]["mime"] == "application/pdf"
    assert last["attachments"][0]["url"].startswith(widget_url(inbox, "attachments/"))
    got = client.get(last["attachments"][0]["url"], headers=headers(token))
    assert got.status_code == 200 and got.content == PDF


def test_too_big_or_disallowed_files_are_refused_and_nothing_is_kept(
    client: TestClient, db: Session, settings: Settings
) -> None:
    inbox = make_chat_inbox(
        db, attachments={"max_bytes": 2000, "allowed_types": ["image/png", "application/pdf"]}
    )
    db.commit()
    token = open_session(client, inbox)
    cid = start_conversation(client, inbox, token)["id"]
    url = widget_url(inbox, f"conversations/{cid}/attachments")
    too_big = client.post(
        url, files={"file": ("big.png", PNG + bytes(3000), "image/png")}, headers=headers(token)
    )
    assert too_big.status_code == 413
    assert too_big.json()["error"]["code"] == "payload_too_large"
    for name, content, claimed in (
        ("archive.zip", ZIP, "application/zip"),
        ("fake.png", b"<html><script>alert(1)</script></html>", "image/png"),
        ("program.exe", b"MZ\x90\x00\x03\x00\x00\x00" + bytes(50), "image/png"),
        ("empty.png", b"", "image/png"),
    ):
        response = client.post(
            url, files={"file": (name, content, claimed)}, headers=headers(token)
        )
        assert response.status_code == 415, name
        assert response.json()["error"]["code"] == "unsupported_media_type"
    missing = client.post(url, data={"client_message_id": "x"}, headers=headers(token))
    assert missing.status_code == 422
    assert _stored_files(settings) == []
    db.expire_all()
    assert db.scalar(select(func.count(Attachment.id))) == 0
    assert db.scalar(select(func.count(Message.id)).where(Message.conversation_id == cid)) == 1


def test_a_retried_upload_is_stored_once(
    client: TestClient, db: Session, settings: Settings
) -> None:
    inbox = make_chat_inbox(db)
    db.commit()
    token = open_session(client, inbox)
    cid = start_conversation(client, inbox, token)["id"]
    url = widget_url(inbox, f"conversations/{cid}/attachments")
    upload = {"file": ("a.png", PNG, "image/png")}
    first = client.post(
        url, files=upload, data={"client_message_id": "up-1"}, headers=headers(token)
    )
    again = client.post(
        url, files=upload, data={"client_message_id": "up-1"}, headers=headers(token)
    )
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["attachment"]["id"] == again.json()["attachment"]["id"]
    assert len(_stored_files(settings)) == 1
    db.expire_all()
    assert db.scalar(select(func.count(Attachment.id))) == 1


def test_uploads_to_a_closed_conversation_leave_nothing(
    client: TestClient, db: Session, settings: Settings
) -> None:
    inbox = make_chat_inbox(db)
    admin = make_user(db, role="admin")
    db.commit()
    token = open_session(client, inbox)
    cid = start_conversation(client, inbox, token)["id"]
    login(client, admin.email)
    client.post(f"/api/v1/conversations/{cid}/status", json={"status": "solved"})
    client.post(f"/api/v1/conversations/{cid}/status", json={"status": "closed"})
    response = client.post(
        widget_url(inbox, f"conversations/{cid}/attachments"),
        files={"file": ("a.png", PNG, "image/png")},
        headers=headers(token),
    )
    assert response.status_code == 409
    assert _stored_files(settings) == []
    db.expire_all()
    assert db.scalar(select(func.count(Attachment.id))) == 0
