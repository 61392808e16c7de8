"""Sweep 15: a 422 about an action speaks of the shape the caller sent, not of every shape
the sidecar takes.

An action is one of four shapes (native, and three tool-call forms); a native action with a
kind too long was answered "invalid request: body.action.ActionIn.kind,
body.action.ToolCall.type, body.action.ToolCall.function", sending a caller who never
wrote a tool call to look for one.
"""

from __future__ import annotations

import pytest

from tests.service.conftest import pay

BRANCHES = {"ActionIn", "ToolCall", "FunctionCall", "ToolUse"}


@pytest.mark.parametrize(
    ("action", "branch", "field"),
    [
        pytest.param({"kind": "x" * 201}, "ActionIn", "kind", id="native-kind-too-long"),
        pytest.param({"kind": "pay", "actor": "x" * 201}, "ActionIn", "actor", id="native-actor"),
        pytest.param({"kind": "pay", "params": []}, "ActionIn", "params", id="native-params"),
        pytest.param(
            {"type": "function", "function": {"name": "pay", "arguments": []}},
            "ToolCall",
            "function",
            id="chat-completions-arguments-a-list",
        ),
        pytest.param(
            {"type": "function_call", "arguments": "{}"}, "FunctionCall", "name", id="responses"
        ),
        pytest.param(
            {"type": "tool_use", "name": "pay", "input": "{}"}, "ToolUse", "input", id="anthropic"
        ),
    ],
)
@pytest.mark.parametrize("path", ["/v1/check", "/v1/check/batch"])
def test_the_errors_name_only_the_shape_sent(client, action, branch, field, path):
    body = {"action": action} if path == "/v1/check" else {"actions": [action]}
    response = client.post(path, json=body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    errors = error["details"]["errors"]
    assert errors, error
    assert all(branch in e["loc"] for e in errors), errors
    assert any(e["loc"][e["loc"].index(branch) + 1] == field for e in errors), errors
    assert not (BRANCHES - {branch}) & set(
        error["message"].replace(",", " ").replace(".", " ").split()
    )


def test_an_action_of_no_shape_at_all_still_lists_them_all(client):
    # {} could be meant as any of them: every shape's complaint stays.
    response = client.post("/v1/check", json={"action": {"type": "webhook"}})
    assert response.status_code == 422
    locs = [e["loc"] for e in response.json()["error"]["details"]["errors"]]
    assert {loc[2] for loc in locs} == BRANCHES


def test_a_valid_action_is_untouched(client):
    assert client.post("/v1/check", json={"action": pay(1)}).status_code == 200
