"""The in-memory sliding-window limiter used for per-IP limits."""

from __future__ import annotations

import threading

import pytest

from helpline.adapters.ratelimit import RateLimiter, SlidingWindowLimiter


def test_allows_the_limit_then_says_how_long_to_wait() -> None:
    limiter = SlidingWindowLimiter(3, 60)

    answers = [limiter.hit("10.0.0.1", now=t) for t in (0.0, 10.0, 20.0)]

    assert answers == [None, None, None]
    assert limiter.hit("10.0.0.1", now=30.0) == 30  # the hit at 0.0 leaves the window at 60
    assert limiter.hit("10.0.0.1", now=59.5) == 1


def test_the_window_slides_rather_than_resetting() -> None:
    limiter = SlidingWindowLimiter(2, 60)
    limiter.hit("ip", now=0.0)
    limiter.hit("ip", now=50.0)

    assert limiter.hit("ip", now=60.0) is None  # the first hit has left the window
    assert limiter.hit("ip", now=70.0) == 40  # the hits at 50 and 60 are still in it


def test_refused_requests_do_not_extend_the_wait() -> None:
    limiter = SlidingWindowLimiter(1, 10)
    limiter.hit("ip", now=0.0)

    for moment in (1.0, 2.0, 9.0):
        assert limiter.hit("ip", now=moment) is not None

    assert limiter.hit("ip", now=10.0) is None


def test_keys_are_independent_and_can_be_forgotten() -> None:
    limiter = SlidingWindowLimiter(1, 60)
    limiter.hit("a", now=0.0)

    assert limiter.hit("b", now=1.0) is None
    assert limiter.hit("a", now=1.0) == 59
    limiter.reset("a")
    assert limiter.hit("a", now=2.0) is None
    limiter.reset()
    assert limiter.hit("b", now=3.0) is None


def test_reads_the_injected_clock_when_no_time_is_passed() -> None:
    now = [100.0]
    limiter = SlidingWindowLimiter(1, 5, clock=lambda: now[0])

    assert limiter.hit("ip") is None
    assert limiter.hit("ip") == 5
    now[0] += 5
    assert limiter.hit("ip") is None


def test_memory_is_bounded_by_forgetting_the_least_recent_keys() -> None:
    limiter = SlidingWindowLimiter(1, 60, max_keys=2)
    limiter.hit("old", now=0.0)
    limiter.hit("middle", now=1.0)
    limiter.hit("old", now=2.0)  # refused, but marks "old" as recently seen
    limiter.hit("new", now=3.0)  # evicts "middle"

    assert limiter.hit("old", now=4.0) is not None
    assert limiter.hit("middle", now=4.0) is None


def concurrent_hits(limiters: list[RateLimiter], *, now: float) -> list[bool]:
    """200 hits on one key from 8 threads at once, spread over `limiters` (several
    processes' limiters of one window): whether each hit was allowed."""
    allowed: list[bool] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def burst(limiter: RateLimiter) -> None:
        start.wait()
        for _ in range(25):
            result = limiter.hit("ip", now=now) is None
            with lock:
                allowed.append(result)

    threads = [
        threading.Thread(target=burst, args=(limiters[n % len(limiters)],)) for n in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return allowed


def test_concurrent_hits_never_exceed_the_limit() -> None:
    allowed = concurrent_hits([SlidingWindowLimiter(50, 60)], now=1.0)

    assert allowed.count(True) == 50
    assert len(allowed) == 200


@pytest.mark.parametrize(("limit", "window"), [(0, 60.0), (1, 0.0)])
def test_refuses_nonsense_settings(limit: int, window: float) -> None:
    with pytest.raises(ValueError, match="must be"):
        SlidingWindowLimiter(limit, window)
