"""One WebSocket connection: a reader for client frames and a single dispatcher
that sends everything, in order.

Resume and ordering, per subscribed conversation (a `Stream` with a high-water
mark `delivered_seq`):

1. `subscribe` registers the stream with the hub first, so live events from then
   on queue up behind it; then reads the snapshot (entries after the client's
   cursor, up to the conversation's `last_seq` read first) and sends it.
2. Queued and later live events are then de-duplicated by sequence number: an
   event whose entries continue exactly from `delivered_seq` is sent; one that is
   already covered is dropped; one that leaves a gap (events published out of
   order by two threads or processes, or lost by the bus) makes the stream read
   the missing entries from the database before going on.

So every entry reaches the client once and in order, whatever the bus does.

Acknowledgements: a message sent on a socket is acknowledged in its own live event
when that event reaches the socket before the sender's turn comes (the usual case:
the writer publishes before it hands back), as an `ack` member of the event frame;
otherwise, or for a retry of a stored message, with an `ack` frame of its own. One
frame per message fewer for the sender, and the acknowledgement keeps its place in
the conversation's order.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from helpline.domain.errors import DomainError
from helpline.services.chat_messages import ChatPost
from helpline.services.conversations import PostedMessage
from helpline.services.errors import NotFound, RateLimited
from helpline.services.events import LiveEvent
from helpline.services.widget import EntryPayload, QueueEstimate, live_event_entries
from helpline.web.realtime.frames import (
    Frame,
    FrameError,
    Ping,
    Read,
    Subscribe,
    Typing,
    Unsubscribe,
    binary_frame_error,
    error_frame,
    parse_frame,
)
from helpline.web.realtime.hub import Hub
from helpline.web.realtime.queries import Snapshot

log = logging.getLogger(__name__)

RECHECK_SECONDS = 60.0
"""About how often a staff socket opened with a browser session checks that the
session still works (signed out, expired, user deactivated: the socket is closed)."""
CLOSE_UNAUTHENTICATED = 4401
MAX_PENDING_ITEMS = 10_000
"""A client this far behind is disconnected (1013) and resumes when it reconnects."""
CLOSE_TRY_AGAIN = 1013


@dataclass(slots=True)
class Stream:
    conversation_id: int
    delivered_seq: int
    inbox_id: int | None = None
    waiting: bool = False
    last_queue: tuple[int, int | None] | None = None


def dumps(frame: dict[str, Any]) -> str:
    return json.dumps(frame, separators=(",", ":"))


def with_ack(text: str, ack: str) -> str:
    """A serialised frame (a JSON object) with an `ack` member added."""
    return f'{text[:-1]},"ack":{ack}}}'


class Connection:
    """Shared machinery; `VisitorConnection` and `AgentConnection` say what their
    side may see and do."""

    user_id: int | None = None
    frame_kinds: dict[str, type[Frame]] = {}

    def __init__(self, hub: Hub, websocket: WebSocket, *, ip: str) -> None:
        self.hub = hub
        self.websocket = websocket
        self.ip = ip
        self.streams: dict[int, Stream] = {}
        self._items: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self._closing = False
        self.still_authorised: Callable[[], Awaitable[bool]] | None = None
        """Set by the handshake when credentials can be withdrawn (staff)."""
        settings = hub.app.state.settings
        self.max_frame_bytes: int = settings.realtime_max_frame_bytes
        self.max_resume_events: int = settings.realtime_resume_max_events
        self._awaiting_ack: set[tuple[int, str]] = set()
        """(conversation, client message id) of messages sent here and being stored."""
        self._acked_in_event: set[tuple[int, str]] = set()
        """Of those, the ones whose live event carried the acknowledgement."""

    # ------------------------------------------------------------ lifecycle

    async def run(self) -> None:
        self.hub.register(self)
        self.send(self.hello())
        dispatcher = asyncio.create_task(self._dispatch_loop())
        recheck = (
            asyncio.create_task(self._recheck_loop()) if self.still_authorised is not None else None
        )
        try:
            await self._read_loop()
        finally:
            self._closing = True
            self.hub.unregister(self)
            for task in (dispatcher, recheck):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task

    async def _recheck_loop(self) -> None:
        assert self.still_authorised is not None
        while not self._closing:
            # Spread out: sockets opened together must not all check at once.
            await asyncio.sleep(RECHECK_SECONDS * random.uniform(0.75, 1.25))
            try:
                authorised = await self.still_authorised()
            except Exception:
                log.exception("re-checking websocket credentials failed; trying again later")
                continue
            if not authorised:
                self.close(CLOSE_UNAUTHENTICATED)
                return

    def close(self, code: int) -> None:
        """Close after what is already queued (safe from any task on the loop)."""
        if self._closing:
            return
        self._closing = True
        self._items.put_nowait(("close", code))

    def hello(self) -> dict[str, Any]:
        return {"type": "hello", "ping_seconds": 25}

    async def _read_loop(self) -> None:
        while not self._closing:
            message = await self.websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text is None:
                self.send(binary_frame_error())
                continue
            try:
                frame = parse_frame(text, self.frame_kinds, max_bytes=self.max_frame_bytes)
            except FrameError as error:
                self.send(error.frame)
                continue
            await self._handle_safely(frame)

    async def _handle_safely(self, frame: Frame) -> None:
        context: dict[str, Any] = {}
        conversation_id = getattr(frame, "conversation_id", None)
        if conversation_id is not None:
            context["conversation_id"] = conversation_id
        client_message_id = getattr(frame, "client_message_id", None)
        if client_message_id is not None:
            context["client_message_id"] = client_message_id
        try:
            await self.handle(frame)
        except RateLimited as error:
            self.send(
                error_frame(
                    error.code,
                    error.message,
                    details={"retry_after_seconds": error.retry_after_seconds},
                    **context,
                )
            )
        except DomainError as error:
            details = {k: v for k, v in error.details.items() if isinstance(v, str | int | bool)}
            self.send(error_frame(error.code, error.message, details=details, **context))
        except Exception:
            log.exception("websocket frame %s failed", type(frame).__name__)
            self.send(error_frame("internal_error", "something went wrong; try again", **context))

    async def handle(self, frame: Frame) -> None:
        if isinstance(frame, Ping):
            self.send({"type": "pong"})
        elif isinstance(frame, Subscribe):
            self._items.put_nowait(("subscribe", frame))
        elif isinstance(frame, Unsubscribe):
            self._items.put_nowait(("unsubscribe", frame.conversation_id))
        elif isinstance(frame, Typing):
            await self.on_typing(frame)
        elif isinstance(frame, Read):
            await self.on_read(frame)
        else:
            await self.on_message(frame)

    # ------------------------------------------------------------ outgoing

    def send(self, frame: dict[str, Any]) -> None:
        """Queue a frame behind everything already queued (safe from any task)."""
        self._enqueue(("frame", frame))

    def push(self, live_event: LiveEvent) -> None:
        """Called by the hub on the loop for every event this connection may want."""
        self._enqueue(("event", live_event))

    def request_catch_up(self) -> None:
        for conversation_id in list(self.streams):
            self._enqueue(("catch_up", conversation_id))

    def _enqueue(self, item: tuple[str, Any]) -> None:
        if self._closing:
            return
        if self._items.qsize() >= MAX_PENDING_ITEMS:
            log.warning("closing a websocket that fell %d items behind", MAX_PENDING_ITEMS)
            self._closing = True
            self._items.put_nowait(("close", CLOSE_TRY_AGAIN))
            return
        self._items.put_nowait(item)

    # ------------------------------------------------------------ messages

    async def post_message(self, post: ChatPost) -> PostedMessage:
        """Store a message sent on this socket and acknowledge it (see the module's
        docstring): an `ack` frame unless its live event already carried one."""
        assert post.client_message_id is not None
        key = (post.conversation_id, post.client_message_id)
        self._awaiting_ack.add(key)
        try:
            posted = await self.hub.writer.post(post)
        except BaseException:
            self._acked_in_event.discard(key)
            raise
        finally:
            self._awaiting_ack.discard(key)
        if posted.created and key in self._acked_in_event:
            self._acked_in_event.discard(key)
            return posted
        self.send(
            {
                "type": "ack",
                "conversation_id": post.conversation_id,
                "client_message_id": post.client_message_id,
                "seq": posted.message.seq,
                "message_id": posted.message.id,
                "duplicate": not posted.created,
            }
        )
        return posted

    def ack_in_event(self, conversation_id: int, message: Any) -> str | None:
        """The serialised `ack` member for a live event carrying `message` (payload
        form) when this socket sent it and waits for its acknowledgement."""
        if not self._awaiting_ack or not isinstance(message, Mapping):
            return None
        key = (conversation_id, message.get("client_message_id"))
        if key not in self._awaiting_ack or not self.sent_by_me(message):
            return None
        self._awaiting_ack.discard(key)
        self._acked_in_event.add(key)
        return dumps(
            {
                "client_message_id": key[1],
                "seq": message.get("seq"),
                "message_id": message.get("id"),
                "duplicate": False,
            }
        )

    def sent_by_me(self, message: Mapping[str, Any]) -> bool:
        """Whether this socket's party wrote `message` (payload form)."""
        raise NotImplementedError

    async def send_now(self, frame: dict[str, Any]) -> None:
        await self.websocket.send_text(dumps(frame))

    async def send_text(self, text: str) -> None:
        """A frame already serialised (once per event, see `LiveEvent.render`)."""
        await self.websocket.send_text(text)

    async def _dispatch_loop(self) -> None:
        while True:
            kind, value = await self._items.get()
            try:
                if kind == "frame":
                    await self.send_now(value)
                elif kind == "event":
                    await self._on_event(value)
                elif kind == "subscribe":
                    await self._subscribe(value)
                elif kind == "unsubscribe":
                    self._drop_stream(value)
                elif kind == "catch_up":
                    stream = self.streams.get(value)
                    if stream is not None:
                        await self._catch_up(stream)
                elif kind == "close":
                    if self.websocket.client_state == WebSocketState.CONNECTED:
                        await self.websocket.close(code=value)
                    return
            except (WebSocketDisconnect, RuntimeError, OSError):
                return  # the socket is gone; the reader notices too
            except Exception:
                log.exception("websocket dispatch of %s failed", kind)

    # ------------------------------------------------------------ streams

    async def _subscribe(self, frame: Subscribe) -> None:
        conversation_id = frame.conversation_id
        self._drop_stream(conversation_id)
        stream = Stream(conversation_id=conversation_id, delivered_seq=frame.after_seq)
        self.streams[conversation_id] = stream
        self.hub.watch(self, conversation_id)
        try:
            snapshot = await self.read_snapshot(conversation_id, frame.after_seq)
        except NotFound as error:
            self._drop_stream(conversation_id)
            await self.send_now(
                error_frame(error.code, error.message, conversation_id=conversation_id)
            )
            return
        if frame.after_seq > snapshot.last_seq or snapshot.too_many:
            self._drop_stream(conversation_id)
            await self.send_now(
                {
                    "type": "resync",
                    "conversation_id": conversation_id,
                    "last_seq": snapshot.last_seq,
                }
            )
            return
        for item in snapshot.frames:
            await self.send_now(item)
        stream.delivered_seq = snapshot.last_seq
        stream.inbox_id = snapshot.inbox_id
        await self.after_subscribe(stream, snapshot)

    def _drop_stream(self, conversation_id: int) -> None:
        if self.streams.pop(conversation_id, None) is not None:
            self.hub.unwatch(self, conversation_id)

    async def _catch_up(self, stream: Stream) -> None:
        """Fill a gap from the database: everything after `delivered_seq`."""
        try:
            snapshot = await self.read_snapshot(stream.conversation_id, stream.delivered_seq)
        except NotFound as error:
            self._drop_stream(stream.conversation_id)
            await self.send_now(
                error_frame(error.code, error.message, conversation_id=stream.conversation_id)
            )
            return
        if self.streams.get(stream.conversation_id) is not stream:
            return  # unsubscribed meanwhile
        if snapshot.too_many:
            self._drop_stream(stream.conversation_id)
            await self.send_now(
                {
                    "type": "resync",
                    "conversation_id": stream.conversation_id,
                    "last_seq": snapshot.last_seq,
                }
            )
            return
        for item in snapshot.frames:
            await self.send_now(item)
        stream.delivered_seq = max(stream.delivered_seq, snapshot.last_seq)

    async def _on_event(self, live_event: LiveEvent) -> None:
        stream = (
            self.streams.get(live_event.conversation_id)
            if live_event.conversation_id is not None
            else None
        )
        if stream is None:
            await self.on_unsubscribed_event(live_event)
            return
        if live_event.seq is None:
            await self.on_ephemeral(stream, live_event)
            return
        if not await self.may_follow(stream, live_event):
            return
        entries: list[EntryPayload] = live_event.render(
            "entries", lambda: live_event_entries(live_event)
        )
        self.track_waiting(stream, live_event)
        # The event's entries may reach past its `seq` (hooks add activities).
        top = max(live_event.seq, entries[-1].seq) if entries else live_event.seq
        if top <= stream.delivered_seq:
            if not entries:
                await self.on_notification(stream, live_event)
            return  # already delivered (snapshot or catch-up)
        expected = list(range(stream.delivered_seq + 1, top + 1))
        if [entry.seq for entry in entries] == expected:
            await self.deliver_live(stream, live_event, entries)
            stream.delivered_seq = top
            return
        await self._catch_up(stream)
        if not entries and live_event.conversation_id in self.streams:
            await self.on_notification(stream, live_event)

    # ------------------------------------------------------------ for subclasses

    async def read_snapshot(self, conversation_id: int, after_seq: int) -> Snapshot:
        raise NotImplementedError

    async def after_subscribe(self, stream: Stream, snapshot: Snapshot) -> None:
        return None

    async def deliver_live(
        self, stream: Stream, live_event: LiveEvent, entries: list[EntryPayload]
    ) -> None:
        raise NotImplementedError

    async def on_unsubscribed_event(self, live_event: LiveEvent) -> None:
        return None

    async def on_notification(self, stream: Stream, live_event: LiveEvent) -> None:
        """An event that adds no history entry (e.g. a rating)."""
        return

    async def on_ephemeral(self, stream: Stream, live_event: LiveEvent) -> None:
        return None

    async def may_follow(self, stream: Stream, live_event: LiveEvent) -> bool:
        return True

    def track_waiting(self, stream: Stream, live_event: LiveEvent) -> None:
        return None

    async def on_typing(self, frame: Typing) -> None:
        raise NotImplementedError

    async def on_read(self, frame: Read) -> None:
        raise NotImplementedError

    async def on_message(self, frame: Frame) -> None:
        raise NotImplementedError

    def waiting_conversations(self, inbox_ids: set[int] | None) -> list[int]:
        return []

    def offer_queue(self, conversation_id: int, estimate: QueueEstimate | None) -> None:
        return None
