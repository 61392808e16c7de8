"""Request dependencies: the caller's principal (401/403), its scope and its rate limit (429)."""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, NoReturn

import anyio
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from service._auth import Principal
from service._errors import Forbidden, ServiceError, Unauthorized
from service._state import ServiceState

__all__ = [
    "InvalidKey",
    "MissingScope",
    "RateLimitUnavailable",
    "RateLimiter",
    "RateLimited",
    "authorize",
    "get_principal",
    "get_state",
    "no_key_bucket",
    "require",
]

bearer = HTTPBearer(auto_error=False, description="An API key: Authorization: Bearer KEY")


class RateLimited(ServiceError):
    """The key made more requests than its limit allows; retry after `Retry-After` seconds."""

    code = "rate_limited"
    status = 429

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, details={"retry_after": retry_after})
        self.headers = {"Retry-After": str(retry_after)}


# RFC 6750, section 3: a request whose key does not give access gets a Bearer challenge
# saying why (none when no key was sent: the app's 401 default).
_CHALLENGE = 'Bearer realm="guard"'


class InvalidKey(Unauthorized):
    """A key that matches no configured entry (401, error="invalid_token")."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.headers = {"WWW-Authenticate": f'{_CHALLENGE}, error="invalid_token"'}


class MissingScope(Forbidden):
    """A valid key without any of the scopes an operation needs (403, insufficient_scope)."""

    def __init__(self, message: str, scopes: tuple[str, ...]) -> None:
        super().__init__(message, code="missing_scope", details={"needs_any_of": list(scopes)})
        needs = " ".join(scopes)
        self.headers = {
            "WWW-Authenticate": f'{_CHALLENGE}, error="insufficient_scope", scope="{needs}"'
        }


class RateLimitUnavailable(ServiceError):
    """The shared store of the per-key limits (Redis) did not answer: the request is refused."""

    code = "rate_limit_unavailable"
    status = 503


class RateLimiter:
    """A per-key sliding-window-counter limit with `limits` (Redis if configured).

    The sliding window counter is O(1) per hit; the exact moving window keeps one
    timestamp per request and costs more the higher the limit.
    """

    def __init__(self, expression: str, storage_url: str | None = None) -> None:
        from limits import parse
        from limits.storage import storage_from_string
        from limits.strategies import SlidingWindowCounterRateLimiter

        self.item = parse(expression)
        self.remote = storage_url is not None
        storage = storage_from_string(storage_url) if storage_url else _quiet_memory_storage()
        self._limiter = SlidingWindowCounterRateLimiter(storage)

    def hit(self, key: str) -> int | None:
        """Count a request; None when allowed, else the seconds to wait before retrying.

        Raise RateLimitUnavailable when the store cannot count it (an uncounted request
        is refused, not let through).
        """
        try:
            if self._limiter.hit(self.item, key):
                return None
            stats = self._limiter.get_window_stats(self.item, key)
        except Exception as exc:  # the storage's own errors: redis, limits, sockets
            if not self.remote:
                raise
            raise RateLimitUnavailable(
                f"the per-key rate limits' store (Redis) could not count this request: "
                f"{type(exc).__name__}; the request is refused, retry when it is back"
            ) from exc
        return max(1, math.ceil(stats.reset_time - time.time()))

    def answers(self) -> bool:
        """Whether the store can count requests now (a ping of Redis; always, in memory)."""
        if not self.remote:
            return True
        try:
            return bool(self._limiter.storage.check())
        except Exception:  # the storage's own errors: redis, limits, sockets
            return False


_SWEEP_SECONDS = 60.0


def _quiet_memory_storage() -> Any:
    """`limits`' memory storage without a timer thread per burst of hits.

    The stock storage starts a `threading.Timer` whenever its last one has fired (every
    10 ms under load) just to drop expired keys, which it also drops lazily on read. Our
    keys are few (one per API key and window), so a sweep once a minute, inline, is enough.
    """
    from limits.storage import MemoryStorage

    storage = MemoryStorage()
    expire = getattr(storage, "_MemoryStorage__expire_events", None)
    if expire is None or not hasattr(storage, "_MemoryStorage__schedule_expiry"):
        return storage  # another limits version: keep its own behaviour
    last = [time.monotonic()]

    def schedule() -> None:
        now = time.monotonic()
        if now - last[0] >= _SWEEP_SECONDS:
            last[0] = now
            expire()

    storage.timer.cancel()
    storage._MemoryStorage__schedule_expiry = schedule
    return storage


def get_state(request: Request) -> ServiceState:
    """The app's shared state (overridable in tests)."""
    state: ServiceState = request.app.state.guard_state
    return state


async def get_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """Authenticate the bearer key (401 when missing or unknown), then apply its rate limit."""
    return await authenticate(request, credentials)


async def authenticate(
    request: Request, credentials: HTTPAuthorizationCredentials | None
) -> Principal:
    """The principal of a request's bearer credentials (401), after its rate limit (429)."""
    state = get_state(request)
    if credentials is None:
        principal = state.keys.anonymous()
        if principal is None:
            await _refuse(request, "missing API key; send Authorization: Bearer KEY", sent=False)
    else:
        principal = state.keys.authenticate(credentials.credentials)
        if principal is None:
            await _refuse(request, "invalid API key", sent=True)
    assert principal is not None
    request.state.principal = principal
    await _rate_limit(request, principal)
    return principal


async def authorize(request: Request, *scopes: str) -> Principal:
    """What `Depends(require(*scopes))` does, as a plain call (for hand-served routes)."""
    return check_scope(await authenticate(request, await bearer(request)), scopes)


def check_scope(principal: Principal, scopes: tuple[str, ...]) -> Principal:
    """The principal when it holds one of `scopes`; 403 otherwise."""
    if not any(principal.can(s) for s in scopes):
        raise MissingScope(
            f"key {principal.name!r} lacks the scope for this operation; "
            f"needs one of {', '.join(scopes)}",
            scopes,
        )
    return principal


def no_key_bucket(request: Request) -> str:
    """The rate-limit key that requests without a valid key count against: their address
    (no key name holds a NUL, so it never names a key's own bucket)."""
    return f"\x00no-key:{request.client.host if request.client else 'unknown'}"


async def _refuse(request: Request, message: str, *, sent: bool) -> NoReturn:
    """401, unless this address has sent more requests without a valid key than one key
    may send in all (429): guessing keys is throttled like using one.

    `sent`: a key was sent (and is unknown); the challenge then says invalid_token."""
    limiter: RateLimiter | None = getattr(request.app.state, "rate_limiter", None)
    if limiter is not None:
        host = request.client.host if request.client else "unknown"
        key = no_key_bucket(request)
        wait = (
            await anyio.to_thread.run_sync(limiter.hit, key) if limiter.remote else limiter.hit(key)
        )
        if wait is not None:
            raise RateLimited(
                f"too many requests without a valid API key from {host}; retry after {wait} s",
                retry_after=wait,
            )
    raise InvalidKey(message) if sent else Unauthorized(message)


async def _rate_limit(request: Request, principal: Principal) -> None:
    limiter: RateLimiter | None = getattr(request.app.state, "rate_limiter", None)
    if limiter is None:
        return
    if limiter.remote:
        wait = await anyio.to_thread.run_sync(limiter.hit, principal.name)
    else:
        wait = limiter.hit(principal.name)
    if wait is not None:
        raise RateLimited(
            f"rate limit {limiter.item} exceeded for key {principal.name!r}; retry after {wait} s",
            retry_after=wait,
        )


def require(*scopes: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency admitting keys that hold any one of `scopes` (403 otherwise)."""

    async def dependency(
        principal: Annotated[Principal, Depends(get_principal)],
    ) -> Principal:
        return check_scope(principal, scopes)

    # Read by the error handlers: a body FastAPI cannot parse fails before this dependency
    # runs, and the key is still answered for first (see service._http._authorized_first).
    dependency.scopes = scopes  # type: ignore[attr-defined]
    return dependency


def tenant_filter(principal: Principal, wanted: str | None) -> str | None:
    """The tenant a read is limited to: the key's own; naming another one is refused (403)."""
    if principal.tenant is None:
        return wanted
    if wanted is not None and wanted != principal.tenant:
        raise Forbidden(
            f"key {principal.name!r} is bound to another tenant than {wanted!r}",
            code="tenant_mismatch",
            details={"tenant": wanted},
        )
    return principal.tenant


def bind_tenant(action: dict[str, Any], principal: Principal, what: str) -> dict[str, Any]:
    """A copy of the action carrying the key's tenant; another tenant is refused (403)."""
    if principal.tenant is None:
        return action
    named = action.get("tenant")
    if named is not None and named != principal.tenant:
        raise Forbidden(
            f"{what} names tenant {named!r} but key {principal.name!r} is bound to another tenant",
            code="tenant_mismatch",
            details={"tenant": named},
        )
    return {**action, "tenant": principal.tenant}
