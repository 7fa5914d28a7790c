"""Keeps Python's cyclic garbage collector from pausing a busy server.

Every open WebSocket owns a few hundred tracked objects (tasks, queues, protocol
state) that live as long as the socket. With 10,000 sockets open a full
collection walks millions of them and stops the event loop for about a second,
and a younger-generation pass that meets freshly opened sockets for hundreds of
milliseconds: every chat message in flight waits that long.

So every `FREEZE_SECONDS` the server moves everything the collector tracks into
its permanent generation (`gc.freeze()`, which takes no time: it splices lists),
and later passes only look at what was allocated since. Objects are still freed
by reference counting as soon as they are unused (nearly all are); only garbage
caught in reference cycles when it was frozen waits for the `RESET_SECONDS` pass,
which unfreezes, collects everything once and freezes again. That one full pass is
the pause the server still takes: once an hour instead of whenever the collector's
counters say so.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time

log = logging.getLogger(__name__)

FREEZE_SECONDS = 5.0
"""Often enough that sockets opened together (a crowd after a restart) are frozen
before a younger pass walks them: at 30 s, 5,000 new sockets cost one pass of about
170 ms. A freeze splices lists; the price of freezing often is that garbage caught in
cycles while frozen waits for the hourly reset (a few in-flight tasks per freeze)."""
RESET_SECONDS = 3600.0
SLOW_PASS_SECONDS = 0.1
"""A pass longer than this is logged (it delayed every message in flight)."""


def freeze_tracked() -> None:
    """Out of the collector's sight: everything allocated so far."""
    gc.freeze()


def full_reset() -> None:
    """Unfreeze, collect everything (the cycles frozen since the last reset), freeze."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


async def keep_collector_quiet(
    *, freeze_seconds: float = FREEZE_SECONDS, reset_seconds: float = RESET_SECONDS
) -> None:
    """Run for the server's life (cancel to stop)."""
    last_reset = time.monotonic()
    while True:
        await asyncio.sleep(freeze_seconds)
        started = time.monotonic()
        if started - last_reset >= reset_seconds:
            full_reset()
            last_reset = time.monotonic()
            what = "full collection"
        else:
            freeze_tracked()
            what = "freeze"
        took = time.monotonic() - started
        if took > SLOW_PASS_SECONDS:
            log.info("garbage collector: %s took %.0f ms", what, took * 1000)
