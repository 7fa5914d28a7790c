"""The chat writer's groups: a lone message is written at once; messages that arrive
while a group is written wait a moment (`LINGER_SECONDS`) and go together."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any, cast

import pytest

from helpline.services.chat_messages import ChatPost, FollowUp
from helpline.web.realtime import writer as writer_module
from helpline.web.realtime.hub import Hub
from helpline.web.realtime.writer import MessageWriter


class _Hub:
    """What the writer uses of the hub; `run_db` records each group and holds the
    first one until released."""

    def __init__(self) -> None:
        engine = SimpleNamespace(dialect=SimpleNamespace(name="sqlite"))
        settings = SimpleNamespace(max_message_chars=1000)
        self.app = SimpleNamespace(state=SimpleNamespace(engine=engine, settings=settings))
        self.groups: list[list[str]] = []
        self.release_first = asyncio.Event()

    def now(self) -> None:
        return None

    async def run_db(self, work: Any, posts: list[ChatPost], **_: Any) -> Any:
        self.groups.append([post.body for post in posts])
        if len(self.groups) == 1:
            await self.release_first.wait()
        return [f"stored {post.body}" for post in posts], FollowUp()


async def _settle() -> None:
    """Let every task that can run, run (a few turns of the loop; no timing)."""
    for _ in range(5):
        await asyncio.sleep(0)


def _post(body: str) -> ChatPost:
    return ChatPost(conversation_id=1, body=body, client_message_id=body)


def test_a_lone_message_goes_at_once_and_latecomers_go_together(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(writer_module, "LINGER_SECONDS", 0.05)

    async def scenario() -> list[Any]:
        hub = _Hub()
        writer = MessageWriter(cast(Hub, hub))
        first = asyncio.create_task(writer.post(_post("a")))
        await _settle()
        assert hub.groups == [["a"]]  # written at once, no waiting
        during = [asyncio.create_task(writer.post(_post(body))) for body in ("b", "c")]
        await _settle()
        hub.release_first.set()
        await first
        # While the writer lingers, two more arrive: they join the next group.
        await asyncio.sleep(0.01)
        later = [asyncio.create_task(writer.post(_post(body))) for body in ("d", "e")]
        results = await asyncio.gather(*during, *later)
        assert hub.groups == [["a"], ["b", "c", "d", "e"]]
        return results

    assert asyncio.run(scenario()) == ["stored b", "stored c", "stored d", "stored e"]
