"""Finding the real services tests need; fail in CI, skip with a reason elsewhere."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

PG_ADMIN_URL = os.environ.get("HELPLINE_TEST_PG_URL", "postgresql+psycopg://127.0.0.1:5432/test")
REDIS_URL = os.environ.get("HELPLINE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
CHROMIUM = os.environ.get("HELPLINE_TEST_CHROMIUM", "/usr/bin/chromium")


def services_required() -> bool:
    """`.ci/run` sets HELPLINE_REQUIRE_SERVICES=1: a missing service is a failure there."""
    return os.environ.get("HELPLINE_REQUIRE_SERVICES") == "1"


def missing(what: str, how_to_fix: str) -> None:
    message = f"{what} is not available ({how_to_fix})"
    if services_required():
        pytest.fail(message + " and HELPLINE_REQUIRE_SERVICES=1", pytrace=False)
    pytest.skip(message)


def postgres_reachable() -> bool:
    import psycopg

    url = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    try:
        with psycopg.connect(url, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def redis_reachable() -> bool:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError:
        return False
    return True


def require_redis() -> str:
    """The test Redis's URL; a failure with HELPLINE_REQUIRE_SERVICES=1, else a skip."""
    if not redis_reachable():
        missing("Redis", f"start it or set HELPLINE_TEST_REDIS_URL; tried {REDIS_URL}")
    return REDIS_URL


def require_chromium() -> str:
    path = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if not path:
        missing("Chromium", "install Debian's chromium package: apt-get install chromium")
    assert path is not None
    return path
