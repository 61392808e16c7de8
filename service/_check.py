"""POST /v1/check, /v1/check/batch, /v1/rank and /v1/shield: deciding actions and rankings."""

from __future__ import annotations

import functools
import json
import math
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.responses import Response

from guard._engine import Guard
from guard._exceptions import ActionBlocked, ActionEscalated, InvalidAction
from guard._models import Decision, Verdict
from guard._validate import MAX_EXACT_INT, DuplicateKey, from_tool_call, unique_keys
from guard.enforce import enforce_proposal
from service._auth import Principal
from service._batcher import CheckBatcher
from service._decisions import each_once
from service._deps import authorize, bind_tenant, get_state, require
from service._errors import NotFound, ServiceError
from service._http import (
    JSON,
    NOT_UTF8,
    as_utf8,
    is_json,
    is_utf8,
    json_response,
    not_json,
    standard_responses,
)
from service._schemas import (
    TOOL_CALLS,
    BatchRequest,
    CheckRequest,
    DecisionList,
    FunctionCall,
    RankRequest,
    ShieldOut,
    ShieldRequest,
    ToolCall,
    ToolUse,
)
from service._state import ServiceState

__all__ = [
    "BatchTooLarge",
    "PolicyRequired",
    "TextTooLarge",
    "build_router",
    "check_text",
    "resolve_policy",
    "serve_check",
]

_ERRORS = standard_responses(400, 401, 403, 404, 413, 415, 422, 429, 503)
Checker = Annotated[Principal, Depends(require("check"))]


async def _raw_body(request: Request) -> bytes:
    """The body as sent (read once already: the request keeps it)."""
    return await request.body()


RawBody = Annotated[bytes, Depends(_raw_body)]


class PolicyRequired(ServiceError):
    """Several packs are loaded and the request did not name one."""

    code = "policy_required"
    status = 422


class MalformedJson(ServiceError):
    """A body that cannot be read as JSON text (here: one that is not UTF-8)."""

    code = "malformed_json"
    status = 400


class BatchTooLarge(ServiceError):
    """A batch or shield request holds more actions than the sidecar's `max_batch`."""

    code = "batch_too_large"
    status = 413


def _within_batch(count: int, state: ServiceState) -> None:
    limit = state.settings.max_batch
    if count > limit:
        raise BatchTooLarge(
            f"the request holds {count} actions; the limit is {limit} (max_batch)",
            details={"max_actions": limit},
        )


class TextTooLarge(ServiceError):
    """One string in the input is longer than the sidecar's text limit."""

    code = "text_too_large"
    status = 413


def build_router() -> APIRouter:
    """The deciding endpoints (scope `check`)."""
    router = APIRouter(prefix="/v1", tags=["check"])
    router.add_api_route(
        "/check",
        check,
        methods=["POST"],
        response_model=Decision,
        responses=_ERRORS,
        summary="Decide one action",
    )
    router.add_api_route(
        "/check/batch",
        check_batch,
        methods=["POST"],
        response_model=DecisionList,
        responses=_ERRORS,
        summary="Decide several actions in one audit transaction",
    )
    router.add_api_route(
        "/rank",
        rank,
        methods=["POST"],
        response_model=Decision,
        responses=_ERRORS,
        summary="Filter a ranking",
    )
    router.add_api_route(
        "/shield",
        shield,
        methods=["POST"],
        response_model=ShieldOut,
        responses=_ERRORS,
        summary="The candidate actions allowed now",
    )
    return router


async def check(body: CheckRequest, request: Request, principal: Checker) -> Response:
    """Decide one action (native or OpenAI tool-call form) and record it before answering.

    With `candidates` ([[action, probability], ...]) the best alternative that is not denied
    is decided and recorded, and `substitution` says what was replaced and why.
    """
    each_once(request, ())
    proposed_actions = [c[0] for c in body.candidates or ()] or [body.action]
    if _with_object_arguments(proposed_actions):
        _keys_once(await request.body())
    state = get_state(request)
    guard = await state.serving()
    policy = resolve_policy(guard, body.policy)
    if body.candidates or body.explanations:
        proposed = body.candidates or [(body.action, 1.0)]
        pairs = [
            (bind_tenant(_plain(c[0], f"candidate #{i}"), principal, f"candidate #{i}"), c[1])
            for i, c in enumerate(proposed)
            if c[0] is not None
        ]
        if not pairs:
            raise InvalidAction("a check needs an 'action' or a non-empty 'candidates' list")
        check_text([body.context, *(a for a, _ in pairs), *(body.explanations or [])], state)
        positions = [c[2] for c in proposed if len(c) == 3]
        enforce = functools.partial(
            _enforce,
            guard,
            pairs,
            body.context,
            policy,
            body.explanations or [],
            positions,
            single=not body.candidates,
        )
        decision = await _decide_async(request, "check", anyio.to_thread.run_sync(enforce))
    elif body.action is not None:
        action = bind_tenant(_plain(body.action), principal, "the action")
        if not _within_limits(request, state):
            check_text([action, body.context], state)
        batcher: CheckBatcher = request.app.state.batcher
        decision = await _decide_async(
            request, "check", batcher.check(action, body.context, policy, guard)
        )
    else:
        raise InvalidAction("a check needs an 'action' or a non-empty 'candidates' list")
    return Response(decision.model_dump_json(), media_type=JSON)


async def serve_check(request: Request) -> Response:
    """POST /v1/check without FastAPI's routing and dependency solving (see CheckFastPath).

    Does what `check`'s declared parameters do, in the same order: the bearer key (401)
    and its rate limit (429), the `check` scope (403), then the body (415 not sent as
    JSON, 400 malformed JSON, 422 invalid); then runs `check` itself.
    """
    principal = await authorize(request, "check")
    raw = await request.body()
    try:
        if not raw:
            raise RequestValidationError(
                [{"loc": ("body",), "msg": "Field required", "type": "missing"}]
            )
        if not is_json(request.headers.get("content-type")):
            raise not_json(request.headers.get("content-type"))
        raw = as_utf8(raw)  # as the other routes read theirs; the limits below see UTF-8
        body = CheckRequest.model_validate_json(raw)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False, include_context=False)
        if not is_utf8(raw) and any(e["type"] == "json_invalid" for e in errors):
            raise MalformedJson(NOT_UTF8) from None
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in errors]) from None
    request.state.raw_body = raw  # lets `check` skip the text walk for small bodies
    return await check(body, request, principal)


_LONG_NUMBER = re.compile(rb"[0-9]{16}")  # 2**53 has 16 digits


def _within_limits(request: Request, state: ServiceState) -> bool:
    """True when the raw body shows that `check_text` would find nothing: no string can
    be longer than the body holding it (escapes only lengthen), and an integer beyond
    2**53 needs 16 digits in a row, in the body or in a tool call's arguments text."""
    raw = getattr(request.state, "raw_body", None)
    return (
        isinstance(raw, bytes)
        and len(raw) <= state.settings.max_text_chars
        and _LONG_NUMBER.search(raw) is None
    )


def check_batch(body: BatchRequest, request: Request, principal: Checker, raw: RawBody) -> Response:
    """Decide many actions with one PII pass and one audit transaction, in order."""
    each_once(request, ())
    if _with_object_arguments(body.actions):
        _keys_once(raw)
    state = get_state(request)
    _within_batch(len(body.actions), state)
    guard = state.guard
    policy = resolve_policy(guard, body.policy)
    actions = [
        bind_tenant(_plain(a, f"action #{i}"), principal, f"action #{i}")
        for i, a in enumerate(body.actions)
    ]
    check_text([body.context, *actions], state)
    started = time.perf_counter()
    tracer = request.app.state.tracer
    with tracer.span("guard.check_batch") as span:
        decisions = guard.check_batch(actions, body.context, policy=policy)
        tracer.annotate_batch(span, decisions)
    per = (time.perf_counter() - started) / len(decisions)
    metrics = request.app.state.metrics
    for d in decisions:
        metrics.observe_decision(d, "check_batch", per)
    return json_response(
        {"items": [d.model_dump(mode="json") for d in decisions], "next_cursor": None}
    )


def rank(body: RankRequest, request: Request, principal: Checker) -> Response:
    """Filter a ranking: item rules drop or redact items, list caps drop the excess."""
    each_once(request, ())
    state = get_state(request)
    guard = state.guard
    policy = resolve_policy(guard, body.policy)
    items = [_plain(i) for i in body.items]
    check_text([body.context, body.query, *items], state)
    decision = _decide(
        request,
        "rank",
        lambda: guard.rank(
            items,
            body.context,
            policy=policy,
            actor=body.actor,
            tenant=principal.tenant,
            query=body.query,
        ),
    )
    return json_response(decision.model_dump(mode="json"))


def shield(body: ShieldRequest, request: Request, principal: Checker, raw: RawBody) -> Response:
    """Evaluate candidate actions without recording them: which may run now."""
    each_once(request, ())
    if _with_object_arguments(body.actions):
        _keys_once(raw)
    state = get_state(request)
    _within_batch(len(body.actions), state)
    guard = state.guard
    policy = resolve_policy(guard, body.policy)
    actions = [
        bind_tenant(_plain(a, f"action #{i}"), principal, f"action #{i}")
        for i, a in enumerate(body.actions)
    ]
    check_text([body.context, *actions], state)
    results = []
    for i, action in enumerate(actions):
        d = guard.evaluate(action, body.context, policy=policy)
        results.append(
            {
                "index": i,
                "verdict": d.verdict.value,
                "allowed": d.allowed,
                "rule_ids": [h.rule_id for h in d.hits],
                "hits": [{"rule_id": h.rule_id, "effect": h.effect.value} for h in d.hits],
                "final_action": d.final_action if d.verdict is Verdict.REDACT else None,
            }
        )
    allowed = [r["index"] for r in results if r["allowed"]]
    return json_response({"allowed": allowed, "items": results, "next_cursor": None})


def _with_object_arguments(actions: Iterable[BaseModel | None]) -> bool:
    """Whether a tool call among `actions` has its arguments as a JSON object of the body
    (an Anthropic `input`, or arguments not sent as text), which the body's parser read."""
    for a in actions:
        if isinstance(a, ToolUse):
            return True
        if isinstance(a, FunctionCall) and not isinstance(a.arguments, str):
            return True
        if isinstance(a, ToolCall) and not isinstance(a.function.arguments, str):
            return True
    return False


def _keys_once(raw: bytes) -> None:
    """Refuse a body giving a key twice in one object, as a tool call's arguments sent as
    text are refused: the parser kept the last value, a tool reading the first would run
    another one than the one decided."""
    try:
        json.loads(raw, object_pairs_hook=unique_keys)
    except DuplicateKey as exc:
        raise InvalidAction(
            f"the request body gives the key {exc.key!r} more than once in one object; which "
            "value a tool would use depends on its JSON reader, so none is taken"
        ) from None
    except (ValueError, RecursionError):  # read already; its parser's answer stands
        return


def resolve_policy(guard: Guard, name: str | None) -> str | None:
    """The pack to use: the named one (404 if not loaded) or the only one loaded."""
    if name is None:
        if len(guard.packs) == 1:
            return None
        raise PolicyRequired(
            f"several packs are loaded ({', '.join(sorted(guard.packs))}); name one with 'policy'",
            details={"loaded": sorted(guard.packs)},
        )
    if name not in guard.packs:
        raise NotFound(
            f"no loaded pack named {name!r}; loaded: {', '.join(sorted(guard.packs))}",
            code="policy_not_found",
            details={"policy": name, "loaded": sorted(guard.packs)},
        )
    return name


def check_text(values: Iterable[Any], state: ServiceState) -> None:
    """Refuse long strings (413) and integers the audit log cannot canonicalise (422).

    Records are RFC 8785 JSON, whose numbers are IEEE doubles: integers beyond 2**53 - 1
    would be accepted by the rules but could not be recorded, so they are refused here.
    """
    limit = state.settings.max_text_chars
    stack = [v for v in values if v is not None]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if len(value) > limit:
                raise TextTooLarge(
                    f"a text field has {len(value)} characters; the limit is {limit}",
                    details={"max_chars": limit},
                )
        elif isinstance(value, int) and not -MAX_EXACT_INT <= value <= MAX_EXACT_INT:
            raise InvalidAction(
                "an integer is outside the range JSON numbers hold exactly "
                "(-(2**53 - 1) .. 2**53 - 1); send it as a string"
            )
        elif isinstance(value, dict):
            stack.extend(value.values())
            stack.extend(value.keys())
        elif isinstance(value, list | tuple):
            stack.extend(value)


def _enforce(
    guard: Guard,
    pairs: Sequence[tuple[dict[str, Any], float]],
    context: dict[str, Any] | None,
    policy: str | None,
    explanations: Sequence[dict[str, Any]] = (),
    positions: Sequence[int] = (),
    *,
    single: bool = False,
) -> Decision:
    """The in-process enforcement, server side: substitution included, one record written.

    With `positions` (each pair's index in the caller's list of actions) the pairs are
    scores over that list, the indices not sent masked (-inf: never tried nor substituted),
    so the substitution reports the caller's indices, as the in-process Guard does. A
    `single` action (sent with explanations) is decided as one action, keeping the
    context's own `score`, where each alternative is decided with its probability there."""
    out: Any = pairs[0][0] if single else list(pairs)
    actions: list[dict[str, Any]] | None = None
    if positions:
        for i, (_, p) in enumerate(pairs):
            if not math.isfinite(p):
                raise InvalidAction(
                    f"candidate #{i} has probability {p!r}; probabilities must be finite"
                )
        out = [-math.inf] * (max(positions) + 1)
        actions = [{}] * len(out)  # placeholders at the masked indices, never read
        for (action, p), at in zip(pairs, positions, strict=True):
            out[at], actions[at] = p, action
    try:
        return enforce_proposal(
            guard, out, context, actions=actions, policy=policy, explanations=explanations
        ).decision
    except (ActionBlocked, ActionEscalated) as exc:
        return exc.decision


def _plain(model: BaseModel, what: str | None = None) -> dict[str, Any]:
    """The request's action as the engine takes it; a tool call becomes a native action here,
    so the limits above see its parsed arguments. `what` ("action #3") names the action in
    a tool call's error, as the engine names it in its own, among many."""
    # Python mode: a NaN or infinity in the body stays a float, which the engine refuses
    # ("numbers must be finite"), where JSON mode would turn it into null unseen.
    data = model.model_dump(exclude_unset=True)
    if not isinstance(model, TOOL_CALLS):
        return data
    try:
        return from_tool_call(data)
    except InvalidAction as exc:
        if what is None:
            raise
        raise type(exc)(f"{what}: {exc}") from None


async def _decide_async(request: Request, endpoint: str, pending: Awaitable[Decision]) -> Decision:
    """Await one decision inside a span (when tracing is on) and record its metrics."""
    started = time.perf_counter()
    tracer = request.app.state.tracer
    with tracer.span(f"guard.{endpoint}") as span:
        decision = await pending
        tracer.annotate(span, decision)
    request.app.state.metrics.observe_decision(decision, endpoint, time.perf_counter() - started)
    return decision


def _decide(request: Request, endpoint: str, make: Callable[[], Decision]) -> Decision:
    """Make one decision inside a span (when tracing is on) and record its metrics."""
    started = time.perf_counter()
    tracer = request.app.state.tracer
    with tracer.span(f"guard.{endpoint}") as span:
        decision = make()
        tracer.annotate(span, decision)
    request.app.state.metrics.observe_decision(decision, endpoint, time.perf_counter() - started)
    return decision
