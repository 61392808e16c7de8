"""Errors under /ui that Starlette answers itself carry the console's security headers too."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service import create_app
from service._settings import Settings
from service._state import ServiceState


@pytest.fixture
def http(tmp_path: Path) -> Iterator[TestClient]:
    state = ServiceState.build(Settings(audit=f"sqlite:///{tmp_path / 'audit.db'}"))
    with TestClient(create_app(state=state), follow_redirects=False) as client:
        yield client
    state.close()


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        pytest.param("GET", "/ui/no-such-page", 404, id="unknown-page"),
        pytest.param("GET", "/ui/logout", 405, id="wrong-method"),
        pytest.param("GET", "/ui/", None, id="a-console-page"),
    ],
)
def test_console_responses_carry_security_headers(
    http: TestClient, method: str, path: str, status: int | None
) -> None:
    response = http.request(method, path)
    if status is not None:
        assert response.status_code == status
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_api_responses_are_left_alone(http: TestClient) -> None:
    response = http.get("/v1")
    assert "x-frame-options" not in response.headers
