"""The sidecar takes tool calls in the shapes agents get them: OpenAI Chat Completions,
OpenAI Responses (`function_call`) and Anthropic Messages (`tool_use`).

Before: only `{"type": "function", "function": {...}}` was accepted; the other two were
422 'body.action.ActionIn.kind: Field required'.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.service.conftest import pay

ARGS = {"amount": 900, "currency": "EUR"}
SHAPES: dict[str, dict[str, Any]] = {
    "chat completions": {
        "id": "call_1",
        "type": "function",
        "function": {"name": "pay", "arguments": json.dumps(ARGS)},
    },
    "responses": {
        "id": "fc_1",
        "call_id": "call_1",
        "type": "function_call",
        "name": "pay",
        "arguments": json.dumps(ARGS),
        "status": "completed",
    },
    "anthropic": {"id": "toolu_1", "type": "tool_use", "name": "pay", "input": ARGS},
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_check_decides_each_shape_as_the_native_action(client: Any, shape: str) -> None:
    native = client.post("/v1/check", json={"action": {**pay(900), "id": "x"}}).json()
    d = client.post("/v1/check", json={"action": SHAPES[shape]}).json()
    assert d["kind"] == "pay" and d["verdict"] == native["verdict"] == "escalate"
    assert [h["rule_id"] for h in d["hits"]] == [h["rule_id"] for h in native["hits"]]
    assert d["final_action"]["params"] == ARGS


def test_batch_and_shield_take_every_shape(client: Any) -> None:
    actions = [SHAPES[s] for s in sorted(SHAPES)]
    page = client.post("/v1/check/batch", json={"actions": actions}).json()
    assert [d["verdict"] for d in page["items"]] == ["escalate"] * 3
    shield = client.post("/v1/shield", json={"actions": actions})
    assert shield.status_code == 200 and len(shield.json()["items"]) == 3


def test_the_openapi_document_names_the_shapes(client: Any) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert {"ToolCall", "FunctionCall", "ToolUse"} <= set(schemas)
    assert schemas["ToolUse"]["properties"]["type"]["const"] == "tool_use"


@pytest.mark.parametrize(
    "call",
    [
        {"type": "function_call", "arguments": "{}"},  # no name
        {"type": "tool_use", "name": "pay", "input": "not an object"},
        {"type": "tool_use", "name": "", "input": {}},
    ],
)
def test_a_malformed_call_is_422(client: Any, call: dict[str, Any]) -> None:
    r = client.post("/v1/check", json={"action": call})
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error"


def test_arguments_that_are_not_json_are_422(client: Any) -> None:
    call = {"type": "function_call", "name": "pay", "arguments": "{not json"}
    r = client.post("/v1/check", json={"action": call})
    assert r.status_code == 422
    assert "not valid JSON" in r.json()["error"]["message"]
