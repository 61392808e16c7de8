"""The review console's routes: login, decisions, detail, labels, escalations, rules, exports.

Every page reads through the viewer's tenant (a bound key never sees another tenant's
records), every form carries the session's CSRF token, and every response carries a
strict Content-Security-Policy: the console runs only its own script and stylesheet.
Routes are plain functions, so the audit log's blocking I/O runs in the thread pool.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode, urlsplit

import jinja2
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from starlette.routing import NoMatchFound

from guard._exceptions import AuditError, AuditTampered, GuardError
from guard.policy import CompiledPack
from service._auth import Principal
from service._deps import no_key_bucket
from service._errors import AlreadyResolved, NotEscalated, NotFound
from service._http import guard_error_status, route_of
from service._policies import shown_file
from service._state import ServiceState, is_held
from service.ui import _present as present
from service.ui._charts import timeline
from service.ui._export import Download, csv_failure, csv_lines, jsonl_failure, jsonl_lines
from service.ui._query import (
    LABELS,
    LAST,
    PAGE_SIZE,
    RESOLUTION,
    REVIEW,
    VERDICTS,
    Filters,
    LabelIndex,
    Stats,
    iter_matching,
    label_index,
    labels_on_demand,
    list_page,
    newer_of,
    pager,
    stats,
)
from service.ui._rules import rules_report
from service.ui._session import COOKIE, MAX_AGE, SessionCodec

__all__ = ["create_ui_router"]

log = logging.getLogger("guard.service")

_HERE = Path(__file__).parent
_STATIC_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}
_NOTE_MAX = 2000


def _note_too_long(note: str) -> str:
    return f"The note is {len(note):,} characters long; the limit is {_NOTE_MAX:,}."


_STATS_CACHE = 64  # filter sets whose counts are kept until the log grows
_KEY_MAX = 512
_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


# Bidi marks, embeddings, overrides and isolates (the "Trojan Source" characters): in an
# agent's text they would reorder what the reviewer reads, in that field and around it.
_BIDI_CONTROLS = {
    c: f"[U+{c:04X}]"
    for c in (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
}


def _visible_controls(value: object) -> object:
    """Every printed value with its bidi controls spelled out, as [U+202E]."""
    if isinstance(value, str) and not hasattr(value, "__html__"):
        return value.translate(_BIDI_CONTROLS)
    return value  # numbers, and macro output (Markup) whose values were spelled out already


@dataclass(frozen=True, slots=True)
class Viewer:
    """The signed-in reviewer of one request, the CSRF token of the session and a new cookie."""

    principal: Principal
    csrf: str
    cookie: str | None
    open_access: bool

    @property
    def tenant(self) -> str | None:
        """The tenant every read is limited to (None: an operator key, sees every tenant)."""
        return self.principal.tenant

    @property
    def can_review(self) -> bool:
        """Whether this reviewer may label decisions and resolve escalations."""
        return self.principal.can("review")


def create_ui_router(state: ServiceState, *, secret: bytes | None = None) -> APIRouter:
    """The console's router; mount it with `app.include_router(router, prefix="/ui")`.

    `secret` signs session cookies; without it (or a `session_secret` setting) a random
    per-process secret is used, so sessions end when the process restarts.
    """
    configured = getattr(state.settings, "session_secret", None)
    if secret is None and isinstance(configured, str) and configured:
        secret = configured.encode("utf-8")
    return _Console(state, secret).router


class _Console:
    def __init__(self, state: ServiceState, secret: bytes | None) -> None:
        self.state = state
        self.codec = SessionCodec(state.keys, secret, state.audit)
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(_HERE / "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            finalize=_visible_controls,
        )
        self.static = {
            p.name: p.read_bytes()
            for p in (_HERE / "static").iterdir()
            if p.suffix in _STATIC_TYPES
        }
        self.versions = {n: hashlib.sha256(b).hexdigest()[:12] for n, b in self.static.items()}
        self._stats_cache: OrderedDict[tuple[Any, ...], Stats] = OrderedDict()
        self._cache_lock = threading.Lock()
        self.router = APIRouter(include_in_schema=False)
        self._routes()

    def _routes(self) -> None:
        add = self._add
        add("/", self.index, methods=["GET"], name="ui_index")
        add("/login", self.login_form, methods=["GET"], name="ui_login")
        add("/login", self.login, methods=["POST"], name="ui_login_post")
        add("/logout", self.logout, methods=["POST"], name="ui_logout")
        add("/decisions", self.decisions, methods=["GET"], name="ui_decisions")
        add("/decisions/live", self.decisions_live, methods=["GET"], name="ui_decisions_live")
        # The path ends in /export so the app's request timeout leaves long exports alone.
        add("/decisions/export", self.export, methods=["GET"], name="ui_export")
        add("/decisions/{decision_id}", self.decision, methods=["GET"], name="ui_decision")
        add("/decisions/{decision_id}/label", self.label, methods=["POST"], name="ui_label")
        add("/escalations", self.escalations, methods=["GET"], name="ui_escalations")
        add("/escalations/{decision_id}/resolve", self.resolve, methods=["POST"], name="ui_resolve")
        add("/rules", self.rules, methods=["GET"], name="ui_rules")
        add("/policies", self.policies, methods=["GET"], name="ui_policies")
        add("/policies/{name}", self.policy, methods=["GET"], name="ui_policy")
        add("/static/{name}", self.static_file, methods=["GET"], name="ui_static")
        add("/{path:path}", self.not_found, methods=["GET"], name="ui_not_found")  # keep last

    def _add(self, path: str, endpoint: Callable[..., Response], **kwargs: Any) -> None:
        self.router.add_api_route(path, self._error_pages(endpoint), **kwargs)

    def _error_pages(self, endpoint: Callable[..., Response]) -> Callable[..., Response]:
        """`endpoint`, with an engine error (a tampered or unreadable audit log) answered by
        the console's error page: the app answers it with the API's JSON."""

        @functools.wraps(endpoint)
        def run(*args: Any, **kwargs: Any) -> Response:
            try:
                return endpoint(*args, **kwargs)
            except GuardError as exc:
                request = kwargs.get("request")
                if not isinstance(request, Request):
                    raise
                status = guard_error_status(exc)
                if status == 503:
                    log.error("audit log error on %s: %s", route_of(request), type(exc).__name__)
                message = f"The audit log cannot be read: {exc}" if status == 503 else str(exc)
                return self.error(request, None, status, message)

        return run

    def not_found(self, request: Request, path: str) -> Response:
        """Any other address under the console: its 404 page (405 or a redirect as before)."""
        for route in self.router.routes:  # a form's URL opened by hand: 405, as before
            if (
                isinstance(route, APIRoute)
                and "GET" not in (route.methods or ())
                and route.path_regex.match("/" + path)
            ):
                allow = ", ".join(sorted(route.methods or ()))
                return self.secure(Response("Method Not Allowed", 405, {"Allow": allow}))
        if request.url.path.endswith("/") and path:
            return self.secure(RedirectResponse(request.url.path.rstrip("/"), status_code=307))
        return self.error(request, None, 404, f"No console page at {request.url.path}.")

    # -- sessions ---------------------------------------------------------------------------

    def viewer(
        self, request: Request, scope: str = "audit:read", back: str | None = None
    ) -> Viewer | Response:
        """The request's reviewer, or the response to send instead (login, or forbidden).

        `back` is the page to return to after signing in when this request is a form post
        (a session that expired under an open form): the post's own URL answers only POST.
        """
        session = self.codec.load(request.cookies.get(COOKIE))
        cookie = None
        if session is None or session.principal is None:
            anonymous = self.state.keys.anonymous()
            if anonymous is None:
                query = {"next": _local(request.url.path, request.url.query)}
                if back is not None:
                    query = {"next": back, "unsent": "1"}
                target = self.url(request, "ui_login") + "?" + urlencode(query)
                return self.secure(RedirectResponse(target, status_code=303))
            session, cookie = self.codec.login(anonymous)
        principal = session.principal
        if principal is None:  # unreachable: both branches above set a principal
            return self.error(request, None, 401, "Sign in to use the console.")
        viewer = Viewer(principal, session.csrf, cookie, self.state.keys.is_open)
        if not _holds(principal, scope):
            return self.error(
                request, viewer, 403, f"The key {principal.name!r} lacks the {scope!r} scope."
            )
        limiter = getattr(request.app.state, "rate_limiter", None)
        wait = limiter.hit(principal.name) if limiter is not None else None
        if wait is not None:  # the console spends the key's rate limit, as the API does
            page = self.error(
                request,
                viewer,
                429,
                f"The rate limit of key {principal.name!r} is spent; try again in {wait} s.",
            )
            page.headers["Retry-After"] = str(wait)
            return page
        return viewer

    def csrf_ok(self, request: Request, expected: str, given: str) -> bool:
        """The form's token matches the session's, and the request came from this site."""
        if _cross_site(request):
            return False
        return bool(given) and hmac.compare_digest(expected.encode(), given.encode())

    def set_cookie(self, request: Request, response: Response, value: str) -> None:
        response.set_cookie(
            COOKIE,
            value,
            max_age=MAX_AGE,
            path=self.cookie_path(request),
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )

    def cookie_path(self, request: Request) -> str:
        return self.url(request, "ui_index").rstrip("/") or "/"

    # -- rendering --------------------------------------------------------------------------

    def url(self, request: Request, name: str, /, **params: str) -> str:
        """The path of route `name`; each parameter is percent-encoded (records hold any text)."""
        quoted = {k: quote(str(v), safe="") for k, v in params.items()}
        return str(request.url_for(name, **quoted).path)

    def secure(self, response: Response) -> Response:
        for header, value in _SECURITY_HEADERS.items():
            response.headers.setdefault(header, value)
        return response

    def render(
        self,
        request: Request,
        viewer: Viewer | None,
        template: str,
        status: int = 200,
        **context: Any,
    ) -> Response:
        def url(route: str, /, query: str = "", **params: str) -> str:
            return self.url(request, route, **params) + (f"?{query}" if query else "")

        def static(name: str) -> str:
            return url("ui_static", query=f"v={self.versions.get(name, '')}", name=name)

        html = self.env.get_template(template).render(
            request=request,
            viewer=viewer,
            url=url,
            static=static,
            current=template,
            note_max=_NOTE_MAX,
            **context,
        )
        response = self.secure(HTMLResponse(html, status_code=status))
        if viewer is not None and viewer.cookie is not None:
            self.set_cookie(request, response, viewer.cookie)
        return response

    def error(self, request: Request, viewer: Viewer | None, status: int, message: str) -> Response:
        return self.render(
            request, viewer, "error.html", status, status_code=status, message=message
        )

    def back(self, request: Request, name: str, query: str = "", **params: str) -> Response:
        target = self.url(request, name, **params) + (f"?{query}" if query else "")
        return self.secure(RedirectResponse(target, status_code=303))

    # -- login ------------------------------------------------------------------------------

    def index(self, request: Request) -> Response:
        return self.back(request, "ui_decisions")

    def login_form(
        self, request: Request, next: str = "", unsent: str = "", out: str = ""
    ) -> Response:
        session = self.codec.load(request.cookies.get(COOKIE))
        if self.state.keys.is_open or (session is not None and session.principal is not None):
            return self.secure(RedirectResponse(self._next(request, next), status_code=303))
        message = (
            "Your session ended before the form was sent, so nothing was saved; "
            "sign in and send it again."
            if unsent
            else ""
        )
        notice = "You are signed out." if out else ""
        return self._login_page(request, next, 200, message, notice)

    def _login_page(
        self, request: Request, next: str, status: int, message: str, notice: str = ""
    ) -> Response:
        session = self.codec.load(request.cookies.get(COOKIE))
        cookie = None
        if session is None or session.principal is not None:
            session, cookie = self.codec.anonymous()
        response = self.render(
            request,
            None,
            "login.html",
            status,
            csrf=session.csrf,
            next=_local_path(next),
            message=message,
            notice=notice,
        )
        # A page sent by another site gets no cookie: the browser withheld the reviewer's
        # SameSite session from that post, and a new cookie would replace it (a sign-out).
        if cookie is not None and not _cross_site(request):
            self.set_cookie(request, response, cookie)
        return response

    def login(
        self,
        request: Request,
        key: Annotated[str, Form()] = "",
        csrf: Annotated[str, Form()] = "",
        next: Annotated[str, Form()] = "",
    ) -> Response:
        session = self.codec.load(request.cookies.get(COOKIE))
        if session is None or not self.csrf_ok(request, session.csrf, csrf):
            return self._login_page(
                request, next, 403, "The form expired or did not come from this page; try again."
            )
        principal = self.state.keys.authenticate(key.strip()[:_KEY_MAX]) if key.strip() else None
        if principal is None:
            wait = _guess_throttled(request)
            if wait is not None:
                page = self._login_page(
                    request, next, 429, f"Too many sign-in attempts; try again in {wait} s."
                )
                page.headers["Retry-After"] = str(wait)
                return page
            return self._login_page(request, next, 401, "That key is not valid.")
        if not _holds(principal, "audit:read"):
            return self._login_page(
                request, next, 403, f"The key {principal.name!r} lacks the 'audit:read' scope."
            )
        _, cookie = self.codec.login(principal)
        response = self.secure(RedirectResponse(self._next(request, next), status_code=303))
        self.set_cookie(request, response, cookie)
        return response

    def logout(self, request: Request, csrf: Annotated[str, Form()] = "") -> Response:
        if _cross_site(request):  # its cookie was withheld: deleting it would sign the reviewer out
            return self.error(request, None, 403, "A sign-out from another site is refused.")
        session = self.codec.load(request.cookies.get(COOKIE))
        if session is not None and not self.csrf_ok(request, session.csrf, csrf):
            return self.error(request, None, 403, "The form expired; reload the page.")
        if session is not None and session.principal is not None:
            self.codec.revoke(session)
        response = self.back(request, "ui_login", "out=1")
        if COOKIE in request.cookies:  # else there is nothing here to delete
            response.delete_cookie(
                COOKIE, path=self.cookie_path(request), httponly=True, samesite="lax"
            )
        return response

    def _next(self, request: Request, wanted: str) -> str:
        root = self.url(request, "ui_index")
        path = _local_path(wanted)
        return path if path.startswith(root) else self.url(request, "ui_decisions")

    # -- decisions --------------------------------------------------------------------------

    def decisions(self, request: Request, cursor: str = "") -> Response:
        viewer = self.viewer(request)
        if isinstance(viewer, Response):
            return viewer
        newer = newer_of(request.query_params.getlist("newer"))
        context = self._list_context(request, viewer, cursor or None, newer)
        return self.render(request, viewer, "decisions.html", **context)

    def decisions_live(self, request: Request) -> Response:
        session = self.codec.load(request.cookies.get(COOKIE))
        if (session is None or session.principal is None) and not self.state.keys.is_open:
            return self.secure(Response("sign in again", status_code=401))
        viewer = self.viewer(request)
        if isinstance(viewer, Response):
            return viewer
        context = self._list_context(request, viewer, None, [])
        return self.render(request, viewer, "_results.html", **context)

    def _list_context(
        self, request: Request, viewer: Viewer, cursor: str | None, newer: list[str]
    ) -> dict[str, Any]:
        filters, errors = Filters.from_params(request.query_params)
        other = _other_tenant(viewer, filters)
        if other:  # reported and dropped: the counts' links and the exports do not carry it
            errors.append(f"{other}, so that filter is not applied.")
            filters = replace(filters, tenant="")
        tenant = viewer.tenant if viewer.tenant is not None else (filters.tenant or None)
        now = datetime.now(UTC)
        empty = filters.empty_window(now)
        if empty:  # said, not an empty list that looks like a quiet log
            errors.append(empty)
        # Without a label filter only the page's rows need their labels: one query each,
        # not every review in the log on each page load and each live poll.
        labels = (
            label_index(self.state.audit, tenant)
            if filters.label
            else labels_on_demand(self.state.audit, tenant)
        )
        try:
            page = list_page(self.state.audit, filters, tenant, labels, now, cursor)
        except AuditTampered:  # an edited record on that page: the error page names it
            raise
        except AuditError as exc:  # a cursor from elsewhere or edited by hand
            errors.append(str(exc))
            page = list_page(self.state.audit, filters, tenant, labels, now, None)
            cursor, newer = None, []
        newer_query, older_query = pager(filters.params(), cursor, newer, page.next_cursor)
        counts = self._stats(filters, tenant, labels, now)
        if counts.total == 0:
            errors.extend(_version_hint(filters.version))
        rows = [present.row(r, now, _label(labels, r)) for r in page.records]
        since, until = filters.window(now)
        return {
            "filters": filters,
            "errors": errors,
            "rows": rows,
            "page": page,
            "stats": counts,
            "chart": timeline(counts.times, since, until, now),
            "cursor": cursor,
            "newer_query": newer_query,
            "older_query": older_query,
            "query": filters.query_string(),
            "verdicts": VERDICTS,
            "labels": LABELS,
            "lasts": tuple(LAST),
            "packs": self._packs(),
            "rule_ids": self._rule_ids(),
            "page_size": PAGE_SIZE,
            "tenant_fixed": viewer.tenant,
        }

    def _stats(
        self, filters: Filters, tenant: str | None, labels: LabelIndex, now: datetime
    ) -> Stats:
        """Counts for the charts; reused while the log has not grown (live polls are cheap)."""
        kwargs = filters.store_kwargs(tenant, now)
        key = (
            self.state.audit.size,
            filters.q,
            filters.label,
            tuple(sorted((k, str(v)) for k, v in kwargs.items())),
        )
        with self._cache_lock:
            found = self._stats_cache.get(key)
            if found is not None:
                self._stats_cache.move_to_end(key)
                return found
        counts = stats(self.state.audit, filters, tenant, labels, now)
        with self._cache_lock:
            self._stats_cache[key] = counts
            while len(self._stats_cache) > _STATS_CACHE:
                self._stats_cache.popitem(last=False)
        return counts

    def decision(self, request: Request, decision_id: str) -> Response:
        viewer = self.viewer(request)
        if isinstance(viewer, Response):
            return viewer
        try:
            record = present.shown_record(self.state.decision(decision_id, viewer.tenant))
        except NotFound:
            return self.error(request, viewer, 404, f"No decision with id {decision_id!r}.")
        reviews = self.state.audit.query(
            record_type=REVIEW, ref_id=decision_id, tenant=viewer.tenant, limit=100
        ).items
        held = is_held(record)
        resolution = self.state.escalations.resolution(decision_id) if held else None
        pack = self.state.guard.packs.get(str(record.get("policy")))
        shadow = _dict(record.get("shadow"))
        # The shadow pack loaded now, and whether it is the one that judged this decision:
        # only then do its hits link to its source (the live pack's is another version).
        shadow_pack = self.state.shadow.get(str(shadow.get("policy"))) if shadow else None
        shadow_same = shadow_pack is not None and shadow_pack.digest == (shadow or {}).get("digest")
        return self.render(
            request,
            viewer,
            "decision.html",
            r=record,
            row=present.row(record, datetime.now(UTC), None),
            original=_json_or_none(record.get("action")),
            final=_json_or_none(record.get("final_action")),
            hits=present.hits(record.get("hits")),
            pii=present.pii_findings(record.get("pii")),
            report=record.get("pii_report") if isinstance(record.get("pii_report"), dict) else None,
            explanations=present.explanations(record.get("explanations")),
            shadow=shadow,
            shadow_hits=present.hits(shadow.get("hits")) if shadow else [],
            shadow_pack=shadow_pack,
            shadow_lines=_rule_lines(shadow_pack) if shadow_same else None,
            proof=present.proof(self.state.audit, decision_id),
            reviews=[i.record for i in reviews],
            held=held,
            resolution=resolution,
            pack=pack,
            rule_lines=_rule_lines(pack),
            labels=LABELS,
            items=_dicts(record.get("items")),
            substitution=_dict(record.get("substitution")),
            when=present.when,
            pieces=present.pieces,
            masked_json=present.masked_json,
            flash=request.query_params.get("done", ""),
            api_policy=_api_policy_url(request, str(record.get("policy", ""))),
        )

    def label(
        self,
        request: Request,
        decision_id: str,
        label: Annotated[str, Form()] = "",
        note: Annotated[str, Form()] = "",
        csrf: Annotated[str, Form()] = "",
    ) -> Response:
        page = self.url(request, "ui_decision", decision_id=decision_id)
        viewer = self.viewer(request, "review", back=page)
        if isinstance(viewer, Response):
            return viewer
        if not self.csrf_ok(request, viewer.csrf, csrf):
            return self.error(request, viewer, 403, "The form expired; reload the page.")
        if label not in LABELS:
            return self.error(
                request,
                viewer,
                400,
                f"Unknown label {label!r}; expected one of {', '.join(LABELS)}.",
            )
        if len(note) > _NOTE_MAX:
            return self.error(request, viewer, 400, _note_too_long(note))
        try:
            self.state.label(
                decision_id,
                label,
                note,
                viewer.principal.name,
                viewer.tenant,
                key=viewer.principal.name,
            )
        except NotFound:
            return self.error(request, viewer, 404, f"No decision with id {decision_id!r}.")
        return self.back(request, "ui_decision", "done=labelled", decision_id=decision_id)

    # -- escalations ------------------------------------------------------------------------

    def escalations(self, request: Request, cursor: str = "", done: str = "") -> Response:
        viewer = self.viewer(request)
        if isinstance(viewer, Response):
            return viewer
        newer = newer_of(request.query_params.getlist("newer"))
        return self._escalations_page(request, viewer, cursor or None, newer, done, 200, "")

    def _escalations_page(
        self,
        request: Request,
        viewer: Viewer,
        cursor: str | None,
        newer: list[str],
        done: str,
        status: int,
        message: str,
    ) -> Response:
        now = datetime.now(UTC)
        try:
            pending, next_cursor = self.state.escalations.pending_page(
                viewer.tenant, limit=PAGE_SIZE, cursor=cursor
            )
        except AuditTampered:  # an edited record on that page: the error page names it
            raise
        except AuditError as exc:  # a cursor from elsewhere or edited by hand: the first page
            pending, next_cursor = self.state.escalations.pending_page(
                viewer.tenant, limit=PAGE_SIZE
            )
            cursor, newer = None, []
            message = message or str(exc)
        newer_query, older_query = pager({}, cursor, newer, next_cursor)
        recent = self.state.audit.query(
            record_type=RESOLUTION, tenant=viewer.tenant, limit=20
        ).items
        resolved = self._resolution(done, viewer) if done else None
        return self.render(
            request,
            viewer,
            "escalations.html",
            status,
            pending=[(present.row(r, now, None), present.hits(r.get("hits"))) for r in pending],
            next_cursor=next_cursor,
            newer_query=newer_query,
            older_query=older_query,
            cursor=cursor or "",
            newer=newer,
            paged=cursor is not None,
            recent=[i.record for i in recent],
            resolved=resolved,
            message=message,
            when=present.when,
            age=lambda t: present.age(t, now),
        )

    def _resolution(self, decision_id: str, viewer: Viewer) -> dict[str, Any] | None:
        try:
            self.state.decision(decision_id, viewer.tenant)
        except NotFound:
            return None
        return self.state.escalations.resolution(decision_id)

    def resolve(
        self,
        request: Request,
        decision_id: str,
        outcome: Annotated[str, Form()] = "",
        note: Annotated[str, Form()] = "",
        csrf: Annotated[str, Form()] = "",
        back: Annotated[str, Form()] = "",
        cursor: Annotated[str, Form()] = "",
        newer: Annotated[list[str] | None, Form()] = None,
    ) -> Response:
        """Resolve an escalation; back to its decision's page, or to the escalations page
        (`cursor` and `newer`: a later one) the form was on."""
        stack = newer_of(newer or []) if cursor else []
        later = [("cursor", cursor), *(("newer", c) for c in stack)] if cursor else []
        page = (
            self.url(request, "ui_decision", decision_id=decision_id)
            if back == "detail"
            else _local(self.url(request, "ui_escalations"), urlencode(later))
        )
        viewer = self.viewer(request, "review", back=page)
        if isinstance(viewer, Response):
            return viewer
        if not self.csrf_ok(request, viewer.csrf, csrf):
            return self.error(request, viewer, 403, "The form expired; reload the page.")
        if outcome not in ("approve", "deny"):
            return self.error(
                request, viewer, 400, f"Unknown outcome {outcome!r}; expected approve or deny."
            )
        if len(note) > _NOTE_MAX:
            return self.error(request, viewer, 400, _note_too_long(note))
        try:
            self.state.escalations.resolve(
                decision_id,
                "approve" if outcome == "approve" else "deny",
                note,
                viewer.principal.name,
                viewer.tenant,
                key=viewer.principal.name,
            )
        except NotFound:
            return self.error(request, viewer, 404, f"No decision with id {decision_id!r}.")
        except (NotEscalated, AlreadyResolved) as exc:
            if back == "detail" and isinstance(exc, AlreadyResolved):  # it shows who, and how
                return self.back(request, "ui_decision", "done=already", decision_id=decision_id)
            return self._escalations_page(
                request, viewer, cursor or None, stack, "", 409, exc.message
            )
        if back == "detail":
            return self.back(request, "ui_decision", "done=resolved", decision_id=decision_id)
        return self.back(request, "ui_escalations", urlencode([*later, ("done", decision_id)]))

    # -- rules and policies -----------------------------------------------------------------

    def rules(self, request: Request) -> Response:
        viewer = self.viewer(request)
        if isinstance(viewer, Response):
            return viewer
        labels = label_index(self.state.audit, viewer.tenant)
        report = rules_report(
            self.state.audit, self.state.guard.packs, viewer.tenant, labels, datetime.now(UTC)
        )
        return self.render(
            request, viewer, "rules.html", report=report, labels_truncated=labels.truncated
        )

    def policies(self, request: Request) -> Response:
        viewer = self.viewer(request)
        if isinstance(viewer, Response):
            return viewer
        shadow = sorted(self.state.shadow.values(), key=lambda p: p.name)
        return self.render(request, viewer, "policies.html", packs=self._packs(), shadow=shadow)

    def policy(self, request: Request, name: str, shadow: str = "") -> Response:
        """A loaded pack's rules and source; `shadow` set: the shadow pack of that name."""
        viewer = self.viewer(request)
        if isinstance(viewer, Response):
            return viewer
        pack = (self.state.shadow if shadow else self.state.guard.packs).get(name)
        if pack is None:
            what = "shadow policy pack" if shadow else "loaded policy pack"
            return self.error(request, viewer, 404, f"No {what} named {name!r}.")
        # The path on the server for operators; others see the file's name (as in the API).
        pack = replace(pack, path=shown_file(pack.path, viewer.principal))
        return self.render(
            request,
            viewer,
            "policy.html",
            pack=pack,
            shadow=bool(shadow),
            lines=pack.source.splitlines(),
            rule_lines=_rule_lines(pack),
        )

    def _packs(self) -> list[CompiledPack]:
        return sorted(self.state.guard.packs.values(), key=lambda p: p.name)

    def _rule_ids(self) -> list[str]:
        return sorted({r.id for p in self.state.guard.packs.values() for r in p.rules})

    # -- exports and static files -----------------------------------------------------------

    def export(self, request: Request, format: str = "csv") -> Response:
        viewer = self.viewer(request)
        if isinstance(viewer, Response):
            return viewer
        if format not in ("csv", "jsonl"):
            return self.error(
                request, viewer, 400, f"Unknown export format {format!r}; expected csv or jsonl."
            )
        now = datetime.now(UTC)
        filters, errors = Filters.from_params(request.query_params)
        empty = filters.empty_window(now)
        if empty:  # as the list says it: not a file with no rows
            errors.append(empty)
        if errors:
            return self.error(request, viewer, 400, "; ".join(errors))
        other = _other_tenant(viewer, filters)
        if other:  # refused, as the API refuses it (403 tenant_mismatch): not an empty file
            return self.error(request, viewer, 403, f"{other}.")
        tenant = viewer.tenant if viewer.tenant is not None else (filters.tenant or None)
        labels = label_index(self.state.audit, tenant)
        rows = iter_matching(self.state.audit, filters, tenant, labels, now)
        stamp = now.strftime("%Y%m%dT%H%M%SZ")
        headers = {"Content-Disposition": f'attachment; filename="decisions-{stamp}.{format}"'}
        if format == "csv":
            csv_type = "text/csv; charset=utf-8"
            response = Download(
                csv_lines(rows, labels), csv_failure, media_type=csv_type, headers=headers
            )
        else:
            ndjson = "application/x-ndjson"
            response = Download(
                jsonl_lines(rows), jsonl_failure, media_type=ndjson, headers=headers
            )
        return self.secure(response)

    def static_file(self, name: str) -> Response:
        body = self.static.get(name)
        if body is None:
            return self.secure(Response("not found", status_code=404))
        response = Response(body, media_type=_STATIC_TYPES[Path(name).suffix])
        response.headers["Cache-Control"] = "public, max-age=86400"
        return self.secure(response)


def _holds(principal: Principal, scope: str) -> bool:
    """Whether `principal` may do `scope` here; as in the API, `review` also reads the log."""
    return principal.can(scope) or (scope == "audit:read" and principal.can("review"))


def _other_tenant(viewer: Viewer, filters: Filters) -> str:
    """Why the tenant filter is not the viewer's to use ('' when it is): a key bound to a
    tenant reads only that one, so a link naming another would list this one's decisions."""
    if viewer.tenant is None or filters.tenant in ("", viewer.tenant):
        return ""
    return (
        f"The key {viewer.principal.name!r} is bound to tenant {viewer.tenant!r}; "
        f"it cannot read tenant {filters.tenant!r}"
    )


def _version_hint(version: str) -> list[str]:
    """Why a Version filter copied from the list ("v3": the list writes a v before each
    version) found nothing, and what to type instead; [] for any other filter."""
    bare = version[1:].strip(" ")
    if version[:1] not in ("v", "V") or not bare:
        return []
    return [
        f"no decision has version {version!r}; the list writes a v before each version, "
        f"so filter on {bare!r}"
    ]


def _api_policy_url(request: Request, name: str) -> str | None:
    """The API's GET /v1/policies/{name}, when the app serving the console has that route."""
    if not name:
        return None
    try:
        return str(request.url_for("get_policy", name=quote(name, safe="")).path)
    except NoMatchFound:
        return None


def _cross_site(request: Request) -> bool:
    """Whether the browser says this request came from another site (Sec-Fetch-Site, Origin).

    The console's pages send `Referrer-Policy: no-referrer`, so its own form posts carry
    `Origin: null`: that value proves nothing either way.
    """
    if request.headers.get("sec-fetch-site") == "cross-site":
        return True
    origin = request.headers.get("origin")
    return bool(origin) and origin != "null" and urlsplit(origin).netloc != request.url.netloc


def _local(path: str, query: str) -> str:
    return f"{path}?{query}" if query else path


def _guess_throttled(request: Request) -> int | None:
    """Count a wrong key against this address as the API does (`_deps._refuse`): guessing
    keys at the sign-in form is throttled like guessing them at the API. Seconds to wait."""
    limiter = getattr(request.app.state, "rate_limiter", None)
    if limiter is None:
        return None
    wait: int | None = limiter.hit(no_key_bucket(request))
    return wait


def _local_path(wanted: str) -> str:
    """`wanted` when it is a path on this site, else ''; refuses //host and scheme URLs."""
    parts = urlsplit(wanted)
    if parts.scheme or parts.netloc or not wanted.startswith("/") or wanted.startswith("//"):
        return ""
    if "\\" in wanted or any(ord(c) < 32 for c in wanted):
        return ""
    return wanted


def _label(labels: LabelIndex, record: dict[str, Any]) -> str | None:
    latest = labels.latest(str(record.get("id", "")))
    return str(latest.get("label")) if latest else None


def _json_or_none(value: object) -> list[present.Piece] | None:
    return None if value is None else present.masked_json(value)


def _dicts(value: object) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _dict(value: object) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


def _rule_lines(pack: CompiledPack | None) -> dict[str, int]:
    if pack is None:
        return {}
    return {r.id: r.line for r in pack.rules if r.line is not None}
