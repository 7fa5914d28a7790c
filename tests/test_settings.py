"""Settings: environment variables, the generated secret key, unsafe production refused."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from helpline.settings import Settings


def test_secret_key_is_generated_once_stored_privately_and_reused(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")

    first = settings.resolved_secret_key()
    second = Settings(data_dir=tmp_path / "data").resolved_secret_key()

    key_file = tmp_path / "data" / "secret_key"
    assert first == second
    assert len(first) >= 32
    assert key_file.read_text() == first
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_each_installation_gets_its_own_secret_key(tmp_path: Path) -> None:
    one = Settings(data_dir=tmp_path / "one").resolved_secret_key()
    other = Settings(data_dir=tmp_path / "other").resolved_secret_key()

    assert one != other


def test_a_short_configured_secret_key_is_refused(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, secret_key="too-short")

    with pytest.raises(ValueError, match="at least 32"):
        settings.resolved_secret_key()


def test_environment_variables_configure_the_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HELPLINE_DATA_DIR", str(tmp_path))
    assert Settings().resolved_database_url == f"sqlite:///{tmp_path.resolve()}/helpline.sqlite3"

    monkeypatch.setenv("HELPLINE_DATABASE_URL", "postgresql+psycopg://helpline@db/helpline")
    assert Settings().resolved_database_url == "postgresql+psycopg://helpline@db/helpline"


def test_production_refuses_plain_http_cookies_and_console_mail() -> None:
    with pytest.raises(ValidationError, match="SECURE_COOKIES"):
        Settings(environment="production", mail_backend="smtp")
    with pytest.raises(ValidationError, match="console"):
        Settings(environment="production", secure_cookies=True)
    Settings(environment="production", secure_cookies=True, mail_backend="smtp")
