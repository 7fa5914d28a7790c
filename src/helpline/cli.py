"""The `helpline` command: serve, migrate, create-admin, worker and the demo.

Every command reads its settings from `HELPLINE_*` environment variables; `demo`
replaces the data directory and database with its own SQLite file, so it never
touches a configured production database.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError

from helpline.adapters.db.engine import make_engine, make_session_factory
from helpline.adapters.db.migrate import pending_revisions, upgrade_to_head
from helpline.adapters.db.models import Inbox, User
from helpline.adapters.passwords import hash_password
from helpline.ai.cli import ai_app
from helpline.domain.enums import Role
from helpline.settings import Settings
from helpline.simulation.cli import simulate_app

app = typer.Typer(
    help="Helpline: self-hosted customer support for chat, email and phone.",
    no_args_is_help=True,
    add_completion=False,
)

app.add_typer(simulate_app, name="simulate")
app.add_typer(ai_app, name="ai")

DEMO_DATABASE_FILE = "helpline.sqlite3"


def _settings(**overrides: object) -> Settings:
    """Fresh settings on each call (not the process-wide cache), so what the
    environment says at the moment the command runs is what it uses."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValueError as exc:
        typer.secho(f"Invalid configuration: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from exc


def _migrated_engine(settings: Settings) -> Engine:
    engine = make_engine(settings.resolved_database_url)
    upgrade_to_head(engine)
    return engine


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    reload: Annotated[bool, typer.Option(help="Restart on code changes (development).")] = False,
) -> None:
    """Apply pending migrations, then run the web server."""
    import uvicorn

    settings = _settings()
    _migrated_engine(settings).dispose()
    previous = _tune_interpreter()
    if not reload:  # AI assist: models load in the background while the server starts
        from helpline.services import ai_assist

        ai_assist.start_background_warm_up(settings)
    try:
        uvicorn.run(
            "helpline.web.app:create_app",
            factory=True,
            host=host or settings.host,
            port=port or settings.port,
            reload=reload,
            proxy_headers=True,
            loop=_available("uvloop", "auto"),
            http=_available("httptools", "auto"),
        )
    finally:
        _restore_interpreter(previous)


GC_THRESHOLDS = (50_000, 50, 100)
"""Young collections every 50,000 allocations instead of 700, full ones rarer: with
thousands of sockets open a full pass takes about a second, and the server
allocates mostly short-lived frames (the app also freezes its start-up objects)."""


SWITCH_INTERVAL_SECONDS = 0.0005
"""How long a thread may keep the interpreter while another waits (Python's default
is 5 ms). Database work runs in worker threads beside the busy event loop; each SQL
call releases the interpreter, and getting it back took up to 5 ms, so a commit of a
few statements could wait tens of milliseconds for a loop serving thousands of
sockets."""


def _tune_interpreter() -> tuple[tuple[int, ...], float]:
    """Collector thresholds and switch interval for a long-running server; returns
    the previous ones (restored when the server stops)."""
    import gc
    import sys

    previous = (gc.get_threshold(), sys.getswitchinterval())
    gc.set_threshold(*GC_THRESHOLDS)
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    return previous


def _restore_interpreter(previous: tuple[tuple[int, ...], float]) -> None:
    import gc
    import sys

    thresholds, interval = previous
    gc.set_threshold(*thresholds)
    sys.setswitchinterval(interval)


def _available(module: str, fallback: str) -> str:
    """uvicorn's fast event loop and HTTP parser when installed (they are
    dependencies; a source checkout without them still runs)."""
    import importlib.util

    return module if importlib.util.find_spec(module) is not None else fallback


@app.command()
def migrate(
    check: Annotated[
        bool, typer.Option("--check", help="List pending migrations; exit 1 if there are any.")
    ] = False,
) -> None:
    """Upgrade the database schema to the newest version."""
    settings = _settings()
    engine = make_engine(settings.resolved_database_url)
    try:
        if check:
            pending = pending_revisions(engine)
            if pending:
                typer.echo(f"{len(pending)} pending migration(s): {', '.join(pending)}")
                raise typer.Exit(1)
            typer.echo("The database schema is up to date.")
            return
        upgrade_to_head(engine)
        typer.echo("The database schema is up to date.")
    finally:
        engine.dispose()


def _check_admin_input(email: str, name: str, password: str) -> tuple[str, str]:
    """Validate the new admin's details (the same password policy as everyone's);
    returns the normalised email and name."""
    from email_validator import EmailNotValidError, validate_email

    from helpline.services.accounts import check_password_policy
    from helpline.services.errors import ValidationFailed

    try:
        normalised = validate_email(email, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValueError(f"not a valid email address: {exc}") from exc
    name = " ".join(name.split())
    if not name or len(name) > 200:
        raise ValueError("the name must be between 1 and 200 characters")
    try:
        check_password_policy(password, email=normalised)
    except ValidationFailed as exc:
        raise ValueError(exc.message.replace("the new password", "the password")) from exc
    return normalised, name


@app.command("create-admin")
def create_admin(
    email: Annotated[str, typer.Option(help="The admin's sign-in email.")],
    name: Annotated[str, typer.Option(help="The admin's display name.")],
    password: Annotated[
        str | None, typer.Option(help="Sign-in password; asked for when left out.")
    ] = None,
) -> None:
    """Create an administrator account (for the first sign-in)."""
    if password is None:
        password = str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))
    try:
        email, name = _check_admin_input(email, name, password)
    except ValueError as exc:
        typer.secho(f"Cannot create the admin: {exc}.", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from exc
    settings = _settings()
    engine = _migrated_engine(settings)
    try:
        with make_session_factory(engine)() as db:
            if db.scalar(select(User.id).where(func.lower(User.email) == email)) is not None:
                typer.secho(
                    f"A user with the email {email} already exists; nothing was changed.",
                    fg=typer.colors.RED,
                    err=True,
                )
                raise typer.Exit(1)
            db.add(
                User(email=email, name=name, password_hash=hash_password(password), role=Role.ADMIN)
            )
            try:
                db.commit()
            except IntegrityError as exc:  # created concurrently by someone else
                typer.secho(f"A user with the email {email} already exists.", err=True)
                raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    typer.echo(f"Created admin {name} <{email}>.")


@app.command()
def worker() -> None:
    """Run the background worker (SLA clock, escalations, outbox) in this process."""
    from helpline.worker import run_worker_forever

    run_worker_forever(_settings())


TRAFFIC_IP_LIMIT = 1_000_000
"""Per-IP widget limits of a demo with traffic: every simulated visitor comes from 127.0.0.1."""


def _demo_settings(data_dir: Path, host: str, port: int, *, traffic: bool = False) -> Settings:
    limits: dict[str, object] = {}
    if traffic:
        limits = {
            "widget_sessions_per_ip_per_hour": TRAFFIC_IP_LIMIT,
            "widget_conversations_per_ip_per_hour": TRAFFIC_IP_LIMIT,
            "widget_messages_per_ip_per_minute": TRAFFIC_IP_LIMIT,
        }
    return _settings(
        **limits,
        environment="development",
        data_dir=data_dir,
        database_url=f"sqlite:///{(data_dir / DEMO_DATABASE_FILE).resolve()}",
        mail_backend="console",
        base_url=f"http://{host}:{port}",
        host=host,
        port=port,
        secure_cookies=False,
        redis_url=None,
        migrate_on_start=True,
    )


def _wipe_demo_database(data_dir: Path) -> None:
    """Remove only the demo's own database files (never anything else in the folder)."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        (data_dir / f"{DEMO_DATABASE_FILE}{suffix}").unlink(missing_ok=True)
    uploads = data_dir / "uploads"
    if uploads.is_dir():
        shutil.rmtree(uploads)


@app.command()
def demo(
    data_dir: Annotated[
        Path, typer.Option(help="Folder for the demo's SQLite database and secret key.")
    ] = Path(".helpline-demo"),
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    reset: Annotated[bool, typer.Option(help="Wipe the demo database and seed it anew.")] = False,
    serve: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Start the server after seeding.")
    ] = True,
    traffic: Annotated[
        str | None,
        typer.Option(
            help="Send simulated visitors from a scenario (`helpline simulate scenarios`) or a "
            ".toml file to the demo's chat inbox while it runs."
        ),
    ] = None,
    speed: Annotated[
        float,
        typer.Option(min=0.01, help="Traffic speed: simulated seconds per real second."),
    ] = 10.0,
    max_visitors: Annotated[
        int, typer.Option(min=1, max=10000, help="Simulated visitors chatting at once.")
    ] = 20,
) -> None:
    """Run Helpline with a demo organisation: teams, agents, 60+ conversations."""
    from helpline.adapters.db.base import utcnow
    from helpline.demo.seed import DEMO_LOGINS, demo_is_seeded, seed_demo

    data_dir.mkdir(parents=True, exist_ok=True)
    if reset:
        _wipe_demo_database(data_dir)
    traffic_model = None
    if traffic is not None:
        from helpline.simulation.scenario import ScenarioError, load_scenario

        try:
            traffic_model = load_scenario(traffic)
        except ScenarioError as exc:
            typer.secho(f"Cannot use the traffic scenario: {exc}", fg=typer.colors.RED, err=True)
            raise typer.Exit(2) from exc
    settings = _demo_settings(data_dir, host, port, traffic=traffic is not None)
    engine = _migrated_engine(settings)
    chat_key: str | None = None
    try:
        with make_session_factory(engine)() as db:
            if demo_is_seeded(db):
                typer.echo(f"Using the existing demo data in {data_dir} (--reset starts afresh).")
            else:
                summary = seed_demo(db, now=utcnow())
                typer.echo(
                    f"Seeded the demo organisation: {summary.agents} agents, "
                    f"{summary.supervisors} supervisor, {summary.admins} admin, "
                    f"{summary.contacts} contacts, {summary.conversations} conversations."
                )
            chat_key = db.scalar(
                select(Inbox.public_key)
                .where(Inbox.channel == "chat", Inbox.is_active.is_(True))
                .order_by(Inbox.id)
                .limit(1)
            )
    finally:
        engine.dispose()

    url = f"http://{host}:{port}"
    typer.echo("")
    typer.secho(f"Helpline demo: {url}", bold=True)
    for login in DEMO_LOGINS:
        typer.echo(f"  {login.role.title():<10} login: {login.email}  password: {login.password}")
    typer.echo("  Outgoing email is printed here instead of being sent.")
    typer.echo("")
    if not serve:
        return

    import uvicorn

    from helpline.web.app import create_app

    driver = None
    if traffic_model is not None:
        if chat_key is None:
            typer.secho("The demo has no chat inbox; no traffic.", fg=typer.colors.RED, err=True)
        else:
            from helpline.simulation.traffic import TrafficDriver

            driver = TrafficDriver(
                url,
                chat_key,
                traffic_model,
                speed=speed,
                max_visitors=max_visitors,
                echo=typer.echo,
            )
            typer.echo(f"Simulated visitors from {traffic_model.name!r} at {speed:g}x speed.")
            driver.start()  # waits for the server to answer before the first visitor

    class DemoServer(uvicorn.Server):
        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            if driver is not None:  # visitors leave before the server closes its doors
                driver.stop(timeout=0)
            super().handle_exit(sig, frame)

    config = uvicorn.Config(create_app(settings), host=host, port=port, log_level="info")
    try:
        DemoServer(config).run()
    finally:
        if driver is not None:
            driver.stop()


if __name__ == "__main__":
    app()
