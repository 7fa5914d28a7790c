"""The ASGI application: wiring of settings, database, event bus and routers."""

from __future__ import annotations

import asyncio
import gc
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from fastapi import FastAPI
from sqlalchemy import Engine

from helpline import __version__
from helpline.adapters.bus import InProcessBus
from helpline.adapters.db.base import utcnow
from helpline.adapters.db.engine import make_engine, make_session_factory
from helpline.adapters.db.maintenance import refresh_planner_statistics
from helpline.adapters.db.migrate import upgrade_to_head
from helpline.adapters.redis_bus import RedisBus
from helpline.settings import Settings, get_settings
from helpline.web.app_state import close_shared_limits
from helpline.web.collector import keep_collector_quiet
from helpline.web.errors import install_error_handlers
from helpline.web.middleware import BodySizeLimit, SecurityHeaders
from helpline.web.origins import WidgetCors

UPLOAD_PATHS = re.compile(r"^/api/v1/(widget/[^/]+/)?conversations/\d+/attachments$")
"""File uploads may be larger than other request bodies (see settings.upload_max_bytes)."""


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    clock: Callable[[], datetime] = utcnow,
    start_worker: bool | None = None,
) -> FastAPI:
    """Build the app. Tests pass their own engine and clock; `serve` passes neither."""
    settings = settings or get_settings()
    engine = engine or make_engine(settings.resolved_database_url)
    bus: InProcessBus | RedisBus = (
        RedisBus(settings.redis_url, settings.redis_channel)
        if settings.redis_url
        else InProcessBus()
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.migrate_on_start:
            upgrade_to_head(engine)
            await asyncio.to_thread(refresh_planner_statistics, engine)
        if isinstance(bus, RedisBus):
            await asyncio.to_thread(bus.start)
        worker_wanted = settings.run_worker_in_server if start_worker is None else start_worker
        stop_worker = None
        if worker_wanted:
            from helpline.worker import start_background_worker

            stop_worker = start_background_worker(app)
        collector: asyncio.Task[None] | None = None
        if settings.environment != "test":
            # Start-up objects live as long as the process, and so do open sockets:
            # keep them out of the collector's way (`collector`). Not in tests,
            # where many short-lived apps share one process.
            gc.collect()
            gc.freeze()
            collector = asyncio.create_task(keep_collector_quiet())
        try:
            yield
        finally:
            if collector is not None:
                collector.cancel()
            if stop_worker is not None:
                await stop_worker()
            if isinstance(bus, RedisBus):
                await asyncio.to_thread(bus.stop)
            close_shared_limits(app)

    app = FastAPI(
        title="Helpline",
        version=__version__,
        summary="Customer support: one queue for chat, email and phone.",
        lifespan=lifespan,
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    app.state.clock = clock
    app.state.bus = bus
    app.state.publish = bus.publish
    app.state.secret_key = settings.resolved_secret_key()

    install_error_handlers(app)

    from helpline.web.api.routes import api_router
    from helpline.web.pages.routes import mount_pages

    app.include_router(api_router)
    mount_pages(app)

    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_request_bytes,
        upload_paths=UPLOAD_PATHS,
        upload_max_bytes=settings.upload_max_bytes + 64 * 1024,
    )
    app.add_middleware(WidgetCors)
    app.add_middleware(SecurityHeaders)
    return app
