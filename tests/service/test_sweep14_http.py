"""Sweep 14: the sidecar used from a non-Python client (curl/httpx only), by hand."""

from __future__ import annotations

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
