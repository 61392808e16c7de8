"""Sidecar settings: one frozen dataclass, from arguments or GUARD_* environment variables."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

__all__ = ["ENV_PREFIX", "LOOPBACK", "Settings", "SettingsError"]

ENV_PREFIX = "GUARD_"
#: The levels uvicorn takes (any case); another one is a KeyError deep inside it.
LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")
#: The shortest session secret taken: a short one is found by trying them all offline.
MIN_SECRET = 16
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})


class SettingsError(ValueError):
    """A setting has a value of the wrong type or out of range."""


def _default_policy() -> str:
    from guard.policy import shipped_dir

    return str(shipped_dir())


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the sidecar needs; each field `x` may come from the variable GUARD_X.

    `policy` is a pack file, a folder of packs or a shipped pack's name; `audit` an audit
    URL (sqlite:///..., memory://, or postgresql://...); `signing_key` the PEM file that
    signs tree heads (give every sidecar sharing a PostgreSQL log the same one).
    With no `keys` file every request is an admin of tenant None, so the server only
    binds to loopback. `rate_limit` is a `limits` expression per key ("600/minute");
    `redis` (a URL) backs both the per-key limits and the policies' `rate()` counters.
    `max_batch` caps the actions of one /v1/check/batch or /v1/shield request (413).
    `session_secret` signs the review console's session cookies; without it each process
    makes a random one (and `guard serve --workers N` makes one its workers share).
    `reload_file` is a file that `POST /v1/policies/reload` rewrites; every process given
    the same path reloads its packs before its next decision when the file changes (and
    `guard serve --workers N` makes one its workers share).
    """

    policy: str = field(default_factory=_default_policy)
    audit: str = "sqlite:///guard-audit.db"
    signing_key: str | None = None
    shadow: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    keys: str | None = None
    redis: str | None = None
    rate_limit: str = "1200/minute"
    max_body_bytes: int = 1_048_576
    max_text_chars: int = 20_000
    max_batch: int = 1_000
    request_timeout: float = 30.0
    long_poll_max: float = 60.0
    poll_interval: float = 0.5
    docs: bool = True
    console: bool = True
    session_secret: str | None = None
    reload_file: str | None = None
    log_level: str = "info"

    def __post_init__(self) -> None:
        for name in ("port", "workers", "max_body_bytes", "max_text_chars", "max_batch"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise SettingsError(f"{name} must be a positive integer, got {value!r}")
        for name in ("request_timeout", "long_poll_max", "poll_interval"):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not 0 < value < math.inf  # NaN fails this too
            ):
                raise SettingsError(f"{name} must be a positive, finite number, got {value!r}")
        if self.port > 65535:
            raise SettingsError(f"port must be at most 65535, got {self.port!r}")
        if not isinstance(self.audit, str) or not self.audit.strip():
            raise SettingsError(
                f"audit ({ENV_PREFIX}AUDIT) is empty; give an audit log URL such as "
                "sqlite:///guard-audit.db or postgresql://user@host/db (memory:// keeps "
                "the log in the process only: every record is lost when it stops)"
            )
        _check_rate_limit(self.rate_limit)
        secret = self.session_secret
        if secret is not None and (not isinstance(secret, str) or len(secret) < MIN_SECRET):
            shown = len(secret) if isinstance(secret, str) else type(secret).__name__
            raise SettingsError(
                f"session_secret ({ENV_PREFIX}SESSION_SECRET) signs the console's sessions and "
                f"must be at least {MIN_SECRET} characters, got {shown}; make one with "
                "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
        if not isinstance(self.log_level, str) or self.log_level.lower() not in LOG_LEVELS:
            raise SettingsError(
                f"log_level ({ENV_PREFIX}LOG_LEVEL) must be one of {', '.join(LOG_LEVELS)}, "
                f"got {self.log_level!r}"
            )

    @property
    def open_access(self) -> bool:
        """True when no keys file is configured: every request is an admin."""
        return self.keys is None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read GUARD_* variables (GUARD_POLICY, GUARD_AUDIT, GUARD_KEYS, ...), then overrides.

        An override that is not None wins over its variable, which is then not read at all
        (`guard serve --port 9000` serves with GUARD_PORT set to anything).
        """
        env = os.environ if env is None else env
        given = {k: v for k, v in overrides.items() if v is not None}
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw is not None and f.name not in given:
                values[f.name] = _parse(f.name, str(f.type), raw)
        values.update(given)
        return cls(**values)

    def to_env(self) -> dict[str, str]:
        """These settings as GUARD_* variables (for worker processes to read back)."""
        out: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None:
                out[ENV_PREFIX + f.name.upper()] = (
                    str(value).lower() if isinstance(value, bool) else str(value)
                )
        return out

    def with_(self, **changes: Any) -> Settings:
        """A copy with some fields changed."""
        return replace(self, **changes)


def _check_rate_limit(expression: object) -> None:
    """One `limits` expression allowing at least one request ("1200/minute"); `limits`
    alone reads only the first of several ("10/second;100/minute") and takes "0/minute"."""
    from limits import parse_many

    wanted = (
        f"rate_limit ({ENV_PREFIX}RATE_LIMIT) must be one count per period such as "
        f"'1200/minute' or '20/second', got {expression!r}"
    )
    try:
        items = parse_many(expression) if isinstance(expression, str) else None
    except ValueError:
        items = None
    if not items:
        raise SettingsError(wanted)
    if len(items) > 1:
        raise SettingsError(f"{wanted}: one limit per key is applied, not {len(items)}")
    if items[0].amount < 1:
        raise SettingsError(f"{wanted}: a limit of 0 would refuse every request")


def _parse(name: str, kind: str, raw: str) -> Any:
    try:
        if kind.startswith("int"):
            return int(raw)
        if kind.startswith("float"):
            return float(raw)
    except ValueError:
        raise SettingsError(f"{ENV_PREFIX}{name.upper()} must be a number, got {raw!r}") from None
    if not raw.strip() and "None" not in kind and kind != "bool":
        raise SettingsError(
            f"{ENV_PREFIX}{name.upper()} is set but empty; unset it for the default, "
            f"or give a value"
        )
    if kind == "bool":
        lowered = raw.strip().lower()
        if lowered in _TRUE | _FALSE:
            return lowered in _TRUE
        raise SettingsError(f"{ENV_PREFIX}{name.upper()} must be true or false, got {raw!r}")
    return raw or None if "None" in kind else raw
