"""Operations: GET /v1 (where things are), /healthz, /readyz (packs and audit log), /metrics."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from fastapi import APIRouter, Request
from starlette.responses import Response

from service._deps import get_state
from service._http import error_response, json_response, standard_responses
from service._metrics import PROMETHEUS_CONTENT_TYPE
from service._schemas import ApiIndex, Health

__all__ = ["build_router"]

log = logging.getLogger("guard.service")


def build_router() -> APIRouter:
    """Health, readiness and Prometheus metrics (no key needed: nothing tenant-specific)."""
    router = APIRouter(tags=["operations"])
    router.add_api_route(
        "/v1", index, methods=["GET"], response_model=ApiIndex, summary="Where things are"
    )
    router.add_api_route(
        "/healthz", healthz, methods=["GET"], response_model=Health, summary="Liveness"
    )
    router.add_api_route(
        "/readyz",
        readyz,
        methods=["GET"],
        response_model=Health,
        responses=standard_responses(503),
        summary="Readiness",
    )
    # Uptime checkers and load balancers probe with HEAD: the GET's status and headers.
    for path, probe in (("/healthz", healthz), ("/readyz", readyz)):
        router.add_api_route(path, _head(probe), methods=["HEAD"], include_in_schema=False)
    router.add_api_route(
        "/metrics",
        metrics,
        methods=["GET"],
        summary="Prometheus metrics",
        response_class=Response,
        responses={
            200: {
                "content": {PROMETHEUS_CONTENT_TYPE: {"schema": {"type": "string"}}},
                "description": "Prometheus text exposition",
            }
        },
    )
    return router


async def index(request: Request) -> Response:
    """The API's version and where its docs, OpenAPI schema and review console are."""
    app = request.app
    settings = get_state(request).settings
    console = getattr(app.state, "console", False)
    return json_response(
        {
            "name": app.title,
            "version": app.version,
            "api": "/v1",
            "docs": "/docs" if settings.docs else None,
            "openapi": "/openapi.json" if settings.docs else None,
            "console": "/ui/" if console else None,
        }
    )


def _head(get: Callable[[Request], Awaitable[Response]]) -> Any:
    """A HEAD route answering as `get` does (status, Content-Type, Content-Length) without
    a body (RFC 9110, 9.3.2)."""

    async def head(request: Request) -> Response:
        answer = await get(request)
        return Response(b"", status_code=answer.status_code, headers=dict(answer.headers))

    head.__name__ = f"{get.__name__}_head"
    return head


async def healthz(request: Request) -> Response:
    """The process is up."""
    return json_response({"status": "ok"})


async def readyz(request: Request) -> Response:
    """Packs are loaded, the audit log answers, and so does Redis when one is configured.

    Why it is not ready goes to the server log (the answer names the store only), once when
    the reason changes, not at every probe; so does its being ready again.
    """
    state = get_state(request)
    try:
        size = await anyio.to_thread.run_sync(lambda: state.audit.size)
    except Exception as exc:  # any store failure means "not ready", never a 500
        # An AuditError's text names the database (never its password): for the log only.
        _note_readiness(request, f"the audit log is not readable: {type(exc).__name__}: {exc}")
        return error_response(
            503,
            "audit_unavailable",
            f"audit log not readable: {type(exc).__name__}; the server log says why",
        )
    limiter = getattr(request.app.state, "rate_limiter", None)
    if limiter is not None and limiter.remote:
        # The API's requests are refused (503 rate_limit_unavailable) while Redis does not
        # answer: a balancer must not send traffic here meanwhile.
        if not await anyio.to_thread.run_sync(limiter.answers):
            _note_readiness(request, "the Redis of the per-key rate limits does not answer")
            return error_response(
                503,
                "rate_limit_unavailable",
                "the store of the per-key rate limits (Redis) does not answer: requests are "
                "refused until it does",
            )
    guard = await state.serving()
    _note_readiness(request, None)
    return json_response({"status": "ready", "policies": len(guard.packs), "audit_size": size})


def _note_readiness(request: Request, reason: str | None) -> None:
    """Log why this process is not ready (None: it is), when that changes."""
    before = getattr(request.app.state, "not_ready", None)
    if reason == before:
        return
    request.app.state.not_ready = reason
    if reason is not None:
        log.error("not ready (/readyz answers 503): %s", reason)
    elif before is not None:
        log.warning("ready again (/readyz answers 200)")


async def metrics(request: Request) -> Response:
    """Decisions by verdict and rule, latencies, PII scan and audit append times, errors.

    The sums of every worker of this `guard serve` (whichever worker answers); separate
    sidecar processes count their own, so scrape each of them.
    """
    body = request.app.state.metrics.render()
    return Response(body, media_type=PROMETHEUS_CONTENT_TYPE)
