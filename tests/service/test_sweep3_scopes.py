"""Every route of the OpenAPI document, called with every kind of key: none, unknown,
check, audit:read, review+audit:read, another tenant's reader, and admin."""

from __future__ import annotations

from typing import Any

import pytest

from tests.service.conftest import bearer, pay

# path -> (method, body, statuses by caller). {id} is an escalated decision of tenant acme.
_CHECK = {"none": 401, "wrong": 401, "acme-agent": 200, "acme-auditor": 403,
          "acme-reviewer": 403, "globex-reader": 403, "admin": 200}  # fmt: skip
_ANY = {"none": 401, "wrong": 401, "acme-agent": 200, "acme-auditor": 200,
        "acme-reviewer": 200, "globex-reader": 200, "admin": 200}  # fmt: skip
_READ = {"none": 401, "wrong": 401, "acme-agent": 403, "acme-auditor": 200,
         "acme-reviewer": 200, "globex-reader": 200, "admin": 200}  # fmt: skip
_READ_ONE = {**_READ, "globex-reader": 404}
_REVIEW = {"none": 401, "wrong": 401, "acme-agent": 403, "acme-auditor": 403,
           "acme-reviewer": 200, "globex-reader": 404, "admin": 200}  # fmt: skip
_OPEN = dict.fromkeys(_ANY, 200)
# Still pending: 408 wait_expired for every key that may wait on it.
_WAIT = {**dict.fromkeys(_ANY, 408), "none": 401, "wrong": 401, "globex-reader": 404}

ROUTES: dict[tuple[str, str], tuple[dict[str, Any] | None, dict[str, int]]] = {
    ("POST", "/v1/check"): ({"action": pay(1)}, _CHECK),
    ("POST", "/v1/check/batch"): ({"actions": [pay(1)]}, _CHECK),
    ("POST", "/v1/rank"): ({"items": [{"id": "a", "score": 1}]}, _CHECK),
    ("POST", "/v1/shield"): ({"actions": [pay(1)]}, _CHECK),
    ("GET", "/v1/policies"): (None, _ANY),
    ("GET", "/v1/policies/{name}"): (None, _ANY),
    ("POST", "/v1/policies/reload"): (None, {**_CHECK, "acme-agent": 403}),
    ("GET", "/v1/decisions"): (None, _READ),
    ("GET", "/v1/decisions/export"): (None, _READ),
    ("GET", "/v1/decisions/{decision_id}"): (None, _READ_ONE),
    ("GET", "/v1/decisions/{decision_id}/proof"): (None, _READ_ONE),
    ("GET", "/v1/decisions/{decision_id}/reviews"): (None, _READ_ONE),
    ("GET", "/v1/audit/head"): (None, _READ),
    ("GET", "/v1/audit/consistency"): (None, _READ),
    ("GET", "/v1/escalations"): (None, _READ),
    ("POST", "/v1/decisions/{decision_id}/review"): ({"label": "correct"}, _REVIEW),
    ("GET", "/v1/escalations/{decision_id}/wait"): (None, _WAIT),
    ("POST", "/v1/escalations/{decision_id}/resolve"): ({"outcome": "approve"}, _REVIEW),
    ("GET", "/v1"): (None, _OPEN),
    ("GET", "/healthz"): (None, _OPEN),
    ("GET", "/readyz"): (None, _OPEN),
    ("GET", "/metrics"): (None, _OPEN),
}
_CALLERS = list(_ANY)


def test_the_table_covers_every_route(keyed: Any) -> None:
    spec = keyed.get("/openapi.json").json()
    routes = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    assert routes == set(ROUTES)


@pytest.mark.parametrize("caller", _CALLERS)
def test_each_caller_gets_what_its_key_allows(
    keyed: Any, raw_keys: dict[str, str], caller: str
) -> None:
    escalated = keyed.post(
        "/v1/check", json={"action": pay(700)}, headers=bearer(raw_keys["acme-agent"])
    ).json()
    assert escalated["verdict"] == "escalate" and escalated["tenant"] == "acme"
    headers = (
        {}
        if caller == "none"
        else bearer("gk_wrong")
        if caller == "wrong"
        else bearer(raw_keys[caller])
    )
    got: dict[str, int] = {}
    want: dict[str, int] = {}
    for (method, path), (body, statuses) in ROUTES.items():
        if path.endswith("/resolve") and caller == "admin":
            continue  # resolved once by the reviewer's run; admin's 409 is a replay
        url = path.replace("{decision_id}", escalated["id"]).replace("{name}", "svc-test")
        params = {"timeout": 0.05} if url.endswith("/wait") else None
        if url.endswith("/consistency"):
            params = {"from": 1, "to": 1}
        r = keyed.request(method, url, json=body, params=params, headers=headers)
        got[f"{method} {path}"] = r.status_code
        want[f"{method} {path}"] = statuses[caller]
        if r.status_code == 403:
            assert r.json()["error"]["code"] == "missing_scope", (path, caller)
    assert got == want
