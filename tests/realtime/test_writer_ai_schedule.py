"""When the live server runs AI assist after chat messages: a chat waiting for an
agent at the next pass, a chat an agent has at most every `AI_MIN_INTERVAL_SECONDS`
(a customer writing line after line gets one analysis per burst)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import cast

import pytest

from helpline.services.chat_messages import FollowUp
from helpline.web.realtime import writer as writer_module
from helpline.web.realtime.hub import Hub
from helpline.web.realtime.writer import (
    AI_CHUNK,
    AI_DELAY_SECONDS,
    AI_MIN_INTERVAL_SECONDS,
    AI_SHARE,
    MessageWriter,
)

HAS_AGENT, WAITING = 1, 2


def _writer() -> MessageWriter:
    engine = SimpleNamespace(dialect=SimpleNamespace(name="sqlite"))
    return MessageWriter(
        cast(Hub, SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(engine=engine))))
    )


def _customers_wrote(writer: MessageWriter, n: int) -> None:
    """What `_run_follow_ups` hands on: both chats got a line; one waits for an agent."""
    follow_up = FollowUp(
        route={WAITING}, customer_texts={HAS_AGENT: f"line {n}", WAITING: f"line {n}"}
    )
    writer._ai_texts.update(follow_up.customer_texts)
    writer._ai_now |= follow_up.route & follow_up.customer_texts.keys()


def test_a_chat_with_an_agent_is_analysed_once_per_interval_a_waiting_one_every_pass() -> None:
    writer = _writer()
    _customers_wrote(writer, 1)
    assert writer._due_ai_texts(100.0) == {HAS_AGENT: "line 1", WAITING: "line 1"}

    _customers_wrote(writer, 2)
    assert writer._due_ai_texts(100.5) == {WAITING: "line 2"}
    _customers_wrote(writer, 3)
    assert writer._due_ai_texts(101.0) == {WAITING: "line 3"}
    assert writer._ai_texts == {HAS_AGENT: "line 3"}  # the latest line waits its turn

    assert writer._due_ai_texts(100.0 + AI_MIN_INTERVAL_SECONDS) == {HAS_AGENT: "line 3"}
    assert writer._ai_texts == {}


def test_nothing_is_dropped_and_the_memory_of_starts_stays_small() -> None:
    writer = _writer()
    for n in range(50):
        writer._ai_texts[1000 + n] = "hello"
    assert len(writer._due_ai_texts(10.0)) == 50
    assert writer._due_ai_texts(10.0 + AI_MIN_INTERVAL_SECONDS) == {}
    assert writer._ai_last == {}  # starts older than the interval are forgotten


async def test_ai_assist_works_in_chunks_and_pauses_to_keep_to_its_share(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Near capacity every millisecond AI assist takes is one the sockets wait for:
    after each chunk it pauses long enough to keep to `AI_SHARE` of the time."""
    writer = _writer()
    for n in range(2 * AI_CHUNK + 6):
        writer._ai_texts[1000 + n] = "hello"
    clock = [0.0]
    pauses: list[float] = []
    chunks: list[int] = []

    async def pause(seconds: float) -> None:
        pauses.append(seconds)
        clock[0] += seconds

    async def screen(work: object, texts: dict[int, str], *, now: object) -> list[object]:
        chunks.append(len(texts))
        clock[0] += 0.01  # each call takes 10 ms
        return []

    hub = cast(SimpleNamespace, writer.hub)
    hub.run_read, hub.now = screen, lambda: None
    monkeypatch.setattr(writer_module, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    monkeypatch.setattr(writer_module, "asyncio", SimpleNamespace(sleep=pause))
    await writer._run_ai()

    assert chunks == [AI_CHUNK, AI_CHUNK, 6]  # every conversation, none twice
    assert pauses[0] == AI_DELAY_SECONDS
    assert pauses[1:] == pytest.approx([0.01 * (1 - AI_SHARE) / AI_SHARE] * 3)
    assert writer._ai_texts == {}
