"""Sweep 15: request bodies in the encodings clients in other languages send.

RFC 8259 has JSON exchanged as UTF-8, a byte order mark at most ignored. The routes FastAPI
reads (json.loads of the bytes) also take UTF-16 and UTF-32, found from the first bytes;
POST /v1/check, served ahead of FastAPI, refused those bodies as "not valid JSON".
"""

from __future__ import annotations

import json

import pytest

from tests.service.conftest import bearer

BODY = {"action": {"kind": "note", "params": {"text": "café ☕ 😀", "n": 1234567890123}}}


@pytest.mark.parametrize(
    "encode",
    [
        pytest.param(lambda s: b"\xef\xbb\xbf" + s.encode(), id="utf-8-with-bom"),
        pytest.param(lambda s: s.encode("utf-16"), id="utf-16-with-bom"),
        pytest.param(lambda s: s.encode("utf-16-le"), id="utf-16-le"),
        pytest.param(lambda s: s.encode("utf-16-be"), id="utf-16-be"),
        pytest.param(lambda s: s.encode("utf-32"), id="utf-32"),
    ],
)
def test_check_reads_a_body_as_the_other_routes_do(client, encode):
    headers = {"content-type": "application/json"}
    text = json.dumps(BODY, ensure_ascii=False)
    one = client.post("/v1/check", content=encode(text), headers=headers)
    assert one.status_code == 200, one.text
    batch = {"actions": [BODY["action"]]}
    many = client.post(
        "/v1/check/batch", content=encode(json.dumps(batch, ensure_ascii=False)), headers=headers
    )
    assert many.status_code == 200, many.text
    assert one.json()["final_action"] == many.json()["items"][0]["final_action"]
    assert one.json()["final_action"]["params"] == BODY["action"]["params"]
    assert one.json()["action_digest"] == many.json()["items"][0]["action_digest"]


def test_a_long_integer_in_a_utf16_body_is_still_refused(client):
    # The fast path looks for 16 digits in a row in the raw body, which UTF-16 interleaves
    # with zero bytes.
    body = {"action": {"kind": "note", "params": {"n": 2**60}}}
    response = client.post(
        "/v1/check",
        content=json.dumps(body).encode("utf-16"),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "invalid_action"


def test_a_long_text_in_a_utf16_body_is_still_refused(make_client):
    client = make_client(max_text_chars=100)
    body = {"action": {"kind": "note", "params": {"text": "x" * 101}}}
    response = client.post(
        "/v1/check",
        content=json.dumps(body).encode("utf-16"),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413, response.text
    assert response.json()["error"]["code"] == "text_too_large"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/check", {"action": {"kind": "note", "params": {"text": "café"}}}),
        ("/v1/check/batch", {"actions": [{"kind": "note", "params": {"text": "café"}}]}),
        ("/v1/shield", {"actions": [{"kind": "note", "params": {"text": "café"}}]}),
        ("/v1/rank", {"items": [{"id": "café"}]}),
        ("/v1/escalations/{held}/resolve", {"outcome": "approve", "note": "café"}),
        ("/v1/decisions/{held}/review", {"label": "correct", "note": "café"}),
    ],
)
def test_a_body_that_is_not_utf8_is_refused_saying_so(keyed, raw_keys, path, body):
    # PowerShell 5's Invoke-RestMethod sends a string body as ISO-8859-1: the answer said
    # "not valid JSON" of a body that is valid JSON, in another encoding.
    held = keyed.post(
        "/v1/check",
        json={"action": {"kind": "pay", "params": {"amount": 700}}},
        headers=bearer(raw_keys["acme-agent"]),
    ).json()["id"]
    key = "acme-reviewer" if "{held}" in path else "acme-agent"
    before = keyed.app_state.audit.size
    response = keyed.post(
        path.format(held=held),
        content=json.dumps(body, ensure_ascii=False).encode("latin-1"),
        headers={**bearer(raw_keys[key]), "content-type": "application/json; charset=latin-1"},
    )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "malformed_json"
    assert "not UTF-8" in error["message"]
    assert "caf" not in response.text  # nothing of the body is repeated
    assert keyed.app_state.audit.size == before
