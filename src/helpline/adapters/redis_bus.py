"""Event bus over Redis pub/sub, for several server processes (same interface as
`InProcessBus`: `publish` and `subscribe`).

Every process publishes its events as JSON to one channel, and a listener thread
in every process — the publisher's own included — hands what arrives to the local
subscribers, so all processes see all events in Redis's order. `publish` never
waits for Redis: a publisher thread sends queued events in pipelined batches.

Pub/sub delivers at most once: events published while a listener is reconnecting
are lost. The listener then tells its reconnect listeners (the WebSocket hub
re-reads every subscribed conversation from the database), so clients following a
conversation still get every entry. `publish` without `start()` (a process that
only publishes, such as a worker) sends synchronously.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import redis

from helpline.services.events import LiveEvent

log = logging.getLogger(__name__)

Subscriber = Callable[[LiveEvent], None]

MAX_QUEUED = 100_000
"""Events waiting for Redis beyond this are dropped (oldest first) and logged."""
BATCH = 500
RECONNECT_DELAYS = (0.1, 0.5, 1.0, 2.0, 5.0)


def encode_event(live_event: LiveEvent) -> str:
    return json.dumps(
        {
            "type": live_event.type,
            "payload": live_event.payload,
            "user_ids": sorted(live_event.user_ids),
            "conversation_id": live_event.conversation_id,
            "seq": live_event.seq,
            "to_contact": live_event.to_contact,
            "extra": live_event.extra,
        },
        separators=(",", ":"),
        default=str,
    )


def decode_event(data: str | bytes) -> LiveEvent:
    raw: dict[str, Any] = json.loads(data)
    return LiveEvent(
        type=str(raw["type"]),
        payload=dict(raw.get("payload") or {}),
        user_ids=frozenset(int(user_id) for user_id in raw.get("user_ids") or ()),
        conversation_id=raw.get("conversation_id"),
        seq=raw.get("seq"),
        to_contact=bool(raw.get("to_contact")),
        extra=dict(raw.get("extra") or {}),
    )


class RedisBus:
    def __init__(self, url: str, channel: str = "helpline:events") -> None:
        self.url = url
        self.channel = channel
        self._subscribers: list[Subscriber] = []
        self._reconnect_listeners: list[Callable[[], None]] = []
        self._lock = threading.Lock()
        self._outbox: deque[str] = deque()
        self._outbox_ready = threading.Condition()
        self._stopping = threading.Event()
        self._subscribed = threading.Event()
        self._threads: list[threading.Thread] = []
        self._sync_client: redis.Redis | None = None
        self.listener_name = f"helpline-listener-{os.getpid()}-{id(self):x}"
        """The Redis client name of the listener connection (seen in CLIENT LIST)."""

    # ------------------------------------------------------------ interface

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        with self._lock:
            self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            with self._lock:
                if subscriber in self._subscribers:
                    self._subscribers.remove(subscriber)

        return unsubscribe

    def add_reconnect_listener(self, listener: Callable[[], None]) -> None:
        with self._lock:
            self._reconnect_listeners.append(listener)

    def publish(self, live_event: LiveEvent) -> None:
        data = encode_event(live_event)
        if not self._threads:
            self._publish_now(data)
            return
        with self._outbox_ready:
            if len(self._outbox) >= MAX_QUEUED:
                self._outbox.popleft()
                log.error("redis bus: %d events waiting; dropping the oldest", MAX_QUEUED)
            self._outbox.append(data)
            self._outbox_ready.notify()

    # ------------------------------------------------------------ lifecycle

    def start(self, *, timeout: float = 10.0) -> None:
        """Start the listener and publisher threads; returns once subscribed (so no
        event published after start-up is missed) or raises after `timeout`."""
        if self._threads:
            return
        self._stopping.clear()
        self._threads = [
            threading.Thread(target=self._listen, name="helpline-redis-listener", daemon=True),
            threading.Thread(target=self._send, name="helpline-redis-publisher", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        if not self._subscribed.wait(timeout):
            self.stop()
            raise ConnectionError(f"could not subscribe to Redis at {self.url}")

    def stop(self, *, timeout: float = 5.0) -> None:
        """Send what is queued, then stop both threads."""
        self._stopping.set()
        with self._outbox_ready:
            self._outbox_ready.notify_all()
        for thread in self._threads:
            thread.join(timeout)
        self._threads = []
        self._subscribed.clear()
        if self._sync_client is not None:
            self._sync_client.close()
            self._sync_client = None

    # ------------------------------------------------------------ threads

    def _client(self, name: str | None = None) -> redis.Redis:
        return redis.Redis.from_url(
            self.url, socket_connect_timeout=5, health_check_interval=30, client_name=name
        )

    def _publish_now(self, data: str) -> None:
        if self._sync_client is None:
            self._sync_client = self._client()
        self._sync_client.publish(self.channel, data)

    def _send(self) -> None:
        client = self._client()
        attempt = 0
        batch: list[str] = []
        while True:
            if not batch:
                with self._outbox_ready:
                    while not self._outbox and not self._stopping.is_set():
                        self._outbox_ready.wait(1.0)
                    if not self._outbox and self._stopping.is_set():
                        break
                    while self._outbox and len(batch) < BATCH:
                        batch.append(self._outbox.popleft())
            try:
                pipeline = client.pipeline(transaction=False)
                for data in batch:
                    pipeline.publish(self.channel, data)
                pipeline.execute()
                batch = []
                attempt = 0
            except redis.RedisError as error:
                if self._stopping.is_set():
                    log.error("redis bus: %d events not sent at shutdown: %s", len(batch), error)
                    break
                delay = RECONNECT_DELAYS[min(attempt, len(RECONNECT_DELAYS) - 1)]
                attempt += 1
                log.warning("redis bus: publish failed (%s); retrying in %.1fs", error, delay)
                time.sleep(delay)
        client.close()

    def _listen(self) -> None:
        attempt = 0
        first = True
        while not self._stopping.is_set():
            client = self._client(self.listener_name)
            pubsub = client.pubsub()  # type: ignore[no-untyped-call]
            try:
                pubsub.subscribe(self.channel)
                # Wait for the confirmation so `start` returns only when subscribed.
                while not self._stopping.is_set():
                    confirmation = pubsub.get_message(timeout=1.0)
                    if confirmation is not None and confirmation["type"] == "subscribe":
                        break
                self._subscribed.set()
                if not first:
                    self._tell_reconnected()
                first = False
                attempt = 0
                while not self._stopping.is_set():
                    message = pubsub.get_message(timeout=1.0)
                    if message is not None and message["type"] == "message":
                        self._deliver(message["data"])
            except redis.RedisError as error:
                if self._stopping.is_set():
                    break
                delay = RECONNECT_DELAYS[min(attempt, len(RECONNECT_DELAYS) - 1)]
                attempt += 1
                log.warning(
                    "redis bus: listener lost Redis (%s); reconnecting in %.1fs", error, delay
                )
                time.sleep(delay)
            finally:
                try:
                    pubsub.close()
                    client.close()
                except redis.RedisError:
                    pass

    def _deliver(self, data: str | bytes) -> None:
        try:
            live_event = decode_event(data)
        except (ValueError, KeyError, TypeError):
            log.exception("redis bus: undecodable event dropped")
            return
        with self._lock:
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            try:
                subscriber(live_event)
            except Exception:
                log.exception("event subscriber failed for %s", live_event.type)

    def _tell_reconnected(self) -> None:
        with self._lock:
            listeners = list(self._reconnect_listeners)
        for listener in listeners:
            try:
                listener()
            except Exception:
                log.exception("redis bus: reconnect listener failed")
