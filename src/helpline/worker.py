"""(being written) The background worker: outbox delivery and lifecycle jobs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI


def start_background_worker(app: FastAPI) -> Callable[[], Awaitable[None]]:
    async def stop() -> None:
        return None

    return stop
