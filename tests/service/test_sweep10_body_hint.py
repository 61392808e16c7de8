"""A body with a key of its own at the top (an action posted bare, not under 'action')
gets a 422 that names the keys the endpoint takes, still without echoing the caller's
own key names (they may be personal data)."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

EMAIL = "jane.doe@example.com"


@pytest.mark.parametrize(
    ("url", "body", "takes"),
    [
        pytest.param(
            "/v1/check",
            {"type": "function", "function": {"name": "x", "arguments": "{}"}, EMAIL: 1},
            "policy, action, context",
            id="bare-tool-call",
        ),
        pytest.param(
            "/v1/check", {"kind": "pay", "params": {}}, "policy, action, context", id="bare"
        ),
        pytest.param("/v1/check/batch", {"actions": [], EMAIL: 1}, "actions", id="batch"),
        pytest.param("/v1/rank", {"items": [], EMAIL: 2}, "items", id="rank"),
    ],
)
def test_top_level_unknown_key_names_what_the_endpoint_takes(
    client: TestClient, url: str, body: dict[str, Any], takes: str
) -> None:
    response = client.post(url, json=body)
    assert response.status_code == 422
    assert EMAIL not in response.text
    message = response.json()["error"]["message"]
    assert "does not take" in message and takes in message
    if url == "/v1/check":
        assert "goes under 'action'" in message


def test_nested_unknown_key_gets_no_top_level_hint(client: TestClient) -> None:
    body = {"action": {"type": "function", "function": {"name": "x", EMAIL: 1}}}
    response = client.post("/v1/check", json=body)
    assert response.status_code == 422
    assert "does not take" not in response.json()["error"]["message"]
