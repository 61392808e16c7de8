"""The sidecar's own errors: each has a stable `code` and the HTTP status it maps to."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "AlreadyResolved",
    "Forbidden",
    "NotEscalated",
    "NotFound",
    "ServiceError",
    "Unauthorized",
    "UnsharedCounters",
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

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        # "... at <the resolution's time>": for people, to the second in UTC (the record
        # has it exactly); only the end is read, so a reviewer's name is never rewritten.
        super().__init__(_AT_TIME.sub(_readable_at, message), details=details)


# A time as the audit records write it: 2026-11-26T10:54:27.068638+00:00 (or ...Z).
_AT_TIME = re.compile(r" at (\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2}))$")


def _readable_at(match: re.Match[str]) -> str:
    try:
        return f" at {readable_time(match[1])}"
    except ValueError:  # not a real date: shown as it was written
        return match[0]


def readable_time(iso: str) -> str:
    """An ISO 8601 time with an offset as people read it: '2026-11-26 10:54:27 UTC'."""
    return datetime.fromisoformat(iso).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


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


class UnsharedCounters(ServiceError, ValueError):
    """Packs use rate() but the workers have no Redis to share counters: each would count
    on its own and let several times the limit through."""

    code = "rate_not_shared"
    status = 422
