"""The server's garbage-collector policy (`web.collector`): what exists is frozen out
of later passes, and the periodic full reset still frees reference cycles that
became garbage after they were frozen."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import weakref
from collections.abc import Iterator

import pytest

from helpline.web.collector import freeze_tracked, full_reset, keep_collector_quiet


class _Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector frees it


@pytest.fixture
def thawed() -> Iterator[None]:
    """Tests share the process: leave nothing frozen behind."""
    gc.unfreeze()
    yield
    gc.unfreeze()
    gc.collect()


def test_a_frozen_cycle_waits_for_the_full_reset(thawed: None) -> None:
    node = _Node()
    freeze_tracked()
    assert gc.get_freeze_count() > 0
    alive = weakref.ref(node)
    del node

    gc.collect()
    assert alive() is not None  # frozen: ordinary passes no longer look at it

    full_reset()
    assert alive() is None
    assert gc.get_freeze_count() > 0  # what is still in use is frozen again


def test_garbage_made_after_a_freeze_is_collected_as_usual(thawed: None) -> None:
    freeze_tracked()
    node = _Node()
    alive = weakref.ref(node)
    del node

    gc.collect()

    assert alive() is None


def test_the_server_task_freezes_and_resets_on_its_schedule(thawed: None) -> None:
    async def scenario() -> tuple[bool, bool]:
        task = asyncio.create_task(keep_collector_quiet(freeze_seconds=0.01, reset_seconds=0.05))
        await asyncio.sleep(0.03)
        node = _Node()
        await asyncio.sleep(0.03)  # frozen by now
        frozen_while_alive = gc.get_freeze_count() > 0
        alive = weakref.ref(node)
        del node
        await asyncio.sleep(0.15)  # a full reset has run since
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return frozen_while_alive, alive() is None

    frozen, freed = asyncio.run(scenario())

    assert frozen
    assert freed
