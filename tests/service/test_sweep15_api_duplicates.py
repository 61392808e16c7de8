"""Sweep 15: a tool call's arguments giving a key twice are refused in every shape.

The README: "the arguments the params, and arguments giving a key twice are refused". That
held for arguments sent as JSON text (OpenAI's string); an Anthropic `tool_use` block's
`input` (or arguments sent as an object) is JSON in the request body itself, where the
duplicate went through: the guard decided the last value, a reader keeping the first would
run the other.
"""

from __future__ import annotations

import pytest

from tests.service.conftest import bearer

SHELL_THEN_OK = b'{"amount": 20000, "amount": 1}'  # huge-payment denies 20000; 1 is allowed
CALLS = {
    "tool_use": b'{"type": "tool_use", "id": "toolu_1", "name": "pay", "input": %s}',
    "function_call": b'{"type": "function_call", "name": "pay", "arguments": %s}',
    "function": b'{"type": "function", "function": {"name": "pay", "arguments": %s}}',
}


def _body(path: str, call: bytes) -> bytes:
    if path == "/v1/check":
        return b'{"action": %s}' % call
    if path == "/v1/check#candidates":
        return (
            b'{"candidates": [[{"kind": "pay", "params": {"amount": 2}}, 0.5], [%s, 0.4]]}' % call
        )
    return b'{"actions": [{"kind": "pay", "params": {"amount": 2}}, %s]}' % call


@pytest.mark.parametrize("shape", sorted(CALLS))
@pytest.mark.parametrize(
    "path", ["/v1/check", "/v1/check#candidates", "/v1/check/batch", "/v1/shield"]
)
def test_an_object_giving_a_key_twice_is_refused(keyed, raw_keys, shape, path):
    before = keyed.app_state.audit.size
    response = keyed.post(
        path.split("#")[0],
        content=_body(path, CALLS[shape] % SHELL_THEN_OK),
        headers={**bearer(raw_keys["acme-agent"]), "content-type": "application/json"},
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_action"
    assert "'amount' more than once" in error["message"]
    assert keyed.app_state.audit.size == before


@pytest.mark.parametrize("shape", sorted(CALLS))
def test_the_same_call_with_each_key_once_is_decided(keyed, raw_keys, shape):
    response = keyed.post(
        "/v1/check",
        content=_body("/v1/check", CALLS[shape] % b'{"amount": 1}'),
        headers={**bearer(raw_keys["acme-agent"]), "content-type": "application/json"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["final_action"]["params"] == {"amount": 1}
