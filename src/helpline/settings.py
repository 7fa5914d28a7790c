"""Typed configuration from ``HELPLINE_*`` environment variables.

Every field is documented because this class is the operator's reference; unsafe
values are refused outside development.
"""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SECRET_KEY_FILE = "secret_key"  # noqa: S105 (a file name)


class Settings(BaseSettings):
    """All of Helpline's settings; read once per process."""

    model_config = SettingsConfigDict(env_prefix="HELPLINE_", env_file=None, extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    """`production` refuses insecure settings (plain-HTTP cookies, console mail)."""

    data_dir: Path = Path("helpline-data")
    """Where the SQLite database, the generated secret key and uploads live."""

    database_url: str | None = None
    """SQLAlchemy URL. Unset: a SQLite file in `data_dir`. Use
    `postgresql+psycopg://user@host/db` for PostgreSQL."""

    secret_key: SecretStr | None = None
    """Signs visitor tokens and CSRF cookies. Unset: generated on first run and
    stored in `data_dir/secret_key` (mode 0600)."""

    base_url: str = "http://127.0.0.1:8000"
    """Public URL of this installation, used in links sent by email."""

    host: str = "127.0.0.1"
    """Interface `helpline serve` listens on."""

    port: int = Field(default=8000, ge=1, le=65535)
    """Port `helpline serve` listens on."""

    secure_cookies: bool = False
    """Mark session cookies `Secure` (HTTPS only). Required in production."""

    session_days: int = Field(default=14, ge=1, le=365)
    """Lifetime of an agent's browser session."""

    login_max_failures: int = Field(default=5, ge=1, le=100)
    """Failed logins in a row before an account is locked."""

    login_lockout_seconds: int = Field(default=900, ge=1)
    """How long a locked account stays locked."""

    password_reset_minutes: int = Field(default=60, ge=5, le=7 * 24 * 60)
    """Validity of an emailed password-reset link."""

    auto_close_solved_after_days: float = Field(default=7.0, gt=0)
    """Solved conversations close (become read-only) after this many days."""

    break_reminder_minutes: int = Field(default=90, ge=10, le=480)
    """Remind an agent to take a break after this long online without one
    (agents may choose their own stretch, or Pomodoro 25/5)."""

    break_minutes: int = Field(default=15, ge=1, le=120)
    """How long a break taken from a reminder lasts, unless the agent chose otherwise."""

    max_message_chars: int = Field(default=20_000, ge=100, le=1_000_000)
    """Longest message body accepted from anyone."""

    max_request_bytes: int = Field(default=2 * 1024 * 1024, ge=1024)
    """Largest request body accepted (file uploads have their own limits)."""

    migrate_on_start: bool = True
    """Apply pending database migrations when the server starts."""

    mail_backend: Literal["console", "smtp"] = "console"
    """`console` logs outgoing mail (demo, development); `smtp` sends it."""

    mail_from: str = "Helpline <support@helpline.localhost>"
    """From address of emails Helpline sends."""

    smtp_host: str = "127.0.0.1"
    """SMTP server for outgoing mail."""

    smtp_port: int = Field(default=25, ge=1, le=65535)
    """SMTP server port."""

    smtp_username: str | None = None
    """SMTP login, if the server needs one."""

    smtp_password: SecretStr | None = None
    """SMTP password, if the server needs one."""

    smtp_starttls: bool = False
    """Upgrade the SMTP connection with STARTTLS."""

    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    """Give up on an SMTP exchange after this long (the outbox retries)."""

    outbox_max_attempts: int = Field(default=8, ge=1, le=100)
    """Deliveries are retried with exponential backoff up to this many times."""

    worker_interval_seconds: float = Field(default=1.0, gt=0)
    """How often the background worker looks for due work."""

    run_worker_in_server: bool = True
    """Run the background worker inside `helpline serve` (turn off when a
    separate `helpline worker` process runs)."""

    redis_url: str | None = None
    """Redis for fan-out and the widget's rate limits shared by several server
    processes; unset: both in-process."""

    redis_channel: str = "helpline:events"
    """Redis pub/sub channel shared by the server processes of one installation;
    also the prefix of its rate-limit keys (`<channel>:ratelimit:...`)."""

    visitor_token_days: int = Field(default=30, ge=1, le=365)
    """Lifetime of a chat visitor's signed token (kept in the browser)."""

    widget_sessions_per_ip_per_hour: int = Field(default=300, ge=1)
    """Widget sessions (new or renewed visitors) one IP address may open per hour."""

    widget_conversations_per_visitor_per_hour: int = Field(default=10, ge=1)
    """New chats (and transcript requests) one visitor may start per hour."""

    widget_conversations_per_ip_per_hour: int = Field(default=100, ge=1)
    """New chats, offline tickets and transcript requests per IP address per hour."""

    widget_messages_per_visitor_per_minute: int = Field(default=60, ge=1)
    """Messages and uploads one visitor may send per minute (HTTP and WebSocket)."""

    widget_messages_per_ip_per_minute: int = Field(default=600, ge=1)
    """Messages and uploads per IP address per minute; raise it for load tests."""

    widget_allow_unlisted_origins: bool | None = None
    """Whether an inbox without `allowed_domains` accepts widget requests from any
    Origin. Unset: yes, except in production (where every inbox must list its sites)."""

    upload_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024, le=1024 * 1024 * 1024)
    """Largest attachment accepted; an inbox may set a lower limit."""

    upload_allowed_types: list[str] = Field(
        default_factory=lambda: [
            "image/png",
            "image/jpeg",
            "image/gif",
            "image/webp",
            "application/pdf",
            "text/plain",
        ]
    )
    """Attachment types accepted (decided by the file's first bytes); an inbox may
    allow fewer. As JSON: `["image/png", "application/pdf"]`."""

    realtime_resume_max_events: int = Field(default=1000, ge=10, le=100_000)
    """A reconnecting client further behind than this is told to resync over HTTP."""

    realtime_max_frame_bytes: int = Field(default=64 * 1024, ge=1024, le=16 * 1024 * 1024)
    """Largest WebSocket frame a client may send."""

    canned_review_days: int = Field(default=90, ge=1, le=3650)
    """A canned response not reviewed for this many days is flagged as stale."""

    routing_answer_timeout_seconds: float = Field(default=45.0, gt=0, le=3600)
    """A routed chat the agent has not answered within this time is offered to
    someone else (admins may change it per inbox or team)."""

    routing_sticky_wait_seconds: float = Field(default=60.0, ge=0, le=3600)
    """How long a returning customer waits for their busy previous agent before
    other agents are offered the conversation."""

    routing_email_weight: float = Field(default=0.5, ge=0, le=10)
    """An open email ticket counts as this many chats against an agent's cap."""

    routing_priority_weights: dict[str, float] = Field(default_factory=dict)
    """Priority-score weights by name over the built-in defaults, as JSON, e.g.
    `{"urgent_points": 50, "waiting_points_per_minute": 2}` (see docs/routing.md)."""

    routing_tick_seconds: float = Field(default=5.0, gt=0, le=3600)
    """How often the worker re-scores the whole queue (waiting time grows) and
    routes whatever is still waiting; new chats are routed at once regardless."""

    sla_warning_minutes: float = Field(default=15.0, ge=0, le=24 * 60)
    """Agents are warned this long before an SLA target is missed."""

    # -- AI assist (docs/ai.md) ----------------------------------------------------------

    ai_enabled: bool = True
    """Categorise, detect language and frustration of customer messages (offline, CPU)."""

    ai_model_dir: Path | None = None
    """Where trained AI models are cached. Unset: `data_dir/ai`."""

    ai_retrain_interval_hours: float = Field(default=24.0, gt=0, le=24 * 365)
    """The worker retrains the category model at most this often ..."""

    ai_retrain_min_new_labels: int = Field(default=10, ge=1, le=1_000_000)
    """... and only once agents corrected at least this many categories since the last time."""

    llm_base_url: str | None = None
    """OpenAI-compatible endpoint for drafts and summaries (e.g. `http://127.0.0.1:11434/v1`
    for Ollama). Unset: no LLM; suggestions and summaries come from the offline backend."""

    llm_model: str | None = None
    """Model name the endpoint knows (e.g. `llama3.1`); required with `llm_base_url`."""

    llm_api_key: SecretStr | None = None
    """Bearer token for hosted endpoints; local servers usually need none."""

    llm_timeout_seconds: float = Field(default=20.0, gt=0, le=600)
    """After this long without an answer the offline default is used instead."""

    lookup_allow_http: bool = False
    """Let self-service lookups call plain-HTTP endpoints (development and tests
    only; refused in production, where lookups use HTTPS)."""

    lookup_max_response_bytes: int = Field(default=64 * 1024, ge=1024, le=4 * 1024 * 1024)
    """Largest answer read from a shop's lookup endpoint."""

    lookup_per_visitor_per_minute: int = Field(default=10, ge=1)
    """Self-service lookups one verified customer may run per minute."""

    lookup_per_ip_per_minute: int = Field(default=30, ge=1)
    """Self-service lookups per IP address per minute."""

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.environment == "production":
            if not self.secure_cookies:
                raise ValueError("HELPLINE_SECURE_COOKIES must be true in production")
            if self.mail_backend == "console":
                raise ValueError("HELPLINE_MAIL_BACKEND=console is not allowed in production")
            if self.lookup_allow_http:
                raise ValueError("HELPLINE_LOOKUP_ALLOW_HTTP is not allowed in production")
        return self

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'helpline.sqlite3').resolve()}"

    def resolved_secret_key(self) -> str:
        """The configured key, or the one stored in the data directory (created once)."""
        if self.secret_key is not None:
            value = self.secret_key.get_secret_value()
            if len(value) < 32:
                raise ValueError("HELPLINE_SECRET_KEY must be at least 32 characters")
            return value
        return load_or_create_secret_key(self.data_dir)


def load_or_create_secret_key(data_dir: Path) -> str:
    """Read the stored key; on the first run generate one and keep it private."""
    data_dir.mkdir(parents=True, exist_ok=True)
    key_file = data_dir / SECRET_KEY_FILE
    if key_file.exists():
        return key_file.read_text().strip()
    key = secrets.token_urlsafe(48)
    key_file.touch(mode=0o600)
    key_file.write_text(key)
    return key


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
