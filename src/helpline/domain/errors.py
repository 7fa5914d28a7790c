"""Domain errors: raised by pure rules, mapped to HTTP answers at the edge."""

from __future__ import annotations

from collections.abc import Mapping


class DomainError(Exception):
    """A request the rules refuse; `code` is stable and machine-readable."""

    code = "domain_error"

    def __init__(self, message: str, details: Mapping[str, object] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, object] = dict(details or {})


class InvalidTransition(DomainError):
    code = "invalid_transition"


class ConversationClosed(DomainError):
    code = "conversation_closed"
