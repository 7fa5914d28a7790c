"""Database housekeeping that the server does by itself."""

from __future__ import annotations

from sqlalchemy import Engine

STATISTICS_REFRESH_SECONDS = 6 * 3600


def refresh_planner_statistics(engine: Engine) -> bool:
    """Give SQLite's query planner fresh table statistics; returns whether it ran.

    SQLite has no autovacuum: without statistics its planner may pick the status
    index and sort tens of thousands of rows for an inbox page instead of walking
    the activity index (60 ms instead of 3 ms at 100,000 conversations).
    PostgreSQL's autovacuum keeps its own statistics, so nothing is done there.
    """
    if engine.dialect.name != "sqlite":
        return False
    with engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE")
    return True
