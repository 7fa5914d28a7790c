from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.factories import make_conversation, make_inbox


def test_health_answers_on_each_database(client: TestClient) -> None:
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_conversation_numbers_are_sequential(db: Session) -> None:
    inbox = make_inbox(db)
    numbers = [make_conversation(db, inbox).number for _ in range(3)]
    db.commit()
    assert numbers == [1, 2, 3]
