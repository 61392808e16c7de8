"""The app factory: one FastAPI app per `ServiceState`, with /v1 routes, errors and limits."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from guard import __version__
from guard.audit._store import redacted_url
from service import _check, _decisions, _ops, _policies, _review
from service._batcher import CheckBatcher
from service._deps import RateLimiter
from service._http import (
    CheckFastPath,
    LimitsMiddleware,
    declare_body_limits,
    declare_timeouts,
    error_response,
    install_handlers,
)
from service._metrics import Metrics, Tracer, check_multiproc_dir, configure_tracing
from service._settings import Settings
from service._state import ServiceState

__all__ = ["app_from_env", "create_app"]

log = logging.getLogger("guard.service")

_DESCRIPTION = """\
The guard's HTTP sidecar: decide actions and rankings against the loaded policy packs,
read the tamper-evident audit log with proofs, and review escalations.

Send `Authorization: Bearer KEY`. Errors are `{"error": {"code", "message", "details"}}`;
lists are pages `{"items": [...], "next_cursor": ... | null}`.
"""


def create_app(settings: Settings | None = None, *, state: ServiceState | None = None) -> FastAPI:
    """Build the sidecar app: loads and validates every pack and opens the audit log.

    A bad pack raises here (a PolicyError naming file, line and column), so a server
    never starts serving with it. Pass `state` to share one already built (tests).
    """
    configure_tracing()  # first: a bad OTEL_TRACES_EXPORTER refuses to start, opening nothing
    check_multiproc_dir()
    if state is None:
        state = ServiceState.build(settings or Settings.from_env())
        owned = True
    else:
        owned = False
    settings = state.settings
    tracer = Tracer()
    app = FastAPI(
        title="agent-guard sidecar",
        version=__version__,
        description=_DESCRIPTION,
        lifespan=_lifespan(state, owned),
        docs_url=None,  # served by _mount_docs from local files, not a CDN
        redoc_url=None,
        openapi_url="/openapi.json" if settings.docs else None,
        # FastAPI's own OpenTelemetry layer asks for the global providers on every
        # request; with no tracer provider set at start-up (as for `Tracer`), skip it.
        telemetry=None if tracer.enabled else _NO_TELEMETRY,
    )
    app.state.guard_state = state
    app.state.metrics = Metrics()
    app.state.tracer = tracer
    app.state.rate_limiter = RateLimiter(settings.rate_limit, settings.redis)
    if settings.redis and not app.state.rate_limiter.answers():
        log.warning(
            "Redis (%s) does not answer: /readyz answers 503 and the API's requests are refused "
            "(503 rate_limit_unavailable) until it does",
            redacted_url(settings.redis),
        )
    app.state.batcher = CheckBatcher(lambda: state.guard)
    install_handlers(app)
    for router in (
        _check.build_router(),
        _policies.build_router(),
        _decisions.build_router(),
        _review.build_router(settings.long_poll_max),
        _ops.build_router(),
    ):
        app.include_router(router)
    _mount_console(app, state)
    if settings.docs:
        _mount_docs(app)
    app.add_middleware(NoTrailingSlash)  # inside the fast path: POST /v1/check skips it
    app.add_middleware(CheckFastPath, fastapi=app, serve=_check.serve_check)
    app.add_middleware(
        LimitsMiddleware,
        max_body=settings.max_body_bytes,
        timeout=settings.request_timeout,
        observe=app.state.metrics.observe_request,
    )
    app.openapi = _openapi(app, secured=not state.keys.is_open)  # type: ignore[method-assign]
    return app


_NO_TELEMETRY: Any = {"tracing": False, "metrics": False, "logs": False}


def app_from_env() -> FastAPI:
    """The factory uvicorn workers call (`service:app_from_env`): settings from GUARD_*."""
    return create_app(Settings.from_env())


def _lifespan(state: ServiceState, owned: bool) -> Any:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        if owned:
            state.close()

    return lifespan


def _mount_docs(app: FastAPI) -> None:
    """Swagger UI at /docs with its script and styles from the installed swagger-ui-py:
    FastAPI's default page loads them from a CDN, and a sidecar may have no internet."""
    import importlib.util

    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.responses import FileResponse, HTMLResponse

    spec = importlib.util.find_spec("swagger_ui")  # its files only: the package is not run
    if spec is None or not spec.submodule_search_locations:
        log.warning("API docs not mounted: swagger-ui-py is not installed")
        return
    static = Path(next(iter(spec.submodule_search_locations))) / "static"
    files = {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css"}

    def asset(name: str, media: str) -> Any:
        async def serve() -> FileResponse:
            return FileResponse(static / name, media_type=media)

        return serve

    for name, media in files.items():
        app.add_api_route(
            f"/docs-assets/{name}", asset(name, media), methods=["GET"], include_in_schema=False
        )

    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{app.title} - API docs",
            swagger_js_url="/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url="data:,",
        )

    app.add_api_route("/docs", docs, methods=["GET"], include_in_schema=False)


def _mount_console(app: FastAPI, state: ServiceState) -> None:
    if not state.settings.console:
        return
    try:
        from service.ui import create_ui_router  # type: ignore[attr-defined,unused-ignore]
    except ImportError as exc:
        log.info("review console not mounted: %s", exc)
        return
    try:
        router = create_ui_router(state)
    except Exception as exc:  # a broken console must not take the API down with it
        log.error("review console not mounted: %s: %s", type(exc).__name__, exc)
        return
    app.include_router(router, prefix="/ui")
    app.state.console = True
    from service.ui._routes import _SECURITY_HEADERS  # the console's own, for its errors too

    app.add_middleware(ConsoleHeaders, headers=_SECURITY_HEADERS)


class ConsoleHeaders:
    """The console's security headers on every response under /ui, also on the errors
    Starlette answers itself (an unknown page, a wrong method), which no route sets."""

    def __init__(self, app: Any, headers: dict[str, str]) -> None:
        self.app = app
        self.headers = [(k.lower().encode(), v.encode()) for k, v in headers.items()]

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path != "/ui" and not path.startswith("/ui/"):
            await self.app(scope, receive, send)
            return

        async def send_secured(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers += [h for h in self.headers if h[0] not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_secured)


#: Paths outside /v1 that the API serves (not the console's, whose /ui redirects to /ui/).
_API_PATHS = frozenset({"/healthz", "/readyz", "/metrics", "/openapi.json", "/docs"})


class NoTrailingSlash:
    """`404 not_found` in the API's error shape for an API path sent with a trailing slash
    (`POST /v1/check/`), telling the caller to drop it.

    Starlette's router answers such a path with a 307 to the path without the slash: an
    empty body (not the error shape) and an absolute Location built from the Host header,
    which behind a proxy names the wrong host or scheme; a client that does not follow
    redirects saw no error at all. Serving the path as if sent without the slash would give
    every resource two addresses; one that is refused is fixed at once. The console's own
    redirect (/ui to /ui/) is left alone.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if len(path) > 1 and path.endswith("/"):
            bare = path.rstrip("/")
            if bare == "/v1" or bare.startswith("/v1/") or bare in _API_PATHS:
                response = error_response(
                    404,
                    "not_found",
                    "the API's paths do not end with '/': send the request to the same path "
                    "without the trailing slash",
                    {"trailing_slash": True},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _openapi(app: FastAPI, *, secured: bool) -> Any:
    """The schema with the request timeout's 504 and the body limit's 413 declared; with no
    keys file nothing is checked, so then the schema does not claim it is."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = declare_body_limits(declare_timeouts(original()))
            if not secured:
                for path in schema.get("paths", {}).values():
                    for operation in path.values():
                        operation.pop("security", None)
                schema.get("components", {}).pop("securitySchemes", None)
            app.openapi_schema = schema
        return app.openapi_schema

    return openapi
