"""The Redis event bus: events published by one process reach every process's
subscribers, as JSON; a listener that lost Redis reconnects and says so."""

from __future__ import annotations

import queue
import threading
import uuid
from collections.abc import Iterator

import pytest
import redis

from helpline.adapters.redis_bus import RedisBus, decode_event, encode_event
from helpline.services.events import LiveEvent
from tests.services import REDIS_URL, require_redis

pytestmark = pytest.mark.redis


@pytest.fixture
def channel() -> str:
    require_redis()
    return f"helpline-test:{uuid.uuid4().hex}"


@pytest.fixture
def buses(channel: str) -> Iterator[tuple[RedisBus, RedisBus]]:
    first, second = RedisBus(REDIS_URL, channel), RedisBus(REDIS_URL, channel)
    first.start()
    second.start()
    yield first, second
    first.stop()
    second.stop()


EVENT = LiveEvent(
    type="message.created",
    payload={"message": {"id": 1, "seq": 4, "body": "Cześć 👋"}, "conversation": {"id": 9}},
    user_ids=frozenset({3, 1}),
    conversation_id=9,
    seq=4,
    to_contact=True,
)


def test_events_survive_the_trip_as_json() -> None:
    assert decode_event(encode_event(EVENT)) == EVENT
    assert decode_event(encode_event(LiveEvent(type="typing", payload={}))) == LiveEvent(
        type="typing", payload={}
    )


def test_every_process_hears_every_event_in_order(buses: tuple[RedisBus, RedisBus]) -> None:
    first, second = buses
    heard_first: queue.Queue[LiveEvent] = queue.Queue()
    heard_second: queue.Queue[LiveEvent] = queue.Queue()
    first.subscribe(heard_first.put)
    unsubscribe = second.subscribe(heard_second.put)
    events = [
        LiveEvent(type="message.created", payload={"n": n}, conversation_id=1, seq=n)
        for n in range(50)
    ]
    for event in events:
        first.publish(event)
    assert [heard_first.get(timeout=10) for _ in events] == events
    assert [heard_second.get(timeout=10) for _ in events] == events
    unsubscribe()
    second.publish(EVENT)
    assert heard_first.get(timeout=10) == EVENT
    assert heard_second.empty()


def test_a_publisher_without_threads_sends_directly(
    channel: str, buses: tuple[RedisBus, RedisBus]
) -> None:
    listener, _ = buses
    heard: queue.Queue[LiveEvent] = queue.Queue()
    listener.subscribe(heard.put)
    worker_bus = RedisBus(REDIS_URL, channel)  # e.g. a `helpline worker` process
    worker_bus.publish(EVENT)
    assert heard.get(timeout=10) == EVENT
    worker_bus.stop()


def test_a_listener_that_lost_redis_reconnects_and_says_so(
    channel: str, buses: tuple[RedisBus, RedisBus]
) -> None:
    listener, publisher = buses
    reconnected = threading.Event()
    listener.add_reconnect_listener(reconnected.set)
    heard: queue.Queue[LiveEvent] = queue.Queue()
    listener.subscribe(heard.put)
    admin = redis.Redis.from_url(REDIS_URL)
    ours = [
        client["id"]
        for client in admin.client_list()
        if client.get("name") == listener.listener_name
    ]
    assert ours, "the listener names its connection"
    for client_id in ours:
        admin.client_kill_filter(_id=client_id)
    assert reconnected.wait(15)
    publisher.publish(EVENT)
    assert heard.get(timeout=10) == EVENT
    admin.close()
