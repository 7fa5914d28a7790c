"""Group commit for chat messages sent over WebSockets.

Every connection hands its message to the one `MessageWriter` of the hub and
waits for its own outcome. The writer stores whatever has queued up in one
transaction (`services.chat_messages`) in a worker thread; messages that arrive
meanwhile wait for the next batch. At low load a batch is one message and nothing
waits; under load one commit (and one fsync or round trip) serves many messages.
A message is acknowledged only after the commit that stored it; routing rounds and
AI assist for the batch run after the acknowledgements, merged with whatever
follow-up is still waiting (see `chat_messages.FollowUp`). AI assist waits a
quarter of a second and then screens the whole burst in a read-only session
(`ai_assist_batch`), so on SQLite the model never runs while the writer lock is
held; only what changes is stored.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from helpline.adapters.db.engine import is_postgres
from helpline.services.ai_assist_batch import screen_safely
from helpline.services.ai_assist_batch import store as store_analyses
from helpline.services.chat_messages import (
    ChatPost,
    FollowUp,
    route_follow_up,
    store_chat_messages,
)
from helpline.services.conversations import PostedMessage

if TYPE_CHECKING:
    from helpline.web.realtime.hub import Hub

log = logging.getLogger(__name__)

MAX_BATCH = 500
"""Messages per transaction at most (a longer queue is written in several)."""
LINGER_SECONDS = 0.005
"""How long the writer waits for more messages before the next group when some
arrived while it wrote the previous one (never after an idle spell: a lone message
is written at once). Most of a small group's cost is the group's own (transaction,
commit): at 250 messages/s a 10 ms wait halved the server's CPU time per message,
but near capacity the wait only adds latency, hence the short wait and
`LINGER_BELOW`."""
LINGER_BELOW = 64
"""A queue this long is written at once: the group is big enough already."""
AI_DELAY_SECONDS = 0.25
"""AI assist waits this long after a customer message, so a burst of messages in
many conversations is read and classified together (nobody waits for its result:
the message was acknowledged long before)."""
AI_CHUNK = 32
"""Conversations analysed per worker-thread call (see `AI_SHARE`)."""
AI_SHARE = 0.1
"""The share of the server's time AI assist may take while it catches up: after each
call it pauses nine times as long as the call took. AI assist runs beside the event
loop in the same interpreter, and near capacity every millisecond it takes is one
the sockets wait for (at 1,000 messages/s on SQLite it took a tenth of the CPU and
the p99 rose from about 45 to 150-190 ms). Analyses are advisory: under load they
come later, and a conversation's messages that arrive meanwhile are analysed
together. At a support team's usual rates a call takes a millisecond or two and the
pause goes unnoticed."""
AI_MIN_INTERVAL_SECONDS = 2.0
"""A chat an agent already has is analysed at most this often: a customer writing
line after line gets one analysis per burst, and the badge lags by this at most.
A chat waiting for an agent (routing reads its urgency) or answered by the FAQ bot
is analysed at the next pass whatever the interval."""


POSTGRES_LANES = 3
"""Groups written at the same time on PostgreSQL, each for its own share of the
conversations (by id), so a conversation's messages keep their order. A group's
time there is mostly round trips to the database: a second and third group fill
them. SQLite has one writer at a time: one lane."""


@dataclass(slots=True)
class _Lane:
    """Messages waiting for one writer task (see `POSTGRES_LANES`)."""

    queued: list[tuple[ChatPost, asyncio.Future[PostedMessage]]] = field(default_factory=list)
    task: asyncio.Task[None] | None = None


def _lane_count(hub: Hub) -> int:
    return POSTGRES_LANES if is_postgres(hub.app.state.engine) else 1


class MessageWriter:
    """One per hub; all methods run on the event loop."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self._lanes = [_Lane() for _ in range(_lane_count(hub))]
        self._follow_up = FollowUp()
        self._follow_task: asyncio.Task[None] | None = None
        self._ai_texts: dict[int, str] = {}
        self._ai_now: set[int] = set()
        """Conversations in `_ai_texts` that wait for an agent: no interval."""
        self._ai_last: dict[int, float] = {}
        """Conversation → when its latest analysis started (monotonic)."""
        self._ai_task: asyncio.Task[None] | None = None

    async def post(self, post: ChatPost) -> PostedMessage:
        """Store the message (with others queued at the same time); raises the
        error that refused it."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[PostedMessage] = loop.create_future()
        lane = self._lanes[post.conversation_id % len(self._lanes)]
        lane.queued.append((post, future))
        if lane.task is None or lane.task.done():
            lane.task = loop.create_task(self._write_queued(lane))
        return await future

    async def _write_queued(self, lane: _Lane) -> None:
        busy = False
        while lane.queued:
            if busy and len(lane.queued) < LINGER_BELOW:
                # Messages arrived while the last group was written: more are on
                # their way. Waiting a moment makes the next group bigger, and most
                # of a small group's cost is the group's (transaction, commit).
                await asyncio.sleep(LINGER_SECONDS)
            busy = True
            batch = lane.queued[:MAX_BATCH]
            del lane.queued[:MAX_BATCH]
            settings = self.hub.app.state.settings
            follow_up = FollowUp()
            try:
                outcomes, follow_up = await self.hub.run_db(
                    store_chat_messages,
                    [post for post, _ in batch],
                    now=self.hub.now(),
                    max_chars=settings.max_message_chars,
                )
            except Exception as error:  # the batch's own failure: every sender hears it
                log.exception("writing %d chat messages failed", len(batch))
                outcomes = [error] * len(batch)
            for (_, future), outcome in zip(batch, outcomes, strict=True):
                if future.done():  # the sender went away; the message is stored anyway
                    continue
                if isinstance(outcome, Exception):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)
            if follow_up:
                self._follow_up.merge(follow_up)
                if self._follow_task is None or self._follow_task.done():
                    self._follow_task = asyncio.get_running_loop().create_task(
                        self._run_follow_ups()
                    )

    async def _run_follow_ups(self) -> None:
        """Routing after the acks, one pass at a time: what arrives meanwhile is
        merged (one routing round). AI assist is handed on to `_run_ai`."""
        while self._follow_up:
            follow_up, self._follow_up = self._follow_up, FollowUp()
            try:
                await self.hub.run_db(route_follow_up, follow_up, now=self.hub.now())
            except Exception:
                log.exception("routing after chat messages failed")
            if follow_up.customer_texts:
                self._ai_texts.update(follow_up.customer_texts)
                self._ai_now |= follow_up.route & follow_up.customer_texts.keys()
                if self._ai_task is None or self._ai_task.done():
                    self._ai_task = asyncio.get_running_loop().create_task(self._run_ai())

    async def _run_ai(self) -> None:
        """AI assist for the conversations customers wrote in, after a short wait
        (`AI_DELAY_SECONDS`), all of them together; one analysis per conversation,
        and per `AI_MIN_INTERVAL_SECONDS` for a chat an agent has."""
        while self._ai_texts:
            await asyncio.sleep(AI_DELAY_SECONDS)
            due = list(self._due_ai_texts(time.monotonic()).items())
            for start in range(0, len(due), AI_CHUNK):
                texts = dict(due[start : start + AI_CHUNK])
                began = time.monotonic()
                try:
                    pending = await self.hub.run_read(screen_safely, texts, now=self.hub.now())
                    if pending:
                        await self.hub.run_db(store_analyses, pending, texts, now=self.hub.now())
                except Exception:
                    log.exception("AI assist after chat messages failed")
                spent = time.monotonic() - began
                await asyncio.sleep(spent * (1 - AI_SHARE) / AI_SHARE)  # see AI_SHARE

    def _due_ai_texts(self, now: float) -> dict[int, str]:
        """Take the conversations whose analysis is due out of `_ai_texts`."""
        last = self._ai_last
        due = {
            conversation_id: text
            for conversation_id, text in self._ai_texts.items()
            if conversation_id in self._ai_now
            or now - last.get(conversation_id, -AI_MIN_INTERVAL_SECONDS) >= AI_MIN_INTERVAL_SECONDS
        }
        for conversation_id in due:
            del self._ai_texts[conversation_id]
            last[conversation_id] = now
        self._ai_now -= due.keys()
        # Only recent starts matter; the rest would only grow the map.
        self._ai_last = {
            conversation_id: started
            for conversation_id, started in last.items()
            if now - started < AI_MIN_INTERVAL_SECONDS
        }
        return due
