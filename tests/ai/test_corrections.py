"""Learning from corrections: an agent changing a category records a label, the
classifier retrains on it (API, CLI, scheduled job), and admins see the accuracy per
category on a page and in the API. Both databases."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from helpline.adapters.db.models import AiCorrection
from helpline.ai.categories import CategoryClassifier
from helpline.cli import app as cli_app
from helpline.services import ai_assist
from helpline.settings import Settings
from tests.api.test_conversations import World, build_world, create_conversation
from tests.support import FrozenClock, login

API = "/api/v1"
TECHNICAL = "The export button in the reporting module greys out after the last update"


def open_and_correct(client: TestClient, world: World, text: str, category: str) -> int:
    created = create_conversation(
        client, inbox_id=world.chat.id, contact_id=world.contact.id, first_message=text
    )
    response = client.patch(f"{API}/conversations/{created['id']}", json={"category": category})
    assert response.status_code == 200, response.text
    return int(created["id"])


def test_a_category_change_is_a_label_and_retraining_learns_it(
    client: TestClient, db: Session, small_classifier: CategoryClassifier
) -> None:
    world = build_world(db)
    login(client, world.supervisor.email)
    assert small_classifier.classify(TECHNICAL).category != "sales"

    conversation_id = open_and_correct(client, world, TECHNICAL, "sales")

    (label,) = db.scalars(select(AiCorrection)).all()
    db.commit()
    assert label.conversation_id == conversation_id
    assert label.corrected_category == "sales"
    assert label.predicted_category is not None and label.predicted_category != "sales"
    assert TECHNICAL in label.text
    assert label.trained_at is None

    login(client, world.admin.email)
    retrained = client.post(f"{API}/admin/ai/retrain")

    assert retrained.status_code == 200, retrained.text
    assert retrained.json()["labels"] == 1
    assert retrained.json()["new_labels"] == 1
    assert small_classifier.classify(TECHNICAL).category == "sales"
    db.expire_all()
    assert db.scalars(select(AiCorrection.trained_at)).one() is not None
    db.commit()


def test_accuracy_per_category_for_admins(client: TestClient, db: Session) -> None:
    world = build_world(db)
    login(client, world.supervisor.email)
    create_conversation(
        client,
        inbox_id=world.chat.id,
        contact_id=world.contact.id,
        first_message="My card payment failed twice",
    )
    open_and_correct(client, world, "My card was declined at checkout", "orders")

    assert client.get(f"{API}/admin/ai/accuracy").status_code == 403

    login(client, world.admin.email)
    accuracy = client.get(f"{API}/admin/ai/accuracy").json()

    assert accuracy["predicted"] == 2
    assert accuracy["correct"] == 1
    assert accuracy["accuracy"] == 0.5
    assert accuracy["corrections"] == 1
    rows = {row["category"]: row for row in accuracy["data"]}
    assert rows["billing"]["predicted"] == 2
    assert rows["billing"]["correct"] == 1
    assert rows["billing"]["precision"] == 0.5
    assert rows["orders"]["corrected_to"] == 1
    assert rows["orders"]["recall"] == 0.0

    page = client.get("/admin/ai")
    assert page.status_code == 200
    assert 'id="ai-accuracy"' in page.text
    assert "<td>billing</td>" in page.text
    assert 'href="/admin/ai"' in page.text  # in the admin navigation


def test_the_scheduled_job_waits_for_enough_new_labels_and_the_interval(
    client: TestClient, db: Session, clock: FrozenClock
) -> None:
    world = build_world(db)
    login(client, world.supervisor.email)
    settings = Settings(
        environment="test", ai_retrain_min_new_labels=2, ai_retrain_interval_hours=24
    )
    open_and_correct(client, world, TECHNICAL, "technical")
    assert ai_assist.retrain_job(db, now=clock(), settings=settings) == 0  # one label only

    open_and_correct(client, world, "Do you have a discount for a yearly plan?", "sales")
    assert ai_assist.retrain_job(db, now=clock(), settings=settings) == 2

    open_and_correct(client, world, "The app crashes on start", "general")
    open_and_correct(client, world, "How much is the premium plan?", "billing")
    assert ai_assist.retrain_job(db, now=clock() + timedelta(hours=1), settings=settings) == 0
    assert ai_assist.retrain_job(db, now=clock() + timedelta(hours=25), settings=settings) == 2


@pytest.mark.parametrize("migrated_engine", ["sqlite"], indirect=True)
def test_helpline_ai_retrain_on_the_command_line(
    db: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: FrozenClock
) -> None:
    world = build_world(db)
    from tests.factories import make_conversation

    conversation = make_conversation(db, world.chat, world.contact, subject=TECHNICAL)
    db.add(
        AiCorrection(
            conversation_id=conversation.id,
            text=TECHNICAL,
            predicted_category="orders",
            corrected_category="technical",
            created_at=clock(),
        )
    )
    db.commit()
    url = db.get_bind().engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("HELPLINE_DATABASE_URL", url)
    monkeypatch.setenv("HELPLINE_DATA_DIR", str(tmp_path))

    result = CliRunner().invoke(cli_app, ["ai", "retrain"])

    assert result.exit_code == 0, result.output
    assert "retrained on 1 correction(s) (1 new)" in result.output
