"""HTTP plumbing: the error shape, exception handlers and one ASGI middleware for limits."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

import orjson
from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from guard._exceptions import (
    ActionTooLarge,
    AuditError,
    AuditTampered,
    GuardError,
    InvalidAction,
    PolicyError,
    PolicyNotFound,
    RecordNotFound,
)
from guard._validate import MAX_DEPTH
from service._deps import authorize
from service._errors import AUDIT_UNAVAILABLE, ServiceError, UnsupportedMediaType
from service._schemas import CheckRequest, ErrorResponse

__all__ = [
    "JSON",
    "NOT_UTF8",
    "CheckFastPath",
    "LimitsMiddleware",
    "declare_body_limits",
    "declare_timeouts",
    "error_response",
    "exception_response",
    "as_utf8",
    "install_handlers",
    "is_json",
    "is_utf8",
    "json_response",
    "not_json",
    "standard_responses",
]

log = logging.getLogger("guard.service")
JSON = "application/json"
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_MAX_MESSAGE = 500
_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    408: "request_timeout",
    409: "conflict",
    413: "body_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
    504: "timeout",
}
_DESCRIPTIONS = {
    400: "Malformed JSON or bad request",
    401: "Missing or invalid API key",
    403: "The key lacks the scope, or names another tenant",
    404: "Unknown id or policy",
    408: "The long-poll expired",
    409: "Conflict with the current state",
    413: "Body or text too large",
    415: "The body is not sent as JSON (Content-Type: application/json)",
    422: "Invalid input",
    429: "Rate limit exceeded (see Retry-After)",
    503: "The audit log, or the shared store of the rate limits (Redis), is not available",
    504: "The request took longer than the request_timeout setting",
}
# Long-polls and exports bound themselves: the request timeout (504) leaves them alone.
_UNTIMED = ("/wait", "/export")


def declare_timeouts(schema: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI `schema` with 504 declared on every operation the request timeout applies to."""
    timeout = standard_responses(504, streaming=True)[504]
    for path, operations in schema.get("paths", {}).items():
        if not path.endswith(_UNTIMED):
            for operation in operations.values():
                operation.setdefault("responses", {})["504"] = timeout
    return schema


def declare_body_limits(schema: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI `schema` with 413 declared on every POST: a body above max_body_bytes is
    refused before any route reads it, whichever route it is (one that takes no body too)."""
    too_large = standard_responses(413, streaming=True)[413]
    for operations in schema.get("paths", {}).values():
        if "post" in operations:
            operations["post"].setdefault("responses", {}).setdefault("413", too_large)
    return schema


def standard_responses(*codes: int, streaming: bool = False) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries with the error schema, for the given status codes.

    A streaming route's own media type would otherwise be claimed for its errors too.
    """
    if streaming:
        ref = {"$ref": "#/components/schemas/ErrorResponse"}
        return {
            c: {"description": _DESCRIPTIONS.get(c, "Error"), "content": {JSON: {"schema": ref}}}
            for c in codes
        }
    return {
        c: {"model": ErrorResponse, "description": _DESCRIPTIONS.get(c, "Error")} for c in codes
    }


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response encoded with orjson (no second validation pass)."""
    return Response(orjson.dumps(data), status_code=status, media_type=JSON, headers=headers)


def error_response(
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """The one error shape: {"error": {"code", "message", "details"}}."""
    body = {"error": {"code": code, "message": message[:_MAX_MESSAGE], "details": details or {}}}
    if status == 401:
        headers = {"WWW-Authenticate": 'Bearer realm="guard"', **(headers or {})}
    return json_response(body, status, headers)


def guard_error_status(exc: GuardError) -> int:
    """The HTTP status for an engine error."""
    if isinstance(exc, ActionTooLarge):
        return 413
    if isinstance(exc, PolicyNotFound | RecordNotFound):
        return 404
    if isinstance(exc, InvalidAction | PolicyError):
        return 422
    if isinstance(exc, AuditError):
        return 503
    return 400


def install_handlers(app: FastAPI) -> None:
    """Map every exception to the error shape; nothing leaks a traceback or an input value."""
    for kind, handler in _HANDLERS:
        app.add_exception_handler(kind, handler)


async def _service_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, ServiceError):  # pragma: no cover - registered for this type
        return await _unexpected(request, exc)
    headers = getattr(exc, "headers", None)
    return error_response(exc.status, exc.code, exc.message, exc.details, headers)


async def _guard_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, GuardError):  # pragma: no cover - registered for this type
        return await _unexpected(request, exc)
    status = guard_error_status(exc)
    details: dict[str, Any] = {}
    if isinstance(exc, PolicyError) and exc.file is not None:
        details = {"file": exc.file, "line": exc.line, "column": exc.column}
    message = str(exc)
    if isinstance(exc, AuditTampered):
        details = {"index": exc.index}
        log.error("audit log error on %s: %s", route_of(request), type(exc).__name__)
    elif status == 503:
        # An AuditError's text names the database (a file path, a PostgreSQL host and user): for the
        # operator's log, not for every caller.
        log.error("audit log error on %s: %s", route_of(request), message)
        message = AUDIT_UNAVAILABLE
    return error_response(status, exc.code, message, details)


async def _validation_error(request: Request, exc: Exception) -> Response:
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    # Never echo the input back: it may hold personal data.
    clean = [
        {
            "loc": _safe_loc(e),
            "msg": str(e.get("msg", "")),
            "type": str(e.get("type", "")),
        }
        for e in errors
    ]
    clean = _shape_sent(clean)[:20]
    if any(e["type"] == "json_invalid" for e in clean) and (
        refused := await _authorized_first(request)
    ):
        return refused
    if any(e["type"] == "json_invalid" and "recursion limit" in e["msg"] for e in clean):
        return error_response(  # valid JSON, perhaps: deeper than the parser reads
            400,
            "malformed_json",
            f"the request body is nested too deeply to read; inputs nest at most {MAX_DEPTH} "
            "levels",
            {"max_depth": MAX_DEPTH},
        )
    content_type = request.headers.get("content-type")
    if not is_json(content_type) and any(
        e["loc"] == ["body"] and e["type"] == "model_attributes_type" for e in clean
    ):  # FastAPI left a body it did not read as JSON as bytes
        return await _service_error(request, not_json(content_type))
    if any(e["type"] == "json_invalid" for e in clean):
        return error_response(
            400, "malformed_json", "the request body is not valid JSON", {"errors": clean}
        )
    where = ", ".join(".".join(str(p) for p in e["loc"]) for e in clean[:3])
    message = f"invalid request: {where}"
    if any(
        e["type"] == "extra_forbidden" and e["loc"][:1] == ["body"] and len(e["loc"]) == 2
        for e in clean
    ):
        message += _top_level_hint(request)
    return error_response(422, "validation_error", message, {"errors": clean})


#: The shapes an action may take (service/_schemas.py, AnyAction), as pydantic names each
#: in the errors of the union, and the field that tells the shape was meant.
_SHAPES = {"ActionIn": "kind", "ToolCall": "type", "FunctionCall": "type", "ToolUse": "type"}


def _shape_sent(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The errors of the action shapes the caller meant, where it shows: an action is tried
    as each shape, and a native action with a kind too long also failed as each tool call
    (no 'type', no 'function'), which the answer listed first. A shape is meant when its
    telling field was given (a native kind; a tool call's type, matched); when no shape of
    an action is, all of its errors stay."""

    def branch(e: dict[str, Any]) -> tuple[Any, ...] | None:
        loc = e["loc"]
        at = next((i for i, part in enumerate(loc) if part in _SHAPES), None)
        return None if at is None else tuple(loc[: at + 1])

    def refused(b: tuple[Any, ...], e: dict[str, Any]) -> bool:
        """`e` says shape `b` was not meant: no kind for a native action; for a tool
        call, no type or another one."""
        if e["loc"] != [*b, _SHAPES[b[-1]]]:
            return False
        return bool(b[-1] != "ActionIn" or e["type"] == "missing")

    tried = {b for e in errors if (b := branch(e)) is not None}
    meant = {b for b in tried if not any(refused(b, e) for e in errors)}
    kept = []
    for e in errors:
        b = branch(e)
        # Each action (of a batch) is judged on its own shapes.
        if b is None or b in meant or not any(m[:-1] == b[:-1] for m in meant):
            kept.append(e)
    return kept


def is_json(content_type: str | None) -> bool:
    """Whether a body with this Content-Type is read as JSON (FastAPI's rule, strict: a
    body without one is not, as a browser sends a cross-site body without one unasked)."""
    media = (content_type or "").partition(";")[0].strip().lower()
    main, _, sub = media.partition("/")
    return main == "application" and (sub == "json" or sub.endswith("+json"))


_MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,62}/[a-z0-9][a-z0-9!#$&^_.+-]{0,62}")


def not_json(content_type: str | None) -> UnsupportedMediaType:
    """The 415 for a body sent without a JSON Content-Type; the type sent is named only
    when it is one (a header's other text is not repeated: it may be anything)."""
    media = (content_type or "").partition(";")[0].strip().lower()
    shown = media if _MEDIA_TYPE.fullmatch(media) else None
    sent = f"this request's is {shown!r}" if shown else "this request names no media type"
    return UnsupportedMediaType(
        "send the JSON body with the header Content-Type: application/json; "
        f"{sent} (curl -d sends application/x-www-form-urlencoded unless given "
        "-H 'content-type: application/json')",
        details={"content_type": shown},
    )


def _top_level_hint(request: Request) -> str:
    """What a body with a key of its own at the top should look like: the keys the route
    takes (the caller's own key names are not repeated back: they may be personal data)."""
    route = request.scope.get("route")
    field = getattr(route, "body_field", None)
    model = getattr(getattr(field, "field_info", None), "annotation", getattr(route, "body", None))
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return ""
    keys = [f.alias or name for name, f in model.model_fields.items()]
    hint = f"; the body has a key this endpoint does not take; it takes {', '.join(keys)}"
    if "action" in keys:
        hint += " (an action, native or a tool call, goes under 'action')"
    return hint


UNKNOWN_KEY = "<unknown key>"


def _safe_loc(error: Mapping[str, Any]) -> list[Any]:
    """Where an error is, without the caller's own keys: an unknown key (`extra_forbidden`)
    is the one place a request's text reaches `loc`, and it may be an e-mail address."""
    loc = list(error.get("loc", ()))
    if error.get("type") == "extra_forbidden" and loc:
        loc[-1] = UNKNOWN_KEY
    return loc


def route_of(request: Request) -> str:
    """The route's template (`/v1/decisions/{decision_id}`), never the path as sent: ids
    and other path values may be personal data, and logs keep no values."""
    route = request.scope.get("route")
    template = getattr(route, "path", None)
    return template if isinstance(template, str) else "(no route)"


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, StarletteHTTPException) else 500
    code = _STATUS_CODES.get(status, "http_error")
    message = str(exc.detail) if isinstance(exc, StarletteHTTPException) else "error"
    headers = dict(exc.headers or {}) if isinstance(exc, StarletteHTTPException) else None
    # A body that outgrew the limit while a route read it: the same answer LimitsMiddleware gives.
    details: dict[str, Any] | None = (
        {"max_bytes": exc.limit} if isinstance(exc, _BodyTooLarge) else None
    )
    if status == 405 and (allowed := _allowed_methods(request)):
        # Starlette names the methods of the first route on the path only (GET, not the
        # HEAD a twin route takes), and says no more than "Method Not Allowed".
        headers = {**(headers or {}), "Allow": ", ".join(allowed)}
        message = f"this method is not allowed on this path, which takes {', '.join(allowed)}"
        details = {"allowed": allowed}
    if status == 400 and message == _UNPARSED:  # FastAPI's answer to JSON it cannot parse
        if refused := await _authorized_first(request):
            return refused
        code, message = (
            "malformed_json",
            NOT_UTF8
            if isinstance(exc.__cause__, UnicodeDecodeError)
            else "the request body is not valid JSON (or nested too deeply)",
        )
    return error_response(status, code, message, details, headers=headers)


_UNPARSED = "There was an error parsing the body"


def _allowed_methods(request: Request) -> list[str]:
    """The methods of the routes on the request's path, sorted: of those with the fewest
    path parameters (/v1/policies/reload is the reload, not a pack named "reload")."""
    path = request.scope.get("path", "")
    routes = _route_table(request.app)
    matched = [(params, methods) for regex, params, methods in routes if regex.match(path)]
    fewest = min((params for params, _ in matched), default=0)
    return sorted({m for params, methods in matched if params == fewest for m in methods})


_Routes = list[tuple["re.Pattern[str]", int, frozenset[str]]]


def _route_table(app: Any) -> _Routes:
    """Each route's full path (as a regex), number of path parameters and methods,
    included routers' too; made once."""
    table: _Routes | None = getattr(app.state, "route_methods", None)
    if table is not None:
        return table
    from starlette.routing import compile_path

    found: _Routes = []

    def walk(routes: Any, prefix: str) -> None:
        for route in routes:
            inner = getattr(route, "original_router", None)  # FastAPI's included router
            if inner is not None:
                context = getattr(route, "include_context", None)
                walk(inner.routes, prefix + str(getattr(context, "prefix", "") or ""))
                continue
            path, methods = getattr(route, "path", None), getattr(route, "methods", None)
            if isinstance(path, str) and methods:
                regex, _, params = compile_path(prefix + path)
                found.append((regex, len(params), frozenset(methods)))

    walk(getattr(app, "routes", ()), "")
    app.state.route_methods = found
    return found


async def _authorized_first(request: Request) -> Response | None:
    """The answer for the request's key when the body failed before it was looked at
    (FastAPI parses a JSON body ahead of the route's dependencies): 401 without a valid
    key, 429 over its limit, 403 without the route's scope, as for any other body; None
    when the key may use the route, or was checked already."""
    if getattr(request.state, "principal", None) is not None:
        return None
    scopes = _route_scopes(request.scope.get("route"))
    if scopes is None:
        return None
    try:
        await authorize(request, *scopes)
    except Exception as exc:
        return await exception_response(request, exc)
    return None


def _route_scopes(route: Any) -> tuple[str, ...] | None:
    """The scopes a route's key dependency (`require(...)`) asks for, if it has one."""
    stack = list(getattr(getattr(route, "dependant", None), "dependencies", ()))
    while stack:
        dependant = stack.pop()
        scopes = getattr(dependant.call, "scopes", None)
        if isinstance(scopes, tuple):
            return scopes
        stack.extend(dependant.dependencies)
    return None


#: A body in another encoding than UTF-8 (PowerShell 5 sends a string body as ISO-8859-1).
NOT_UTF8 = (
    "the request body is not UTF-8 text; send the JSON encoded as UTF-8 (RFC 8259), "
    "whatever charset the Content-Type names"
)


def as_utf8(raw: bytes) -> bytes:
    """A JSON body as UTF-8, read as FastAPI's routes read theirs (json.loads of the bytes:
    a UTF-8 byte order mark is skipped, UTF-16 and UTF-32 are found from the first bytes).
    A body that is none of them is returned as it is, for the JSON parser to refuse."""
    encoding = json.detect_encoding(raw)  # from the first four bytes only
    if encoding == "utf-8":
        return raw
    try:
        return raw.decode(encoding).encode("utf-8")
    except UnicodeError:
        return raw


def is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


async def _unexpected(request: Request, exc: Exception) -> Response:
    # The type only: messages and tracebacks may carry values from the request.
    log.error("unexpected %s on %s %s", type(exc).__name__, request.method, route_of(request))
    return error_response(500, "internal_error", "internal error; see the server log")


# Most specific first: `exception_response` takes the first that matches.
_Handler = Callable[[Request, Exception], Awaitable[Response]]
_HANDLERS: tuple[tuple[type[Exception], _Handler], ...] = (
    (ServiceError, _service_error),
    (GuardError, _guard_error),
    (RequestValidationError, _validation_error),
    (StarletteHTTPException, _http_error),
    (Exception, _unexpected),
)


async def exception_response(request: Request, exc: Exception) -> Response:
    """The response the handlers `install_handlers` registers give for `exc`."""
    handler = next(h for kind, h in _HANDLERS if isinstance(exc, kind))
    return await handler(request, exc)


class CheckFastPath:
    """Serves POST /v1/check ahead of the routing and per-request dependency solving.

    The hottest route spends more in FastAPI's router, dependency solver and exception
    layers than in deciding and auditing an action, so this layer (inside
    LimitsMiddleware, which still applies body limits, timeouts and request metrics)
    hands it straight to `serve_check`, mapping errors with the app's own handlers. The
    route stays declared in FastAPI, for OpenAPI and for apps with dependency overrides,
    which this layer leaves to FastAPI.
    """

    def __init__(
        self, app: ASGIApp, *, fastapi: FastAPI, serve: Callable[[Request], Awaitable[Response]]
    ) -> None:
        self.app = app
        self.fastapi = fastapi
        self.serve = serve

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] != "/v1/check"
            or scope["method"] != "POST"
            or self.fastapi.dependency_overrides
        ):
            await self.app(scope, receive, send)
            return
        scope["route"] = _CHECK_ROUTE
        request = Request(scope, receive)
        try:
            response = await self.serve(request)
        except _BodyTooLarge:
            raise  # LimitsMiddleware answers 413
        except Exception as exc:
            response = await exception_response(request, exc)
        await response(scope, receive, send)


class _RouteName:
    """What request metrics and error hints read from `scope["route"]`: the route
    template and its body's model."""

    def __init__(self, path: str, body: type[BaseModel]) -> None:
        self.path = path
        self.body = body


_CHECK_ROUTE = _RouteName("/v1/check", CheckRequest)


class _BodyTooLarge(HTTPException):
    """Raised while reading a body that outgrows the limit (an HTTPException: FastAPI keeps it)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body exceeds {limit} bytes")
        self.limit = limit


class LimitsMiddleware:
    """Body size limit (413), request timeout (504) and request metrics, in one ASGI layer.

    Long-polls and exports are exempt from the timeout: they bound themselves.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body: int,
        timeout: float,
        observe: Callable[[str, str, int, float], None] | None = None,
    ) -> None:
        self.app = app
        self.max_body = max_body
        self.timeout = timeout
        self.observe = observe

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [0]

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        declared = _content_length(scope)
        if declared is not None and declared > self.max_body:
            await _too_large(send_wrapper, self.max_body)
        else:
            await self._run(scope, _counting(receive, self.max_body), send_wrapper, status)
        if self.observe is not None:
            self.observe(scope["method"], _route(scope), status[0], time.perf_counter() - started)

    async def _run(self, scope: Scope, receive: Receive, send: Send, status: list[int]) -> None:
        path: str = scope["path"]
        try:
            if path.endswith(_UNTIMED):
                await self.app(scope, receive, send)
            else:
                async with asyncio.timeout(self.timeout):
                    await self.app(scope, receive, send)
        except _BodyTooLarge:
            if not status[0]:
                await _too_large(send, self.max_body)
        except TimeoutError:
            if not status[0]:
                await _send(send, _timed_out(scope, self.timeout))
        except Exception as exc:
            # Answered here, not re-raised: Starlette's outer layer would log the traceback
            # with the exception's message, which may quote request values.
            if status[0]:
                log.error("unexpected %s after the response started", type(exc).__name__)
            else:
                await _send(send, await exception_response(Request(scope), exc))


def _timed_out(scope: Scope, timeout: float) -> Response:
    """The 504: stopping the wait stops no worker thread, so a POST's work (a decision and
    its record, a resolution, a label, a reload) may still be done; the answer says so,
    lest a caller send it again and have it done twice."""
    message = f"the request took longer than {timeout:g} s"
    if scope["method"] != "POST":
        return error_response(504, "timeout", message)
    return error_response(
        504,
        "timeout",
        f"{message}; what it asked for may still be done and recorded (a decision, a "
        "resolution, a label): look it up (GET /v1/decisions) before sending it again",
        {"may_have_completed": True},
    )


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _counting(receive: Receive, limit: int) -> Receive:
    seen = [0]

    async def wrapped() -> Message:
        message = await receive()
        if message["type"] == "http.request":
            seen[0] += len(message.get("body", b""))
            if seen[0] > limit:
                raise _BodyTooLarge(limit)
        return message

    return wrapped


async def _too_large(send: Send, limit: int) -> None:
    await _send(
        send,
        error_response(
            413, "body_too_large", f"the request body exceeds {limit} bytes", {"max_bytes": limit}
        ),
    )


async def _send(send: Send, response: Response) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": response.status_code,
            "headers": response.raw_headers,
        }
    )
    await send({"type": "http.response.body", "body": response.body})


def _route(scope: Scope) -> str:
    """The route template (never the raw path: ids and query strings stay out of metrics)."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "<unmatched>"
