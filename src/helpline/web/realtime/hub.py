"""The connection registry and the bridge from the event bus into the event loop.

The bus calls `Hub.on_bus_event` from whatever thread committed (or from the Redis
listener thread); the hub hops onto the loop with `call_soon_threadsafe` and hands
the event to every connection that wants it: agents by the event's recipients,
any connection by the conversations it subscribed to. Each connection then orders,
de-duplicates and projects the event itself (see `connection.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from helpline.adapters.db.engine import make_read_session_factory
from helpline.services.events import LiveEvent, install_publisher
from helpline.web.app_state import app_object
from helpline.web.realtime.writer import MessageWriter

if TYPE_CHECKING:
    from helpline.web.realtime.connection import Connection

log = logging.getLogger(__name__)

T = TypeVar("T")

QUEUE_TICK_SECONDS = 1.0
QUEUE_MIN_INTERVAL_SECONDS = 2.0
QUEUE_REFRESH_SECONDS = 60.0


class Bus(Protocol):
    def publish(self, live_event: LiveEvent) -> None: ...

    def subscribe(self, subscriber: Callable[[LiveEvent], None]) -> Callable[[], None]: ...


class Hub:
    """One per app. All methods except `on_bus_event` and `resync_all` run on the
    event loop."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.bus: Bus = app.state.bus
        self.loop: asyncio.AbstractEventLoop | None = None
        self.by_user: dict[int, set[Connection]] = {}
        self.by_conversation: dict[int, set[Connection]] = {}
        self.connections: set[Connection] = set()
        self._dirty_inboxes: set[int] = set()
        self._queue_task: asyncio.Task[None] | None = None
        self._last_queue_run: dict[int, float] = {}
        self._read_sessions: sessionmaker[Session] | None = None
        self.writer = MessageWriter(self)
        self._unsubscribe = self.bus.subscribe(self.on_bus_event)
        # A Redis bus tells us when it reconnected (events may have been lost).
        add_listener = getattr(self.bus, "add_reconnect_listener", None)
        if add_listener is not None:
            add_listener(self.resync_all)

    # ------------------------------------------------------------ bus bridge

    def on_bus_event(self, live_event: LiveEvent) -> None:
        """Called from any thread; never blocks the publisher."""
        loop = self.loop
        if loop is None or loop.is_closed() or not self.connections:
            return
        try:
            loop.call_soon_threadsafe(self._dispatch, live_event)
        except RuntimeError:  # the loop closed meanwhile (shutdown)
            return

    def _dispatch(self, live_event: LiveEvent) -> None:
        targets: set[Connection] = set()
        for user_id in live_event.user_ids:
            targets.update(self.by_user.get(user_id, ()))
        if live_event.conversation_id is not None:
            targets.update(self.by_conversation.get(live_event.conversation_id, ()))
        for connection in targets:
            connection.push(live_event)
        self._note_queue_change(live_event)

    def resync_all(self) -> None:
        """After lost events (bus reconnect): every stream re-reads from the database."""
        loop = self.loop
        if loop is None or loop.is_closed():
            return

        def catch_up_everyone() -> None:
            for connection in list(self.connections):
                connection.request_catch_up()

        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(catch_up_everyone)

    def publish(self, live_event: LiveEvent) -> None:
        """Ephemeral events (typing, read) go through the bus too, so clients on
        other server processes hear them."""
        self.bus.publish(live_event)

    # ------------------------------------------------------------ registry

    def register(self, connection: Connection) -> None:
        self.loop = asyncio.get_running_loop()
        self.connections.add(connection)
        if connection.user_id is not None:
            self.by_user.setdefault(connection.user_id, set()).add(connection)
        if self._queue_task is None or self._queue_task.done():
            self._queue_task = self.loop.create_task(self._queue_loop())

    def unregister(self, connection: Connection) -> None:
        self.connections.discard(connection)
        if connection.user_id is not None:
            self._discard(self.by_user, connection.user_id, connection)
        for conversation_id in list(connection.streams):
            self._discard(self.by_conversation, conversation_id, connection)
        if not self.connections and self._queue_task is not None:
            self._queue_task.cancel()
            self._queue_task = None

    def watch(self, connection: Connection, conversation_id: int) -> None:
        self.by_conversation.setdefault(conversation_id, set()).add(connection)

    def unwatch(self, connection: Connection, conversation_id: int) -> None:
        self._discard(self.by_conversation, conversation_id, connection)

    @staticmethod
    def _discard(index: dict[int, set[Connection]], key: int, connection: Connection) -> None:
        members = index.get(key)
        if members is not None:
            members.discard(connection)
            if not members:
                del index[key]

    # ------------------------------------------------------------ database

    async def run_db(self, work: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """`work(db, *args, **kwargs)` in a worker thread, in its own session whose
        committed events are published to the bus."""
        return await asyncio.to_thread(self._in_session, False, work, *args, **kwargs)

    async def run_read(self, work: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """`run_db` for work that only reads: on SQLite it never waits for the
        writer (a WAL snapshot)."""
        return await asyncio.to_thread(self._in_session, True, work, *args, **kwargs)

    def _in_session(
        self, read_only: bool, work: Callable[..., T], /, *args: Any, **kwargs: Any
    ) -> T:
        factory = self._read_factory() if read_only else self.app.state.session_factory
        db: Session
        with factory() as db:
            install_publisher(db, self.app.state.publish)
            return work(db, *args, **kwargs)

    def _read_factory(self) -> sessionmaker[Session]:
        if self._read_sessions is None:
            self._read_sessions = make_read_session_factory(self.app.state.engine)
        return self._read_sessions

    def now(self) -> Any:
        return self.app.state.clock()

    # ------------------------------------------------------------ queue positions

    def _note_queue_change(self, live_event: LiveEvent) -> None:
        """Positions move when a chat is created, assigned, closed or reopened;
        plain messages change nothing."""
        conversation = live_event.payload.get("conversation")
        if not isinstance(conversation, dict):
            return
        if live_event.type.startswith("conversation.") or live_event.payload.get("activities"):
            inbox_id = conversation.get("inbox_id")
            if isinstance(inbox_id, int):
                self._dirty_inboxes.add(inbox_id)

    async def _queue_loop(self) -> None:
        last_full = time.monotonic()
        while True:
            await asyncio.sleep(QUEUE_TICK_SECONDS)
            now_mono = time.monotonic()
            full = now_mono - last_full >= QUEUE_REFRESH_SECONDS
            if full:
                last_full = now_mono
            due = {
                inbox_id
                for inbox_id in self._dirty_inboxes
                if now_mono - self._last_queue_run.get(inbox_id, 0.0) >= QUEUE_MIN_INTERVAL_SECONDS
            }
            self._dirty_inboxes -= due
            for inbox_id in due:
                self._last_queue_run[inbox_id] = now_mono
            try:
                await self.refresh_queues(None if full else due)
            except Exception:
                log.exception("queue position update failed")

    async def refresh_queues(self, inbox_ids: set[int] | None) -> None:
        """Send fresh queue frames to waiting visitors (in `inbox_ids`, or all)."""
        if inbox_ids is not None and not inbox_ids:
            return
        waiting: dict[int, list[Connection]] = {}
        for connection in self.connections:
            for conversation_id in connection.waiting_conversations(inbox_ids):
                waiting.setdefault(conversation_id, []).append(connection)
        if not waiting:
            return
        from helpline.web.realtime.queries import queue_estimates

        estimates = await self.run_read(queue_estimates, list(waiting), now=self.now())
        for conversation_id, connections in waiting.items():
            estimate = estimates.get(conversation_id)
            for connection in connections:
                connection.offer_queue(conversation_id, estimate)


def get_hub(app: FastAPI) -> Hub:
    return app_object(app, "realtime_hub", lambda: Hub(app))
