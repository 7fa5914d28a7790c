"""Who acknowledges a message sent on a socket: its own live event when that event
reaches the socket while the sender waits, otherwise an `ack` frame (the order the
Redis bus may deliver in). The end-to-end path is in test_sockets.py; this pins the
orderings a single process rarely shows."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from helpline.services.chat_messages import ChatPost
from helpline.services.conversations import PostedMessage
from helpline.settings import Settings
from helpline.web.realtime.connection import Connection, with_ack


class OwnSocket(Connection):
    """A connection whose party wrote every message by author 7."""

    def sent_by_me(self, message: Any) -> bool:
        return bool(message.get("author_user_id") == 7)


class HeldWriter:
    """Stores nothing: `post` waits until the test releases it."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.created = True

    async def post(self, post: ChatPost) -> PostedMessage:
        await self.release.wait()
        message = SimpleNamespace(seq=9, id=77)
        return PostedMessage(message=message, created=self.created, author_name="Anna")  # type: ignore[arg-type]


def _socket() -> tuple[OwnSocket, HeldWriter]:
    writer = HeldWriter()
    hub = SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(settings=Settings())))
    hub.writer = writer
    return OwnSocket(hub, websocket=None, ip="127.0.0.1"), writer  # type: ignore[arg-type]


def _queued(socket: Connection) -> list[tuple[str, Any]]:
    items = []
    while not socket._items.empty():
        items.append(socket._items.get_nowait())
    return items


POST = ChatPost(conversation_id=12, body="hello", client_message_id="c-1")
MESSAGE = {"id": 77, "seq": 9, "client_message_id": "c-1", "author_user_id": 7}


async def test_the_event_that_arrives_while_the_sender_waits_carries_the_ack() -> None:
    socket, writer = _socket()
    sending = asyncio.create_task(socket.post_message(POST))
    await asyncio.sleep(0)
    ack = socket.ack_in_event(12, MESSAGE)
    assert ack == '{"client_message_id":"c-1","seq":9,"message_id":77,"duplicate":false}'
    assert socket.ack_in_event(12, MESSAGE) is None  # once
    writer.release.set()
    await sending
    assert _queued(socket) == []  # no ack frame of its own


async def test_an_event_after_the_ack_is_sent_plain_and_the_ack_has_its_frame() -> None:
    socket, writer = _socket()
    writer.release.set()
    await socket.post_message(POST)
    assert socket.ack_in_event(12, MESSAGE) is None
    [(kind, frame)] = _queued(socket)
    assert kind == "frame" and frame["type"] == "ack"
    assert (frame["client_message_id"], frame["seq"], frame["duplicate"]) == ("c-1", 9, False)


async def test_only_the_senders_own_message_carries_an_ack() -> None:
    socket, writer = _socket()
    sending = asyncio.create_task(socket.post_message(POST))
    await asyncio.sleep(0)
    someone_else = {**MESSAGE, "author_user_id": 8}
    assert socket.ack_in_event(12, someone_else) is None
    assert socket.ack_in_event(13, MESSAGE) is None  # another conversation
    writer.release.set()
    await sending
    assert [frame["type"] for _, frame in _queued(socket)] == ["ack"]


async def test_a_retry_of_a_stored_message_is_acked_with_a_frame_saying_duplicate() -> None:
    socket, writer = _socket()
    writer.created = False
    sending = asyncio.create_task(socket.post_message(POST))
    await asyncio.sleep(0)
    writer.release.set()
    await sending
    [(_, frame)] = _queued(socket)
    assert frame["type"] == "ack" and frame["duplicate"] is True


async def test_a_failed_store_leaves_nothing_waiting_for_an_ack() -> None:
    socket, writer = _socket()

    async def refuse(post: ChatPost) -> PostedMessage:
        raise ValueError("refused")

    writer.post = refuse  # type: ignore[method-assign]
    with pytest.raises(ValueError, match="refused"):
        await socket.post_message(POST)
    assert socket.ack_in_event(12, MESSAGE) is None
    assert _queued(socket) == []


def test_an_ack_member_is_added_to_a_serialised_frame() -> None:
    assert with_ack('{"type":"event","seq":9}', '{"seq":9}') == (
        '{"type":"event","seq":9,"ack":{"seq":9}}'
    )
