"""An in-memory sliding-window rate limiter, keyed by anything (a client IP).

It lives in one server process: with several processes behind a load balancer each
keeps its own window, so the effective limit is `limit x processes`. That is good
enough for slowing password guessing and reset-mail floods from one address (the
per-account lockout, in the database, is shared by all processes). The public
widget's limits use `redis_ratelimit.RedisSlidingWindowLimiter` instead when Redis
is configured, which every process shares; both follow `RateLimiter`.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Protocol


class RateLimiter(Protocol):
    """What the limits of a service need from a limiter, in memory or in Redis."""

    def hit(self, key: str, *, now: float | None = None) -> int | None:
        """None when allowed, else the whole seconds to wait (refusals not counted)."""
        ...

    def reset(self, key: str | None = None) -> None:
        """Forget one key's hits, or everything."""
        ...


class SlidingWindowLimiter:
    """At most `limit` hits per key within any `window_seconds` long window.

    Thread-safe (sync routes run in a thread pool). Time is passed in as seconds
    (`now`), or read from `clock` (default: `time.monotonic`), so tests control it.
    Memory is bounded: at most `max_keys` keys are tracked, the least recently
    used are forgotten first.
    """

    def __init__(
        self,
        limit: int,
        window_seconds: float,
        *,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        if window_seconds <= 0:
            raise ValueError("window_seconds must be positive")
        self.limit = limit
        self.window_seconds = window_seconds
        self.max_keys = max_keys
        self._clock = clock
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def hit(self, key: str, *, now: float | None = None) -> int | None:
        """Count one request for `key`. Returns None when it is allowed, else the
        whole seconds to wait before the next one would be (the request refused
        is not counted, so a client that waits as told gets through)."""
        at = self._clock() if now is None else now
        with self._lock:
            hits = self._hits.get(key)
            if hits is None:
                hits = deque()
                self._hits[key] = hits
                self._forget_oldest_keys()
            else:
                self._hits.move_to_end(key)
            self._drop_expired(hits, at)
            if len(hits) >= self.limit:
                retry_after = hits[0] + self.window_seconds - at
                return max(1, math.ceil(retry_after))
            hits.append(at)
            return None

    def reset(self, key: str | None = None) -> None:
        """Forget one key's hits, or everything."""
        with self._lock:
            if key is None:
                self._hits.clear()
            else:
                self._hits.pop(key, None)

    def _drop_expired(self, hits: deque[float], at: float) -> None:
        horizon = at - self.window_seconds
        while hits and hits[0] <= horizon:
            hits.popleft()

    def _forget_oldest_keys(self) -> None:
        while len(self._hits) > self.max_keys:
            self._hits.popitem(last=False)
