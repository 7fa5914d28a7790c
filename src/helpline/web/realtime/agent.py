"""The staff side of the WebSocket: every live event addressed to the agent, plus
ordered, resumable streams for the conversations they subscribe to."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from starlette.websockets import WebSocket

from helpline.domain.access import Viewer
from helpline.domain.enums import AuthorType
from helpline.services import widget
from helpline.services.chat_messages import ChatPost
from helpline.services.conversations import access_conversation
from helpline.services.events import LiveEvent
from helpline.services.widget import EntryPayload
from helpline.web.realtime.connection import Connection, Stream, dumps, with_ack
from helpline.web.realtime.frames import (
    AGENT_FRAMES,
    AgentMessage,
    Frame,
    Read,
    Typing,
    error_frame,
)
from helpline.web.realtime.hub import Hub
from helpline.web.realtime.queries import Snapshot, agent_snapshot


def raw_frame(live_event: LiveEvent) -> dict[str, Any]:
    return {
        "type": "event",
        "conversation_id": live_event.conversation_id,
        "seq": live_event.seq,
        "event": {"type": live_event.type, **live_event.payload},
    }


def _raw_text(live_event: LiveEvent) -> str:
    """The staff frame of an event, serialised once for every agent receiving it."""
    text: str = live_event.render("agent", lambda: dumps(raw_frame(live_event)))
    return text


class AgentConnection(Connection):
    frame_kinds = AGENT_FRAMES

    def __init__(
        self, hub: Hub, websocket: WebSocket, *, ip: str, viewer: Viewer, name: str
    ) -> None:
        super().__init__(hub, websocket, ip=ip)
        self.viewer = viewer
        self.user_id = viewer.user_id
        self.name = name
        self._visible: set[int] = set()
        # Presence: conversations this connection told colleagues it is viewing.
        self._announced: set[int] = set()
        self._presence_key = secrets.token_hex(6)

    def hello(self) -> dict[str, Any]:
        return {
            "type": "hello",
            "user": {"id": self.viewer.user_id, "name": self.name},
            "ping_seconds": 25,
        }

    # ------------------------------------------------------------ resume and events

    async def read_snapshot(self, conversation_id: int, after_seq: int) -> Snapshot:
        snapshot = await self.hub.run_read(
            agent_snapshot,
            self.viewer,
            conversation_id,
            after_seq=after_seq,
            max_events=self.max_resume_events,
        )
        self._visible.add(conversation_id)
        return snapshot

    async def deliver_live(
        self, stream: Stream, live_event: LiveEvent, entries: list[EntryPayload]
    ) -> None:
        await self._send_event(live_event)

    async def _send_event(self, live_event: LiveEvent) -> None:
        text = _raw_text(live_event)
        if live_event.conversation_id is not None:
            ack = self.ack_in_event(live_event.conversation_id, live_event.payload.get("message"))
            if ack is not None:
                text = with_ack(text, ack)
        await self.send_text(text)

    def sent_by_me(self, message: Mapping[str, Any]) -> bool:
        return bool(
            message.get("author_type") == AuthorType.AGENT.value
            and message.get("author_user_id") == self.viewer.user_id
        )

    async def may_follow(self, stream: Stream, live_event: LiveEvent) -> bool:
        if self.viewer.user_id in live_event.user_ids:
            return True
        # The conversation moved out of this agent's sight (e.g. transferred).
        self._visible.discard(stream.conversation_id)
        self.streams.pop(stream.conversation_id, None)
        self.hub.unwatch(self, stream.conversation_id)
        await self.send_now(
            error_frame(
                "not_found",
                "conversation not found",
                conversation_id=stream.conversation_id,
            )
        )
        return False

    async def on_unsubscribed_event(self, live_event: LiveEvent) -> None:
        addressed = live_event.seq is not None or live_event.conversation_id is None
        if addressed and self.viewer.user_id in live_event.user_ids:
            await self._send_event(live_event)

    async def on_notification(self, stream: Stream, live_event: LiveEvent) -> None:
        if self.viewer.user_id in live_event.user_ids:
            await self.send_text(_raw_text(live_event))

    async def on_ephemeral(self, stream: Stream, live_event: LiveEvent) -> None:
        payload = live_event.payload
        who = payload.get("who")
        if who == "agent" and payload.get("user_id") == self.viewer.user_id:
            return  # our own typing or read mark
        if live_event.type == "typing":
            typing = {
                "type": "typing",
                "conversation_id": stream.conversation_id,
                "who": who,
                "name": payload.get("name"),
                "active": bool(payload.get("active")),
            }
            if who == "agent":  # a colleague: the composer warns about a collision
                typing["user_id"] = payload.get("user_id")
            await self.send_now(typing)
        elif live_event.type == "read":
            await self.send_now(
                {
                    "type": "read",
                    "conversation_id": stream.conversation_id,
                    "seq": payload.get("seq"),
                    "by": who,
                    "name": payload.get("name"),
                }
            )
        elif live_event.type == "presence":
            await self._on_presence(stream, payload)

    # ------------------------------------------------------------ presence

    def _publish_presence(self, conversation_id: int, *, viewing: bool, ask: bool = False) -> None:
        """Tell colleagues with this conversation open that we are (no longer)
        viewing it; `ask` makes each of them answer with their own presence, so a
        newcomer learns who is there without any stored state."""
        self.hub.publish(
            LiveEvent(
                type="presence",
                payload={
                    "who": "agent",
                    "user_id": self.viewer.user_id,
                    "name": self.name,
                    "connection": self._presence_key,
                    "viewing": viewing,
                    "ask": ask,
                },
                conversation_id=conversation_id,
            )
        )

    async def _on_presence(self, stream: Stream, payload: dict[str, Any]) -> None:
        viewing = bool(payload.get("viewing"))
        await self.send_now(
            {
                "type": "presence",
                "conversation_id": stream.conversation_id,
                "user_id": payload.get("user_id"),
                "name": payload.get("name"),
                "connection": payload.get("connection"),
                "viewing": viewing,
            }
        )
        if payload.get("ask") and viewing and stream.conversation_id in self._announced:
            self._publish_presence(stream.conversation_id, viewing=True)

    async def after_subscribe(self, stream: Stream, snapshot: Snapshot) -> None:
        await super().after_subscribe(stream, snapshot)
        self._announced.add(stream.conversation_id)
        self._publish_presence(stream.conversation_id, viewing=True, ask=True)

    def _drop_stream(self, conversation_id: int) -> None:
        if conversation_id in self._announced:
            self._announced.discard(conversation_id)
            self._publish_presence(conversation_id, viewing=False)
        super()._drop_stream(conversation_id)

    async def run(self) -> None:
        try:
            await super().run()
        finally:
            for conversation_id in sorted(self._announced):
                self._publish_presence(conversation_id, viewing=False)
            self._announced.clear()

    # ------------------------------------------------------------ client frames

    async def _check_visible(self, conversation_id: int) -> None:
        if conversation_id not in self._visible:
            await self.hub.run_read(access_conversation, self.viewer, conversation_id)
            self._visible.add(conversation_id)

    async def on_typing(self, frame: Typing) -> None:
        await self._check_visible(frame.conversation_id)
        self.hub.publish(
            LiveEvent(
                type="typing",
                payload={
                    "who": "agent",
                    "name": self.name,
                    "user_id": self.viewer.user_id,
                    "active": frame.active,
                },
                conversation_id=frame.conversation_id,
            )
        )

    async def on_read(self, frame: Read) -> None:
        await self._check_visible(frame.conversation_id)
        marked = await self.hub.run_db(
            widget.do_mark_read,
            frame.conversation_id,
            reader_type="agent",
            reader_id=self.viewer.user_id,
            seq=frame.seq,
            now=self.hub.now(),
        )
        if marked is not None:
            self.hub.publish(
                LiveEvent(
                    type="read",
                    payload={
                        "who": "agent",
                        "name": self.name,
                        "user_id": self.viewer.user_id,
                        "seq": marked,
                    },
                    conversation_id=frame.conversation_id,
                )
            )

    async def on_message(self, frame: Frame) -> None:
        assert isinstance(frame, AgentMessage)
        await self.post_message(
            ChatPost(
                conversation_id=frame.conversation_id,
                body=frame.body,
                client_message_id=frame.client_message_id,
                viewer=self.viewer,
                kind=frame.kind,
            )
        )
        self._visible.add(frame.conversation_id)
