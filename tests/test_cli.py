"""The `helpline` command, run in-process with Typer's CliRunner."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from helpline import cli
from helpline.adapters.db.engine import make_engine
from helpline.adapters.db.models import (
    Article,
    CannedResponse,
    Contact,
    Conversation,
    Inbox,
    Message,
    SLAPolicy,
    Team,
    User,
)
from helpline.adapters.passwords import verify_password
from helpline.demo.seed import DEMO_ADMIN, DEMO_AGENT
from helpline.domain.enums import ConversationStatus

runner = CliRunner()


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """A configured (production-like) SQLite database the commands work on."""
    url = f"sqlite:///{tmp_path / 'configured.sqlite3'}"
    for name in ("HELPLINE_ENVIRONMENT", "HELPLINE_SECRET_KEY", "HELPLINE_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HELPLINE_DATABASE_URL", url)
    monkeypatch.setenv("HELPLINE_DATA_DIR", str(tmp_path / "data"))
    engine = make_engine(url)
    yield engine
    engine.dispose()


def _count(engine: Engine, column: Any, *where: Any) -> int:
    with Session(engine) as db:
        return db.scalar(select(func.count(column)).where(*where)) or 0


def test_migrate_check_lists_pending_revisions(database: Engine) -> None:
    pending = runner.invoke(cli.app, ["migrate", "--check"])
    assert pending.exit_code == 1
    assert "pending migration" in pending.output
    assert "0001" in pending.output

    upgraded = runner.invoke(cli.app, ["migrate"])
    assert upgraded.exit_code == 0, upgraded.output
    assert "up to date" in upgraded.output

    checked = runner.invoke(cli.app, ["migrate", "--check"])
    assert checked.exit_code == 0
    assert "up to date" in checked.output


def test_create_admin(database: Engine) -> None:
    result = runner.invoke(
        cli.app,
        ["create-admin", "--email", "Root@Example.com", "--name", " Rosa  Admin ", "--password",
         "a long enough passphrase"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Created admin Rosa Admin <root@example.com>" in result.output
    with Session(database) as db:
        admin = db.scalars(select(User)).one()
        assert (admin.email, admin.name, admin.role) == ("root@example.com", "Rosa Admin", "admin")
        assert verify_password(admin.password_hash, "a long enough passphrase")


def test_create_admin_refuses_a_duplicate(database: Engine) -> None:
    args = ["create-admin", "--name", "Rosa", "--password", "a long enough passphrase"]
    assert runner.invoke(cli.app, [*args, "--email", "root@example.com"]).exit_code == 0
    again = runner.invoke(cli.app, [*args, "--email", "ROOT@example.com"])
    assert again.exit_code == 1
    assert "already exists" in again.output
    assert _count(database, User.id) == 1


@pytest.mark.parametrize(
    ("email", "name", "password", "message"),
    [
        ("not-an-email", "Rosa", "a long enough passphrase", "not a valid email address"),
        ("root@example.com", "   ", "a long enough passphrase", "the name must be"),
        ("root@example.com", "Rosa", "short", "at least 10 characters"),
    ],
)
def test_create_admin_validates_its_input(
    database: Engine, email: str, name: str, password: str, message: str
) -> None:
    result = runner.invoke(
        cli.app, ["create-admin", "--email", email, "--name", name, "--password", password]
    )
    assert result.exit_code == 1
    assert message in result.output
    assert "Cannot create the admin" in result.output


def test_create_admin_asks_for_the_password_twice(database: Engine) -> None:
    result = runner.invoke(
        cli.app,
        ["create-admin", "--email", "root@example.com", "--name", "Rosa"],
        input="a long enough passphrase\na long enough passphrase\n",
    )
    assert result.exit_code == 0, result.output
    with Session(database) as db:
        admin = db.scalars(select(User)).one()
        assert verify_password(admin.password_hash, "a long enough passphrase")


def test_serve_migrates_then_runs_the_app_factory(
    database: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    monkeypatch.setattr("uvicorn.run", lambda *args, **kwargs: calls.append((args, kwargs)))
    result = runner.invoke(cli.app, ["serve", "--port", "8123"])
    assert result.exit_code == 0, result.output
    [(args, kwargs)] = calls
    assert args == ("helpline.web.app:create_app",)
    assert kwargs["factory"] is True
    assert kwargs["port"] == 8123
    assert kwargs["host"] == "127.0.0.1"
    assert runner.invoke(cli.app, ["migrate", "--check"]).exit_code == 0


def test_worker_runs_the_worker_loop(database: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[object] = []
    monkeypatch.setattr("helpline.worker.run_worker_forever", seen.append)
    result = runner.invoke(cli.app, ["worker"])
    assert result.exit_code == 0, result.output
    assert len(seen) == 1


def test_demo_seeds_every_status_and_is_idempotent(database: Engine, tmp_path: Path) -> None:
    data_dir = tmp_path / "demo"
    result = runner.invoke(cli.app, ["demo", "--data-dir", str(data_dir), "--no-serve"])
    assert result.exit_code == 0, result.output
    assert "Seeded the demo organisation" in result.output
    assert f"login: {DEMO_ADMIN.email}  password: {DEMO_ADMIN.password}" in result.output
    assert f"login: {DEMO_AGENT.email}  password: {DEMO_AGENT.password}" in result.output
    # The configured database is never touched by the demo.
    assert not (tmp_path / "configured.sqlite3").exists()

    demo = make_engine(f"sqlite:///{data_dir / 'helpline.sqlite3'}")
    try:
        conversations = _count(demo, Conversation.id)
        assert conversations >= 60
        for status in ConversationStatus:
            assert _count(demo, Conversation.id, Conversation.status == status.value) > 0, status
        assert _count(demo, Conversation.id, Conversation.snoozed_until.is_not(None)) > 0
        assert _count(demo, Contact.id) >= 40
        assert _count(demo, User.id, User.role == "agent") == 8
        assert _count(demo, User.id, User.role == "supervisor") == 1
        assert _count(demo, Team.id) == 6
        assert _count(demo, Inbox.id) == 4
        assert _count(demo, CannedResponse.id) >= 10
        assert _count(demo, Article.id, Article.published.is_(True)) >= 8
        assert _count(demo, Article.id, Article.published.is_(False)) >= 1
        assert _count(demo, SLAPolicy.id) == 3
        assert _count(demo, Message.id, Message.kind == "note") > 0
        messages = _count(demo, Message.id)

        again = runner.invoke(cli.app, ["demo", "--data-dir", str(data_dir), "--no-serve"])
        assert again.exit_code == 0, again.output
        assert "Using the existing demo data" in again.output
        assert _count(demo, Conversation.id) == conversations
        assert _count(demo, Message.id) == messages

        reset = runner.invoke(
            cli.app, ["demo", "--data-dir", str(data_dir), "--no-serve", "--reset"]
        )
        assert reset.exit_code == 0, reset.output
        assert "Seeded the demo organisation" in reset.output
        demo.dispose()  # the file was replaced
        assert _count(demo, Conversation.id) == conversations
    finally:
        demo.dispose()
