"""The review endpoints (long-poll waits, resolutions, labels) given odd input by hand."""

from __future__ import annotations

import pytest

from tests.service.conftest import pay


def _held(client) -> str:
    decision = client.post("/v1/check", json={"action": pay(700)}).json()
    assert decision["verdict"] == "escalate"
    return str(decision["id"])


@pytest.mark.parametrize("timeout", ["nan", "NaN", "inf", "-inf", "infinity"])
def test_a_wait_that_is_not_a_finite_number_says_so(client, timeout):
    # ?timeout=nan was refused as "Input should be less than or equal to 5": NaN is not above
    # 5, and a caller lowering the value would never get it accepted.
    response = client.get(f"/v1/escalations/{_held(client)}/wait", params={"timeout": timeout})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"]["errors"][0]["msg"] == "Input should be a finite number"


@pytest.mark.parametrize("reviewer", ["   ", "\t", "a\u0000b", "Jo\nSmith", "\u0085"])
@pytest.mark.parametrize("endpoint", ["resolve", "review"])
def test_a_reviewer_name_that_names_no_one_is_refused(client, reviewer, endpoint):
    # A blank name, or one with a NUL or a line break, was recorded as the reviewer as sent.
    held = _held(client)
    if endpoint == "resolve":
        path, body = f"/v1/escalations/{held}/resolve", {"outcome": "approve"}
    else:
        path, body = f"/v1/decisions/{held}/review", {"label": "correct"}
    response = client.post(path, json={**body, "reviewer": reviewer})
    assert response.status_code == 422
    error = response.json()["error"]["details"]["errors"][0]
    assert error["loc"] == ["body", "reviewer"]
    assert "needs a visible character and no control characters" in error["msg"]
    assert client.get("/v1/escalations").json()["items"][0]["status"] == "pending"


@pytest.mark.parametrize("reviewer", ["Zoë 👩‍⚖️", "  Jo Smith ", "李雷"])
def test_a_reviewer_name_with_any_visible_text_is_recorded_as_given(client, reviewer):
    held = _held(client)
    response = client.post(
        f"/v1/escalations/{held}/resolve", json={"outcome": "approve", "reviewer": reviewer}
    )
    assert response.status_code == 200
    assert response.json()["reviewer"] == reviewer
