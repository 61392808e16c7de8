"""GET endpoints that read no query parameter refuse one (422 naming it): /proof?tree_size=3
answered a proof against the current head while the caller believed it had asked for the
tree of size 3; /v1/decisions/{id}, /v1/audit/head and /v1/policies ignored theirs too."""

from __future__ import annotations

from typing import Any

import pytest

from tests.service.conftest import pay


@pytest.mark.parametrize(
    "path",
    [
        "/v1/decisions/{id}/proof?tree_size=1",
        "/v1/decisions/{id}?fields=record",
        "/v1/audit/head?size=1",
        "/v1/policies?limit=1",
        "/v1/policies/svc-test?version=1",
    ],
)
def test_a_query_parameter_an_endpoint_does_not_read_is_refused(client: Any, path: str) -> None:
    decision_id = client.post("/v1/check", json={"action": pay(600)}).json()["id"]
    r = client.get(path.format(id=decision_id))
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "validation_error"
    name = path.split("?")[1].split("=")[0]
    assert error["details"]["errors"] == [
        {
            "loc": ["query", "<unknown key>"],  # service._http masks an unknown key in loc
            "msg": f"unknown query parameter {name!r}; this endpoint reads no query parameter",
            "type": "extra_forbidden",
        }
    ]


def test_an_unknown_parameter_is_named_with_what_the_endpoint_reads(client: Any) -> None:
    r = client.get("/v1/audit/consistency", params={"from": 0, "size": 1})
    assert r.status_code == 422
    (error,) = r.json()["error"]["details"]["errors"]
    assert error["msg"] == "unknown query parameter 'size'; this endpoint reads: from, to"


@pytest.mark.parametrize("name", ["jo@example.com", "Jo Smith", "x" * 41, "4111111111111111"])
def test_a_name_that_may_be_personal_data_is_not_repeated(client: Any, name: str) -> None:
    for params in ([(name, "1")], [(name, "1"), (name, "2")]):
        r = client.get("/v1/audit/head", params=params)
        assert r.status_code == 422
        assert name not in r.text and "unknown query parameter;" in r.text


def test_the_same_endpoints_answer_without_one(client: Any) -> None:
    decision_id = client.post("/v1/check", json={"action": pay(600)}).json()["id"]
    for path in (
        f"/v1/decisions/{decision_id}/proof",
        f"/v1/decisions/{decision_id}",
        "/v1/audit/head",
        "/v1/policies",
        "/v1/policies/svc-test",
    ):
        assert client.get(path).status_code == 200, path
