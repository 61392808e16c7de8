"""Tool calls as actions: OpenAI Chat Completions, OpenAI Responses and Anthropic shapes.

Before: only `{"type": "function", "function": {...}}` was read; a Responses API
`function_call` item or an Anthropic `tool_use` block, as an agent gets them from those
APIs today, was refused as an action without a 'kind'.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from guard import Guard
from guard._exceptions import InvalidAction
from guard._validate import check_action

ARGS = {"command": "rm -rf /srv"}
SHAPES: dict[str, dict[str, Any]] = {
    "chat completions": {
        "id": "call_1",
        "type": "function",
        "function": {"name": "run_shell", "arguments": json.dumps(ARGS)},
    },
    "responses": {
        "id": "fc_1",
        "call_id": "call_1",
        "type": "function_call",
        "name": "run_shell",
        "arguments": json.dumps(ARGS),
        "status": "completed",
    },
    "anthropic": {"id": "toolu_1", "type": "tool_use", "name": "run_shell", "input": ARGS},
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_each_shape_is_the_same_action(shape: str) -> None:
    call = SHAPES[shape]
    data, _, _ = check_action(call)
    assert data == {"kind": "run_shell", "params": ARGS, "id": call["id"]}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_each_shape_is_decided_by_the_pack(shape: str) -> None:
    guard = Guard.from_policy("agent-tools")
    before = json.dumps(SHAPES[shape], sort_keys=True)
    decision = guard.check(SHAPES[shape])
    assert decision.verdict == "deny"
    assert "no-destructive-shell" in {h.rule_id for h in decision.hits}
    assert json.dumps(SHAPES[shape], sort_keys=True) == before  # the caller's call unchanged


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ({"type": "function_call", "arguments": "{}"}, "'function_call' needs name"),
        ({"type": "tool_use", "name": 7, "input": {}}, "'tool_use' needs name"),
        ({"type": "function", "function": "run_shell"}, "'function' needs function.name"),
        ({"type": "tool_use", "name": "x", "input": [1]}, "must be a JSON object, got list"),
        ({"type": "function_call", "name": "x", "arguments": "{"}, "not valid JSON"),
        ({"type": "function_call", "name": "", "arguments": "{}"}, "non-empty string 'kind'"),
    ],
)
def test_a_malformed_call_is_refused_saying_what_is_missing(
    call: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidAction, match=message):
        check_action(call)


@pytest.mark.parametrize("shape", ["function", "function_call"])
def test_arguments_giving_a_key_twice_are_refused(shape: str) -> None:
    # orjson keeps the last value: {"amount": 1} would be checked, while a tool whose JSON
    # reader keeps the first would pay 25000.
    text = '{"amount": 25000, "currency": "EUR", "amount": 1}'
    call: dict[str, Any] = (
        {"type": "function", "function": {"name": "pay", "arguments": text}}
        if shape == "function"
        else {"type": "function_call", "name": "pay", "arguments": text}
    )
    with pytest.raises(InvalidAction, match="the key 'amount' more than once"):
        check_action(call)
    nested = '{"to": {"iban": "x", "iban": "y"}}'
    with pytest.raises(InvalidAction, match="the key 'iban' more than once"):
        check_action({"type": "function_call", "name": "pay", "arguments": nested})


def test_arguments_with_distinct_keys_and_long_numbers_still_read() -> None:
    text = '{"a": {"b": 1}, "c": [{"b": 2}, {"b": 3}], "n": 9007199254740991}'
    data, _, _ = check_action({"type": "function_call", "name": "x", "arguments": text})
    assert data["params"] == json.loads(text)
    with pytest.raises(InvalidAction, match="outside the exact JSON range"):
        check_action({"type": "function_call", "name": "x", "arguments": '{"n": 9007199254740993}'})


@pytest.mark.parametrize("text", ["", "  ", "\n"])
def test_empty_arguments_text_is_no_arguments(text: str) -> None:
    # The duplicate-key check read "" with the stdlib parser: a JSONDecodeError, a 500
    # through the sidecar.
    for call in (
        {"type": "function", "function": {"name": "x", "arguments": text}},
        {"type": "function_call", "name": "x", "arguments": text},
    ):
        assert check_action(call)[0]["params"] == {}
