"""Sweep 15: the review endpoints given names a new user's client might send."""

from __future__ import annotations

import re

import pytest

from tests.service.conftest import pay

INVISIBLE = [
    pytest.param("\u200b", id="zero-width-space"),
    pytest.param("\u202e", id="right-to-left-override"),
    pytest.param("\ufeff", id="byte-order-mark"),
    pytest.param("\u2060\u200d", id="word-joiner-and-zwj"),
    pytest.param(" \u3000\u00a0", id="ideographic-and-no-break-spaces"),
]


def _held(client) -> str:
    decision = client.post("/v1/check", json={"action": pay(700)}).json()
    assert decision["verdict"] == "escalate"
    return str(decision["id"])


@pytest.mark.parametrize("reviewer", INVISIBLE)
@pytest.mark.parametrize("endpoint", ["resolve", "review"])
def test_a_reviewer_name_that_shows_nothing_is_refused(client, reviewer, endpoint):
    # A name of only a zero-width space or a bidi control was recorded (and shown in the
    # console) as the reviewer: it "had a visible character" because str.strip() keeps them.
    held = _held(client)
    if endpoint == "resolve":
        path, body = f"/v1/escalations/{held}/resolve", {"outcome": "approve"}
    else:
        path, body = f"/v1/decisions/{held}/review", {"label": "correct"}
    before = client.app_state.audit.size
    response = client.post(path, json={**body, "reviewer": reviewer})
    assert response.status_code == 422, response.text
    error = response.json()["error"]["details"]["errors"][0]
    assert error["loc"] == ["body", "reviewer"]
    assert "needs a visible character" in error["msg"]
    assert client.app_state.audit.size == before  # nothing recorded


@pytest.mark.parametrize("reviewer", ["\u202eJo", "Jo\u200bSmith", "Zoë 👩\u200d⚖️", "\u05d3\u05df"])
def test_a_name_with_visible_text_and_format_characters_is_recorded_as_given(client, reviewer):
    held = _held(client)
    response = client.post(
        f"/v1/escalations/{held}/resolve", json={"outcome": "approve", "reviewer": reviewer}
    )
    assert response.status_code == 200, response.text
    assert response.json()["reviewer"] == reviewer


@pytest.mark.parametrize(
    ("reviewer", "taken"),
    [*((p.values[0], False) for p in INVISIBLE), ("Jo", True), ("\u202eJo", True), ("a\nb", False)],
)
def test_the_openapi_pattern_says_the_same(client, reviewer, taken):
    schema = client.get("/openapi.json").json()["components"]["schemas"]["ReviewRequest"]
    pattern = next(
        option["pattern"]
        for option in schema["properties"]["reviewer"]["anyOf"]
        if "pattern" in option
    )
    assert bool(re.search(pattern, reviewer)) is taken
