"""Errors raised by services; the web layer maps each `code` to an HTTP status."""

from __future__ import annotations

from helpline.domain.errors import DomainError


class NotFound(DomainError):
    """Missing, or present but not visible to the caller: the two look the same."""

    code = "not_found"

    def __init__(self, resource: str, identifier: object = None) -> None:
        details: dict[str, object] = {"resource": resource}
        if identifier is not None:
            details["id"] = identifier
        super().__init__(f"{resource} not found", details)


class PermissionDenied(DomainError):
    """The caller may see the object but not do this to it."""

    code = "permission_denied"


class Conflict(DomainError):
    code = "conflict"


class ValidationFailed(DomainError):
    """Input that passed schema validation but breaks a business rule."""

    code = "validation_failed"


class AuthenticationFailed(DomainError):
    code = "authentication_failed"


class RateLimited(DomainError):
    code = "rate_limited"

    def __init__(self, message: str, retry_after_seconds: int) -> None:
        super().__init__(message, {"retry_after_seconds": retry_after_seconds})
        self.retry_after_seconds = retry_after_seconds
