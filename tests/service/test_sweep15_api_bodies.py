"""Sweep 15: request bodies the sidecar's API must not ignore without a word."""

from __future__ import annotations

import pytest

from tests.service.conftest import PACK, bearer


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"dry_run": true}', id="dry-run"),
        pytest.param(b'{"policy": "other"}', id="one-pack"),
        pytest.param(b"[]", id="array"),
        pytest.param(b"not json", id="not-json"),
    ],
)
def test_a_reload_with_a_body_is_refused_not_ignored(keyed, raw_keys, pack_file, body):
    # POST /v1/policies/reload reads no body: {"dry_run": true} reloaded every pack, as
    # ?dry_run=true did before the query string was checked.
    pack_file.write_text(PACK.replace("version: 1", "version: 2"), encoding="utf-8")
    response = keyed.post(
        "/v1/policies/reload",
        content=body,
        headers={**bearer(raw_keys["admin"]), "content-type": "application/json"},
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert "takes no body" in error["details"]["errors"][0]["msg"]
    assert keyed.app_state.guard.packs["svc-test"].version == 1  # nothing was reloaded


@pytest.mark.parametrize("body", [b"", b"{}", b" {} \n"])
def test_a_reload_without_a_body_or_with_an_empty_object_reloads(keyed, raw_keys, pack_file, body):
    pack_file.write_text(PACK.replace("version: 1", "version: 2"), encoding="utf-8")
    headers = bearer(raw_keys["admin"])
    if body:
        headers["content-type"] = "application/json"  # as axios or requests' json={} send it
    response = keyed.post("/v1/policies/reload", content=body, headers=headers)
    assert response.status_code == 200, response.text
    assert keyed.app_state.guard.packs["svc-test"].version == 2


def test_the_refusal_names_the_body_and_repeats_none_of_it(keyed, raw_keys):
    response = keyed.post(
        "/v1/policies/reload", json={"jo@example.com": 1}, headers=bearer(raw_keys["admin"])
    )
    assert response.status_code == 422
    assert response.json()["error"]["details"]["errors"][0]["loc"] == ["body"]
    assert "jo@example.com" not in response.text


@pytest.mark.parametrize("path", ["/v1/check/batch", "/v1/shield"])
@pytest.mark.parametrize(
    "arguments",
    [
        pytest.param('{"amount": 1, "amount": 2}', id="key-twice"),
        pytest.param("[1, 2]", id="not-an-object"),
        pytest.param("{bad", id="not-json"),
        pytest.param('{"amount": 9007199254740993}', id="inexact-integer"),
    ],
)
def test_a_bad_tool_call_in_a_batch_is_named_by_its_position(client, path, arguments):
    # An engine error said "action #2: ..."; a tool call's arguments refused while reading
    # them said nothing of which of the (up to 1,000) actions it was.
    good = {"kind": "pay", "params": {"amount": 1}}
    bad = {"type": "function", "function": {"name": "pay", "arguments": arguments}}
    before = client.app_state.audit.size
    response = client.post(path, json={"actions": [good, good, bad]})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["message"].startswith("action #2: tool call arguments")
    assert client.app_state.audit.size == before
