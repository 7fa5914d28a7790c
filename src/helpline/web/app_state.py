"""Objects an app makes once and keeps on `app.state`: built on first use, so every
app (and every test) has its own, and a test may put its own in place first."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar, cast

from fastapi import FastAPI

from helpline.adapters.ratelimit import RateLimiter
from helpline.adapters.redis_ratelimit import RedisRateLimits
from helpline.services.visitors import shared_rate_limits, window_limiter

T = TypeVar("T")

_MISSING = object()
_lock = threading.RLock()  # a builder may ask for another object (re-entrant)


def app_object(app: FastAPI, name: str, build: Callable[[], T]) -> T:
    """`app.state.<name>`, built by `build` the first time it is asked for (once,
    whichever thread asks first)."""
    value = getattr(app.state, name, _MISSING)
    if value is _MISSING:
        with _lock:
            value = getattr(app.state, name, _MISSING)
            if value is _MISSING:
                value = build()
                setattr(app.state, name, value)
    return cast(T, value)


def shared_limits(app: FastAPI) -> RedisRateLimits | None:
    """The app's connection for rate limits shared by all server processes (None
    without `HELPLINE_REDIS_URL`: limits are counted in this process)."""
    return app_object(app, "shared_rate_limits", lambda: shared_rate_limits(app.state.settings))


def close_shared_limits(app: FastAPI) -> None:
    shared: RedisRateLimits | None = getattr(app.state, "shared_rate_limits", None)
    if shared is not None:
        shared.close()


def per_ip_limiter(app: FastAPI, name: str, limit: int, window_seconds: float) -> RateLimiter:
    """A per-address limiter of public endpoints, kept on `app.state.<name>` and
    counted in Redis (under `name`) when the app has it."""
    return app_object(
        app, name, lambda: window_limiter(shared_limits(app), name, limit, window_seconds)
    )
