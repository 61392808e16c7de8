"""The sidecar's own errors: each has a stable `code` and the HTTP status it maps to."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

#: What a caller sees of an audit log error: its own text names the database (a file path,
#: a PostgreSQL host and user), which goes to the server log only.
AUDIT_UNAVAILABLE = "the audit log cannot be used now; the server log says why"

__all__ = [
    "AlreadyResolved",
    "Forbidden",
    "NotEscalated",
    "NotFound",
    "ServiceError",
    "Unauthorized",
    "UnsharedCounters",
    "UnsupportedMediaType",
]


class ServiceError(Exception):
    """Base class: `code` is machine-readable, `status` the HTTP status, `details` a JSON dict."""

    code = "service_error"
    status = 400

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class NotFound(ServiceError):
    """No decision (visible to this key) has that id."""

    code = "not_found"
    status = 404

    def __init__(self, message: str, *, code: str = "not_found", **kw: Any) -> None:
        super().__init__(message, **kw)
        self.code = code


class NotEscalated(ServiceError):
    """The decision exists but was not held for review, so it cannot be resolved or awaited."""

    code = "not_escalated"
    status = 409


class AlreadyResolved(ServiceError):
    """The escalation was already resolved; a resolution is final and never replaced."""

    code = "already_resolved"
    status = 409


def readable_time(iso: object) -> str:
    """An ISO 8601 time with an offset as people read it ('2026-11-26 10:54:27 UTC'); a
    value that is not one is shown as it is."""
    try:
        return datetime.fromisoformat(str(iso)).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except ValueError:
        return str(iso)


class Unauthorized(ServiceError):
    """No key, or a key that matches no configured entry."""

    code = "unauthorized"
    status = 401


class Forbidden(ServiceError):
    """A valid key that lacks the scope, or names another tenant than its own."""

    code = "forbidden"
    status = 403

    def __init__(self, message: str, *, code: str = "forbidden", **kw: Any) -> None:
        super().__init__(message, **kw)
        self.code = code


class UnsupportedMediaType(ServiceError):
    """A body sent without a JSON Content-Type: it is not read as JSON (`curl -d` sends form
    data unless told otherwise)."""

    code = "unsupported_media_type"
    status = 415


class UnsharedCounters(ServiceError, ValueError):
    """Packs use rate() but the workers have no Redis to share counters: each would count
    on its own and let several times the limit through."""

    code = "rate_not_shared"
    status = 422
