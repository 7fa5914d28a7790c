"""In-process event bus: live events fan out to subscribers in this process.

A Redis-backed bus with the same interface serves several server processes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from helpline.services.events import LiveEvent

log = logging.getLogger(__name__)

Subscriber = Callable[[LiveEvent], None]


class InProcessBus:
    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self._lock = threading.Lock()

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        with self._lock:
            self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            with self._lock:
                if subscriber in self._subscribers:
                    self._subscribers.remove(subscriber)

        return unsubscribe

    def publish(self, live_event: LiveEvent) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            try:
                subscriber(live_event)
            except Exception:
                # One broken listener must not stop delivery to the others.
                log.exception("event subscriber failed for %s", live_event.type)
