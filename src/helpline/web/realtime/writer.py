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
from typing import TYPE_CHECKING

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
AI_DELAY_SECONDS = 0.25
"""AI assist waits this long after a customer message, so a burst of messages in
many conversations is read and classified together (nobody waits for its result:
the message was acknowledged long before)."""


class MessageWriter:
    """One per hub; all methods run on the event loop."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self._queued: list[tuple[ChatPost, asyncio.Future[PostedMessage]]] = []
        self._task: asyncio.Task[None] | None = None
        self._follow_up = FollowUp()
        self._follow_task: asyncio.Task[None] | None = None
        self._ai_texts: dict[int, str] = {}
        self._ai_task: asyncio.Task[None] | None = None

    async def post(self, post: ChatPost) -> PostedMessage:
        """Store the message (with others queued at the same time); raises the
        error that refused it."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[PostedMessage] = loop.create_future()
        self._queued.append((post, future))
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._write_queued())
        return await future

    async def _write_queued(self) -> None:
        while self._queued:
            batch = self._queued[:MAX_BATCH]
            del self._queued[:MAX_BATCH]
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
                if self._ai_task is None or self._ai_task.done():
                    self._ai_task = asyncio.get_running_loop().create_task(self._run_ai())

    async def _run_ai(self) -> None:
        """AI assist for the conversations customers wrote in, after a short wait
        (`AI_DELAY_SECONDS`), all of them together; one analysis per conversation."""
        while self._ai_texts:
            await asyncio.sleep(AI_DELAY_SECONDS)
            texts, self._ai_texts = self._ai_texts, {}
            try:
                pending = await self.hub.run_read(screen_safely, texts, now=self.hub.now())
                if pending:
                    await self.hub.run_db(store_analyses, pending, texts, now=self.hub.now())
            except Exception:
                log.exception("AI assist after chat messages failed")
