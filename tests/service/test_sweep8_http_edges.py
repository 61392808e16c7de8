"""Edges of the HTTP API a new user meets: an audit log that fails on the review routes, and
query parameters given twice outside /v1/decisions."""

from __future__ import annotations

from typing import Any

import pytest

from guard._exceptions import AuditError
from service import KeyStore
from tests.service.conftest import bearer, pay


def _failing(*args: Any, **kwargs: Any) -> Any:
    raise AuditError("the audit store is gone")


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        pytest.param("GET", "/v1/escalations", None, id="list-escalations"),
        pytest.param("GET", "/v1/escalations?status=all", None, id="list-all-escalations"),
        pytest.param("POST", "/v1/escalations/{id}/resolve", {"outcome": "approve"}, id="resolve"),
        pytest.param("GET", "/v1/escalations/{id}/wait?timeout=0", None, id="wait"),
        pytest.param("POST", "/v1/decisions/{id}/review", {"label": "correct"}, id="review"),
    ],
)
def test_a_failing_audit_log_is_a_declared_503_on_the_review_routes(
    client: Any, monkeypatch: pytest.MonkeyPatch, method: str, path: str, body: Any
) -> None:
    decision_id = client.post("/v1/check", json={"action": pay(600)}).json()["id"]
    audit = client.app_state.audit
    for name in ("get", "query", "append", "append_many"):
        monkeypatch.setattr(audit, name, _failing)
    r = client.request(method, path.format(id=decision_id), json=body)
    assert (r.status_code, r.json()["error"]["code"]) == (503, "audit_error")
    template = path.split("?")[0].replace("{id}", "{decision_id}")
    declared = client.get("/openapi.json").json()["paths"][template][method.lower()]
    assert "503" in declared["responses"]


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/v1/policies", id="list-policies"),
        pytest.param("/v1/policies/svc-test", id="one-policy"),
    ],
)
def test_a_policy_route_declares_the_503_of_an_unreachable_rate_limit_store(
    make_client: Any, path: str
) -> None:
    from service._auth import new_key

    raw, entry = new_key("reader", ["check"], "acme")
    client = make_client(keys=KeyStore([entry]), redis="redis://127.0.0.1:1/0")
    r = client.get(path, headers=bearer(raw))
    assert (r.status_code, r.json()["error"]["code"]) == (503, "rate_limit_unavailable")
    declared = client.get("/openapi.json").json()["paths"]
    template = "/v1/policies/{name}" if path.count("/") == 3 else path
    assert "503" in declared[template]["get"]["responses"]


@pytest.mark.parametrize(
    "query",
    [
        pytest.param("/v1/audit/consistency?from=1&from=0", id="consistency-from"),
        pytest.param("/v1/audit/consistency?from=0&to=1&to=0", id="consistency-to"),
        pytest.param("/v1/escalations?status=all&status=pending", id="escalations-status"),
        pytest.param("/v1/escalations?limit=1&limit=2", id="escalations-limit"),
        pytest.param("/v1/escalations/{id}/wait?timeout=0&timeout=1", id="wait-timeout"),
    ],
)
def test_a_query_parameter_given_twice_is_refused_not_half_applied(client: Any, query: str) -> None:
    decision_id = client.post("/v1/check", json={"action": pay(600)}).json()["id"]
    r = client.get(query.format(id=decision_id))
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"]["errors"][0]["msg"] == "given more than once"
