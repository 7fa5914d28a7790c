"""When the live server runs AI assist after chat messages: a chat waiting for an
agent at the next pass, a chat an agent has at most every `AI_MIN_INTERVAL_SECONDS`
(a customer writing line after line gets one analysis per burst)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import cast

from helpline.services.chat_messages import FollowUp
from helpline.web.realtime.hub import Hub
from helpline.web.realtime.writer import AI_MIN_INTERVAL_SECONDS, MessageWriter

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
