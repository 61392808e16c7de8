"""Error paths of the sidecar keep personal data out of answers and logs: an unknown body
key (an e-mail address sent as a key) was echoed in a 422's `loc` and message, and the
path as sent (`/v1/decisions/jane.doe@example.com`) was logged on 503 and 500 errors."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from guard import AuditError
from service._http import UNKNOWN_KEY

EMAIL = "jane.doe@example.com"


@pytest.mark.parametrize(
    ("url", "body"),
    [
        pytest.param("/v1/decisions/d1/review", {"label": "correct", EMAIL: 1}, id="review"),
        pytest.param("/v1/escalations/d1/resolve", {"outcome": "deny", EMAIL: 1}, id="resolve"),
        pytest.param(
            "/v1/check",
            {"action": {"type": "function", "function": {"name": "x", EMAIL: 1}}},
            id="tool-call-function",
        ),
        pytest.param("/v1/check/batch", {"actions": [], EMAIL: 1}, id="batch"),
    ],
)
def test_unknown_key_is_not_echoed(client: TestClient, url: str, body: dict[str, Any]) -> None:
    response = client.post(url, json=body)
    assert response.status_code == 422
    assert EMAIL not in response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert any(e["loc"][-1] == UNKNOWN_KEY for e in error["details"]["errors"])


def test_schema_fields_are_still_named(client: TestClient) -> None:
    response = client.post("/v1/decisions/d1/review", json={"label": EMAIL})
    assert response.status_code == 422
    assert EMAIL not in response.text
    assert response.json()["error"]["details"]["errors"][0]["loc"] == ["body", "label"]


def test_audit_error_log_names_the_route_not_the_path(
    make_client: Callable[..., TestClient],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = make_client()

    def fail(*args: object, **kwargs: object) -> None:
        raise AuditError("simulated failure")

    monkeypatch.setattr(client.app_state.audit, "get", fail)  # type: ignore[attr-defined]
    with caplog.at_level(logging.DEBUG):
        response = client.get(f"/v1/decisions/{EMAIL}")
    assert response.status_code == 503
    server = " ".join(r.getMessage() for r in caplog.records if r.name.startswith("guard"))
    assert EMAIL not in server  # (the test client's own httpx log line names the URL)
    assert "/v1/decisions/{decision_id}" in server
