"""Reading the audit log: decisions, inclusion and consistency proofs, tree heads, exports."""

from __future__ import annotations

import inspect
import re
from collections.abc import Collection, Iterator
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import AfterValidator, BeforeValidator, TypeAdapter, ValidationError
from starlette.responses import Response, StreamingResponse

from guard._models import Verdict
from guard.audit import AuditLog, StoredRecord
from guard.audit._log import _decode_cursor, _encode_cursor
from guard.audit._store import time_text
from service._auth import Principal
from service._deps import get_state, require, tenant_filter
from service._download import Download, jsonl_failure
from service._errors import NotFound, ServiceError
from service._http import UNKNOWN_KEY, json_response, standard_responses
from service._schemas import ConsistencyOut, DecisionPage, DecisionPageItem, HeadOut, ProofOut
from service._state import DECISION_SCHEMA

__all__ = [
    "CURSOR",
    "JSONLines",
    "build_router",
    "each_once",
    "head_json",
    "page_item",
    "query_page",
    "to_api_cursor",
    "to_audit_cursor",
]

Reader = Annotated[Principal, Depends(require("audit:read", "review"))]
DecisionId = Annotated[str, Path(min_length=1, max_length=200)]
CURSOR = r"^[0-9]{1,18}$"


class JSONLines(StreamingResponse):
    """A stream of JSON documents, one per line."""

    media_type = "application/x-ndjson"


class InvalidRange(ServiceError):
    """The requested tree sizes, or times, are out of order."""

    code = "invalid_range"
    status = 422


_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})", re.ASCII
)
_DATETIME: TypeAdapter[datetime] = TypeAdapter(datetime)


def _rfc3339(value: object) -> object:
    """Only RFC 3339 date-times (what the schema says), not pydantic's other spellings.

    Records' times are whole microseconds, so a finer time stands for the next microsecond
    up: `since` (inclusive) and `until` (exclusive) then keep exactly the records at or
    after it and before it (cut to the microsecond, a record 0.5 us early passed `since`).
    """
    if not isinstance(value, str):
        return value
    match = _RFC3339.fullmatch(value)
    if match is None:
        hint = ""
        if value[-6:-5] == " " and _RFC3339.fullmatch(value[:-6] + "+" + value[-5:]):
            # curl sends ?since=...+05:30 as typed, and a query string reads '+' as a space.
            hint = "; the '+' of the offset came as a space: send it as %2B (+05:30 is %2B05:30)"
        elif _RFC3339.fullmatch(value + "Z"):
            # datetime.now().isoformat(), a LocalDateTime: which zone is meant is not said.
            hint = (
                "; this one has no UTC offset: add Z or an offset such as +05:30 "
                "(%2B05:30 in a query string)"
            )
        elif _RFC3339.fullmatch(value + "T00:00:00Z"):
            hint = f"; a date alone is not a time: {value}T00:00:00Z is that day's start in UTC"
        raise ValueError(f"expected an RFC 3339 date-time such as 2026-01-31T12:00:00Z{hint}")
    fraction = match.group(1)
    if fraction is None or len(fraction) <= 7:  # "." and at most 6 digits
        return value
    text = value[: match.start(1) + 7] + value[match.end(1) :]
    if not fraction[7:].strip("0"):
        return text
    try:
        return _DATETIME.validate_python(text).astimezone(UTC) + timedelta(microseconds=1)
    except ValidationError as exc:
        raise ValueError(exc.errors()[0]["msg"]) from None
    except OverflowError:
        raise ValueError("the time is out of range") from None


def _in_range(value: datetime) -> datetime:
    """A time whose UTC equivalent exists (9999-12-31T23:00:00-01:00 would pass year 9999)."""
    try:
        time_text(value)
    except OverflowError:
        raise ValueError("the time is out of range once converted to UTC") from None
    return value


Time = Annotated[datetime, BeforeValidator(_rfc3339), AfterValidator(_in_range)]


class Filters:
    """The query filters shared by the list and the export (a FastAPI dependency)."""

    def __init__(
        self,
        verdict: Verdict | None = None,
        rule_id: Annotated[str | None, Query(max_length=200)] = None,
        policy: Annotated[str | None, Query(max_length=200)] = None,
        actor: Annotated[str | None, Query(max_length=200)] = None,
        tenant: Annotated[str | None, Query(max_length=200)] = None,
        kind: Annotated[str | None, Query(max_length=200)] = None,
        since: Annotated[Time | None, Query(description="Inclusive, RFC 3339")] = None,
        until: Annotated[Time | None, Query(description="Exclusive, RFC 3339")] = None,
        shadow_disagrees: Annotated[
            bool | None, Query(description="Only decisions where the shadow pack disagreed")
        ] = None,
    ) -> None:
        if since is not None and until is not None and since > until:
            raise InvalidRange(
                f"'since' ({since.isoformat()}) is later than 'until' ({until.isoformat()}), "
                "so no decision can match; swap them",
                details={"since": time_text(since), "until": time_text(until)},
            )
        self.values: dict[str, Any] = {
            "verdict": verdict.value if verdict else None,
            "rule_id": rule_id,
            "policy": policy,
            "actor": actor,
            "tenant": tenant,
            "kind": kind,
            "since": time_text(since),
            "until": time_text(until),
            "shadow_disagrees": shadow_disagrees,
        }

    def for_principal(self, principal: Principal) -> dict[str, Any]:
        """The filters with the tenant pinned to the key's own (403 for another tenant)."""
        return {
            **self.values,
            "tenant": tenant_filter(principal, self.values["tenant"]),
            "record_type": DECISION_SCHEMA,
        }


#: The query parameters `Filters` reads.
FILTERS = tuple(inspect.signature(Filters).parameters)


def build_router() -> APIRouter:
    """The audit-reading endpoints (scope `audit:read` or `review`)."""
    router = APIRouter(prefix="/v1", tags=["audit"])
    errors = standard_responses(401, 403, 404, 422, 429, 503)
    router.add_api_route(
        "/decisions",
        list_decisions,
        methods=["GET"],
        response_model=DecisionPage,
        responses=errors,
        summary="Query decisions, newest first",
    )
    router.add_api_route(
        "/decisions/export",
        export_decisions,
        methods=["GET"],
        response_class=JSONLines,
        responses=standard_responses(401, 403, 404, 422, 429, 503, streaming=True),
        summary="Stream matching decisions as JSON lines",
    )
    router.add_api_route(
        "/decisions/{decision_id}",
        get_decision,
        methods=["GET"],
        response_model=DecisionPageItem,
        responses=errors,
        summary="One decision's audit record",
    )
    router.add_api_route(
        "/decisions/{decision_id}/proof",
        get_proof,
        methods=["GET"],
        response_model=ProofOut,
        responses=errors,
        summary="Inclusion proof against the current signed head",
    )
    router.add_api_route(
        "/audit/head",
        get_head,
        methods=["GET"],
        response_model=HeadOut,
        responses=errors,
        summary="The signed tree head",
    )
    router.add_api_route(
        "/audit/consistency",
        get_consistency,
        methods=["GET"],
        response_model=ConsistencyOut,
        responses=errors,
        summary="Consistency proof between two tree sizes",
    )
    return router


def each_once(request: Request, known: Collection[str]) -> None:
    """Refuse a query parameter given twice (?verdict=allow&verdict=deny: not half applied)
    and one the endpoint does not read (?verdcit=deny: ignoring it would answer everything;
    /proof?tree_size=3 would prove against another size than the caller asked for; a POST
    reads none: ?dry_run=true on a reload would reload)."""
    if not request.scope.get("query_string"):
        return
    seen = [key for key, _ in request.query_params.multi_items()]
    repeated = sorted({key for key in seen if seen.count(key) > 1})
    unknown = sorted(set(seen) - set(known))
    reads = (
        f"this endpoint reads: {', '.join(sorted(known))}"
        if known
        else "this endpoint reads no query parameter"
    )
    errors = [
        {"loc": ("query", _shown(key)), "msg": "given more than once", "type": "value_error"}
        for key in repeated
    ] + [
        {
            "loc": ("query", key),  # the app's error handler masks it: see `_shown`
            "msg": f"unknown query parameter{_named(key)}; {reads}",
            "type": "extra_forbidden",
        }
        for key in unknown
    ]
    if errors:
        raise RequestValidationError(errors)


_PARAMETER = re.compile(r"[A-Za-z0-9_.\-]{1,40}", re.ASCII)


def _shown(key: str) -> str:
    """A parameter's name as an error may repeat it: one shaped like a parameter name
    (?tree_size, ?verdcit) is named; other text (an e-mail sent as a name) may be personal
    data and is not."""
    return key if _PARAMETER.fullmatch(key) and not key.isdigit() else UNKNOWN_KEY


def _named(key: str) -> str:
    shown = _shown(key)
    return "" if shown == UNKNOWN_KEY else f" {shown!r}"


def list_decisions(
    request: Request,
    principal: Reader,
    filters: Annotated[Filters, Depends()],
    cursor: Annotated[
        str | None, Query(pattern=CURSOR, description="next_cursor of the previous page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> Response:
    """Decisions matching every given filter, newest first, one page at a time.

    A page holding a record whose bytes no longer hash to its stored leaf hash (edited in
    the database) is 503 `audit_tampered`, naming its index and id: never served as genuine.
    """
    each_once(request, {*FILTERS, "cursor", "limit"})
    audit = get_state(request).audit
    items, next_cursor = query_page(audit, filters.for_principal(principal), cursor, limit)
    return json_response({"items": [page_item(s) for s in items], "next_cursor": next_cursor})


def export_decisions(
    request: Request, principal: Reader, filters: Annotated[Filters, Depends()]
) -> Response:
    """Every matching decision, newest first, one JSON document per line.

    A record edited in the database (its bytes no longer hash to its stored leaf hash) is
    never exported as genuine: among the first 1,000 it is 503 `audit_tampered`; later, the
    stream ends with an `export_incomplete` line naming it and is left unfinished.
    """
    each_once(request, FILTERS)
    audit = get_state(request).audit
    wanted = filters.for_principal(principal)
    # Download reads the first page before the response starts: bad filters and a log that
    # cannot be read get an error answer; a log failing later ends the stream unfinished.
    return Download(_export(audit, wanted), jsonl_failure, media_type=JSONLines.media_type)


def get_decision(request: Request, principal: Reader, decision_id: DecisionId) -> Response:
    """One decision: its audit record (PII masked), leaf index and leaf hash.

    A record whose bytes no longer hash to its stored leaf hash (edited in the database) is
    503 `audit_tampered`; /proof also checks the leaf hash against the signed tree.
    """
    each_once(request, ())
    state = get_state(request)
    state.decision(decision_id, principal.tenant)
    return json_response(page_item(state.audit.get(decision_id)))


def get_proof(request: Request, principal: Reader, decision_id: DecisionId) -> Response:
    """Inclusion proof of a decision in the tree of the current signed head.

    leaf_hash = SHA-256(0x00 || RFC 8785 JSON of `record`); each audit_path step combines as
    SHA-256(0x01 || left || right) (RFC 6962), ending at `root` == `head.root`.
    """
    each_once(request, ())  # ?tree_size=3 must not get a proof against another size
    state = get_state(request)
    state.decision(decision_id, principal.tenant)
    head = head_json(state.audit)
    proof = state.audit.inclusion(decision_id, tree_size=head["size"])
    return json_response({**proof.model_dump(mode="json"), "head": head})


def get_head(request: Request, principal: Reader) -> Response:
    """The current tree head, signed with the log's Ed25519 key."""
    each_once(request, ())
    return json_response(head_json(get_state(request).audit))


def get_consistency(
    request: Request,
    principal: Reader,
    first: Annotated[int, Query(alias="from", ge=0, le=2**53)],
    second: Annotated[
        int | None, Query(alias="to", ge=0, le=2**53, description="Default: the current size")
    ] = None,
) -> Response:
    """Proof that the log at size `from` is a prefix of the log at size `to`."""
    each_once(request, ("from", "to"))
    audit = get_state(request).audit
    size = audit.size
    second = size if second is None else second
    if max(first, second) > size:
        raise NotFound(
            f"the log has {size} records; there is no tree of size {max(first, second)}",
            code="tree_size_not_found",
            details={"size": size},
        )
    if first > second:
        raise InvalidRange(
            f"'from' ({first}) must not exceed 'to' ({second})",
            details={"from": first, "to": second},
        )
    return json_response(audit.consistency(first, second).model_dump(mode="json"))


def head_json(audit: AuditLog) -> dict[str, Any]:
    """The signed head with the public key that checks it."""
    return {**audit.head().model_dump(mode="json"), "public_key": audit.public_key_hex}


def page_item(stored: StoredRecord) -> dict[str, Any]:
    """A stored record as the API returns it."""
    return {
        "index": stored.index,
        "id": stored.id,
        "leaf_hash": stored.leaf_hash,
        "record": stored.record,
    }


def query_page(
    audit: AuditLog, filters: dict[str, Any], cursor: str | None, limit: int
) -> tuple[list[StoredRecord], str | None]:
    """One page of the audit query and the API cursor of the next page (None at the end)."""
    page = audit.query(**filters, cursor=to_audit_cursor(cursor), limit=limit)
    return page.items, to_api_cursor(page.next_cursor)


def to_audit_cursor(cursor: str | None) -> str | None:
    """The API's cursor (the leaf index to continue below, digits) as the audit log's cursor."""
    return None if cursor is None else _encode_cursor(int(cursor))


def to_api_cursor(cursor: str | None) -> str | None:
    """The audit log's cursor as the API's cursor: plain digits, so any value is well formed."""
    return None if cursor is None else str(_decode_cursor(cursor))


EXPORT_PAGE = 1000  # records read (and sent as one chunk) at a time


def _export(audit: AuditLog, filters: dict[str, Any]) -> Iterator[bytes]:
    cursor: str | None = None
    while True:
        page = audit.query(**filters, cursor=cursor, limit=EXPORT_PAGE)
        # One chunk per page, not per line: each chunk is a trip through the server (and
        # the event loop); a page bounds the memory all the same.
        if page.items:
            yield b"".join([orjson.dumps(page_item(stored)) + b"\n" for stored in page.items])
        cursor = page.next_cursor
        if cursor is None:
            return
