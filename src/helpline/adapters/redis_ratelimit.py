"""Sliding-window rate limits kept in Redis, so several server processes count
against the same windows (same contract as `ratelimit.SlidingWindowLimiter`).

Each key is a sorted set of hit times under `<namespace>:<limiter>:<key>`, updated
by one Lua script (atomic on the server: two processes never both take the last
slot) and expiring a window after its newest hit. The caller's time is what counts,
so tests control it; processes need clocks that roughly agree (NTP does).

Redis must never take the widget down: when it fails, the hit is counted by an
in-process limiter instead, Redis is left alone for a few seconds (so a dead server
does not cost every request a timeout), and a warning is logged at most once a
minute.
"""

from __future__ import annotations

import logging
import math
import secrets
import threading
import time
from collections.abc import Callable
from itertools import count

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from helpline.adapters.ratelimit import SlidingWindowLimiter

log = logging.getLogger(__name__)

# KEYS[1]: the window; ARGV: now, horizon (now - window), limit, member, expiry (ms).
# Times travel as strings and are never converted to Lua numbers, which would
# round them to 14 digits: Redis parses them as doubles, like Python's floats.
_HIT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  return redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2]
end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return false
"""

_GLOB_SPECIALS = str.maketrans({char: "\\" + char for char in "*?[]\\"})


class RedisRateLimits:
    """The Redis connection the shared limiters of one process use, and whether
    Redis is answering. Make one per process (it holds a connection pool) and ask it
    for limiters; keys live under `namespace` (one per installation)."""

    def __init__(
        self,
        url: str,
        *,
        namespace: str,
        timeout_seconds: float = 0.5,
        pause_seconds: float = 5.0,
        warn_every_seconds: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.namespace = namespace
        self.pause_seconds = pause_seconds
        self.warn_every_seconds = warn_every_seconds
        # One immediate retry reconnects a pooled connection Redis dropped (after a
        # restart); more would only keep a request waiting on a server that is down.
        self.client = redis.Redis.from_url(
            url,
            socket_connect_timeout=timeout_seconds,
            socket_timeout=timeout_seconds,
            retry=Retry(NoBackoff(), 1),
        )
        self._script = self.client.register_script(_HIT)
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._paused_until = 0.0
        self._last_warning: float | None = None
        self._failed = False

    def limiter(self, name: str, limit: int, window_seconds: float) -> RedisSlidingWindowLimiter:
        return RedisSlidingWindowLimiter(self, name, limit, window_seconds)

    def close(self) -> None:
        self.client.close()

    # ------------------------------------------------------------ for the limiters

    def key(self, name: str, key: str) -> str:
        return f"{self.namespace}:{name}:{key}"

    def pattern(self, name: str) -> str:
        return f"{self.key(name, '').translate(_GLOB_SPECIALS)}*"

    def answering(self) -> bool:
        """False for `pause_seconds` after a failure: limiters count in process."""
        return self._monotonic() >= self._paused_until

    def run_hit(self, key: str, args: list[str | int]) -> bytes | None:
        reply: bytes | None = self._script(keys=[key], args=args)
        return reply

    def succeeded(self) -> None:
        if self._failed:
            with self._lock:
                if self._failed:
                    self._failed = False
                    log.warning("rate limits: Redis answers again; limits are shared again")

    def failed(self, error: Exception) -> None:
        now = self._monotonic()
        with self._lock:
            self._failed = True
            self._paused_until = now + self.pause_seconds
            quiet = (
                self._last_warning is not None
                and now - self._last_warning < self.warn_every_seconds
            )
            if not quiet:
                self._last_warning = now
        if not quiet:
            log.warning(
                "rate limits: Redis failed (%s: %s); counting in this process only, "
                "trying Redis again in %.0f s (this warning repeats at most every %.0f s)",
                type(error).__name__,
                error,
                self.pause_seconds,
                self.warn_every_seconds,
            )


class RedisSlidingWindowLimiter:
    """At most `limit` hits per key within any `window_seconds` long window, counted
    in Redis by every process that shares it (see the module docstring).

    `hit` blocks for a Redis round trip: call it from worker threads (sync routes),
    never on the event loop. Time is passed in as seconds since the epoch (`now`),
    or read from `clock` (default: `time.time`; a monotonic clock is per process)."""

    def __init__(
        self,
        redis_limits: RedisRateLimits,
        name: str,
        limit: int,
        window_seconds: float,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.fallback = SlidingWindowLimiter(limit, window_seconds, clock=clock)
        """Counts the hits Redis could not (validates the settings, too)."""
        self.redis = redis_limits
        self.name = name
        self.limit = limit
        self.window_seconds = window_seconds
        self._expire_ms = math.ceil(window_seconds * 1000)
        self._clock = clock
        self._member_prefix = secrets.token_hex(6)
        self._members = count()

    def hit(self, key: str, *, now: float | None = None) -> int | None:
        """Count one request for `key`. Returns None when it is allowed, else the
        whole seconds to wait before the next one would be (the request refused
        is not counted, so a client that waits as told gets through)."""
        at = self._clock() if now is None else now
        if not self.redis.answering():
            return self.fallback.hit(key, now=at)
        # Unique per hit, so two hits at the same moment are two members.
        member = f"{self._member_prefix}:{next(self._members)}"
        try:
            oldest = self.redis.run_hit(
                self.redis.key(self.name, key),
                [repr(at), repr(at - self.window_seconds), self.limit, member, self._expire_ms],
            )
        except redis.RedisError as error:
            self.redis.failed(error)
            return self.fallback.hit(key, now=at)
        self.redis.succeeded()
        if oldest is None:
            return None
        retry_after = float(oldest) + self.window_seconds - at
        return max(1, math.ceil(retry_after))

    def reset(self, key: str | None = None) -> None:
        """Forget one key's hits, or all of this limiter's (in Redis and here)."""
        self.fallback.reset(key)
        if key is not None:
            self.redis.client.delete(self.redis.key(self.name, key))
            return
        for found in self.redis.client.scan_iter(match=self.redis.pattern(self.name), count=500):
            self.redis.client.delete(found)
