"""Human review: the escalation queue, resolutions, long-poll waits and decision labels."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.responses import Response

from guard._exceptions import RecordNotFound
from service._auth import Principal
from service._decisions import CURSOR, each_once, query_page, to_api_cursor, to_audit_cursor
from service._deps import get_state, require, tenant_filter
from service._errors import ServiceError
from service._http import json_response, standard_responses
from service._schemas import (
    EscalationOut,
    EscalationPage,
    ResolutionOut,
    ResolveRequest,
    ReviewOut,
    ReviewPage,
    ReviewRequest,
)
from service._state import (
    DECISION_SCHEMA,
    RESOLUTION_SCHEMA,
    REVIEW_SCHEMA,
    ServiceState,
    is_held,
)

__all__ = ["WaitExpired", "build_router", "escalation"]

Reviewer = Annotated[Principal, Depends(require("review"))]
Reader = Annotated[Principal, Depends(require("review", "audit:read"))]
Waiter = Annotated[Principal, Depends(require("check", "review", "audit:read"))]
DecisionId = Annotated[str, Path(min_length=1, max_length=200)]


class WaitExpired(ServiceError):
    """The long-poll ended before a reviewer resolved the escalation: it is still pending."""

    code = "wait_expired"
    status = 408


def build_router(long_poll_max: float) -> APIRouter:
    """The review endpoints; waits are bounded by `long_poll_max` seconds."""
    router = APIRouter(prefix="/v1", tags=["review"])
    router.add_api_route(
        "/escalations",
        list_escalations,
        methods=["GET"],
        response_model=EscalationPage,
        responses=standard_responses(401, 403, 422, 429, 503),
        summary="Held decisions: pending, resolved or all",
    )
    router.add_api_route(
        "/escalations/{decision_id}/resolve",
        resolve,
        methods=["POST"],
        response_model=ResolutionOut,
        responses=standard_responses(400, 401, 403, 404, 409, 415, 422, 429, 503),
        summary="Approve or deny a held action (once)",
    )
    router.add_api_route(
        "/escalations/{decision_id}/wait",
        _wait_route(long_poll_max),
        methods=["GET"],
        response_model=EscalationOut,
        responses=standard_responses(401, 403, 404, 408, 409, 422, 429, 503),
        summary="Long-poll for a held action's resolution",
    )
    router.add_api_route(
        "/decisions/{decision_id}/review",
        review,
        methods=["POST"],
        response_model=ReviewOut,
        responses=standard_responses(400, 401, 403, 404, 415, 422, 429, 503),
        summary="Label a decision (correct, false positive, false negative)",
    )
    router.add_api_route(
        "/decisions/{decision_id}/reviews",
        list_reviews,
        methods=["GET"],
        response_model=ReviewPage,
        responses=standard_responses(401, 403, 404, 422, 429, 503),
        summary="A decision's labels, newest first",
    )
    return router


def list_escalations(
    request: Request,
    principal: Reader,
    status: Literal["pending", "resolved", "all"] = "pending",
    tenant: Annotated[str | None, Query(max_length=200)] = None,
    cursor: Annotated[str | None, Query(pattern=CURSOR)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Response:
    """Escalated decisions, newest first: still pending (default), resolved, or all."""
    each_once(request, ("status", "tenant", "cursor", "limit"))
    state = get_state(request)
    wanted = tenant_filter(principal, tenant)
    if status == "pending":
        records, after = state.escalations.pending_page(
            wanted, limit=limit, cursor=to_audit_cursor(cursor)
        )
        next_cursor = to_api_cursor(after)
        items = [escalation(r, None) for r in records]
    elif status == "resolved":
        stored, next_cursor = query_page(
            state.audit, {"tenant": wanted, "record_type": RESOLUTION_SCHEMA}, cursor, limit
        )
        found = [_resolved(state, s.record) for s in stored]
        items = [i for i in found if i is not None]
    else:
        stored, next_cursor = query_page(
            state.audit,
            {"tenant": wanted, "verdict": "escalate", "record_type": DECISION_SCHEMA},
            cursor,
            limit,
        )
        items = [
            escalation(s.record, state.escalations.resolution(s.id))
            for s in stored
            if is_held(s.record)
        ]
    return json_response({"items": items, "next_cursor": next_cursor})


def resolve(
    request: Request, principal: Reviewer, decision_id: DecisionId, body: ResolveRequest
) -> Response:
    """Approve or deny a held action; a second resolution is refused with 409."""
    each_once(request, ())
    state = get_state(request)
    record = state.escalations.resolve(
        decision_id,
        body.outcome,
        body.note,
        body.reviewer or principal.name,
        principal.tenant,
        key=principal.name,
    )
    return json_response(record)


def _wait_route(long_poll_max: float) -> Any:
    async def wait(
        request: Request,
        principal: Waiter,
        decision_id: DecisionId,
        timeout: float = Query(
            min(30.0, long_poll_max),
            ge=0,
            le=long_poll_max,
            allow_inf_nan=False,  # else NaN is refused as "less than or equal to" the maximum
            description="Seconds to wait at most",
        ),
    ) -> Response:
        """Wait for a reviewer: 200 with the outcome, or 408 wait_expired if still pending."""
        each_once(request, ("timeout",))
        state = get_state(request)
        record = await anyio.to_thread.run_sync(
            state.escalations.escalated, decision_id, principal.tenant
        )
        resolution = await state.escalations.wait(decision_id, timeout)
        if resolution is None:
            raise WaitExpired(
                f"escalation {decision_id!r} is still pending after {timeout:g} s; poll again",
                details={"decision_id": decision_id, "status": "pending"},
            )
        return json_response(escalation(record, resolution))

    return wait


def review(
    request: Request, principal: Reviewer, decision_id: DecisionId, body: ReviewRequest
) -> Response:
    """Label any decision; the label is itself an audit record (guard.review/v1)."""
    each_once(request, ())
    state = get_state(request)
    record = state.label(
        decision_id,
        body.label,
        body.note,
        body.reviewer or principal.name,
        principal.tenant,
        key=principal.name,
    )
    return json_response(record)


def list_reviews(
    request: Request,
    principal: Reader,
    decision_id: DecisionId,
    cursor: Annotated[str | None, Query(pattern=CURSOR)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Response:
    """The labels given to a decision (its guard.review/v1 records), newest first."""
    each_once(request, ("cursor", "limit"))
    state = get_state(request)
    state.decision(decision_id, principal.tenant)  # another tenant's decision is not found
    wanted = {"record_type": REVIEW_SCHEMA, "ref_id": decision_id, "tenant": principal.tenant}
    stored, next_cursor = query_page(state.audit, wanted, cursor, limit)
    return json_response({"items": [s.record for s in stored], "next_cursor": next_cursor})


def escalation(decision: dict[str, Any], resolution: dict[str, Any] | None) -> dict[str, Any]:
    """A held decision with its status, as the API returns it."""
    status = "pending"
    if resolution is not None:
        status = "approved" if resolution.get("outcome") == "approve" else "denied"
    return {
        "decision_id": decision["id"],
        "status": status,
        "decision": decision,
        "resolution": resolution,
    }


def _resolved(state: ServiceState, resolution: dict[str, Any]) -> dict[str, Any] | None:
    try:
        decision = state.audit.get(str(resolution.get("decision_id"))).record
    except RecordNotFound:
        return None
    return escalation(decision, resolution)
