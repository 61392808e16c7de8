"""Sweep 14: the sidecar used from a non-Python client (curl/httpx only), by hand."""

from __future__ import annotations

import json

import pytest

from tests.service.conftest import bearer, pay


def _held(keyed, raw_keys) -> str:
    agent = bearer(raw_keys["acme-agent"])
    response = keyed.post("/v1/check", json={"action": pay(700)}, headers=agent)
    assert response.json()["verdict"] == "escalate"
    return str(response.json()["id"])


@pytest.mark.parametrize(
    ("path", "key", "body", "query"),
    [
        pytest.param("/v1/check", "acme-agent", {"action": pay(5)}, "dry_run=true", id="check"),
        pytest.param(
            "/v1/check/batch", "acme-agent", {"actions": [pay(5)]}, "dry_run=1", id="batch"
        ),
        pytest.param("/v1/rank", "acme-agent", {"items": []}, "policy=svc-test", id="rank"),
        pytest.param("/v1/shield", "acme-agent", {"actions": [pay(5)]}, "record=no", id="shield"),
        pytest.param("/v1/policies/reload", "admin", None, "dry_run=true", id="reload"),
        pytest.param(
            "/v1/escalations/{held}/resolve",
            "acme-reviewer",
            {"outcome": "approve"},
            "outcome=deny",
            id="resolve",
        ),
        pytest.param(
            "/v1/decisions/{held}/review",
            "acme-reviewer",
            {"label": "correct"},
            "label=false_positive",
            id="review",
        ),
    ],
)
def test_a_post_with_a_query_parameter_is_refused_not_half_applied(
    keyed, raw_keys, path, key, body, query
):
    # ?dry_run=true on a reload reloaded the packs, ?outcome=deny beside a body approving
    # approved, ?record=no recorded: every POST ignored its query string without a word.
    held = _held(keyed, raw_keys)
    before = keyed.app_state.audit.size
    response = keyed.post(
        f"{path.format(held=held)}?{query}", json=body, headers=bearer(raw_keys[key])
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    name = query.split("=")[0]
    assert f"unknown query parameter {name!r}" in error["details"]["errors"][0]["msg"]
    assert "the body has a key" not in error["message"]  # the body's hint is not the query's
    assert keyed.app_state.audit.size == before  # nothing decided, resolved or labelled


def test_a_post_without_a_query_string_still_works(keyed, raw_keys):
    held = _held(keyed, raw_keys)
    response = keyed.post(
        f"/v1/escalations/{held}/resolve?",
        json={"outcome": "deny"},
        headers=bearer(raw_keys["acme-reviewer"]),
    )
    assert response.status_code == 200
    assert response.json()["outcome"] == "deny"


@pytest.mark.parametrize("path", ["/v1/decisions", "/v1/decisions/export"])
def test_a_time_offset_whose_plus_became_a_space_says_how_to_send_it(client, path):
    # curl 'localhost:8000/v1/decisions?since=2026-11-27T01:15:00+05:30' sends the '+' as is,
    # and a query string reads it as a space: the answer only said "expected an RFC 3339
    # date-time such as 2026-01-31T12:00:00Z", of a value that looked like one.
    response = client.get(f"{path}?since=2026-11-27T01:15:00+05:30")
    assert response.status_code == 422
    error = response.json()["error"]["details"]["errors"][0]
    assert error["loc"] == ["query", "since"]
    assert "%2B" in error["msg"]
    encoded = client.get(path, params={"since": "2026-11-27T01:15:00+05:30"})
    assert encoded.status_code == 200


def test_a_time_that_is_no_time_at_all_gets_no_hint_about_plus_signs(client):
    response = client.get("/v1/decisions?until=yesterday")
    error = response.json()["error"]["details"]["errors"][0]
    assert "%2B" not in error["msg"]
    assert "RFC 3339" in error["msg"]


BODIES = [
    pytest.param("/v1/check", "acme-agent", {"action": pay(5)}, id="check"),
    pytest.param("/v1/check/batch", "acme-agent", {"actions": [pay(5)]}, id="batch"),
    pytest.param("/v1/rank", "acme-agent", {"items": []}, id="rank"),
    pytest.param("/v1/shield", "acme-agent", {"actions": [pay(5)]}, id="shield"),
    pytest.param(
        "/v1/escalations/{held}/resolve", "acme-reviewer", {"outcome": "approve"}, id="resolve"
    ),
    pytest.param("/v1/decisions/{held}/review", "acme-reviewer", {"label": "correct"}, id="review"),
]


@pytest.mark.parametrize(
    ("content_type", "named"),
    [
        pytest.param("application/x-www-form-urlencoded", True, id="curl-d"),
        pytest.param("text/plain;charset=UTF-8", True, id="text"),
        pytest.param(None, False, id="none"),
    ],
)
@pytest.mark.parametrize(("path", "key", "body"), BODIES)
def test_a_json_body_sent_without_a_json_content_type_is_415_on_every_route(
    keyed, raw_keys, path, key, body, content_type, named
):
    # `curl -d '{...}'` without -H 'content-type: application/json' sends form data: the
    # batch, rank, shield, resolve and review routes answered 422 "Input should be a valid
    # dictionary or object to extract fields from" of a JSON object; /v1/check said "the
    # body must be JSON" of one, and decided (and recorded) a body sent with no type at
    # all, which every other route refused.
    held = _held(keyed, raw_keys)
    before = keyed.app_state.audit.size
    headers = bearer(raw_keys[key])
    if content_type is not None:
        headers["content-type"] = content_type
    raw = json.dumps(body).encode()
    response = keyed.post(path.format(held=held), content=raw, headers=headers)
    assert response.status_code == 415, response.text
    error = response.json()["error"]
    assert error["code"] == "unsupported_media_type"
    assert "Content-Type: application/json" in error["message"]
    media = content_type.split(";")[0] if content_type else None
    assert error["details"] == {"content_type": media}
    assert (repr(media) in error["message"]) is named
    assert keyed.app_state.audit.size == before


def test_a_content_type_that_is_no_media_type_is_not_repeated(keyed, raw_keys):
    headers = {**bearer(raw_keys["acme-agent"]), "content-type": "jo@example.com"}
    response = keyed.post("/v1/check", content=b'{"action": {"kind": "pay"}}', headers=headers)
    assert response.status_code == 415
    assert "jo@example.com" not in response.text


def test_json_media_types_are_still_read(keyed, raw_keys):
    for content_type in ("application/json; charset=utf-8", "application/vnd.api+json"):
        headers = {**bearer(raw_keys["acme-agent"]), "content-type": content_type}
        raw = json.dumps({"actions": [pay(5)]}).encode()
        assert keyed.post("/v1/check/batch", content=raw, headers=headers).status_code == 200
        raw = json.dumps({"action": pay(5)}).encode()
        assert keyed.post("/v1/check", content=raw, headers=headers).status_code == 200


def test_a_request_without_a_key_is_still_401_before_its_body_is_read(keyed):
    response = keyed.post("/v1/check", content=b"a=b", headers={"content-type": "text/plain"})
    assert response.status_code == 401


def _label(keyed, raw_keys, decision: str, label: str, note: str = "") -> dict:
    response = keyed.post(
        f"/v1/decisions/{decision}/review",
        json={"label": label, "note": note, "reviewer": "ana"},
        headers=bearer(raw_keys["acme-reviewer"]),
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_a_decisions_labels_are_read_back_newest_first_and_paged(keyed, raw_keys):
    # Labels could be written over HTTP but never read back: no route returned them.
    held = _held(keyed, raw_keys)
    other = _held(keyed, raw_keys)
    first = _label(keyed, raw_keys, held, "correct")
    second = _label(keyed, raw_keys, held, "false_positive", "mail me at jo@example.com")
    _label(keyed, raw_keys, other, "false_negative")
    reader = bearer(raw_keys["acme-auditor"])
    page = keyed.get(f"/v1/decisions/{held}/reviews?limit=1", headers=reader)
    assert page.status_code == 200, page.text
    body = page.json()
    assert [r["id"] for r in body["items"]] == [second["id"]]
    assert body["items"][0]["label"] == "false_positive"
    assert "jo@example.com" not in page.text  # the note is stored masked
    rest = keyed.get(
        f"/v1/decisions/{held}/reviews?limit=1&cursor={body['next_cursor']}", headers=reader
    )
    assert [r["id"] for r in rest.json()["items"]] == [first["id"]]
    assert rest.json()["next_cursor"] is None
    assert all(r["decision_id"] == held for r in body["items"] + rest.json()["items"])


def test_a_decision_without_labels_has_an_empty_page(keyed, raw_keys):
    held = _held(keyed, raw_keys)
    page = keyed.get(f"/v1/decisions/{held}/reviews", headers=bearer(raw_keys["acme-auditor"]))
    assert page.status_code == 200
    assert page.json() == {"items": [], "next_cursor": None}


def test_another_tenants_labels_are_not_found(keyed, raw_keys):
    held = _held(keyed, raw_keys)
    _label(keyed, raw_keys, held, "correct")
    response = keyed.get(f"/v1/decisions/{held}/reviews", headers=bearer(raw_keys["globex-reader"]))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "decision_not_found"
    unknown = keyed.get("/v1/decisions/nope/reviews", headers=bearer(raw_keys["acme-auditor"]))
    assert unknown.status_code == 404
    operator = keyed.get(f"/v1/decisions/{held}/reviews", headers=bearer(raw_keys["admin"]))
    assert [r["label"] for r in operator.json()["items"]] == ["correct"]
    check_only = keyed.get(f"/v1/decisions/{held}/reviews", headers=bearer(raw_keys["acme-agent"]))
    assert check_only.status_code == 403
