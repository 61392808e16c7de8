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


@pytest.mark.parametrize(
    ("number", "status"),
    [
        pytest.param(2**53 - 1, 200, id="largest-exact"),
        pytest.param(2**53, 422, id="2**53"),
        pytest.param(-(2**53), 422, id="negative"),
        pytest.param(10**15, 200, id="sixteen-digits-in-range"),
    ],
)
def test_integer_limits_hold_for_small_bodies(client, number, status):
    # a small body skips the text walk only when it has no 16-digit run
    response = client.post("/v1/check", json={"action": {"kind": "pay", "params": {"n": number}}})
    assert response.status_code == status


def test_a_text_at_the_limit_passes_and_one_over_is_413(make_client):
    c = make_client(max_text_chars=60)
    ok = c.post("/v1/check", json={"action": {"kind": "pay", "params": {"note": "y" * 60}}})
    assert ok.status_code == 200
    over = c.post("/v1/check", json={"action": {"kind": "pay", "params": {"note": "y" * 61}}})
    assert over.status_code == 413 and over.json()["error"]["code"] == "text_too_large"


def test_an_escaped_text_is_measured_decoded(make_client):
    # "\u00e9" is six bytes in the body and one character in the text
    c = make_client(max_text_chars=120)
    body = '{"action": {"kind": "pay", "params": {"note": "' + "\\u00e9" * 30 + '"}}}'
    r = c.post("/v1/check", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 200


def test_shield_says_each_rules_effect(client):
    body = {
        "actions": [{"kind": "pay", "params": {"amount": 20000}}, {"kind": "pay", "params": {}}]
    }
    items = client.post("/v1/shield", json=body).json()["items"]
    assert items[0]["verdict"] == "deny"
    effects = {h["rule_id"]: h["effect"] for h in items[0]["hits"]}
    assert effects == {"big-payment": "escalate", "huge-payment": "deny"}
    assert items[0]["rule_ids"] == [h["rule_id"] for h in items[0]["hits"]]


@pytest.mark.parametrize("path", ["/v1/check", "/v1/check/batch", "/v1/rank", "/v1/shield"])
def test_json_nested_too_deeply_is_malformed_json_on_every_route(client, path):
    body = '{"actions": ' + "[" * 5000 + "]" * 5000 + "}"
    r = client.post(path, content=body, headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "malformed_json"
