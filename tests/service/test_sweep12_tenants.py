"""Sweep 12: every route × every kind of key — status, scopes, tenants, no leaks.

The matrix walks the app's own route list, so a route added later without an entry in
`API` or `CONSOLE` fails `test_every_route_is_in_the_matrix` until someone decides who
may call it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from service import KeyStore
from service._auth import KeysError, hash_key, new_key
from tests.service.conftest import KEYS, bearer, pay
from tests.service.test_ui import csrf_of, login

# Keys on top of conftest's KEYS: a review-only and an admin key bound to acme, and an
# operator (no tenant) that may only read.
EXTRA: dict[str, tuple[list[str], str | None]] = {
    "acme-review-only": (["review"], "acme"),
    "acme-admin": (["admin"], "acme"),
    "operator-reader": (["audit:read"], None),
}
ALL_KEYS = {**KEYS, **EXTRA}
CALLERS = [*ALL_KEYS, None, "wrong"]  # None: no Authorization header; "wrong": unknown key
ACME_ACTOR = "acme-actor-7"
GLOBEX_ACTOR = "globex-actor-secret-9"

# Who may call each route: a tuple of scopes (any one), "public", or "operator-admin".
PUBLIC = "public"
OPERATOR_ADMIN = "operator-admin"
API: dict[tuple[str, str], Any] = {
    ("POST", "/v1/check"): ("check",),
    ("POST", "/v1/check/batch"): ("check",),
    ("POST", "/v1/rank"): ("check",),
    ("POST", "/v1/shield"): ("check",),
    ("GET", "/v1/policies"): ("check", "audit:read", "review"),
    ("POST", "/v1/policies/reload"): OPERATOR_ADMIN,
    ("GET", "/v1/policies/{name}"): ("check", "audit:read", "review"),
    ("GET", "/v1/decisions"): ("audit:read", "review"),
    ("GET", "/v1/decisions/export"): ("audit:read", "review"),
    ("GET", "/v1/decisions/{decision_id}"): ("audit:read", "review"),
    ("GET", "/v1/decisions/{decision_id}/proof"): ("audit:read", "review"),
    ("GET", "/v1/audit/head"): ("audit:read", "review"),
    ("GET", "/v1/audit/consistency"): ("audit:read", "review"),
    ("GET", "/v1/escalations"): ("audit:read", "review"),
    ("POST", "/v1/escalations/{decision_id}/resolve"): ("review",),
    ("GET", "/v1/escalations/{decision_id}/wait"): ("check", "audit:read", "review"),
    ("POST", "/v1/decisions/{decision_id}/review"): ("review",),
    ("GET", "/v1/decisions/{decision_id}/reviews"): ("audit:read", "review"),
    ("GET", "/v1"): PUBLIC,
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/metrics"): PUBLIC,
    ("GET", "/openapi.json"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    ("GET", "/docs-assets/swagger-ui-bundle.js"): PUBLIC,
    ("GET", "/docs-assets/swagger-ui.css"): PUBLIC,
}
CONSOLE: dict[tuple[str, str], Any] = {
    ("GET", "/ui/"): ("audit:read", "review"),
    ("GET", "/ui/login"): PUBLIC,
    ("POST", "/ui/login"): PUBLIC,
    ("POST", "/ui/logout"): PUBLIC,
    ("GET", "/ui/decisions"): ("audit:read", "review"),
    ("GET", "/ui/decisions/live"): ("audit:read", "review"),
    ("GET", "/ui/decisions/export"): ("audit:read", "review"),
    ("GET", "/ui/decisions/{decision_id}"): ("audit:read", "review"),
    ("POST", "/ui/decisions/{decision_id}/label"): ("review",),
    ("GET", "/ui/escalations"): ("audit:read", "review"),
    ("POST", "/ui/escalations/{decision_id}/resolve"): ("review",),
    ("GET", "/ui/rules"): ("audit:read", "review"),
    ("GET", "/ui/policies"): ("audit:read", "review"),
    ("GET", "/ui/policies/{name}"): ("audit:read", "review"),
    ("GET", "/ui/static/{name}"): PUBLIC,
    ("GET", "/ui/{path:path}"): PUBLIC,
}


def _routes(routes: list[Any], prefix: str = "") -> list[tuple[str, str]]:
    """(method, path) of every route, routers included (HEAD left out: GET's twin)."""
    found = []
    for route in routes:
        inner = getattr(route, "original_router", None)  # FastAPI's included router
        if inner is not None:
            found += _routes(inner.routes, prefix + route.include_context.prefix)
            continue
        for method in sorted(getattr(route, "methods", None) or ()):
            if method != "HEAD":
                found.append((method, prefix + route.path))
    return found


@pytest.fixture
def world(make_client: Callable[..., Any], tmp_path: Path) -> Any:
    """An app with every key of ALL_KEYS, and decisions (one escalated, one resolved) in
    each of acme and globex; `world.raw` the raw keys, `world.ids` the decision ids."""
    raw: dict[str, str] = {}
    entries = []
    for name, (scopes, tenant) in ALL_KEYS.items():
        raw[name], entry = new_key(name, scopes, tenant)
        entries.append(entry.as_yaml_dict())
    path = tmp_path / "keys-12.yaml"
    path.write_text(yaml.safe_dump(entries), encoding="utf-8")
    client = make_client(keys=KeyStore.from_file(path))
    raw["wrong"] = "gk_" + "x" * 43
    client.raw = raw
    ids: dict[str, str] = {}
    for tenant, actor in (("acme", ACME_ACTOR), ("globex", GLOBEX_ACTOR)):
        agent = bearer(raw[f"{tenant}-agent"])
        for what, amount in (("plain", 5), ("held", 900), ("resolved", 901)):
            r = client.post("/v1/check", json={"action": pay(amount, actor=actor)}, headers=agent)
            assert r.status_code == 200, r.text
            ids[f"{tenant}-{what}"] = r.json()["id"]
        done = client.post(
            f"/v1/escalations/{ids[f'{tenant}-resolved']}/resolve",
            json={"outcome": "approve"},
            headers=bearer(raw["admin"]),
        )
        assert done.status_code == 200, done.text
    client.ids = ids
    return client


def _expected(rule: Any, caller: str | None) -> int:
    """The status a caller gets from a route whose request is otherwise valid."""
    if rule == PUBLIC:
        return 200
    if caller is None or caller == "wrong":
        return 401
    scopes, tenant = ALL_KEYS[caller]
    if rule == OPERATOR_ADMIN:
        return 200 if "admin" in scopes and tenant is None else 403
    return 200 if "admin" in scopes or set(rule) & set(scopes) else 403


def _api_request(world: Any, method: str, path: str, target: str) -> tuple[str, Any]:
    """The URL and JSON body of a valid request to the route, aimed at `target`'s
    decision (acme or globex) where the route takes a decision id."""
    ids = world.ids
    if path.endswith("/resolve"):  # each call needs its own pending escalation
        r = world.post(
            "/v1/check",
            json={"action": pay(950, actor=ACME_ACTOR, tenant=target)},
            headers=bearer(world.raw["admin"]),
        )
        decision = r.json()["id"]
    elif path.endswith("/wait"):
        decision = ids[f"{target}-resolved"]
    else:
        decision = ids[f"{target}-plain"]
    url = path.replace("{decision_id}", decision).replace("{name}", "svc-test")
    body: dict[str, Any] = {
        "/v1/check": {"action": pay(1, actor=ACME_ACTOR)},
        "/v1/check/batch": {"actions": [pay(1, actor=ACME_ACTOR)]},
        "/v1/rank": {"items": [{"id": "a", "score": 1.0}]},
        "/v1/shield": {"actions": [pay(1, actor=ACME_ACTOR)]},
    }.get(path, {})
    if path.endswith("/resolve"):
        body = {"outcome": "deny"}
    elif path.endswith("/review"):
        body = {"label": "correct"}
    query = {
        "/v1/audit/consistency": "?from=0",
        "/v1/escalations": "?status=all",
        "/v1/escalations/{decision_id}/wait": "?timeout=0",
    }.get(path, "")
    return url + query, body if method == "POST" else None


def _send(world: Any, method: str, url: str, body: Any, caller: str | None) -> Any:
    headers = bearer(world.raw[caller]) if caller is not None else {}
    if method == "POST":
        return world.post(url, json=body, headers=headers)
    return world.get(url, headers=headers)


def _no_secrets(world: Any, response: Any) -> None:
    """No raw key and no key digest in a response's body or headers."""
    seen = response.text + repr(dict(response.headers))
    for name, raw in world.raw.items():
        assert raw not in seen, f"raw key of {name!r} in the response"
        assert hash_key(raw) not in seen, f"digest of key {name!r} in the response"


def _no_globex(world: Any, response: Any, asked: str = "") -> None:
    """Nothing of globex's decisions (but what the caller sent itself) in the answer."""
    text = response.text.replace(asked, "")
    assert GLOBEX_ACTOR not in text
    for key, value in world.ids.items():
        if key.startswith("globex") and value != asked:
            assert value not in text, f"{key} leaked"


def test_every_route_is_in_the_matrix(world: Any) -> None:
    assert sorted(set(_routes(world.app.routes))) == sorted({*API, *CONSOLE})
    schema_paths = {(m.upper(), p) for p, ops in world.app.openapi()["paths"].items() for m in ops}
    assert schema_paths <= set(API)


@pytest.mark.parametrize("route", sorted(API), ids=lambda r: f"{r[0]} {r[1]}")
def test_api_matrix(world: Any, route: tuple[str, str], caplog: Any) -> None:
    caplog.set_level(logging.DEBUG)
    method, path = route
    rule = API[route]
    for caller in CALLERS:
        url, body = _api_request(world, method, path, "acme")
        r = _send(world, method, url, body, caller)
        want = _expected(rule, caller)
        if want == 200 and "{decision_id}" in path and caller is not None:
            tenant = ALL_KEYS[caller][1]
            want = 404 if tenant not in (None, "acme") else 200
        assert r.status_code == want, (caller, url, r.text)
        if want == 401:
            assert r.headers["www-authenticate"].startswith("Bearer"), caller
            assert r.json()["error"]["code"] == "unauthorized"
        if want == 403:
            assert r.json()["error"]["code"] in {"missing_scope", "operator_only"}, r.text
        _no_secrets(world, r)
        if caller is not None and ALL_KEYS.get(caller, ([], None))[1] == "acme":
            _no_globex(world, r)
            if "{decision_id}" in path and want == 200:
                # another tenant's decision is as unknown as one that never existed
                url, body = _api_request(world, method, path, "globex")
                asked = re.search(r"/v1/\w+/([^/?]+)", url).group(1)  # type: ignore[union-attr]
                theirs = _send(world, method, url, body, caller)
                nowhere = _send(world, method, url.replace(asked, "no-such-id"), body, caller)
                assert theirs.status_code == nowhere.status_code == 404, theirs.text
                assert theirs.text.replace(asked, "no-such-id") == nowhere.text
                _no_globex(world, theirs, asked)
    for record in caplog.records:
        line = record.getMessage()
        for raw in world.raw.values():
            assert raw not in line and hash_key(raw) not in line
        assert GLOBEX_ACTOR not in line


ACME_READERS = [
    n
    for n, (s, t) in ALL_KEYS.items()
    if t == "acme" and {"audit:read", "review", "admin"} & set(s)
]


@pytest.mark.parametrize("caller", ACME_READERS)
@pytest.mark.parametrize(
    "url",
    [
        "/v1/decisions?tenant=globex",
        "/v1/decisions/export?tenant=globex",
        "/v1/escalations?tenant=globex",
        "/v1/escalations?status=all&tenant=globex",
    ],
)
def test_naming_another_tenant_in_a_filter_is_refused(world: Any, caller: str, url: str) -> None:
    r = world.get(url, headers=bearer(world.raw[caller]))
    assert r.status_code == 403, r.text
    assert r.json()["error"]["code"] == "tenant_mismatch"
    _no_globex(world, r)


@pytest.mark.parametrize("caller", ACME_READERS)
@pytest.mark.parametrize(
    "url",
    [
        "/v1/decisions?limit=1000",
        "/v1/decisions/export",
        "/v1/escalations?status=all",
        "/v1/escalations?status=resolved",
        "/v1/escalations?status=pending",
        f"/v1/decisions?actor={GLOBEX_ACTOR}",
        "/v1/decisions?tenant=acme",
    ],
)
def test_lists_hold_only_the_keys_tenant(world: Any, caller: str, url: str) -> None:
    r = world.get(url, headers=bearer(world.raw[caller]))
    assert r.status_code == 200, r.text
    _no_globex(world, r)
    tenants = set(re.findall(r'"tenant":\s*"([^"]*)"', r.text))
    assert tenants <= {"acme"}


def test_an_operator_sees_both_tenants(world: Any) -> None:
    r = world.get("/v1/decisions?limit=1000", headers=bearer(world.raw["operator-reader"]))
    tenants = {i["record"]["tenant"] for i in r.json()["items"]}
    assert tenants == {"acme", "globex"}


CHECK_BODIES: list[tuple[str, Callable[[dict[str, Any]], dict[str, Any]]]] = [
    ("/v1/check", lambda a: {"action": a}),
    ("/v1/check", lambda a: {"candidates": [[pay(1), 0.5], [a, 0.5]]}),
    ("/v1/check", lambda a: {"action": a, "explanations": [{"method": "x"}]}),
    ("/v1/check/batch", lambda a: {"actions": [pay(1), a]}),
    ("/v1/shield", lambda a: {"actions": [pay(1), a]}),
]


@pytest.mark.parametrize(("path", "make"), CHECK_BODIES)
@pytest.mark.parametrize(
    "action",
    [
        pay(1, tenant="globex"),
        pay(1, tenant=""),
        pay(1, tenant="ACME"),
        {"type": "function", "function": {"name": "pay", "arguments": '{"tenant": "globex"}'}},
        {
            "type": "function",
            "function": {"name": "pay", "arguments": "{}"},
            "tenant": "globex",
        },
    ],
)
def test_a_tenant_key_cannot_act_for_another_tenant(
    world: Any, path: str, make: Callable[..., Any], action: dict[str, Any]
) -> None:
    audit = world.app_state.audit
    before = audit.size
    r = world.post(path, json=make(action), headers=bearer(world.raw["acme-agent"]))
    if "function" in action and "tenant" not in action:
        # a tool call's arguments are its params, not the action's tenant: recorded as acme
        assert r.status_code == 200, r.text
        if path != "/v1/shield":  # shield records nothing
            ids = [i["id"] for i in r.json().get("items") or [r.json()]]
            assert {audit.get(i).record["tenant"] for i in ids} == {"acme"}
        return
    assert r.status_code == 403, r.text
    assert r.json()["error"]["code"] == "tenant_mismatch"
    assert audit.size == before


def test_a_tenant_key_records_under_its_own_tenant(world: Any) -> None:
    headers = bearer(world.raw["acme-agent"])
    made = [
        world.post("/v1/check", json={"action": pay(1)}, headers=headers).json(),
        world.post("/v1/check", json={"action": pay(1, tenant="acme")}, headers=headers).json(),
        world.post("/v1/check", json={"action": pay(1, tenant=None)}, headers=headers).json(),
        world.post("/v1/rank", json={"items": [{"id": "a", "score": 1}]}, headers=headers).json(),
        *world.post("/v1/check/batch", json={"actions": [pay(1)]}, headers=headers).json()["items"],
    ]
    for decision in made:
        assert world.app_state.audit.get(decision["id"]).record["tenant"] == "acme"


# -- the console --------------------------------------------------------------------------


def _signed_in(world: Any, caller: str | None) -> int | None:
    """Sign `caller` in (None: no session); the login's status."""
    world.cookies.clear()
    if caller is None:
        return None
    return int(login(world, world.raw[caller]).status_code)


def _console_request(world: Any, method: str, path: str, target: str) -> tuple[str, Any]:
    if path.endswith("/resolve"):
        r = world.post(
            "/v1/check",
            json={"action": pay(950, actor=ACME_ACTOR, tenant=target)},
            headers=bearer(world.raw["admin"]),
        )
        decision = r.json()["id"]
    else:
        decision = world.ids[f"{target}-plain"]
    url = (
        path.replace("{decision_id}", decision)
        .replace("{name}", "svc-test")
        .replace("{path:path}", "nowhere")
    )
    if path == "/ui/static/{name}":
        url = "/ui/static/" + sorted(p.name for p in _static_dir().iterdir())[0]
    data = {"label": "correct"} if path.endswith("/label") else {"outcome": "deny"}
    return url, data if method == "POST" else None


def _static_dir() -> Path:
    import service.ui

    return Path(service.ui.__file__).parent / "static"


CONSOLE_CALLERS = [n for n, (s, _) in ALL_KEYS.items() if s != ["check"]] + [None]


@pytest.mark.parametrize(
    "route",
    sorted(r for r in CONSOLE if r[1] not in ("/ui/login", "/ui/logout")),
    ids=lambda r: f"{r[0]} {r[1]}",
)
def test_console_matrix(world: Any, route: tuple[str, str]) -> None:
    method, path = route
    rule = CONSOLE[route]
    for caller in CONSOLE_CALLERS:
        assert _signed_in(world, caller) in (None, 303)
        url, data = _console_request(world, method, path, "acme")
        if method == "POST":
            page = world.get(url.rsplit("/", 1)[0] if "label" in url else "/ui/escalations")
            data = {**data, "csrf": csrf_of(page.text)} if caller is not None else data
            r = world.post(url, data=data, follow_redirects=False)
        else:
            r = world.get(url, follow_redirects=False)
        want = _expected(rule, caller) if caller is not None else None
        if path == "/ui/{path:path}":
            want = 404
        elif path == "/ui/" and want == 200:
            want = 303  # to the decisions
        elif "{decision_id}" in path and want == 200 and ALL_KEYS[caller][1] == "globex":
            want = 404  # acme's decision, for a globex key
        if caller is None:
            assert r.status_code in (200, 303, 401, 404) if rule == PUBLIC else (303, 401), r
        elif method == "POST" and want == 200:
            assert r.status_code == 303, (caller, url, r.text[:300])
        else:
            assert r.status_code == want, (caller, url, r.text[:300])
        _no_secrets(world, r)
        tenant = ALL_KEYS[caller][1] if caller is not None else None
        if tenant == "acme":
            _no_globex(world, r)
            if "{decision_id}" in path and r.status_code in (200, 303):
                url, data = _console_request(world, method, path, "globex")
                if method == "POST":
                    page = world.get("/ui/escalations")
                    data = {**data, "csrf": csrf_of(page.text)}
                    theirs = world.post(url, data=data, follow_redirects=False)
                else:
                    theirs = world.get(url, follow_redirects=False)
                assert theirs.status_code == 404, (caller, url, theirs.text[:300])
                _no_globex(world, theirs, url.split("/")[3])


@pytest.mark.parametrize("caller", ACME_READERS)
@pytest.mark.parametrize(
    "url",
    [
        "/ui/decisions?tenant=globex",
        "/ui/decisions/live?tenant=globex",
        "/ui/decisions/export?tenant=globex",
        "/ui/decisions/export?format=jsonl&tenant=globex",
        f"/ui/decisions?actor={GLOBEX_ACTOR}",
        "/ui/escalations",
        "/ui/rules",
    ],
)
def test_console_pages_of_an_acme_session_hold_no_globex(world: Any, caller: str, url: str) -> None:
    assert _signed_in(world, caller) == 303
    r = world.get(url)
    # An export naming another tenant is refused, as the API refuses it (403); pages list
    # the key's own tenant and say the filter is not applied.
    want = 403 if "/export" in url and "tenant=globex" in url else 200
    assert r.status_code == want, r.text[:300]
    _no_globex(world, r, GLOBEX_ACTOR if "actor=" in url else "")


def test_a_check_only_key_cannot_sign_in_to_the_console(world: Any) -> None:
    assert _signed_in(world, "acme-agent") == 403


# -- the keys file ------------------------------------------------------------------------


def _keys_file(tmp_path: Path, entries: Any) -> Path:
    path = tmp_path / "keys-bad.yaml"
    path.write_text(yaml.safe_dump(entries) if not isinstance(entries, str) else entries)
    return path


GOOD = {"name": "a", "sha256": "0" * 64, "scopes": ["check"], "tenant": "acme"}


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([GOOD, {**GOOD, "sha256": "1" * 64}], "duplicate key names"),
        ([GOOD, {**GOOD, "name": "b"}], "keys ['a', 'b'] have the same key"),
        ([{**GOOD, "sha256": "A" * 64}], "64 lower-case hex"),
        ([{**GOOD, "sha256": "0" * 63}], "64 lower-case hex"),
        ([{**GOOD, "sha256": " " + "0" * 64}], "64 lower-case hex"),
        ([{**GOOD, "scopes": ["check", "write"]}], "unknown scopes ['write']"),
        ([{**GOOD, "scopes": ["audit-read"]}], "unknown scopes"),
        ([{**GOOD, "scopes": []}], "non-empty list"),
        ([{**GOOD, "scopes": None}], "non-empty list"),
        ([{k: v for k, v in GOOD.items() if k != "scopes"}], "non-empty list"),
        ([{**GOOD, "scopes": ""}], "non-empty list"),
        ([{**GOOD, "scopes": [" check"]}], "unknown scopes"),
        ([{**GOOD, "name": " a"}], "spaces"),
        ([{**GOOD, "name": ""}], "empty"),
        ([{**GOOD, "tenant": "acme "}], "spaces"),
        ([{**GOOD, "tenant": "  "}], "empty"),
        ([{**GOOD, "tenant": 7}], "must be a string"),
        ([{**GOOD, "scope": ["check"]}], "unknown fields"),
        ([], "non-empty list"),
        ("- [", "cannot read keys file"),
    ],
)
def test_bad_keys_files_fail_at_startup_clearly(tmp_path: Path, entries: Any, message: str) -> None:
    with pytest.raises(KeysError, match=re.escape(message)) as caught:
        KeyStore.from_file(_keys_file(tmp_path, entries))
    assert "keys-bad.yaml" in str(caught.value)


def test_a_scopes_string_is_split_on_commas_and_spaces(tmp_path: Path) -> None:
    store = KeyStore.from_file(_keys_file(tmp_path, [{**GOOD, "scopes": " check, review "}]))
    assert store.entries[0].scopes == {"check", "review"}


# -- 401 and 403 as RFC 6750 (section 3) has them --------------------------------------------


@pytest.mark.parametrize("path", ["/v1/decisions", "/v1/check"])
def test_401_and_403_carry_the_bearer_challenge_of_rfc_6750(world: Any, path: str) -> None:
    def send(headers: dict[str, str]) -> Any:
        if path == "/v1/check":  # the hand-served fast path
            return world.post(path, json={"action": pay(1)}, headers=headers)
        return world.get(path, headers=headers)

    missing = send({})
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == 'Bearer realm="guard"'  # no error code
    wrong = send(bearer(world.raw["wrong"]))
    assert wrong.status_code == 401
    assert wrong.headers["www-authenticate"] == 'Bearer realm="guard", error="invalid_token"'
    caller = "acme-agent" if path != "/v1/check" else "acme-auditor"
    scopeless = send(bearer(world.raw[caller]))
    assert scopeless.status_code == 403
    needs = "audit:read review" if path != "/v1/check" else "check"
    assert scopeless.headers["www-authenticate"] == (
        f'Bearer realm="guard", error="insufficient_scope", scope="{needs}"'
    )
