"""The background worker: outbox delivery and time-driven conversation jobs.

It runs as an asyncio task inside `helpline serve` (default), or on its own as
`helpline worker` next to several server processes. Every round runs each job
once; database work happens in threads so the event loop never blocks, and a
failing job is logged and tried again next round, never ending the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import partial

from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from helpline.adapters.db.base import utcnow
from helpline.adapters.db.engine import make_engine, make_session_factory
from helpline.adapters.db.maintenance import (
    STATISTICS_REFRESH_SECONDS,
    refresh_planner_statistics,
)
from helpline.adapters.mailer import Mailer, make_mailer
from helpline.services import ai_assist
from helpline.services.agent_wellbeing import break_reminder_job
from helpline.services.deflection import settle_deflections
from helpline.services.events import Publisher, install_publisher
from helpline.services.lifecycle_jobs import auto_close_solved, wake_snoozed
from helpline.services.outbox import deliver_due_emails
from helpline.services.routing_jobs import queue_job, reoffer_job, sla_job
from helpline.settings import Settings

log = logging.getLogger(__name__)

STOP_GRACE_SECONDS = 30.0
"""How long `stop` lets a running round finish before cancelling it."""


def _run_job(
    session_factory: sessionmaker[Session],
    publish: Publisher | None,
    job: Callable[[Session], int],
) -> int:
    """One job in its own session; its live events go out after its commit."""
    with session_factory() as db:
        if publish is not None:
            install_publisher(db, publish)
        return job(db)


async def run_jobs_once(
    session_factory: sessionmaker[Session],
    settings: Settings,
    mailer: Mailer,
    now: datetime,
    *,
    publish: Publisher | None = None,
) -> dict[str, int]:
    """Run every job once at `now`; returns how much each did (`errors`: jobs that failed)."""
    counts = {
        "snoozed_woken": 0,
        "auto_closed": 0,
        "reoffered": 0,
        "sla_checked": 0,
        "routed": 0,
        "deflections_settled": 0,
        "ai_labels_learnt": 0,
        "break_reminders": 0,
        "emails_sent": 0,
        "emails_failed": 0,
        "emails_dead": 0,
        "errors": 0,
    }
    lifecycle: list[tuple[str, Callable[[Session], int]]] = [
        ("snoozed_woken", partial(wake_snoozed, now=now)),
        (
            "auto_closed",
            partial(auto_close_solved, now=now, after_days=settings.auto_close_solved_after_days),
        ),
        # Routing (services.routing_jobs): re-offers, SLA clocks, the periodic queue round.
        ("reoffered", partial(reoffer_job, now=now, settings=settings)),
        ("sla_checked", partial(sla_job, now=now, settings=settings)),
        ("routed", partial(queue_job, now=now, settings=settings)),
        # Help center: article views that did (not) lead to a chat within the window.
        ("deflections_settled", partial(settle_deflections, now=now)),
        # AI assist: retrain the category model on agents' corrections (on a schedule).
        ("ai_labels_learnt", partial(ai_assist.retrain_job, now=now, settings=settings)),
        # Agent wellbeing: break reminders, each sent once (services.agent_wellbeing).
        ("break_reminders", partial(break_reminder_job, now=now, settings=settings)),
    ]
    for name, job in lifecycle:
        try:
            counts[name] = await asyncio.to_thread(_run_job, session_factory, publish, job)
        except Exception:
            counts["errors"] += 1
            log.exception("background job %s failed; trying again next round", name)
    try:
        report = await deliver_due_emails(session_factory, mailer, settings, now=now)
    except Exception:
        counts["errors"] += 1
        log.exception("outbox delivery failed; trying again next round")
    else:
        counts["emails_sent"] = report.sent
        counts["emails_failed"] = report.failed
        counts["emails_dead"] = report.dead
    return counts


async def _run_until_stopped(
    stop_requested: asyncio.Event,
    session_factory: sessionmaker[Session],
    settings: Settings,
    mailer: Mailer,
    clock: Callable[[], datetime],
    publish: Publisher | None,
) -> None:
    log.info("background worker started (every %ss)", settings.worker_interval_seconds)
    ai_assist.start_background_warm_up(settings)  # AI models load while jobs run
    statistics_refreshed_at = time.monotonic()
    while not stop_requested.is_set():
        if time.monotonic() - statistics_refreshed_at > STATISTICS_REFRESH_SECONDS:
            statistics_refreshed_at = time.monotonic()
            engine = session_factory.kw["bind"]
            try:
                await asyncio.to_thread(refresh_planner_statistics, engine)
            except Exception:
                log.exception("refreshing the query planner's statistics failed")
        try:
            counts = await run_jobs_once(
                session_factory, settings, mailer, clock(), publish=publish
            )
            if any(counts.values()):
                log.info("background worker round: %s", counts)
        except Exception:
            # run_jobs_once already guards each job; this is the last line of defence.
            log.exception("background worker round failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop_requested.wait(), settings.worker_interval_seconds)
    log.info("background worker stopped")


def _stopper(
    task: asyncio.Task[None], stop_requested: asyncio.Event
) -> Callable[[], Awaitable[None]]:
    async def stop() -> None:
        """Let the running round finish (bounded), then make sure the task is gone."""
        stop_requested.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), STOP_GRACE_SECONDS)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return stop


def start_background_worker(app: FastAPI) -> Callable[[], Awaitable[None]]:
    """Start the worker as a task of the running event loop (the app's lifespan);
    returns the async function that stops it. The app's mailer is created here
    unless one was set on `app.state.mailer` (tests and the demo set their own)."""
    settings: Settings = app.state.settings
    mailer: Mailer | None = getattr(app.state, "mailer", None)
    if mailer is None:
        mailer = make_mailer(settings)
        app.state.mailer = mailer
    stop_requested = asyncio.Event()
    task = asyncio.create_task(
        _run_until_stopped(
            stop_requested,
            app.state.session_factory,
            settings,
            mailer,
            app.state.clock,
            app.state.publish,
        ),
        name="helpline-background-worker",
    )
    return _stopper(task, stop_requested)


def run_worker_forever(settings: Settings) -> None:
    """The `helpline worker` process: run the jobs until SIGTERM or SIGINT.

    It applies no migrations (the server does) and publishes no live events of
    its own: agents see the changes on their next fetch, or through the server
    processes once a shared event bus carries them.
    """

    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )

    async def main() -> None:
        engine = make_engine(settings.resolved_database_url)
        stop_requested = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop_requested.set)
        try:
            await _run_until_stopped(
                stop_requested,
                make_session_factory(engine),
                settings,
                make_mailer(settings),
                utcnow,
                None,
            )
        finally:
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(signum)
            engine.dispose()

    asyncio.run(main())
