"""`max_batch` caps /v1/check/batch and /v1/shield; tool-call integers keep their value."""

from __future__ import annotations

import json

import pytest

ACTION = {"kind": "pay", "params": {"amount": 5}}


@pytest.mark.parametrize("path", ["/v1/check/batch", "/v1/shield"])
def test_more_actions_than_max_batch_is_413(make_client, path):
    client = make_client(max_batch=2)
    body = {"actions": [ACTION] * 3}
    response = client.post(path, json=body)
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "batch_too_large"
    assert error["details"] == {"max_actions": 2}


@pytest.mark.parametrize("path", ["/v1/check/batch", "/v1/shield"])
def test_max_batch_actions_are_still_taken(make_client, path):
    client = make_client(max_batch=2)
    body = {"actions": [ACTION] * 2}
    assert client.post(path, json=body).status_code == 200


def test_a_tool_call_integer_beyond_json_range_is_422_like_the_native_form(client):
    arguments = json.dumps({"q": "tiles"})[:-1] + ', "n": 99999999999999999999}'
    call = {"type": "function", "function": {"name": "pay", "arguments": arguments}}
    response = client.post("/v1/check", json={"action": call})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_action"
