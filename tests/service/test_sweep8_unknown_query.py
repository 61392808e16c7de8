"""A misspelt filter (?verdcit=deny) is a 422 naming it and what the endpoint reads, not
an answer that ignores it and lists everything."""

from __future__ import annotations

from typing import Any

import pytest

from tests.service.conftest import pay


@pytest.mark.parametrize(
    ("path", "reads"),
    [
        ("/v1/decisions?verdcit=deny", "actor, cursor, kind, limit, policy, rule_id"),
        ("/v1/decisions/export?verdcit=deny", "actor, kind, policy, rule_id, shadow_disagrees"),
        ("/v1/escalations?stauts=all", "cursor, limit, status, tenant"),
        ("/v1/escalations/{id}/wait?timeout=0&tiemout=1", "timeout"),
        ("/v1/audit/consistency?from=0&too=1", "from, to"),
    ],
)
def test_an_unknown_query_parameter_is_refused(client: Any, path: str, reads: str) -> None:
    decision_id = client.post("/v1/check", json={"action": pay(600)}).json()["id"]
    r = client.get(path.format(id=decision_id))
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "validation_error"
    assert "unknown query parameter" in r.text and reads in r.text


def test_known_parameters_still_filter(client: Any) -> None:
    client.post("/v1/check", json={"action": pay(600)})
    r = client.get("/v1/decisions", params={"verdict": "escalate", "limit": 5})
    assert r.status_code == 200 and [i["record"]["verdict"] for i in r.json()["items"]] == [
        "escalate"
    ]
