"""The Redis sliding-window limiter: the in-memory limiter's behaviour
(tests/test_ratelimit.py), shared by every process that uses the same Redis, and
counting in process (with a warning now and then) when Redis fails."""

from __future__ import annotations

import logging
import socket
import uuid
from collections.abc import Iterator

import pytest
import redis

from helpline.adapters.ratelimit import RateLimiter
from helpline.adapters.redis_ratelimit import RedisRateLimits, RedisSlidingWindowLimiter
from tests.services import require_redis
from tests.test_ratelimit import concurrent_hits

LOGGER = "helpline.adapters.redis_ratelimit"
EPOCH = 1_772_442_000.0  # 2026-03-02 09:00 UTC: the scores are wall-clock seconds


def closed_port_url() -> str:
    """A Redis URL nothing listens on (a port the system just handed out and freed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def namespace() -> str:
    """Unique per test, so parallel workers and earlier runs never share a window."""
    return f"helpline-test:{uuid.uuid4().hex}:ratelimit"


@pytest.fixture
def store(namespace: str) -> Iterator[RedisRateLimits]:
    shared = RedisRateLimits(require_redis(), namespace=namespace)
    yield shared
    for key in shared.client.scan_iter(match=f"{namespace}:*"):
        shared.client.delete(key)
    shared.close()


@pytest.fixture
def other_process(store: RedisRateLimits) -> Iterator[RedisRateLimits]:
    """A second connection to the same Redis and namespace: another server process."""
    shared = RedisRateLimits(require_redis(), namespace=store.namespace)
    yield shared
    shared.close()


# ---------------------------------------------------------------- like the in-memory one


@pytest.mark.redis
def test_allows_the_limit_then_says_how_long_to_wait(store: RedisRateLimits) -> None:
    limiter = store.limiter("test", 3, 60)

    answers = [limiter.hit("10.0.0.1", now=EPOCH + t) for t in (0.0, 10.0, 20.0)]

    assert answers == [None, None, None]
    assert limiter.hit("10.0.0.1", now=EPOCH + 30.0) == 30  # the first hit leaves at 60
    assert limiter.hit("10.0.0.1", now=EPOCH + 59.5) == 1


@pytest.mark.redis
def test_the_window_slides_rather_than_resetting(store: RedisRateLimits) -> None:
    limiter = store.limiter("test", 2, 60)
    limiter.hit("ip", now=EPOCH)
    limiter.hit("ip", now=EPOCH + 50.0)

    assert limiter.hit("ip", now=EPOCH + 60.0) is None  # the first hit has left the window
    assert limiter.hit("ip", now=EPOCH + 70.0) == 40  # the hits at 50 and 60 are still in it


@pytest.mark.redis
def test_refused_requests_do_not_extend_the_wait(store: RedisRateLimits) -> None:
    limiter = store.limiter("test", 1, 10)
    limiter.hit("ip", now=EPOCH)

    for moment in (1.0, 2.0, 9.0):
        assert limiter.hit("ip", now=EPOCH + moment) is not None

    assert limiter.hit("ip", now=EPOCH + 10.0) is None
    assert store.client.zcard(store.key("test", "ip")) == 1  # refusals were never stored


@pytest.mark.redis
def test_keys_are_independent_and_can_be_forgotten(store: RedisRateLimits) -> None:
    limiter = store.limiter("test", 1, 60)
    limiter.hit("a", now=EPOCH)

    assert limiter.hit("b", now=EPOCH + 1.0) is None
    assert limiter.hit("a", now=EPOCH + 1.0) == 59
    limiter.reset("a")
    assert limiter.hit("a", now=EPOCH + 2.0) is None
    limiter.reset()
    assert limiter.hit("b", now=EPOCH + 3.0) is None
    assert limiter.hit("a", now=EPOCH + 3.0) is None


@pytest.mark.redis
def test_reads_the_injected_clock_when_no_time_is_passed(store: RedisRateLimits) -> None:
    now = [EPOCH]
    limiter = RedisSlidingWindowLimiter(store, "test", 1, 5, clock=lambda: now[0])

    assert limiter.hit("ip") is None
    assert limiter.hit("ip") == 5
    now[0] += 5
    assert limiter.hit("ip") is None


@pytest.mark.redis
def test_fractions_of_a_second_keep_their_precision(store: RedisRateLimits) -> None:
    limiter = store.limiter("test", 1, 60)
    first = EPOCH + 0.123456

    assert limiter.hit("ip", now=first) is None
    assert limiter.hit("ip", now=first + 59.999) == 1
    assert limiter.hit("ip", now=first + 60.0) is None  # exactly a window later: gone


@pytest.mark.redis
def test_keys_are_namespaced_per_limiter_and_expire(store: RedisRateLimits) -> None:
    messages = store.limiter("messages", 1, 60)
    sessions = store.limiter("sessions", 1, 3600)

    assert messages.hit("ip", now=EPOCH) is None
    assert sessions.hit("ip", now=EPOCH) is None  # same key, another limiter

    assert 0 < store.client.pttl(f"{store.namespace}:messages:ip") <= 60_000
    assert 60_000 < store.client.pttl(f"{store.namespace}:sessions:ip") <= 3_600_000


@pytest.mark.redis
def test_two_processes_count_against_one_window(
    store: RedisRateLimits, other_process: RedisRateLimits
) -> None:
    here, there = store.limiter("test", 3, 60), other_process.limiter("test", 3, 60)

    assert here.hit("visitor", now=EPOCH) is None
    assert there.hit("visitor", now=EPOCH + 10.0) is None
    assert here.hit("visitor", now=EPOCH + 20.0) is None

    assert there.hit("visitor", now=EPOCH + 30.0) == 30
    assert here.hit("visitor", now=EPOCH + 30.0) == 30
    assert there.hit("visitor", now=EPOCH + 60.0) is None


@pytest.mark.redis
def test_concurrent_hits_from_two_processes_never_exceed_the_limit(
    store: RedisRateLimits, other_process: RedisRateLimits
) -> None:
    limiters: list[RateLimiter] = [
        store.limiter("test", 50, 60),
        other_process.limiter("test", 50, 60),
    ]
    allowed = concurrent_hits(limiters, now=EPOCH)

    assert allowed.count(True) == 50
    assert len(allowed) == 200


@pytest.mark.parametrize(("limit", "window"), [(0, 60.0), (1, 0.0)])
def test_refuses_nonsense_settings(limit: int, window: float) -> None:
    shared = RedisRateLimits(closed_port_url(), namespace="unused")
    with pytest.raises(ValueError, match="must be"):
        shared.limiter("test", limit, window)
    shared.close()


# ---------------------------------------------------------------- when Redis fails


def test_an_unreachable_redis_falls_back_to_counting_in_process(
    caplog: pytest.LogCaptureFixture,
) -> None:
    shared = RedisRateLimits(closed_port_url(), namespace="helpline-test:ratelimit")
    limiter = shared.limiter("test", 2, 60)

    with caplog.at_level(logging.WARNING, logger=LOGGER):
        answers = [limiter.hit("ip", now=EPOCH + t) for t in (0.0, 1.0, 2.0, 3.0)]

    assert answers == [None, None, 58, 57]  # the in-process window still applies
    warnings = [record for record in caplog.records if record.name == LOGGER]
    assert len(warnings) == 1
    assert "counting in this process only" in warnings[0].getMessage()
    shared.close()


def test_after_a_failure_redis_rests_and_the_warning_repeats_at_most_once_a_minute(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeMonotonic()
    shared = RedisRateLimits(closed_port_url(), namespace="unused", monotonic=clock)
    limiter = shared.limiter("test", 1000, 60)
    calls = 0
    real_run_hit = shared.run_hit

    def counting_run_hit(key: str, args: list[str | int]) -> bytes | None:
        nonlocal calls
        calls += 1
        return real_run_hit(key, args)

    shared.run_hit = counting_run_hit  # type: ignore[method-assign]
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        for _ in range(10):
            limiter.hit("ip", now=EPOCH)
        assert calls == 1  # paused: no connection attempt per request
        clock.now += shared.pause_seconds
        limiter.hit("ip", now=EPOCH)
        assert calls == 2  # tried again, failed again, quietly
        clock.now += shared.warn_every_seconds
        limiter.hit("ip", now=EPOCH)
        assert calls == 3

    assert len([record for record in caplog.records if record.name == LOGGER]) == 2
    shared.close()


@pytest.mark.redis
def test_limits_are_shared_again_once_redis_answers(
    store: RedisRateLimits, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeMonotonic()
    monkeypatch.setattr(store, "_monotonic", clock)
    limiter = store.limiter("test", 1, 60)

    def broken(key: str, args: list[str | int]) -> bytes | None:
        raise redis.ConnectionError("Redis went away")

    with monkeypatch.context() as patch, caplog.at_level(logging.WARNING, logger=LOGGER):
        patch.setattr(store, "run_hit", broken)
        assert limiter.hit("ip", now=EPOCH) is None  # counted in process
    assert limiter.hit("ip", now=EPOCH + 1.0) == 59  # still paused: in process
    clock.now += store.pause_seconds

    with caplog.at_level(logging.WARNING, logger=LOGGER):
        assert limiter.hit("ip", now=EPOCH + 2.0) is None  # Redis had not seen the first
        assert limiter.hit("ip", now=EPOCH + 3.0) == 59

    messages = [record.getMessage() for record in caplog.records if record.name == LOGGER]
    assert any("Redis went away" in message for message in messages)
    assert any("Redis answers again" in message for message in messages)


@pytest.mark.redis
def test_a_redis_error_reply_falls_back_too(store: RedisRateLimits) -> None:
    limiter = store.limiter("test", 1, 60)
    store.client.set(store.key("test", "ip"), "not a sorted set")  # WRONGTYPE errors

    assert limiter.hit("ip", now=EPOCH) is None
    assert limiter.hit("ip", now=EPOCH + 1.0) == 59
