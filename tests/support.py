"""Small helpers shared by tests: a controllable clock and API call shortcuts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

DEFAULT_PASSWORD = "correct horse battery staple"


class FrozenClock:
    """Time that moves only when a test says so."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **kwargs: float) -> datetime:
        self.current += timedelta(**kwargs)
        return self.current


def login(client: TestClient, email: str, password: str = DEFAULT_PASSWORD) -> str:
    """Sign in through the API; leaves the session cookie on the client and
    sets the CSRF header, so the client behaves like the agent's browser."""
    response = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    csrf: str = response.json()["csrf_token"]
    client.headers["X-CSRF-Token"] = csrf
    return csrf
