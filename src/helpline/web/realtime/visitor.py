"""The visitor's side of the WebSocket: only their own conversations, only what a
customer may see (replies and customer-visible changes; never internal notes)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from starlette.websockets import WebSocket

from helpline.domain.enums import AuthorType, Channel, ConversationStatus
from helpline.services import widget
from helpline.services.chat_messages import ChatPost
from helpline.services.events import LiveEvent
from helpline.services.visitors import Visitor, VisitorLimits, access_visitor_conversation
from helpline.services.widget import EntryPayload, QueueEstimate
from helpline.web.realtime.connection import Connection, Stream, dumps, with_ack
from helpline.web.realtime.frames import VISITOR_FRAMES, Frame, Read, Typing, VisitorMessage
from helpline.web.realtime.hub import Hub
from helpline.web.realtime.queries import Snapshot
from helpline.web.realtime.queries import visitor_snapshot as visitor_snapshot  # tests swap it


@dataclass(frozen=True, slots=True)
class VisitorContext:
    """What the handshake established (read once, in a worker thread)."""

    visitor: Visitor
    public_key: str
    contact_name: str
    contact: dict[str, Any]


class VisitorConnection(Connection):
    frame_kinds = VISITOR_FRAMES

    def __init__(
        self,
        hub: Hub,
        websocket: WebSocket,
        *,
        ip: str,
        context: VisitorContext,
        limits: VisitorLimits,
    ) -> None:
        super().__init__(hub, websocket, ip=ip)
        self.context = context
        self.visitor = context.visitor
        self.limits = limits
        self._owned: set[int] = set()

    def hello(self) -> dict[str, Any]:
        return {"type": "hello", "contact": self.context.contact, "ping_seconds": 25}

    # ------------------------------------------------------------ resume

    async def read_snapshot(self, conversation_id: int, after_seq: int) -> Snapshot:
        snapshot = await self.hub.run_read(
            visitor_snapshot,
            self.visitor,
            conversation_id,
            after_seq=after_seq,
            max_events=self.max_resume_events,
            public_key=self.context.public_key,
            now=self.hub.now(),
        )
        self._owned.add(conversation_id)
        return snapshot

    async def after_subscribe(self, stream: Stream, snapshot: Snapshot) -> None:
        stream.waiting = snapshot.waiting
        frame = self._queue_frame(stream.conversation_id, snapshot.queue)
        if frame is not None:
            await self.send_now(frame)  # right after the missed events

    async def deliver_live(
        self, stream: Stream, live_event: LiveEvent, entries: list[EntryPayload]
    ) -> None:
        public_key = self.context.public_key
        for entry in entries:
            text: str | None = live_event.render(
                ("visitor", public_key, entry.seq),
                partial(_visitor_text, stream.conversation_id, entry, public_key),
            )
            if text is None:
                continue
            ack = self.ack_in_event(stream.conversation_id, entry.message)
            await self.send_text(text if ack is None else with_ack(text, ack))

    def track_waiting(self, stream: Stream, live_event: LiveEvent) -> None:
        conversation = live_event.payload.get("conversation")
        if isinstance(conversation, dict):
            stream.waiting = (
                conversation.get("status") == ConversationStatus.OPEN.value
                and conversation.get("assignee_id") is None
                and conversation.get("channel") == Channel.CHAT.value
            )
            if not stream.waiting:
                stream.last_queue = None

    async def on_ephemeral(self, stream: Stream, live_event: LiveEvent) -> None:
        payload = live_event.payload
        if payload.get("who") != "agent":
            return
        if live_event.type == "typing":
            await self.send_now(
                {
                    "type": "typing",
                    "conversation_id": stream.conversation_id,
                    "who": "agent",
                    "name": payload.get("name"),
                    "active": bool(payload.get("active")),
                }
            )
        elif live_event.type == "read":
            await self.send_now(
                {
                    "type": "read",
                    "conversation_id": stream.conversation_id,
                    "seq": payload.get("seq"),
                    "by": "agent",
                }
            )

    # ------------------------------------------------------------ queue

    def waiting_conversations(self, inbox_ids: set[int] | None) -> list[int]:
        return [
            stream.conversation_id
            for stream in self.streams.values()
            if stream.waiting and (inbox_ids is None or stream.inbox_id in inbox_ids)
        ]

    def offer_queue(self, conversation_id: int, estimate: QueueEstimate | None) -> None:
        frame = self._queue_frame(conversation_id, estimate)
        if frame is not None:
            self.send(frame)

    def _queue_frame(
        self, conversation_id: int, estimate: QueueEstimate | None
    ) -> dict[str, Any] | None:
        """A queue frame when the position or wait changed (else None)."""
        stream = self.streams.get(conversation_id)
        if stream is None or estimate is None or not stream.waiting:
            return None
        key = (estimate.position, estimate.expected_wait_seconds)
        if key == stream.last_queue:
            return None
        stream.last_queue = key
        return {
            "type": "queue",
            "conversation_id": conversation_id,
            "position": estimate.position,
            "expected_wait_seconds": estimate.expected_wait_seconds,
        }

    # ------------------------------------------------------------ client frames

    async def _check_owned(self, conversation_id: int) -> None:
        if conversation_id not in self._owned:
            await self.hub.run_read(access_visitor_conversation, self.visitor, conversation_id)
            self._owned.add(conversation_id)

    async def on_typing(self, frame: Typing) -> None:
        await self._check_owned(frame.conversation_id)
        self.hub.publish(
            LiveEvent(
                type="typing",
                payload={
                    "who": "contact",
                    "name": self.context.contact_name,
                    "active": frame.active,
                },
                conversation_id=frame.conversation_id,
            )
        )

    async def on_read(self, frame: Read) -> None:
        await self._check_owned(frame.conversation_id)
        marked = await self.hub.run_db(
            widget.do_mark_read,
            frame.conversation_id,
            reader_type="contact",
            reader_id=self.visitor.contact_id,
            seq=frame.seq,
            now=self.hub.now(),
        )
        if marked is not None:
            self.hub.publish(
                LiveEvent(
                    type="read",
                    payload={"who": "contact", "name": self.context.contact_name, "seq": marked},
                    conversation_id=frame.conversation_id,
                )
            )

    async def on_message(self, frame: Frame) -> None:
        assert isinstance(frame, VisitorMessage)
        now = self.hub.now()
        await self.limits.message_async(self.visitor, self.ip, now=now)
        await self.post_message(
            ChatPost(
                conversation_id=frame.conversation_id,
                body=frame.body,
                client_message_id=frame.client_message_id,
                visitor=self.visitor,
            )
        )
        self._owned.add(frame.conversation_id)

    def sent_by_me(self, message: Mapping[str, Any]) -> bool:
        return bool(
            message.get("author_type") == AuthorType.CONTACT.value
            and message.get("author_contact_id") == self.visitor.contact_id
        )


def _visitor_text(conversation_id: int, entry: EntryPayload, public_key: str) -> str | None:
    frame = widget.visitor_frame(conversation_id, entry, public_key)
    return dumps(frame) if frame is not None else None


def contact_view(name: str, email: str | None, verified: bool) -> dict[str, Any]:
    return {"name": name, "email": email, "verified": verified}
