"""Sweep 15: every status the sidecar answers on an operation is in its OpenAPI document.

A body above max_body_bytes is 413 body_too_large on any POST (LimitsMiddleware answers it
before the route), but resolve, review and reload did not declare 413, so a client generated
from the document treated the answer as an undocumented status.
"""

from __future__ import annotations

import pytest

from tests.service.conftest import pay


def _held(client) -> str:
    decision = client.post("/v1/check", json={"action": pay(700)}).json()
    assert decision["verdict"] == "escalate"
    return str(decision["id"])


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/escalations/{held}/resolve", {"outcome": "approve", "note": "x" * 1000}),
        ("/v1/decisions/{held}/review", {"label": "correct", "note": "x" * 1000}),
        ("/v1/policies/reload", {"note": "x" * 1000}),
        ("/v1/check", {"action": pay(1, note="x" * 1000)}),
    ],
)
def test_an_oversized_post_is_413_and_declared(make_client, path, body):
    client = make_client(max_body_bytes=500)
    held = _held(client)
    response = client.post(path.format(held=held), json=body)
    assert response.status_code == 413, response.text
    assert response.json()["error"]["code"] == "body_too_large"
    schema = client.get("/openapi.json").json()
    template = path.replace("{held}", "{decision_id}")
    declared = schema["paths"][template]["post"]["responses"]
    assert "413" in declared, sorted(declared)
    content = declared["413"]["content"]["application/json"]["schema"]
    assert content == {"$ref": "#/components/schemas/ErrorResponse"}


def test_every_post_declares_413(client):
    schema = client.get("/openapi.json").json()
    posts = [(p, ops["post"]) for p, ops in schema["paths"].items() if "post" in ops]
    assert len(posts) >= 7
    assert [p for p, op in posts if "413" not in op["responses"]] == []
